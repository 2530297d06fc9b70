/*
 * scan.ts — no reverse map at all: the 2.x baseline (seed 000, LaHaise:
 * "you need to walk the page tables of all processes to find out which ones
 * are using the page — a very costly operation").
 *
 * add/remove do nothing beyond the generic _mapcount. Finding a page's
 * mappings visits every mm on the mmlist, every present pgd entry and every
 * pte: O(all ptes in the system) per page, and no memory.
 *
 * Locking: mmlist_lock while going down the list; each mm's page_table_lock
 * while walking its tables (it is what free_pte_table takes, so no table is
 * freed under the walk — 2.4 swap_out_mm's rule). Under `2.4` that lock is
 * also the pte lock, so the per-pte work runs with it held; under `split`
 * each pte lock is trylocked inside it (ptl nests in page_table_lock). So the
 * walk nests mmlist_lock → page_table_lock, an edge nobody takes in reverse.
 * An mm on the mmlist is alive: mm_free unlinks it under mmlist_lock first.
 *
 * The same walk is the `hint` scheme's fallback (scan_rmap with hint's
 * scheme object, whose remove() drops a hint that pointed at an unmapped pte).
 */
import type { CpuBase } from '../machine/cpu.js';
import { LS_24 } from '../machine/cpu.js';
import { MM_PGD, MM_MMLIST_NEXT, NIL, PAGE_WORDS, mmBase } from '../machine/layout.js';
import { mmlist_lock, mmlist_unlock, mm_ptl_lock, mm_ptl_unlock } from '../sync/scheme.js';
import { SITE } from '../sync/classes.js';
import { mmlist_first } from '../mm/mm_struct.js';
import { pte_present, pte_pfn } from '../mm/pte.js';
import { VM } from '../machine/vmstat.js';
import { SWAP_SUCCESS, SWAP_AGAIN, no_prealloc, no_anon_vma_prepare, type RmapScheme } from './types.js';
import { page_referenced_one, try_to_unmap_one, swap_merge, walkMethods, ACT_COLLECT, ACT_REFERENCED, ACT_UNMAP } from './unmap.js';

/**
 * Walk mm's tables for ptes mapping pfn, with its page_table_lock held.
 * ACT_COLLECT appends (mm, addr, pteAddr) triples at out[3n..] and returns
 * the new n; ACT_REFERENCED returns young mappings found; ACT_UNMAP returns
 * a SWAP_* result.
 */
function scan_mm(cpu: CpuBase, r: RmapScheme, mm: number, pfn: number, act: number, out: Int32Array, n: number, entry: number): number {
  const w = cpu.w;
  const frames = cpu.l.frames;
  const held = cpu.lockScheme === LS_24;
  let ret = act === ACT_UNMAP ? SWAP_SUCCESS : n;
  mm_ptl_lock(cpu, mm, act === ACT_UNMAP ? SITE.try_to_unmap : SITE.page_referenced);
  const pgd = w[mmBase(cpu.l, mm) + MM_PGD]!;
  if (pgd === NIL) {
    mm_ptl_unlock(cpu, mm);
    return ret;
  }
  const pgdOff = frames + pgd * PAGE_WORDS;
  for (let i = 0; i < 768; i++) {
    // user part only: 768 × 4 MiB = TASK_SIZE
    const e = w[pgdOff + i]!;
    if (e === 0) continue;
    const pt = e >>> 12;
    const ptOff = frames + pt * PAGE_WORDS;
    w[cpu.vm + VM.rmap_walk_visit]! += 1024; // every pte of the table is read
    for (let s = 0; s < 1024; s++) {
      const pte = w[ptOff + s]!;
      if (!pte_present(pte) || pte_pfn(pte) !== pfn) continue;
      const pteAddr = (pt << 10) | s;
      if (act === ACT_COLLECT) {
        if (3 * ret + 2 < out.length) {
          out[3 * ret] = mm;
          out[3 * ret + 1] = (i << 22) | (s << 12);
          out[3 * ret + 2] = pteAddr;
          ret++;
        }
      } else if (act === ACT_REFERENCED) {
        if (page_referenced_one(cpu, pfn, mm, pteAddr, held) > 0) ret++;
      } else {
        ret = swap_merge(ret, try_to_unmap_one(cpu, r, pfn, mm, (i << 22) | (s << 12), pteAddr, entry, false, held));
      }
    }
  }
  mm_ptl_unlock(cpu, mm);
  return ret;
}

/**
 * The full scan: every mm on the mmlist. `r` is the scheme whose remove()
 * try_to_unmap_one calls (scan's is empty; hint's drops its hint).
 * ACT_COLLECT returns the number of triples, ACT_REFERENCED the young
 * mappings, ACT_UNMAP a SWAP_* result (before the final _mapcount check).
 */
export function scan_rmap(cpu: CpuBase, r: RmapScheme, pfn: number, act: number, out: Int32Array, entry: number): number {
  let acc = act === ACT_UNMAP ? SWAP_SUCCESS : 0;
  mmlist_lock(cpu, act === ACT_UNMAP ? SITE.try_to_unmap : SITE.page_referenced);
  for (let mm = mmlist_first(cpu); mm >= 0; mm = cpu.w[mmBase(cpu.l, mm) + MM_MMLIST_NEXT]!) {
    if (act === ACT_COLLECT) acc = scan_mm(cpu, r, mm, pfn, act, out, acc, entry);
    else if (act === ACT_REFERENCED) acc += scan_mm(cpu, r, mm, pfn, act, out, 0, entry);
    else acc = swap_merge(acc, scan_mm(cpu, r, mm, pfn, act, out, 0, entry));
  }
  mmlist_unlock(cpu);
  return acc;
}

export const scanScheme: RmapScheme = {
  name: 'scan',
  ptOrder: 0,
  add() {},
  remove() {},
  removeLocked() {},
  ...walkMethods((cpu, pfn, act, out, entry) => scan_rmap(cpu, scanScheme, pfn, act, out, entry)),
  metadataBytes() {
    return 0;
  },
  prealloc: no_prealloc,
  anon_vma_prepare: no_anon_vma_prepare,
};

export { SWAP_AGAIN };
