/*
 * clockpro_approx.ts — the two-list approximation of CLOCK-Pro from the
 * LinuxMM wiki page "ClockProApproximation" (Rik van Riel, rev 1 22 Apr 2005,
 * rev 6; REFERENCE.md §2.2), which keeps the kernel's active/inactive lists
 * and replaces CLOCK-Pro's non-resident clock entries by a table of recently
 * evicted pages.
 *
 * Why a copy beside the machine's `clockpro-approx`
 * (src/reclaim/clockpro_approx.ts): that one keeps its remembered pages in
 * the hashed nonresident table (cookies lost to collisions and to the bucket
 * hand) and reclaims in batches under kswapd; this one keeps an exact FIFO
 * ring of evicted page ids and evicts one page per miss, to show what the
 * wiki's rules do by themselves. Same misses where the decisions must
 * coincide (a working set that fits) — test/reclaim/replay-machine.test.ts.
 *
 *                 rule 2 (referenced at the tail)          rule 3 (referenced: rotate)
 *        +-----------------------------------------+       +-----+
 *        |                                         v       v     |
 *  fault -> [ inactive (cold) ] -> tail      [ active (hot) ] -> tail
 *   rule 1     ^        | rule 5: evict,            |   ^ rule 8: refault found in the
 *              |        v remember                  |   |  table -> active at once,
 *              |   [ nonresident FIFO, 2M slots ]   |   |  inactive target + 1
 *              +------------------------------------+
 *                  rule 4 (unreferenced active tail)
 *
 * The rules, and how each is realised here:
 *  1. new pages go to the inactive (cold) list;
 *  2. an inactive page found referenced at the inactive tail goes to the
 *     active list (rev 6's correlated-reference filter: the fault itself
 *     does not set the referenced bit, only a later reference does);
 *  3. a referenced active page found at the active tail goes back to the
 *     active head, its bit cleared;
 *  4. an unreferenced active page goes to the inactive head;
 *  5. an unreferenced inactive page at the tail is evicted and remembered in
 *     the nonresident table;
 *  6. remembering into an empty slot changes nothing;
 *  7. recycling an occupied slot (a test period ran out without a refault)
 *     shrinks the inactive target by one;
 *  8. a fault on a page found in the table (a refault within its test
 *     period) puts it on the active list at once and grows the inactive
 *     target by one;
 *  9. (rev 6) referenced active pages are evidence that the working set is
 *     cached, so the active list should not shrink too far — "this emulates
 *     HAND_hot clearing out test pages", with less weight than rule 7.
 *
 * The active list is refilled from its tail (rules 3, 4) whenever the
 * inactive list is below its target; then the inactive tail is processed
 * (rules 2, 5) until one page is evicted. The inactive target plays
 * CLOCK-Pro's m_c and is kept in [1, M-1].
 *
 * The nonresident table is a FIFO ring of 2M evicted page ids with a
 * per-page slot index, so a lookup is exact and O(1); a found entry is claimed
 * (slot emptied), as recently_evicted() does. (The hashed nr_bucket table of
 * Rik's patches, with its collisions, is src/reclaim/nonresident.ts for the
 * SMP machine.) Why 2M and not CLOCK-Pro's M: the ring measures a test period
 * in evictions, CLOCK-Pro in pages on its clock — up to M resident plus M
 * non-resident entries, i.e. reuse distances up to 2M, the range rev 6 speaks
 * of ("reference distance of < 2 times the size of memory"). With M slots, a
 * page that went through a short inactive list and refaults after more than M
 * evictions is never recognised: measured, after a uniform-random phase had
 * left the inactive target at 1 and the active list stale, a loop over 1.1 M
 * pages stayed at 100% misses with M slots and fell to 25% with 2M (CLOCK-Pro:
 * 24%); cold-start loops, zipf and phase changes were unchanged within 0.3%.
 * `nonresidentFactor` sets the size.
 *
 * Where the wiki leaves room, choices taken from the implementations that
 * followed it:
 *  - Rule 9, first half: the ring's hand is coupled to the active-list scan,
 *    as Peter Zijlstra's CLOCK-Pro couples the non-resident clock to the hot
 *    hand and NetBSD's advances every bucket's cycle with the hot hand
 *    (REFERENCE.md §2.4, §2.5): each active page scanned advances the ring by
 *    M / nr_active slots, so one revolution of the active list expires one
 *    revolution of test periods. Each live entry expired that way is a rule-7
 *    event. Without this, a test period lasts M evictions whatever the hot
 *    list does, every refault of a loop slightly larger than memory is
 *    "found", rule 8 pushes the target to its maximum, and the policy
 *    degenerates to CLOCK.
 *  - Rule 9, second half: each referenced active page rotated shrinks the
 *    inactive target by 1/2 (accumulated exactly; "less weight" than rule 7's
 *    1 — the same 1/2 Rik's clockpro.c used, pseudo-randomly, for its
 *    remember_page adjustment).
 *  - While memory fills (no eviction yet), new pages go to the active list
 *    until it holds M - target pages: CLOCK-Pro's (and LIRS's) warm-up, and
 *    2.6's lru_cache_add_active() for new anonymous pages. The initial
 *    inactive target is 1% of M, CLOCK-Pro's initial m_c (clockpro.ts).
 */
import { checkInput, evict_page, list_add, list_del, replayCounts, PG_DIRTY, PG_EVICTED, PG_POLICY, PG_RESIDENT, type PolicyCounts, type PolicyInput } from './common.js';

const PG_ACTIVE = PG_POLICY;
const PG_REF = PG_POLICY << 1;

/** Rule 9: inactive-target decrement per referenced active page rotated. */
const ROTATE_WEIGHT = 0.5;

export interface ClockProApproxOptions {
  /** Initial inactive target as a fraction of M (default 0.01, at least 1 page). */
  readonly inactiveInit?: number;
  /** Nonresident table size as a multiple of M (default 2). */
  readonly nonresidentFactor?: number;
}

export function replayClockProApprox(inp: PolicyInput, opts: ClockProApproxOptions = {}): PolicyCounts {
  checkInput(inp, 'clockpro-approx');
  const { ids, ops, n, nIds, pages: M, hitLog } = inp;
  const flags = new Uint8Array(nIds);
  const ACT = nIds;
  const INA = nIds + 1;
  const next = new Int32Array(nIds + 2); // towards the tail
  const prev = new Int32Array(nIds + 2); // towards the head
  next[ACT] = prev[ACT] = ACT;
  next[INA] = prev[INA] = INA;

  const cap = Math.max(1, Math.round(M * (opts.nonresidentFactor ?? 2)));
  const ring = new Int32Array(cap).fill(-1); // evicted page ids, -1 = empty slot
  const slotOf = new Int32Array(nIds).fill(-1); // ring slot of a remembered page
  let ringHand = 0;
  let ringFrac = 0; // coupling accumulator: ring slots owed to active-list scanning, x nr_active

  const tMin = 1;
  const tMax = Math.max(1, M - 1);
  let target = Math.min(tMax, Math.max(tMin, Math.round(M * (opts.inactiveInit ?? 0.01))));
  let rotateDebt = 0; // rule 9 accumulator

  let nrActive = 0;
  let nrInactive = 0;
  let used = 0;
  let misses = 0;
  let refaults = 0;
  let evictions = 0;
  let writebacks = 0;
  let found = 0; // rule 8 events
  let expired = 0; // rule 7 events (occupied slot recycled or expired by the coupling)
  let activations = 0; // rule 2
  let deactivations = 0; // rule 4
  let rotations = 0; // rule 3

  function adjustTarget(d: number): void {
    target += d;
    if (target < tMin) target = tMin;
    else if (target > tMax) target = tMax;
  }

  /** Advance the ring hand one slot, expiring what is there (rule 7 when live). */
  function ringAdvance(): number {
    const s = ringHand;
    const old = ring[s];
    if (old >= 0) {
      slotOf[old] = -1;
      ring[s] = -1;
      expired++;
      adjustTarget(-1);
    }
    ringHand = s + 1 === cap ? 0 : s + 1;
    return s;
  }

  /** Rule 5/6/7: remember an evicted page. */
  function remember(x: number): void {
    const s = ringAdvance();
    ring[s] = x;
    slotOf[x] = s;
  }

  /** One active-tail page scanned: the ring turns by cap / nr_active slots. */
  function coupleScan(): void {
    ringFrac += cap;
    while (ringFrac >= nrActive) {
      ringFrac -= nrActive;
      ringAdvance();
    }
  }

  /** Free one frame. */
  function reclaimOne(): void {
    for (;;) {
      if (nrActive > 0 && nrInactive < target) {
        const x = prev[ACT];
        const f = flags[x];
        coupleScan();
        list_del(next, prev, x);
        if ((f & PG_REF) !== 0) {
          // rule 3, and rule 9's weight against shrinking the active list
          flags[x] = f & ~PG_REF;
          list_add(next, prev, x, ACT);
          rotations++;
          rotateDebt += ROTATE_WEIGHT;
          if (rotateDebt >= 1) {
            rotateDebt -= 1;
            adjustTarget(-1);
          }
        } else {
          // rule 4
          flags[x] = f & ~PG_ACTIVE;
          list_add(next, prev, x, INA);
          nrActive--;
          nrInactive++;
          deactivations++;
        }
        continue;
      }
      const x = prev[INA];
      const f = flags[x];
      list_del(next, prev, x);
      nrInactive--;
      if ((f & PG_REF) !== 0) {
        // rule 2
        flags[x] = (f & ~PG_REF) | PG_ACTIVE;
        list_add(next, prev, x, ACT);
        nrActive++;
        activations++;
        continue;
      }
      // rule 5
      if (evict_page(flags, x, 0)) writebacks++;
      evictions++;
      remember(x);
      return;
    }
  }

  for (let i = 0; i < n; i++) {
    const id = ids[i];
    const f = flags[id];
    const dirty = ops[i] !== 0 ? PG_DIRTY : 0;
    if ((f & PG_RESIDENT) !== 0) {
      if (hitLog !== null) hitLog[i] = 1;
      flags[id] = f | PG_REF | dirty;
      continue;
    }
    misses++;
    if (hitLog !== null) hitLog[i] = 0;
    if ((f & PG_EVICTED) !== 0) refaults++;
    if (used < M) used++;
    else reclaimOne();

    const s = slotOf[id];
    let active: boolean;
    if (s >= 0) {
      // rule 8: claim the entry, activate, grow the inactive target
      ring[s] = -1;
      slotOf[id] = -1;
      found++;
      adjustTarget(+1);
      active = true;
    } else {
      // rule 1, with CLOCK-Pro's warm-up while memory fills
      active = evictions === 0 && nrActive < M - target;
    }
    if (active) {
      flags[id] = (f & ~PG_REF) | PG_RESIDENT | PG_ACTIVE | dirty;
      list_add(next, prev, id, ACT);
      nrActive++;
    } else {
      flags[id] = (f & ~(PG_REF | PG_ACTIVE)) | PG_RESIDENT | dirty;
      list_add(next, prev, id, INA);
      nrInactive++;
    }
  }
  return replayCounts(inp, misses, refaults, evictions, writebacks, { inactiveTarget: target, nrActive, nrInactive, found, expired, activations, deactivations, rotations });
}
