import { describe, it, expect } from 'vitest';
import {
  mk_pte,
  pte_pfn,
  pte_present,
  pte_write,
  pte_young,
  pte_dirty,
  pte_none,
  is_swap_pte,
  SWP_ENTRY,
  SWP_TYPE,
  SWP_OFFSET,
  pgd_index,
  pte_index,
  _PAGE_PRESENT,
  _PAGE_RW,
  _PAGE_USER,
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  pteAddrOf,
} from '../../src/mm/pte.js';

describe('pte encoding (i386, no PAE)', () => {
  it('round-trips every pfn bit, including pfn >= 2^19 (sign bit of the Int32)', () => {
    for (const pfn of [0, 1, 0x7ffff, 0x80000, 0xfffff]) {
      const pte = mk_pte(pfn, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER);
      expect(pte_pfn(pte)).toBe(pfn);
      expect(pte_present(pte)).toBe(true);
      expect(pte_write(pte)).toBe(true);
      expect(pte_young(pte)).toBe(false);
    }
  });
  it('flag bits sit where include/asm-i386/pgtable.h puts them', () => {
    expect([_PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_ACCESSED, _PAGE_DIRTY]).toEqual([1, 2, 4, 0x20, 0x40]);
    const pte = mk_pte(5, _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_DIRTY);
    expect(pte_young(pte) && pte_dirty(pte) && !pte_write(pte)).toBe(true);
  });
  it('swap entries are non-present, non-none and decode to (type, offset)', () => {
    for (const [t, o] of [
      [0, 1],
      [3, 12345],
      [63, (1 << 24) - 1],
    ] as const) {
      const e = SWP_ENTRY(t, o);
      expect(pte_present(e)).toBe(false);
      expect(pte_none(e)).toBe(false);
      expect(is_swap_pte(e)).toBe(true);
      expect(SWP_TYPE(e)).toBe(t);
      expect(SWP_OFFSET(e)).toBe(o);
    }
    expect(is_swap_pte(0)).toBe(false);
  });
  it('splits a 32-bit address into pgd index, pte index and offset', () => {
    const a = 0xbfc01234;
    expect(pgd_index(a)).toBe(a >>> 22);
    expect(pte_index(a)).toBe((a >>> 12) & 0x3ff);
    expect(pgd_index(0xffffffff)).toBe(1023);
    expect(pteAddrOf(7, 1023)).toBe(7 * 1024 + 1023);
  });
});
