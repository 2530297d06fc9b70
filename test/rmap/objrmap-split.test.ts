/*
 * objrmap-split.test.ts — split_vma and the anon_vma walk (src/mm/vma.ts
 * split_vma, src/rmap/objrmap.ts anon_vma_split): the new half goes on the
 * anon_vma list and the old half ends at the cut in one hold of
 * anon_vma->lock (2.6.7 vma_adjust), so a walk never finds one pte twice.
 *
 * The migrate stress found it (objrmap under 2.4 and split, seeds 7051 and
 * 7052, under host load: "do_swap_page: swap pte … names a free slot", a
 * stale translation of a freed frame): split_vma linked the new half, let
 * go of the lock, and only then shrank the old half. A walk in that gap
 * found the child's pte twice, through both halves, and stopped at
 * _mapcount + 1 ptes without reaching the parent's; flip.ts rewrote the
 * child's pte twice (the second time from the 0 its first clear left: a
 * pte that looked like a swap entry) and left the parent's on the old
 * frame, which went back to the allocator.
 *
 * A walker on CPU 1 walks the watched page's anon_vma each time CPU 0 is
 * about to take or has just dropped any anon_vma lock (anon_obj.ts wrapped):
 * the instants another CPU's walk can get in. Before the fix the walk just
 * after split_vma's link found the child's pte twice.
 */
import { describe, it, expect, vi } from 'vitest';

const spy = vi.hoisted(() => ({ at: null as null | (() => void), inside: false }));
vi.mock('../../src/rmap/anon_obj.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/rmap/anon_obj.js')>();
  const visit = () => {
    if (spy.at === null || spy.inside) return;
    spy.inside = true; // the walker's own anon_vma lock is not a visit
    try {
      spy.at();
    } finally {
      spy.inside = false;
    }
  };
  return {
    ...mod,
    anon_obj_lock: (...a: Parameters<typeof mod.anon_obj_lock>) => {
      visit();
      mod.anon_obj_lock(...a);
    },
    anon_obj_unlock: (...a: Parameters<typeof mod.anon_obj_unlock>) => {
      mod.anon_obj_unlock(...a);
      visit();
    },
  };
});

const { objrmapScheme } = await import('../../src/rmap/objrmap.js');
const { do_fork } = await import('../../src/vm/fork.js');
const { do_munmap } = await import('../../src/vm/mmap.js');
const { pte_pfn } = await import('../../src/mm/pte.js');
const { PG_MAPCOUNT } = await import('../../src/machine/layout.js');
const { check_invariants } = await import('../../src/sim/checker.js');
const { bootR, newProc, mapAnon, put, get, pteOf, pageWord } = await import('../reclaim/helpers.js');

describe('split_vma on an anon_vma: a concurrent walk finds each pte once', () => {
  for (const locks of ['split', '2.4'] as const) {
    it(`objrmap under ${locks}: the child splits the VMA it shares with its parent`, () => {
      const { m, cpus } = bootR({ rmap: 'objrmap', locks, cpus: 2, mem: '4M', swap: 0 });
      const [cpu, walker] = [cpus[0]!, cpus[1]!];
      const parent = newProc(cpu);
      const a = mapAnon(cpu, parent, 4);
      for (let i = 0; i < 4; i++) expect(put(cpu, parent, a + i * 4096, 40 + i)).toBe(0);
      const child = do_fork(cpu, parent); // one anon_vma: [child's VMA, parent's VMA]
      const watched = a + 3 * 4096; // above both cuts
      const pfn = pte_pfn(pteOf(cpu, parent, watched));
      expect(pte_pfn(pteOf(cpu, child, watched))).toBe(pfn);
      expect(pageWord(m, pfn, PG_MAPCOUNT)).toBe(1);
      const out = new Int32Array(3 * 8);
      const seen: string[] = [];
      let walks = 0;
      spy.at = () => {
        const n = objrmapScheme.walk(walker, pfn, out);
        walks++;
        for (let i = 0; i < n; i++) {
          for (let j = i + 1; j < n; j++) {
            if (out[3 * i + 2] === out[3 * j + 2]) seen.push(`walk ${walks}: mm ${out[3 * i]} pte ${out[3 * i + 2]} found twice`);
          }
        }
      };
      try {
        // the child unmaps page 1: its VMA is cut at a+4K and at a+8K
        expect(do_munmap(cpu, child, a + 4096, 4096)).toBe(0);
      } finally {
        spy.at = null;
      }
      expect(walks).toBeGreaterThan(0);
      expect(seen).toEqual([]);
      // the walk after the split finds both mappings, through the child's upper half
      expect(objrmapScheme.walk(walker, pfn, out)).toBe(2);
      expect(get(cpu, child, watched)).toBe(43);
      expect(get(cpu, parent, watched)).toBe(43);
      expect(check_invariants(cpu).violations).toEqual([]);
    });
  }
});
