/*
 * scan.ts — no reverse map at all: the 2.x baseline (seed 000, LaHaise:
 * "you need to walk the page tables of all processes to find out which ones
 * are using the page — a very costly operation").
 *
 * add/remove do nothing beyond the generic _mapcount; a walk visits every
 * mm on the mmlist, every present pgd entry and every pte, and reports the
 * ones whose pfn matches. Costs O(all ptes in the system) per page, and no
 * memory. Locking: walk takes mmlist_lock to go down the list, and reads ptes
 * lock-free (it only reports; reclaim re-checks each pte under its lock).
 */
import type { CpuBase } from '../machine/cpu.js';
import { MM_PGD, MM_MMLIST_NEXT, NIL, PAGE_WORDS, mmBase } from '../machine/layout.js';
import { mmlist_lock, mmlist_unlock } from '../sync/scheme.js';
import { SITE } from '../sync/classes.js';
import { mmlist_first } from '../mm/mm_struct.js';
import { pte_present, pte_pfn } from '../mm/pte.js';
import type { RmapScheme } from './types.js';

/** Visit every present pte mapping pfn in mm; append triples at out[3n..]. */
export function scan_mm_for_pfn(cpu: CpuBase, mm: number, pfn: number, out: Int32Array, n: number): number {
  const w = cpu.w;
  const frames = cpu.l.frames;
  const pgd = w[mmBase(cpu.l, mm) + MM_PGD]!;
  if (pgd === NIL) return n;
  const pgdOff = frames + pgd * PAGE_WORDS;
  for (let i = 0; i < 768; i++) {
    // user part only: 768 × 4 MiB = TASK_SIZE
    const e = Atomics.load(w, pgdOff + i);
    if (e === 0) continue;
    const pt = e >>> 12;
    const ptOff = frames + pt * PAGE_WORDS;
    for (let s = 0; s < 1024; s++) {
      const pte = w[ptOff + s]!;
      if (pte_present(pte) && pte_pfn(pte) === pfn) {
        if (3 * n + 2 >= out.length) return n;
        out[3 * n] = mm;
        out[3 * n + 1] = (i << 22) | (s << 12);
        out[3 * n + 2] = (pt << 10) | s;
        n++;
      }
    }
  }
  return n;
}

export const scanScheme: RmapScheme = {
  name: 'scan',
  ptOrder: 0,
  add() {},
  remove() {},
  walk(cpu, pfn, out) {
    let n = 0;
    mmlist_lock(cpu, SITE.rmap_alloc);
    for (let mm = mmlist_first(cpu); mm >= 0; mm = cpu.w[mmBase(cpu.l, mm) + MM_MMLIST_NEXT]!) {
      n = scan_mm_for_pfn(cpu, mm, pfn, out, n);
    }
    mmlist_unlock(cpu);
    return n;
  },
  metadataBytes() {
    return 0;
  },
};
