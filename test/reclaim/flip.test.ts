/*
 * try_to_flip_page_to (src/reclaim/flip.ts), one CPU, every rmap scheme ×
 * lock scheme: a page mapped by several processes — private after fork,
 * shared anonymous (shmem), a shared file page, an anonymous page in the
 * swap cache — moves to a new frame with every pte rewritten in place: no
 * fault afterwards, no swap used (the machine has none), every former pte
 * names the new frame, the old frame comes back as a fresh allocation and is
 * freed, the checker is clean. A pinned page and a page under write-back are
 * reported busy and left as they were.
 */
import { describe, it, expect } from 'vitest';
import { check_invariants } from '../../src/sim/checker.js';
import { do_fork, mmput } from '../../src/vm/fork.js';
import { PG_FLAGS, PG_COUNT, PG_MAPCOUNT, PG_RMAP, NIL, G_ZONE, Z_FREE, VMA_START, VMA_END, VMA_FLAGS, VMA_FILE, VMA_PGOFF, VMA_ANON, globalLine, pageStruct, vmaBase } from '../../src/machine/layout.js';
import { find_vma, vm_area_alloc, vm_area_free, anon_vma_link } from '../../src/mm/vma.js';
import { PG_swapcache, PG_writeback } from '../../src/machine/page.js';
import { pte_pfn } from '../../src/mm/pte.js';
import { __alloc_pages } from '../../src/mm/page_alloc.js';
import { __free_pages, get_page } from '../../src/mm/page_ref.js';
import { drain_all_pages } from '../../src/mm/pcp.js';
import { SITE } from '../../src/sync/classes.js';
import { mmap_write_lock, mmap_write_unlock } from '../../src/sync/scheme.js';
import { RMAP_SCHEMES, LOCK_SCHEMES } from '../../src/config.js';
import { lru_add_drain, add_to_swap } from '../../src/reclaim/index.js';
import { put_page } from '../../src/reclaim/lru.js';
import { migrate_page, MIGRATE_OK, MIGRATE_BUSY } from '../../src/reclaim/migrate.js';
import { bootR, newProc, mapAnon, put, get, pteOf, vmsum, pageWord } from './helpers.js';
import { KINDS } from './flip_kinds.js';

const T = SITE.test;

/** One anonymous page stamped `value`, shared by mm and its forked child, on the LRU: where, and its frame. */
function forkedPage(cpu: ReturnType<typeof bootR>['cpu'], value: number) {
  const mm = newProc(cpu);
  const a = mapAnon(cpu, mm, 1);
  expect(put(cpu, mm, a, value)).toBe(0);
  const child = do_fork(cpu, mm);
  lru_add_drain(cpu);
  return { mm, child, a, old: pte_pfn(pteOf(cpu, mm, a)) };
}

/** After a move: free the old frame (the caller's now), check; let the child, then the parent, exit; every frame free. */
function freeOldAndExit(cpu: ReturnType<typeof bootR>['cpu'], old: number, child: number, parent: number): void {
  __free_pages(cpu, old, 0);
  expect(check_invariants(cpu).violations).toEqual([]);
  mmput(cpu, child);
  mmput(cpu, parent);
  drain_all_pages(cpu);
  expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
}

describe('try_to_flip_page_to: every pte rewritten through the rmap, no swap', () => {
  for (const rmap of RMAP_SCHEMES) {
    for (const locks of LOCK_SCHEMES) {
      for (const [kind, setup] of Object.entries(KINDS)) {
        it(`${rmap} under ${locks}: ${kind}`, () => {
          const { m, cpu } = bootR({ rmap, locks, mem: '4M', swap: 0, filePages: 8 });
          const s = setup(cpu);
          lru_add_drain(cpu);
          const old = pte_pfn(pteOf(cpu, s.mms[0]!, s.addrs[0]!));
          for (let i = 0; i < s.mms.length; i++) expect(pte_pfn(pteOf(cpu, s.mms[i]!, s.addrs[i]!))).toBe(old);
          const count = pageWord(m, old, PG_COUNT);
          const to = __alloc_pages(cpu, 0, T);
          const faults = vmsum(m, 'pgfault');
          expect(migrate_page(cpu, old, to)).toBe(MIGRATE_OK);
          // every former pte names the new frame, with nothing faulted in
          for (let i = 0; i < s.mms.length; i++) expect(pte_pfn(pteOf(cpu, s.mms[i]!, s.addrs[i]!))).toBe(to);
          for (let i = 0; i < s.mms.length; i++) expect(get(cpu, s.mms[i]!, s.addrs[i]!)).toBe(s.value);
          expect(vmsum(m, 'pgfault')).toBe(faults);
          expect(vmsum(m, 'pswpout')).toBe(0);
          expect(pageWord(m, to, PG_COUNT)).toBe(count);
          expect(pageWord(m, to, PG_MAPCOUNT)).toBe(s.mms.length - 1);
          // the old frame: a fresh allocation of ours, unmapped, no reverse-map head; then free
          expect(pageWord(m, old, PG_COUNT)).toBe(1);
          expect(pageWord(m, old, PG_MAPCOUNT)).toBe(-1);
          expect(pageWord(m, old, PG_RMAP)).toBe(NIL);
          __free_pages(cpu, old, 0);
          expect(pageWord(m, old, PG_COUNT)).toBe(0);
          expect(check_invariants(cpu).violations).toEqual([]);
          // the moved page still behaves: a write through one mapping (COW for the private kind)
          expect(put(cpu, s.mms[1]!, s.addrs[1]!, 7)).toBe(0);
          const shared = kind !== 'private after fork';
          expect(get(cpu, s.mms[0]!, s.addrs[0]!)).toBe(shared ? 7 : s.value);
          for (const mm of s.mms) mmput(cpu, mm);
          drain_all_pages(cpu);
          if (kind === 'shared file') expect(pageWord(m, to, PG_COUNT)).toBe(1); // the page cache keeps it
          else expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
        });
      }
    }
  }

  it('an anonymous page in the swap cache moves with its swap-cache slot', () => {
    const { m, cpu } = bootR({ rmap: 'objrmap', mem: '4M', swap: '4M' });
    const { mm, child, a, old } = forkedPage(cpu, 55);
    expect(add_to_swap(cpu, old)).toBe(true);
    const to = __alloc_pages(cpu, 0, T);
    expect(migrate_page(cpu, old, to)).toBe(MIGRATE_OK);
    expect(pageWord(m, to, PG_FLAGS) & PG_swapcache).toBe(PG_swapcache);
    expect(pageWord(m, old, PG_FLAGS) & PG_swapcache).toBe(0);
    expect(pte_pfn(pteOf(cpu, mm, a))).toBe(to);
    expect(pte_pfn(pteOf(cpu, child, a))).toBe(to);
    expect(get(cpu, child, a)).toBe(55);
    freeOldAndExit(cpu, old, child, mm);
  });

  it('a pinned page and a page under write-back are reported busy and left mapped, data and target intact', () => {
    const { m, cpu } = bootR({ rmap: 'ptechain', mem: '4M', swap: 0 });
    const mm = newProc(cpu);
    const a = mapAnon(cpu, mm, 1);
    expect(put(cpu, mm, a, 9)).toBe(0);
    lru_add_drain(cpu);
    const old = pte_pfn(pteOf(cpu, mm, a));
    const to = __alloc_pages(cpu, 0, T);
    const free = m.w[globalLine(m.layout, G_ZONE) + Z_FREE]!;
    get_page(cpu, old); // get_user_pages
    expect(migrate_page(cpu, old, to)).toBe(MIGRATE_BUSY);
    expect(pte_pfn(pteOf(cpu, mm, a))).toBe(old);
    expect(get(cpu, mm, a)).toBe(9);
    put_page(cpu, old);
    const flags = pageStruct(m.layout, old) + PG_FLAGS;
    Atomics.or(m.w, flags, PG_writeback); // as swap_writepage sets it for the I/O
    expect(migrate_page(cpu, old, to)).toBe(MIGRATE_BUSY);
    Atomics.and(m.w, flags, ~PG_writeback);
    expect(pageWord(m, to, PG_COUNT)).toBe(1); // still the caller's
    expect(m.w[globalLine(m.layout, G_ZONE) + Z_FREE]).toBe(free);
    expect(vmsum(m, 'pgmigrate_fail')).toBe(2);
    expect(migrate_page(cpu, old, to)).toBe(MIGRATE_OK); // and once released, it moves
    expect(get(cpu, mm, a)).toBe(9);
    __free_pages(cpu, old, 0);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
  });

  it('a pte the walk finds twice (two VMAs of one mm covering it) is reported busy, not rewritten twice', () => {
    // split_vma's state before objrmap.ts anon_vma_split held anon_vma->lock across it: the child's
    // upper half on the list while its whole VMA still covers the page (test/rmap/objrmap-split.test.ts)
    const { m, cpu } = bootR({ rmap: 'objrmap', mem: '4M', swap: 0 });
    const { mm: parent, child, a, old } = forkedPage(cpu, 77);
    mmap_write_lock(cpu, child, T); // as split_vma holds it
    const v = find_vma(cpu, child, a);
    const half = vm_area_alloc(cpu, cpu.vmaCache, child);
    for (const k of [VMA_START, VMA_END, VMA_FLAGS, VMA_FILE, VMA_PGOFF, VMA_ANON]) m.w[vmaBase(m.layout, half) + k] = m.w[vmaBase(m.layout, v) + k]!;
    anon_vma_link(cpu, half); // list: half (child), v (child), the parent's VMA
    mmap_write_unlock(cpu, child);
    const to = __alloc_pages(cpu, 0, T);
    expect(migrate_page(cpu, old, to)).toBe(MIGRATE_BUSY);
    // nothing moved: both ptes still map the old frame, present, with the data
    for (const mm of [parent, child]) expect(pte_pfn(pteOf(cpu, mm, a))).toBe(old);
    for (const mm of [parent, child]) expect(get(cpu, mm, a)).toBe(77);
    expect(pageWord(m, to, PG_COUNT)).toBe(1);
    mmap_write_lock(cpu, child, T);
    vm_area_free(cpu, cpu.vmaCache, half); // off the list again: the page moves
    mmap_write_unlock(cpu, child);
    expect(migrate_page(cpu, old, to)).toBe(MIGRATE_OK);
    for (const mm of [parent, child]) expect(pte_pfn(pteOf(cpu, mm, a))).toBe(to);
    freeOldAndExit(cpu, old, child, parent);
  });
});
