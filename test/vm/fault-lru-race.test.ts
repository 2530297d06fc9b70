/*
 * A race in do_no_page (src/vm/fault.ts) that the migration stress found:
 * after mapping a page-cache page and dropping the pte lock, the fault used
 * to re-read the page's ->mapping to decide whether it was a new anonymous
 * page for the LRU. By then another CPU may have migrated (or reclaimed) the
 * page: its frame is free, ->mapping 0, and the fault put a free frame on
 * the LRU list — later "a page still linked on the active list found freed
 * and reallocated". Here the other CPU's migration is run exactly in that
 * window (a one-shot hook on the fault's pte_unlock); the LRU and the
 * checker must stay clean. Under `2.4` and `split` only: under `bkl` the
 * fault holds kernel_flag throughout, so no migration can run in the window
 * (and the hook, on the faulting thread, would spin on it forever).
 */
import { describe, it, expect, vi } from 'vitest';

const hook = vi.hoisted(() => ({ once: null as null | (() => void) }));
vi.mock('../../src/sync/scheme.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/sync/scheme.js')>();
  return {
    ...mod,
    pte_unlock: (cpu: Parameters<typeof mod.pte_unlock>[0], off: number) => {
      mod.pte_unlock(cpu, off);
      const f = hook.once;
      hook.once = null;
      f?.();
    },
  };
});

const { check_invariants } = await import('../../src/sim/checker.js');
const { do_mmap, PROT_READ, PROT_WRITE, MAP_SHARED } = await import('../../src/vm/mmap.js');
const { pte_pfn } = await import('../../src/mm/pte.js');
const { __alloc_pages } = await import('../../src/mm/page_alloc.js');
const { __free_pages } = await import('../../src/mm/page_ref.js');
const { inode_alloc } = await import('../../src/mm/files.js');
const { SITE } = await import('../../src/sync/classes.js');
const { makeCpu } = await import('../../src/vm/cpu.js');
const { lru_add_drain } = await import('../../src/reclaim/index.js');
const { migrate_page, MIGRATE_OK } = await import('../../src/reclaim/migrate.js');
const { bootR, newProc, get, put, pteOf } = await import('../reclaim/helpers.js');

describe('do_no_page vs a concurrent migration of the page it just mapped', () => {
  for (const locks of ['2.4', 'split'] as const) {
    it(`${locks}: the migrated-away frame is not put on the LRU by the fault`, () => {
      const { m, cpu } = bootR({ mem: '4M', swap: '8M', filePages: 8, cpus: 2, locks });
      const other = makeCpu(m, 1);
      const ino = inode_alloc(cpu, 8, 0);
      const p1 = newProc(cpu);
      const p2 = newProc(cpu);
      const a1 = do_mmap(cpu, p1, 0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ino, 0);
      const a2 = do_mmap(cpu, p2, 0, 8 * 4096, PROT_READ, MAP_SHARED, ino, 0);
      expect(put(cpu, p1, a1, 42)).toBe(0); // reads the page into the page cache and stamps it
      lru_add_drain(cpu);
      let moved = -1;
      hook.once = () => {
        // CPU 1, right after p2's fault mapped the page and dropped the pte lock
        const pfn = pte_pfn(pteOf(cpu, p2, a2));
        const to = __alloc_pages(other, 0, SITE.test);
        expect(migrate_page(other, pfn, to)).toBe(MIGRATE_OK);
        __free_pages(other, pfn, 0); // the old frame goes back to the allocator
        moved = pfn;
      };
      expect(get(cpu, p2, a2)).toBe(42); // the read fault that maps the page (minor: it is cached)
      expect(moved).toBeGreaterThan(0);
      lru_add_drain(cpu);
      lru_add_drain(other);
      expect(check_invariants(cpu).violations).toEqual([]);
      // both processes fault the moved page back in and read the same frame
      expect(get(cpu, p1, a1)).toBe(42);
      expect(get(cpu, p2, a2)).toBe(42);
      expect(pte_pfn(pteOf(cpu, p1, a1))).toBe(pte_pfn(pteOf(cpu, p2, a2)));
      expect(pte_pfn(pteOf(cpu, p2, a2))).not.toBe(moved);
      expect(check_invariants(cpu).violations).toEqual([]);
    });
  }
});
