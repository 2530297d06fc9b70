/*
 * clockpro_approx.ts — the `clockpro-approx` policy: the two-list
 * approximation of CLOCK-Pro from the LinuxMM wiki page
 * "ClockProApproximation" (Rik van Riel, rev 1 22 Apr 2005, rev 6;
 * REFERENCE.md §2.2), on the SMP machine. It keeps 2.6's active (hot) and
 * inactive (cold) lists and lets the nonresident table stand in for
 * CLOCK-Pro's non-resident clock entries. The single-CPU replay version is
 * replay/clockpro_approx.ts; the fixes its author found necessary are kept
 * here (marked "fix").
 *
 *   rule 2: referenced at the inactive tail             rule 3: referenced: rotate
 *        +-----------------------------------------+       +-----+
 *        |                                         v       v     |
 *  fault -> [ inactive (cold) ] -> tail      [ active (hot) ] -> tail
 *   rule 1     ^        | rule 5: evict,            |   ^ rule 8: refault found in the
 *              |        v remember                  |   |  table -> active at once,
 *              |   [ nonresident table (nr_bucket) ] |   |  inactive target + 1
 *              +------------------------------------+
 *                  rule 4: unreferenced active tail
 *
 *  1. new pages go to the inactive list (lruInsert);
 *  2. an inactive page found referenced at the tail goes to the active list
 *     (pgactivate). Rev 6's correlated-reference filter — only a reference
 *     after the initial one counts — is kept with NetBSD's INITIALREF flag
 *     (uvm_pdpolicy_clockpro.c, REFERENCE.md §2.5), here a bit in the page's
 *     PG_AGE word: the fault that brings a page in leaves a young pte, which
 *     says nothing; so the first time the inactive scan meets a new page it
 *     clears its reference bits and, if there was one, gives it one more
 *     trip round the inactive list; from then on rule 2 applies;
 *  3. a referenced active page at the tail goes back to the active head, its
 *     bit cleared;
 *  4. an unreferenced active page goes to the inactive head (pgdeactivate);
 *  5. an unreferenced inactive page is evicted (shrink_page) and remembered
 *     (workingset.ts: every eviction is);
 *  6. a remember into an empty slot changes nothing;
 *  7. a remember that recycles a live cookie (a test period ran out without a
 *     refault) shrinks the inactive target by one (testExpired);
 *  8. a fault on a page found in the table puts it on the active list at
 *     once and grows the inactive target by one (workingset_activate_*).
 *     A page read ahead (swapin_readahead) is not a fault: its cookie is
 *     claimed and the page marked (PGA_RA_FOUND); rule 8 applies when the
 *     inactive scan finds it used;
 *  9. (rev 6, fix) referenced active pages are evidence that the working set
 *     is cached, "emulating HAND_hot clearing out test pages, with less
 *     weight": (a) the table's hand turns with the active scan — each active
 *     page scanned turns it capacity / nr_active slots, so one revolution of
 *     the active list expires one revolution of test periods (each live
 *     cookie so expired is a rule-7 event). Without it a test period lasts a
 *     table's worth of evictions whatever the active list does, every refault
 *     of a loop slightly larger than memory is "found", rule 8 pushes the
 *     target to its maximum and the policy degenerates to CLOCK (the replay
 *     author measured it); (b) each referenced active page rotated shrinks
 *     the inactive target by 1/2 (every second rotation: −1; the 1/2 of
 *     Rik's clockpro.c).
 *
 * The active list is refilled from its tail (rules 3, 4) whenever the
 * inactive list is shorter than its target (inactive_short: counting the
 * free frames reclaim has prepared for new pages); otherwise the inactive
 * tail is worked (rules 2, 5). The target plays CLOCK-Pro's m_c, within
 * [TARGET_MIN, M − TARGET_MIN] (M: the pages on the lists, those a scan
 * holds isolated, the free frames above the low watermark), starting at 1%
 * of memory (fix: the replay's initial value), never below TARGET_MIN = two
 * reclaim batches (kswapd frees a batch at a time, and a target smaller
 * than that makes every batch dig into the active list). While memory
 * fills (nothing evicted yet) new pages go to the active list while more
 * than `target` pages still fit above the low watermark, so that it holds
 * M − target pages when reclaim starts (fix: CLOCK-Pro's warm-up, as 2.6's
 * lru_cache_add_active for new anonymous pages). The replay's other fix, a
 * table of 2M entries, is not available here: the machine's table is sized
 * by layout.ts at about one cookie per frame (alloc_large_system_hash
 * rounding up to a power of two buckets gives 15/16 to 2 × M); the coupling
 * in rule 9a is what keeps it honest.
 *
 * Locking: as vmscan.ts and twoq.ts: batches isolated under the lru lock,
 * worked on without it; the policy words in the LRU line are Atomics; the
 * PG_AGE word of an isolated page (or one not yet on a list) is its
 * holder's.
 */
import type { CpuBase } from '../machine/cpu.js';
import type { Machine } from '../machine/machine.js';
import { G_LRU, G_ZONE, Z_MANAGED, L_NR_ACTIVE, L_NR_INACTIVE, L_POLICY, PG_AGE, PG_FLAGS, PG_MAPCOUNT, globalLine, pageStruct } from '../machine/layout.js';
import { PG_active } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { ISOLATE_BATCH, SWAP_CLUSTER_MAX, type ReclaimCpu, type ScanControl } from './context.js';
import { isolate_lru_pages, putback_lru_pages, lru_scanned, test_clear_referenced } from './lru.js';
import { shrink_page, count_scanned, PAGE_FREED, PAGE_ACTIVATE, SP_RMAP } from './vmscan.js';
import { registerPolicy, type ReplacementPolicy } from './policy.js';
import { L_POLICY_ISOLATED, WS_ACTIVE, WS_ACTIVATED, WS_READAHEAD, nr_resident, nr_managed, free_above_low, target_adjust, target_read, nonresident_couple } from './workingset.js';

/* ---- the policy's words in the LRU line (L_POLICY..) ---- */
/** the inactive target (0: not set yet, read as the initial value) */
export const CA_TARGET = L_POLICY + 0;
/** rule 9b: referenced active pages rotated (every second one: target − 1) */
const CA_ROTATED = L_POLICY + 1;
/** rule 9a coupling: fraction of a slot owed (x nr_active) */
const CA_FRAC = L_POLICY + 2;
/** rule 9a coupling: next bucket to turn */
const CA_CURSOR = L_POLICY + 3;
/** CAF_* bits */
const CA_FLAGS = L_POLICY + 4;
/** inactive pages isolated by a scan in flight (still the inactive list's, for the target test) */
const CA_ISOLATED = L_POLICY_ISOLATED;
/** a page has been evicted: warm-up is over */
const CAF_EVICTED = 1;

/** PG_AGE bit: the page still carries its initial (fault) reference — rule 2's filter */
export const PGA_INITIALREF = 1;
/** PG_AGE bit: read ahead while remembered in the table — rule 8 applies if it is used */
export const PGA_RA_FOUND = 2;

export const TARGET_MIN = 2 * SWAP_CLUSTER_MAX;
const DEF_PRIORITY = 12;

const lw = (cpu: CpuBase, k: number) => globalLine(cpu.l, G_LRU) + k;
const target_init = (cpu: CpuBase) => Math.max(TARGET_MIN, Math.floor(nr_managed(cpu) / 100));

/** The inactive target now. */
export const inactive_target = (cpu: CpuBase) => target_read(cpu.w, lw(cpu, CA_TARGET), target_init(cpu));

/** Memory the two lists may hold: listed, isolated by a scan in flight, and free above the low watermark. */
const lists_size = (cpu: CpuBase) => nr_resident(cpu) + Atomics.load(cpu.w, lw(cpu, CA_ISOLATED)) + Math.max(0, free_above_low(cpu));

function target_add(cpu: CpuBase, d: number): void {
  target_adjust(cpu.w, lw(cpu, CA_TARGET), d, TARGET_MIN, lists_size(cpu) - TARGET_MIN, target_init(cpu));
}

/** Referenced since last looked at (PG_referenced, or a young pte: cleared)? */
function referenced(cpu: ReclaimCpu, pfn: number, p: number): boolean {
  let ref = test_clear_referenced(cpu, pfn);
  if (Atomics.load(cpu.w, p + PG_MAPCOUNT) >= 0 && cpu.rmap.page_referenced(cpu, pfn) > 0) ref = true;
  return ref;
}

/** Rules 3, 4 and 9 on one batch from the active tail. Returns pages looked at. */
function refill_inactive(cpu: ReclaimCpu, sc: ScanControl): number {
  const w = cpu.w;
  const pages = sc.batch;
  const nrActive = w[lw(cpu, L_NR_ACTIVE)]!;
  const n = isolate_lru_pages(cpu, true, ISOLATE_BATCH, pages, ISOLATE_BATCH, SITE.refill_inactive);
  const steps = lru_scanned;
  w[cpu.vm + VM.pgrefill]! += steps;
  let deact = 0;
  for (let i = 0; i < n; i++) {
    const pfn = pages[i]!;
    const p = pageStruct(cpu.l, pfn);
    if (referenced(cpu, pfn, p)) {
      // rule 3 (stays active: back to the head); rule 9b
      if ((Atomics.add(w, lw(cpu, CA_ROTATED), 1) & 1) === 1) target_add(cpu, -1);
    } else {
      Atomics.and(w, p + PG_FLAGS, ~PG_active); // rule 4
      deact++;
    }
  }
  w[cpu.vm + VM.pgdeactivate]! += deact;
  putback_lru_pages(cpu, pages, n);
  const expired = nonresident_couple(cpu, steps, nrActive, lw(cpu, CA_FRAC), lw(cpu, CA_CURSOR)); // rule 9a
  if (expired > 0) target_add(cpu, -expired);
  return steps;
}

/** Rules 2 and 5 on one batch from the inactive tail. Returns pages looked at. */
function shrink_inactive(cpu: ReclaimCpu, sc: ScanControl, nrScan: number): number {
  const w = cpu.w;
  const pages = sc.batch;
  const keep = sc.keep;
  const n = isolate_lru_pages(cpu, false, nrScan, pages, ISOLATE_BATCH, SITE.shrink_list);
  const steps = lru_scanned;
  count_scanned(cpu, sc, steps);
  Atomics.add(w, lw(cpu, CA_ISOLATED), n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const pfn = pages[i]!;
    const p = pageStruct(cpu.l, pfn);
    const ref = referenced(cpu, pfn, p);
    if ((w[p + PG_AGE]! & PGA_RA_FOUND) !== 0) {
      // a remembered page read ahead: used since, it is the fault rule 8 speaks of
      Atomics.and(w, p + PG_AGE, ~PGA_RA_FOUND);
      if (ref) {
        target_add(cpu, 1);
        Atomics.or(w, p + PG_FLAGS, PG_active);
        w[cpu.vm + VM.workingset_activate_anon]!++;
        keep[k++] = pfn;
        continue;
      }
    } else if ((w[p + PG_AGE]! & PGA_INITIALREF) !== 0) {
      // rule 2's filter: this reference may be the fault's own; look once more
      Atomics.and(w, p + PG_AGE, ~PGA_INITIALREF);
      if (ref) {
        keep[k++] = pfn; // back to the inactive head
        continue;
      }
    } else if (ref) {
      Atomics.or(w, p + PG_FLAGS, PG_active); // rule 2
      w[cpu.vm + VM.pgactivate]!++;
      keep[k++] = pfn;
      continue;
    }
    const r = shrink_page(cpu, pfn, sc, SP_RMAP); // rule 5 (remembered by workingset_eviction)
    if (r === PAGE_FREED) {
      if ((Atomics.load(w, lw(cpu, CA_FLAGS)) & CAF_EVICTED) === 0) Atomics.or(w, lw(cpu, CA_FLAGS), CAF_EVICTED);
      continue;
    }
    if (r === PAGE_ACTIVATE) {
      Atomics.or(w, p + PG_FLAGS, PG_active); // cannot go (shmem, no swap, unmap failed)
      w[cpu.vm + VM.pgactivate]!++;
    }
    keep[k++] = pfn;
  }
  putback_lru_pages(cpu, keep, k);
  Atomics.sub(w, lw(cpu, CA_ISOLATED), n);
  return steps;
}

/**
 * Is the inactive list short of its target? It counts the pages a
 * concurrent scan holds isolated, and the free frames above the low
 * watermark — the frames the next faults will fill with new inactive pages:
 * reclaim frees in batches ahead of need, and refilling the inactive list
 * for a batch already freed would deactivate the active pages that rule 3
 * protects (the replay frees exactly one page per miss, so it needs neither).
 */
function inactive_short(cpu: CpuBase): boolean {
  const w = cpu.w;
  const cold = w[lw(cpu, L_NR_INACTIVE)]! + Atomics.load(w, lw(cpu, CA_ISOLATED)) + Math.max(0, free_above_low(cpu));
  return w[lw(cpu, L_NR_ACTIVE)]! > 0 && cold < inactive_target(cpu);
}

export const clockproApproxPolicy: ReplacementPolicy = {
  name: 'clockpro-approx',
  usesRmap: true,
  defPriority: DEF_PRIORITY,
  hitSetsReferenced: true,
  newPageActive() {
    return false; // not consulted: lruInsert places every page
  },
  lruInsert(cpu, pfn, kind, distance) {
    const w = cpu.w;
    if (kind === WS_READAHEAD) {
      // not a fault: rule 8 waits for the page's first use (shrink_inactive)
      if (distance >= 0) Atomics.store(w, pageStruct(cpu.l, pfn) + PG_AGE, PGA_RA_FOUND);
      return 0;
    }
    if (distance >= 0) {
      target_add(cpu, 1); // rule 8
      return WS_ACTIVE | WS_ACTIVATED;
    }
    if ((Atomics.load(w, lw(cpu, CA_FLAGS)) & CAF_EVICTED) === 0 && free_above_low(cpu) > inactive_target(cpu)) {
      return WS_ACTIVE; // warm-up
    }
    Atomics.store(w, pageStruct(cpu.l, pfn) + PG_AGE, PGA_INITIALREF);
    return 0; // rule 1
  },
  testExpired(cpu) {
    target_add(cpu, -1); // rule 7
  },
  shrink(cpu, sc) {
    const w = cpu.w;
    let budget = (nr_resident(cpu) >> sc.priority) + SWAP_CLUSTER_MAX;
    while (budget > 0 && sc.nrReclaimed < sc.nrToReclaim) {
      let looked: number;
      if (inactive_short(cpu)) {
        looked = refill_inactive(cpu, sc);
        if (looked === 0) looked = shrink_inactive(cpu, sc, Math.min(budget, ISOLATE_BATCH));
      } else {
        looked = shrink_inactive(cpu, sc, Math.min(budget, ISOLATE_BATCH));
        if (looked === 0 && w[lw(cpu, L_NR_ACTIVE)]! > 0) looked = refill_inactive(cpu, sc);
      }
      if (looked === 0) break;
      budget -= looked;
    }
  },
};

/** The approximation's gauges (tests, bench): the inactive target. */
export function clockpro_approx_state(m: Machine): { inactiveTarget: number } {
  const v = m.w[globalLine(m.layout, G_LRU) + CA_TARGET]!;
  return { inactiveTarget: v !== 0 ? v : Math.max(TARGET_MIN, Math.floor(m.w[globalLine(m.layout, G_ZONE) + Z_MANAGED]! / 100)) };
}

registerPolicy(clockproApproxPolicy);
