/*
 * clock.ts — the `clock` policy: Ben LaHaise's page-centric kswapd (seed
 * 001, "mm - a page-centric kswapd", Aug 1997):
 *
 *   "The code in vmscan.c now scans pages using a single handed clock
 *    algorithm (as mm/filemap.c:shrink_mmap did) ... The behaviour wrt
 *    shared pages is very different from the old kswapd - such pages only
 *    get touched once for all mappings as opposed to the many times by the
 *    old code. This means shared pages do *not* have an advantage over
 *    non-shared pages, making kswapd able to free pages much faster."
 *
 *          mem_map:  [0][1][2][3] ... [hand] ... [nrFrames-1]
 *                                       │  advances, wraps
 *                                       ▼
 *            not PG_lru (free, page table, in transit) → pass
 *            referenced: PG_referenced, or any young pte
 *              (page_referenced tests and clears them all)   → second chance
 *            else → shrink_page: one try_to_unmap for all mappers, one
 *              write to swap, freed
 *
 * The hand (L_CLOCK_HAND, under the lru lock) sweeps physical memory in pfn
 * order, not list order; the LRU lists are only the set of pages reclaim may
 * take (every new page joins the inactive list and never moves: this policy
 * keeps no active list). A sweep at priority p passes (nrFrames >> p) + 32
 * frames; each batch of candidates is isolated under one lru lock hold.
 *
 * The old kswapd's virtual scan (swapout.ts) meets a page shared by N
 * processes N times and can only free it after the Nth; the hand meets it
 * once and the rmap finds all N ptes. The rmap schemes with a chain per
 * page (ptechain, vmnode, ptechain25) make that O(N); `scan` makes each
 * page_referenced / try_to_unmap a walk of every page table — correct, but
 * it is the cost the seed was written to avoid.
 *
 * THE FREEABLE QUEUE (config.freeable, issue 18; seed 001's "active,
 * inactive and freeable queues", 2.4-rmap's inactive_clean): a page the
 * hand would free is parked instead, clean and still cached, while fewer
 * than pages_high are; an allocation short of pages_min takes one without
 * reclaiming (freeable.ts). The hand passes parked pages by. Off by
 * default; bench/freeable.ts compares allocation latency with and without.
 *
 * Locking: as vmscan.ts; the hand and the isolation under the lru lock.
 */
import { G_LRU, L_CLOCK_HAND, PG_FLAGS, PG_MAPCOUNT, globalLine, pageStruct } from '../machine/layout.js';
import { PG_freeable } from '../machine/page.js';
import { SITE } from '../sync/classes.js';
import { lru_lock, lru_unlock } from '../sync/scheme.js';
import { ISOLATE_BATCH, SWAP_CLUSTER_MAX, type ReclaimCpu, type ScanControl } from './context.js';
import { isolate_lru_page, putback_lru_pages, test_clear_referenced } from './lru.js';
import { shrink_page, count_scanned, PAGE_FREED, SP_RMAP, SP_FREEABLE } from './vmscan.js';
import { freeable_on } from './freeable.js';
import { registerPolicy, type ReplacementPolicy } from './policy.js';

const DEF_PRIORITY = 6;

/** Advance the hand over up to `budget` frames, isolating up to `max` PG_lru pages. Returns frames passed. */
function clock_isolate(cpu: ReclaimCpu, budget: number, out: Int32Array, max: number, res: Int32Array): number {
  const w = cpu.w;
  const nr = cpu.l.nrFrames;
  const handOff = globalLine(cpu.l, G_LRU) + L_CLOCK_HAND;
  let n = 0;
  let steps = 0;
  lru_lock(cpu, SITE.shrink_list);
  let hand = w[handOff]!;
  while (steps < budget && n < max) {
    const pfn = hand;
    hand = hand + 1 >= nr ? 1 : hand + 1;
    steps++;
    if (isolate_lru_page(cpu, pfn, true)) out[n++] = pfn;
  }
  w[handOff] = hand;
  lru_unlock(cpu);
  res[0] = n;
  return steps;
}

export const clockPolicy: ReplacementPolicy = {
  name: 'clock',
  usesRmap: true,
  defPriority: DEF_PRIORITY,
  newPageActive() {
    return false;
  },
  shrink(cpu, sc: ScanControl) {
    const w = cpu.w;
    const pages = sc.batch;
    const keep = sc.keep;
    const res = sc.aux;
    const mode = freeable_on(cpu) ? SP_RMAP | SP_FREEABLE : SP_RMAP;
    let budget = (cpu.l.nrFrames >> sc.priority) + SWAP_CLUSTER_MAX;
    while (budget > 0 && sc.nrReclaimed < sc.nrToReclaim) {
      budget -= clock_isolate(cpu, budget, pages, ISOLATE_BATCH, res);
      const n = res[0]!;
      count_scanned(cpu, sc, n);
      let k = 0;
      for (let i = 0; i < n; i++) {
        const pfn = pages[i]!;
        if ((Atomics.load(w, pageStruct(cpu.l, pfn) + PG_FLAGS) & PG_freeable) !== 0) {
          keep[k++] = pfn; // parked for the allocator: passed by
          continue;
        }
        let referenced = test_clear_referenced(cpu, pfn);
        if (Atomics.load(w, pageStruct(cpu.l, pfn) + PG_MAPCOUNT) >= 0 && cpu.rmap.page_referenced(cpu, pfn) > 0) referenced = true;
        if (!referenced && shrink_page(cpu, pfn, sc, mode) === PAGE_FREED) continue;
        keep[k++] = pfn;
      }
      putback_lru_pages(cpu, keep, k);
    }
  },
};

registerPolicy(clockPolicy);
