/*
 * mm_struct.test.ts — the mm table (src/mm/mm_struct.ts): mm_alloc links an
 * mm at the head of the mmlist, mm_free unlinks it and, under mmlist_lock,
 * moves swap_out's cursor (K_SWAP_MM) off it, as 2.4's mmput does with
 * swap_mm. Without that move the cursor named a free slot; the next mm_alloc
 * of that slot zeroed an mmap_sem that swap_out had just trylocked, and its
 * up_read left the new mm's count at -1 (CI, reclaim/stress swapout ×
 * objrmap: a CPU waited for mmap_sem in do_mmap for ever, nobody holding it).
 */
import { describe, it, expect } from 'vitest';
import { G_KSWAPD, K_SWAP_MM, globalLine } from '../../src/machine/layout.js';
import { mm_alloc, mm_free, mmlist_first } from '../../src/mm/mm_struct.js';
import { boot } from '../helpers.js';

describe('mm_alloc / mm_free and the mmlist', () => {
  it('links at the head; mm_free moves swap_out\'s cursor to the next mm, or to the head at the end', () => {
    const { cpu } = boot({ locks: 'split' });
    const cursor = globalLine(cpu.l, G_KSWAPD) + K_SWAP_MM;
    const a = mm_alloc(cpu, cpu.mmCache);
    const b = mm_alloc(cpu, cpu.mmCache);
    const c = mm_alloc(cpu, cpu.mmCache);
    expect(mmlist_first(cpu)).toBe(c); // c → b → a
    cpu.w[cursor] = b + 1;
    mm_free(cpu, cpu.mmCache, c); // not the cursor: it stays
    expect(cpu.w[cursor]).toBe(b + 1);
    mm_free(cpu, cpu.mmCache, b);
    expect(cpu.w[cursor]).toBe(a + 1);
    mm_free(cpu, cpu.mmCache, a);
    expect(cpu.w[cursor]).toBe(0);
    expect(mmlist_first(cpu)).toBe(-1);
  });
});
