/*
 * twoq.ts — the `2q` policy: 2.6's active / inactive lists
 * (mm/vmscan.c refill_inactive_zone + shrink_cache/shrink_list, 2.6.0–2.6.27;
 * REFERENCE.md §4.3).
 *
 *        new anonymous / swapped-in page             new page-cache page
 *                     │                                       │
 *                     ▼                                       ▼
 *     ┌──────────── active ─────────────┐   ┌────────── inactive ───────────┐
 *     │ head ...................... tail│──►│ head ..................... tail│──► shrink_page
 *     └─────────────────────────────────┘   └────────────────────────────────┘    (free)
 *                     ▲      refill_inactive        │ referenced & mapped:
 *                     └─────────────────────────────┘ activate (pgactivate)
 *
 * A pass at priority p looks at (len >> p) + 1 pages of each list, in
 * SWAP_CLUSTER_MAX batches, alternating refill_inactive (active tail →
 * inactive head, pgdeactivate) and shrink_cache (inactive tail → free).
 *
 * refill_inactive decides which mapped pages may leave the active list with
 * 2.6's swap_tendency: mapped_ratio / 2 + distress + vm_swappiness (60),
 * distress = 100 >> priority; mapped pages are deactivated only when it
 * reaches 100 ("reclaim_mapped"), and even then a mapped page whose ptes
 * were referenced (page_referenced clears them) stays active, as does an
 * anonymous page when there is no swap. mapped_ratio is estimated on the
 * batch itself (2.6 keeps a global nr_mapped counter; the batch sample
 * avoids one more shared hot word). Unmapped pages always go inactive (the
 * page cache relies on mark_page_accessed to climb back).
 *
 * shrink_cache isolates inactive pages and hands each to shrink_page with
 * SP_REFCHECK: a mapped page referenced since it was deactivated goes back
 * to the active list (its second chance); the rest are freed if possible.
 *
 * Needs the rmap (page_referenced, try_to_unmap) of any scheme; with `scan`
 * each of those walks every page table, slowly but correctly.
 *
 * Locking: as vmscan.ts; the lists only through lru.ts.
 */
import { G_LRU, L_NR_ACTIVE, L_NR_INACTIVE, PG_FLAGS, PG_MAPCOUNT, PG_MAPPING, globalLine, pageStruct } from '../machine/layout.js';
import { PG_active, PG_swapcache, isFileMapping } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { ISOLATE_BATCH, SWAP_CLUSTER_MAX, type ReclaimCpu, type ScanControl } from './context.js';
import { isolate_lru_pages, putback_lru_pages, lru_scanned } from './lru.js';
import { shrink_page, count_scanned, PAGE_FREED, PAGE_ACTIVATE, SP_RMAP, SP_REFCHECK } from './vmscan.js';
import { swap_writeok } from './swapfile.js';
import { registerPolicy, type ReplacementPolicy } from './policy.js';
import { workingset_2q_insert } from './workingset.js';

/** vm_swappiness (2.6 default) */
export const VM_SWAPPINESS = 60;
const DEF_PRIORITY = 12;

/** refill_inactive_zone: move up to nrScan pages from the active tail. */
function refill_inactive(cpu: ReclaimCpu, nrScan: number, sc: ScanControl): void {
  const w = cpu.w;
  const l = cpu.l;
  const pages = sc.batch;
  const n = isolate_lru_pages(cpu, true, nrScan, pages, ISOLATE_BATCH, SITE.refill_inactive);
  w[cpu.vm + VM.pgrefill]! += lru_scanned;
  if (n === 0) return;
  let nmapped = 0;
  for (let i = 0; i < n; i++) if (Atomics.load(w, pageStruct(l, pages[i]!) + PG_MAPCOUNT) >= 0) nmapped++;
  const mappedRatio = Math.floor((nmapped * 100) / n);
  const distress = 100 >> sc.priority;
  const reclaimMapped = mappedRatio / 2 + distress + VM_SWAPPINESS >= 100;
  const noSwap = !swap_writeok(cpu);
  let deact = 0;
  for (let i = 0; i < n; i++) {
    const pfn = pages[i]!;
    const p = pageStruct(l, pfn);
    if (Atomics.load(w, p + PG_MAPCOUNT) >= 0) {
      const flags = Atomics.load(w, p + PG_FLAGS);
      const anon = (flags & PG_swapcache) === 0 && !isFileMapping(w[p + PG_MAPPING]!);
      if (!reclaimMapped || (noSwap && anon) || cpu.rmap.page_referenced(cpu, pfn) > 0) continue; // stays active
    }
    Atomics.and(w, p + PG_FLAGS, ~PG_active);
    deact++;
  }
  w[cpu.vm + VM.pgdeactivate]! += deact;
  putback_lru_pages(cpu, pages, n);
}

/** shrink_cache: isolate up to nrScan inactive pages and try to free each. */
function shrink_cache(cpu: ReclaimCpu, nrScan: number, sc: ScanControl): void {
  const w = cpu.w;
  const pages = sc.batch;
  const keep = sc.keep;
  const n = isolate_lru_pages(cpu, false, nrScan, pages, ISOLATE_BATCH, SITE.shrink_list);
  count_scanned(cpu, sc, lru_scanned);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const pfn = pages[i]!;
    const r = shrink_page(cpu, pfn, sc, SP_RMAP | SP_REFCHECK);
    if (r === PAGE_FREED) continue;
    if (r === PAGE_ACTIVATE) {
      Atomics.or(w, pageStruct(cpu.l, pfn) + PG_FLAGS, PG_active);
      w[cpu.vm + VM.pgactivate]!++;
    }
    keep[k++] = pfn;
  }
  putback_lru_pages(cpu, keep, k);
}

export const twoqPolicy: ReplacementPolicy = {
  name: '2q',
  usesRmap: true,
  defPriority: DEF_PRIORITY,
  newPageActive(anon) {
    return anon;
  },
  lruInsert: workingset_2q_insert, // issue 7: config.refaultActivation (workingset.ts)
  shrink(cpu, sc) {
    const g = globalLine(cpu.l, G_LRU);
    let nrActive = (cpu.w[g + L_NR_ACTIVE]! >> sc.priority) + 1;
    let nrInactive = (cpu.w[g + L_NR_INACTIVE]! >> sc.priority) + 1;
    while ((nrActive > 0 || nrInactive > 0) && sc.nrReclaimed < sc.nrToReclaim) {
      if (nrActive > 0) {
        const k = Math.min(nrActive, SWAP_CLUSTER_MAX);
        nrActive -= k;
        refill_inactive(cpu, k, sc);
      }
      if (nrInactive > 0) {
        const k = Math.min(nrInactive, SWAP_CLUSTER_MAX);
        nrInactive -= k;
        shrink_cache(cpu, k, sc);
      }
    }
  },
};

registerPolicy(twoqPolicy);
