/*
 * clockpro.ts — the `clockpro` policy: CLOCK-Pro (Song Jiang, Feng Chen,
 * Xiaodong Zhang, "CLOCK-Pro: an effective improvement of the CLOCK
 * replacement", USENIX ATC 2005) on the SMP machine, in the shape Peter
 * Zijlstra gave it for a zoned kernel (Dec 2005 "clockpro-clockpro.patch",
 * Mar 2006 "[PATCH 29/34] mm: clockpro"; REFERENCE.md §2.1, §2.4). The
 * single-CPU trace replay's version, the paper's algorithm itself (one clock
 * of hot, cold and non-resident entries, three hands; checked reference by
 * reference against a transcription of the paper in
 * test/reclaim/clockpro-reference.test.ts), is replay/clockpro.ts; this one
 * runs under kswapd and direct reclaim on any number of CPUs.
 *
 * THE DOCUMENTED APPROXIMATION. The paper keeps a non-resident cold page as
 * an entry on the clock until a hand ends its test period. Here, as in PZ's
 * patch, it is a cookie in the hashed nonresident table: it can be lost
 * early (its bucket's hand recycles it when NUM_NR other evictions hash to
 * the same bucket, whatever the clock is doing), it can be matched by another
 * page's equal cookie (about NUM_NR * 2^-(32 - log2 nbuckets) per lookup),
 * and HAND_test is the table's bucket hand, coupled to HAND_hot by
 * nonresident_couple() rather than a hand walking entries. So the machine's
 * misses are not the replay's; the replay is the yardstick.
 *
 * THE IDEA (the paper). Rank pages by reuse distance, not recency: HOT pages
 * (short reuse distance) are never evicted while hot; COLD pages compete for
 * m_c frames, the cold target; M − m_c frames hold hot pages. A cold page is
 * given a TEST period; referenced again within it, it proves a reuse distance
 * shorter than some hot page's and turns hot. A cold page evicted during its
 * test period is remembered (NON-RESIDENT), so a refault within the period is
 * recognised. m_c adapts: +1 for each cold page re-referenced in its test
 * period, −1 for each test period that ends without one.
 *
 * THE RESIDENT CLOCK: two lists, two hands (PZ's list_hand[]). Every LRU page
 * is on one circle; the machine's two LRU lists are its two arcs, laid head
 * to tail, and the hands sit at the junctions:
 *
 *        Hcold ──►                                 Hhot ──►
 *   ──┬──[tail ····· cold hand's list ····· head]──┬──[tail ····· hot hand's list ····· head]──┬──
 *     │   next page Hcold meets     behind Hhot    │   next page Hhot meets     behind Hcold   │
 *     └────────────────────────────────────── the circle closes ─────────────────────────────┘
 *
 * A hand takes pages from the tail of its own list and leaves the pages it
 * has passed at the head of the other hand's list, i.e. right behind itself:
 * no page moves in the clock except by being passed, as in the paper. When a
 * hand's list is empty it has caught up with the other hand and laps it: the
 * two lists swap roles (CP_COLD_LIST names the physical list — 1: the
 * "active" one — that Hcold works on; PG_active therefore only says which
 * physical list a page is on, the checker's invariant, and the page's
 * CLOCK-Pro state is in its own bits). New pages go to the head of the cold
 * hand's list: right behind Hhot, the youngest position on the clock.
 *
 * STATES, in struct page:
 *     hot                PG_hot (counted in L_NR_HOT)
 *     cold, in test      PG_test
 *     cold               neither
 *     reference bit      PG_referenced (a hit: mark_page_accessed sets only
 *                        that, hitSetsReferenced) or a young pte, read and
 *                        cleared through the rmap (page_referenced)
 *     non-resident       a cookie in the nonresident table (nonresident.ts):
 *                        CLOCK-Pro's test entries live there and only there
 *
 * HAND_cold (shrink: find frames), at each page it meets:
 *     hot                      passes it
 *     cold, ref, in test       → hot, m_c + 1 (promotion; pgactivate)
 *     cold, ref                → in test (its period starts)
 *     cold, unref              → shrink_page: freed — remembered in the
 *                                nonresident table if it was in test
 *                                (rememberEvicted), forgotten if not
 * HAND_hot (runs whenever nr_hot > M − m_c, M = clock_size()), at each page:
 *     hot, ref                 clears the bit, stays hot
 *     hot, unref               → cold (demotion; pgdeactivate), until the
 *                                excess is gone
 *     cold, in test            its test period ends: m_c + 1 if it was
 *                                referenced meanwhile (the bit is kept for
 *                                HAND_cold), m_c − 1 if not
 *   and every page it passes turns the non-resident clock by
 *   capacity / M slots (PZ: one resident revolution = one
 *   non-resident revolution): the test periods of non-resident pages end as
 *   HAND_hot goes round, as when it passes their entries in the paper's single
 *   clock. Each live cookie so expired: m_c − 1.
 * HAND_test is the table itself: a remember that recycles a live cookie
 * ended that page's test period (testExpired: m_c − 1).
 *
 * INSERTION (lruInsert):
 *     refault found in the table   → hot at once, m_c + 1 (workingset_activate)
 *     read-ahead page found        → cold, in test: not a fault; if the
 *                                    fault it was read for follows, HAND_cold
 *                                    finds it referenced in test → hot
 *     otherwise                    → cold, not in test: PZ's use-once rule,
 *                                    "one state lower", because the reference
 *                                    of the fault that brought it in will be
 *                                    seen (a young pte) and would otherwise
 *                                    promote it at HAND_cold's first visit;
 *                                    so that visit starts its test period and
 *                                    only a second reference makes it hot.
 *                                    An untouched read-ahead page leaves at
 *                                    the first visit, forgotten.
 *     warm-up (nothing evicted yet) → hot while more than m_c pages still
 *                                    fit above the low watermark, so that
 *                                    memory fills with M − m_c hot pages
 *                                    (LIRS: the first blocks are LIR)
 *
 * M, the clock's size (clock_size), is the pages on the lists, those a
 * hand holds isolated, and the free frames above the low watermark that the
 * next faults will fill (see there: reclaim frees ahead of need, in
 * batches, and on several CPUs at once). m_c lives in [MC_MIN, M − MC_MIN]
 * (PZ caps increases at the resident count; the floor keeps half a reclaim
 * batch of cold pages), starting at 1% of memory (the replay's and LIRS's
 * choice).
 *
 * Locking: as vmscan.ts. Batches are isolated from a hand's list under the
 * lru lock and worked on without it, so kswapd and direct reclaimers run
 * both hands concurrently on disjoint pages; the flags are Atomics.or/and,
 * L_NR_HOT and the policy words Atomics, the list swap a compare-and-swap.
 * A hand's position is thus "wherever the tail of its list is": exact on
 * one CPU, and off by the batches in flight on several.
 */
import type { CpuBase } from '../machine/cpu.js';
import type { Machine } from '../machine/machine.js';
import { G_LRU, G_ZONE, Z_MANAGED, L_NR_ACTIVE, L_NR_INACTIVE, L_NR_HOT, L_POLICY, PG_FLAGS, PG_MAPCOUNT, globalLine, pageStruct } from '../machine/layout.js';
import { PG_hot, PG_test, PG_active, PG_referenced } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { ISOLATE_BATCH, SWAP_CLUSTER_MAX, type ReclaimCpu, type ScanControl } from './context.js';
import { isolate_lru_pages, putback_lru_pages, lru_scanned, test_clear_referenced } from './lru.js';
import { shrink_page, count_scanned, PAGE_FREED, SP_RMAP } from './vmscan.js';
import { registerPolicy, type ReplacementPolicy } from './policy.js';
import { L_POLICY_ISOLATED, WS_ACTIVE, WS_ACTIVATED, WS_READAHEAD, nr_resident, nr_managed, free_above_low, target_adjust, target_read, nonresident_couple } from './workingset.js';

/* ---- the policy's words in the LRU line (L_POLICY..) ---- */
/** m_c, the cold target (0: not set yet, read as the initial value) */
export const CP_COLD_TARGET = L_POLICY + 0;
/** the physical list HAND_cold works on: 1 the active list, 0 the inactive list */
export const CP_COLD_LIST = L_POLICY + 1;
/** non-resident clock coupling: fraction of a slot owed (x the clock size) */
const CP_FRAC = L_POLICY + 2;
/** non-resident clock coupling: next bucket to turn */
const CP_CURSOR = L_POLICY + 3;
/** CPF_* bits */
const CP_FLAGS = L_POLICY + 4;
/** pages the hands hold isolated right now (off the lists, still on the clock) */
const CP_ISOLATED = L_POLICY_ISOLATED;
/** a page has been evicted: warm-up is over */
const CPF_EVICTED = 1;

/** lowest cold target: a reclaim batch's worth of cold pages, halved */
export const MC_MIN = SWAP_CLUSTER_MAX / 2;
const DEF_PRIORITY = 12;

const lw = (cpu: CpuBase, k: number) => globalLine(cpu.l, G_LRU) + k;
const mc_init = (cpu: CpuBase) => Math.max(MC_MIN, Math.floor(nr_managed(cpu) / 100));

/** m_c now. */
export const cold_target = (cpu: CpuBase) => target_read(cpu.w, lw(cpu, CP_COLD_TARGET), mc_init(cpu));

function cold_target_adjust(cpu: CpuBase, d: number): void {
  target_adjust(cpu.w, lw(cpu, CP_COLD_TARGET), d, MC_MIN, clock_size(cpu) - MC_MIN, mc_init(cpu));
}

/**
 * Pages on the clock: those on the two lists, those a hand holds isolated
 * (another CPU's batch in flight is still memory the clock owns: without it
 * a concurrent reclaimer would see the hot share jump by a batch and demote
 * for nothing), and the free pages above the low watermark — the frames the
 * next faults will fill with cold pages (reclaim frees in batches ahead of
 * need; counting those frames as resident keeps a batch from making HAND_hot
 * demote a batch's worth of hot pages).
 */
export const clock_size = (cpu: CpuBase) =>
  nr_resident(cpu) + Atomics.load(cpu.w, lw(cpu, CP_ISOLATED)) + Math.max(0, free_above_low(cpu));

/** Hot pages over the hot budget M − m_c (HAND_hot's work). */
const hot_excess = (cpu: CpuBase) => Atomics.load(cpu.w, lw(cpu, L_NR_HOT)) - (clock_size(cpu) - cold_target(cpu));

/**
 * The physical list (true: the active one) that HAND_cold (`cold`) or
 * HAND_hot works on. If it is empty the hand has caught up with the other
 * one: it laps it, and the two lists swap roles (compare-and-swap; a
 * concurrent swap by another CPU wins and means the same thing).
 */
function hand_list(cpu: CpuBase, cold: boolean): boolean {
  const w = cpu.w;
  const off = lw(cpu, CP_COLD_LIST);
  const c = Atomics.load(w, off);
  const list = cold ? c !== 0 : c === 0;
  if (w[lw(cpu, list ? L_NR_ACTIVE : L_NR_INACTIVE)]! > 0) return list;
  if (w[lw(cpu, list ? L_NR_INACTIVE : L_NR_ACTIVE)]! === 0) return list;
  Atomics.compareExchange(w, off, c, c ^ 1);
  return !list;
}

/** Leave an isolated page for putback on physical list `active`. */
function place(w: Int32Array, flagsOff: number, active: boolean): void {
  if (active) Atomics.or(w, flagsOff, PG_active);
  else Atomics.and(w, flagsOff, ~PG_active);
}

/** Referenced since last looked at (PG_referenced, or a young pte: cleared)? */
function referenced(cpu: ReclaimCpu, pfn: number, p: number): boolean {
  let ref = test_clear_referenced(cpu, pfn);
  if (Atomics.load(cpu.w, p + PG_MAPCOUNT) >= 0 && cpu.rmap.page_referenced(cpu, pfn) > 0) ref = true;
  return ref;
}

/**
 * HAND_hot: while hot pages exceed M − m_c (M = clock_size), demote unreferenced
 * hot pages, ending the test periods of the cold pages it passes; at most
 * one revolution per call. `force` more demotions are asked for when
 * HAND_cold found no cold page at all (see shrink). sc.batch is free
 * (between HAND_cold batches).
 */
function hand_hot(cpu: ReclaimCpu, sc: ScanControl, force: number): void {
  const w = cpu.w;
  let excess = Math.max(0, hot_excess(cpu)) + force;
  if (excess <= 0) return;
  const pages = sc.batch;
  const maxLook = nr_resident(cpu) + ISOLATE_BATCH;
  let looked = 0;
  let batch = Math.min(ISOLATE_BATCH, excess + 3);
  while (excess > 0 && looked < maxLook) {
    const list = hand_list(cpu, false);
    const n = isolate_lru_pages(cpu, list, batch, pages, ISOLATE_BATCH, SITE.refill_inactive);
    const steps = lru_scanned;
    Atomics.add(w, lw(cpu, CP_ISOLATED), n);
    if (steps === 0) break;
    looked += steps;
    w[cpu.vm + VM.pgrefill]! += steps;
    let demoted = 0;
    for (let i = 0; i < n; i++) {
      const pfn = pages[i]!;
      const p = pageStruct(cpu.l, pfn);
      const f = Atomics.load(w, p + PG_FLAGS);
      if ((f & PG_hot) !== 0) {
        if (!referenced(cpu, pfn, p) && excess > 0) {
          Atomics.and(w, p + PG_FLAGS, ~PG_hot);
          Atomics.sub(w, lw(cpu, L_NR_HOT), 1);
          excess--;
          demoted++;
        }
      } else if ((f & PG_test) !== 0) {
        // the test period ends here; a reference seen is kept for HAND_cold
        let ref = (f & PG_referenced) !== 0;
        if (Atomics.load(w, p + PG_MAPCOUNT) >= 0 && cpu.rmap.page_referenced(cpu, pfn) > 0) {
          Atomics.or(w, p + PG_FLAGS, PG_referenced);
          ref = true;
        }
        Atomics.and(w, p + PG_FLAGS, ~PG_test);
        cold_target_adjust(cpu, ref ? 1 : -1);
      }
      place(w, p + PG_FLAGS, !list); // behind HAND_hot: the head of the cold hand's list
    }
    w[cpu.vm + VM.pgdeactivate]! += demoted;
    putback_lru_pages(cpu, pages, n);
    Atomics.sub(w, lw(cpu, CP_ISOLATED), n);
    const expired = nonresident_couple(cpu, steps, clock_size(cpu), lw(cpu, CP_FRAC), lw(cpu, CP_CURSOR));
    if (expired > 0) cold_target_adjust(cpu, -expired);
    excess = force > 0 ? excess : hot_excess(cpu);
    batch = demoted > 0 ? Math.min(ISOLATE_BATCH, excess + 3) : ISOLATE_BATCH;
  }
}

/** HAND_cold over one isolated batch pages[0..n): see the header. Returns the cold pages it met. */
function hand_cold_batch(cpu: ReclaimCpu, sc: ScanControl, n: number, behind: boolean): number {
  const w = cpu.w;
  const pages = sc.batch;
  const keep = sc.keep;
  let k = 0;
  let cold = 0;
  for (let i = 0; i < n; i++) {
    const pfn = pages[i]!;
    const p = pageStruct(cpu.l, pfn);
    const f = Atomics.load(w, p + PG_FLAGS);
    if ((f & PG_hot) === 0) {
      cold++;
      if (referenced(cpu, pfn, p)) {
        if ((f & PG_test) !== 0) {
          Atomics.and(w, p + PG_FLAGS, ~PG_test);
          Atomics.or(w, p + PG_FLAGS, PG_hot);
          Atomics.add(w, lw(cpu, L_NR_HOT), 1);
          cold_target_adjust(cpu, 1);
          w[cpu.vm + VM.pgactivate]!++;
        } else {
          Atomics.or(w, p + PG_FLAGS, PG_test);
        }
      } else if (shrink_page(cpu, pfn, sc, SP_RMAP) === PAGE_FREED) {
        if ((Atomics.load(w, lw(cpu, CP_FLAGS)) & CPF_EVICTED) === 0) Atomics.or(w, lw(cpu, CP_FLAGS), CPF_EVICTED);
        continue;
      }
    }
    place(w, p + PG_FLAGS, behind); // behind HAND_cold: the head of the hot hand's list
    keep[k++] = pfn;
  }
  putback_lru_pages(cpu, keep, k);
  Atomics.sub(w, lw(cpu, CP_ISOLATED), n);
  return cold;
}

export const clockproPolicy: ReplacementPolicy = {
  name: 'clockpro',
  usesRmap: true,
  defPriority: DEF_PRIORITY,
  hitSetsReferenced: true,
  newPageActive() {
    return false; // not consulted: lruInsert places every page
  },
  lruInsert(cpu, pfn, kind, distance) {
    const w = cpu.w;
    const head = Atomics.load(w, lw(cpu, CP_COLD_LIST)) !== 0 ? WS_ACTIVE : 0; // behind HAND_hot
    const f = pageStruct(cpu.l, pfn) + PG_FLAGS;
    if (distance >= 0 && kind === WS_READAHEAD) {
      // read back ahead of a fault while still remembered: its test period goes on, and the
      // access that follows (if any) makes it hot at HAND_cold's first visit
      Atomics.or(w, f, PG_test);
      return head;
    }
    if (distance >= 0) {
      // a non-resident page refaulted within its test period
      Atomics.or(w, f, PG_hot);
      Atomics.add(w, lw(cpu, L_NR_HOT), 1);
      cold_target_adjust(cpu, 1);
      return head | WS_ACTIVATED;
    }
    if (
      kind !== WS_READAHEAD &&
      (Atomics.load(w, lw(cpu, CP_FLAGS)) & CPF_EVICTED) === 0 &&
      free_above_low(cpu) > cold_target(cpu)
    ) {
      Atomics.or(w, f, PG_hot); // warm-up
      Atomics.add(w, lw(cpu, L_NR_HOT), 1);
    }
    return head;
  },
  rememberEvicted(cpu, pfn) {
    return (Atomics.load(cpu.w, pageStruct(cpu.l, pfn) + PG_FLAGS) & PG_test) !== 0;
  },
  testExpired(cpu) {
    cold_target_adjust(cpu, -1);
  },
  shrink(cpu, sc) {
    hand_hot(cpu, sc, 0);
    let budget = (nr_resident(cpu) >> sc.priority) + SWAP_CLUSTER_MAX;
    let cold = 0;
    while (budget > 0 && sc.nrReclaimed < sc.nrToReclaim) {
      const list = hand_list(cpu, true);
      const n = isolate_lru_pages(cpu, list, Math.min(budget, ISOLATE_BATCH), sc.batch, ISOLATE_BATCH, SITE.shrink_list);
      const looked = lru_scanned;
      Atomics.add(cpu.w, lw(cpu, CP_ISOLATED), n);
      if (looked === 0) break;
      count_scanned(cpu, sc, looked);
      budget -= looked;
      cold += hand_cold_batch(cpu, sc, n, !list);
      hand_hot(cpu, sc, 0);
    }
    // A whole lap at the last priority met only hot pages (memory not yet full when reclaim is
    // asked for, as by shrink_all_memory; or every cold page in flight on another CPU): m_c is
    // a target, not a guarantee, so HAND_hot makes the cold pages this pass still wants.
    if (cold === 0 && sc.priority === 0 && sc.nrReclaimed < sc.nrToReclaim) hand_hot(cpu, sc, sc.nrToReclaim - sc.nrReclaimed);
  },
};

/** CLOCK-Pro's gauges (tests, bench, reports): m_c, hot pages, which list HAND_cold works. */
export function clockpro_state(m: Machine): { coldTarget: number; nrHot: number; coldList: 'active' | 'inactive' } {
  const g = globalLine(m.layout, G_LRU);
  const v = m.w[g + CP_COLD_TARGET]!;
  return {
    coldTarget: v !== 0 ? v : Math.max(MC_MIN, Math.floor(m.w[globalLine(m.layout, G_ZONE) + Z_MANAGED]! / 100)),
    nrHot: m.w[g + L_NR_HOT]!,
    coldList: m.w[g + CP_COLD_LIST] !== 0 ? 'active' : 'inactive',
  };
}

registerPolicy(clockproPolicy);
