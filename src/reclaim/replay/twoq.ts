/*
 * twoq.ts — "2q": the Linux 2.6 active/inactive lists, with an option for
 * refault-distance activation as mm/workingset.c does it.
 *
 * Sources: REFERENCE.md §4.2–4.3 (2.4.17 mm/vmscan.c refill_inactive and
 * shrink_cache; 2.6 mm/swap.c mark_page_accessed, mm/vmscan.c
 * refill_inactive_zone / shrink_list) and §6 (torvalds/linux mm/workingset.c,
 * Johannes Weiner 2013). The name is the linux-mm one for the two-list
 * scheme; it is not Johnson & Shasha's 2Q.
 *
 *            mark_page_accessed()                    refill_inactive()
 *   fault --> [inactive,unref] --ref--> [inactive,ref] --ref--> [active,unref] --ref--> [active,ref]
 *                 ^                                                 |  ^                    |
 *                 |                       active tail, unreferenced |  +--- rotate, clear --+
 *                 +-------------------------------------------------+   (active tail, referenced)
 *   inactive tail --> evicted (shrink_list)
 *
 * The replayed pages are modelled as page cache read through read(2), the case
 * the 2.6 state machine was written for:
 *
 *  - Every reference, the faulting one included, calls mark_page_accessed():
 *    inactive,unreferenced -> inactive,referenced -> active (referenced bit
 *    cleared) -> active,referenced. A faulted page therefore starts
 *    inactive,referenced (add_to_page_cache_lru() then mark_page_accessed(),
 *    as do_generic_mapping_read does) and its next reference activates it: a
 *    page used once is evicted from the inactive list without ever
 *    disturbing the active one (use-once).
 *  - Reclaim (one page per miss once memory is full) first runs
 *    refill_inactive: while the active list holds more than 2/3 of memory
 *    (2.4.10+: "keep the active list 2/3 of the cache"), take the active tail;
 *    a referenced page has the bit cleared and rotates to the active head
 *    (2.4 refill_inactive, and 2.6 for mapped pages), an unreferenced one goes
 *    to the inactive head. Then shrink_list evicts the inactive tail. An
 *    inactive page's referenced bit does not save it there: for an unmapped
 *    page-cache page page_mapping_inuse() is false, so 2.6 reclaims it
 *    (its second reference would already have activated it).
 *
 * Refault-distance activation (option `refaultActivation`, mm/workingset.c):
 *
 *  - a nonresident age counter `age` (lruvec->nonresident_age) advances by
 *    one on every eviction and every activation (workingset_eviction,
 *    workingset_activation): together they bound from below the number of
 *    inactive-list slots consumed;
 *  - an evicted page leaves a shadow entry: its eviction timestamp E = age
 *    (stored per page id here — the page-cache slot of the kernel — so there
 *    are no collisions and no shadow shrinker);
 *  - on the refault at age R, refault_distance = R - E. The page's reuse
 *    distance was at least nr_inactive + refault_distance; it could have stayed
 *    resident had the inactive list been given the whole active list, i.e. if
 *    refault_distance <= nr_active. Then the page is activated at once (and the
 *    activation ages the counter); otherwise it starts inactive as usual.
 *
 * What that buys, and what not: the rule activates exactly the refaults an
 * LRU of the whole memory would have hit. It re-establishes a working set that
 * fits in memory but not in the inactive list while the active list is stale
 * (workingset.c's header comment). On a loop over N > M distinct pages it
 * never fires: a page evicted after M - nr_active inactive insertions refaults
 * after N - (M - nr_active) > nr_active further evictions. Keeping part of
 * such a loop resident takes CLOCK-Pro's test periods (clockpro.ts).
 *
 * Why a copy beside the machine's `2q` (src/reclaim/twoq.ts): that one runs
 * the same lists on struct pages under zone->lru_lock, in SWAP_CLUSTER_MAX
 * batches at a scan priority, with 2.6's swap_tendency deciding whether
 * mapped pages may leave the active list and young ptes (not
 * mark_page_accessed) carrying a mapped page's references; here every
 * reference is a mark_page_accessed on page cache and every miss evicts
 * exactly one page, so the replay is a pure function of the trace. The two
 * give the same misses where the decisions must coincide (a working set that
 * fits; a loop larger than memory) — test/reclaim/replay-machine.test.ts —
 * and differ elsewhere.
 */
import { checkInput, evict_page, list_add, list_del, replayCounts, PG_DIRTY, PG_EVICTED, PG_POLICY, PG_RESIDENT, type PolicyCounts, type PolicyInput } from './common.js';

const PG_ACTIVE = PG_POLICY;
const PG_REFERENCED = PG_POLICY << 1;

export interface TwoQOptions {
  /** Activate a refault iff refault_distance <= nr_active (mm/workingset.c). */
  readonly refaultActivation: boolean;
}

export function replayTwoQ(inp: PolicyInput, opts: TwoQOptions): PolicyCounts {
  checkInput(inp, '2q');
  const { ids, ops, n, nIds, pages: M, hitLog } = inp;
  const workingset = opts.refaultActivation;
  const flags = new Uint8Array(nIds);
  // Two circular lists threaded through next/prev by page id; sentinels ACT and INA.
  const ACT = nIds;
  const INA = nIds + 1;
  const next = new Int32Array(nIds + 2); // towards the tail (older)
  const prev = new Int32Array(nIds + 2); // towards the head (newer)
  next[ACT] = prev[ACT] = ACT;
  next[INA] = prev[INA] = INA;
  // Shadow entries: eviction timestamp per page, -1 = none.
  const shadow = workingset ? new Float64Array(nIds).fill(-1) : new Float64Array(0);
  const activeMax = Math.floor((2 * M) / 3);

  let nrActive = 0;
  let nrInactive = 0;
  let used = 0;
  let age = 0; // nonresident_age
  let misses = 0;
  let refaults = 0;
  let evictions = 0;
  let writebacks = 0;
  let activations = 0; // mark_page_accessed promotions (pgactivate)
  let deactivations = 0; // refill_inactive moves to the inactive list (pgdeactivate)
  let rotations = 0; // referenced active pages rotated by refill_inactive
  let refaultActivations = 0; // workingset_refault activations
  let shadowHits = 0; // refaults that found a shadow entry

  /** mm/swap.c mark_page_accessed(). */
  function markPageAccessed(id: number): void {
    const f = flags[id];
    if ((f & (PG_ACTIVE | PG_REFERENCED)) === PG_REFERENCED) {
      list_del(next, prev, id);
      list_add(next, prev, id, ACT);
      nrInactive--;
      nrActive++;
      flags[id] = (f | PG_ACTIVE) & ~PG_REFERENCED;
      activations++;
      age++; // workingset_activation()
    } else if ((f & PG_REFERENCED) === 0) {
      flags[id] = f | PG_REFERENCED;
    }
  }

  /** refill_inactive + shrink_list for one page: evict the inactive tail. */
  function shrinkOne(): void {
    while (nrActive > activeMax) {
      const x = prev[ACT];
      const f = flags[x];
      list_del(next, prev, x);
      if ((f & PG_REFERENCED) !== 0) {
        flags[x] = f & ~PG_REFERENCED;
        list_add(next, prev, x, ACT);
        rotations++;
      } else {
        flags[x] = f & ~PG_ACTIVE;
        list_add(next, prev, x, INA);
        nrActive--;
        nrInactive++;
        deactivations++;
      }
    }
    // nrActive <= floor(2M/3) < M = used, so the inactive list is not empty.
    const v = prev[INA];
    list_del(next, prev, v);
    nrInactive--;
    if (evict_page(flags, v, PG_REFERENCED)) writebacks++;
    evictions++;
    if (workingset) shadow[v] = age++; // workingset_eviction()
  }

  for (let i = 0; i < n; i++) {
    const id = ids[i];
    const f = flags[id];
    const dirty = ops[i] !== 0 ? PG_DIRTY : 0;
    if ((f & PG_RESIDENT) !== 0) {
      if (hitLog !== null) hitLog[i] = 1;
      flags[id] = f | dirty;
      markPageAccessed(id);
      continue;
    }
    misses++;
    if (hitLog !== null) hitLog[i] = 0;
    if ((f & PG_EVICTED) !== 0) refaults++;
    if (used < M) used++;
    else shrinkOne();

    let activate = false;
    if (workingset && shadow[id] >= 0) {
      // workingset_refault(): could the page have stayed with the active list's room?
      shadowHits++;
      const refaultDistance = age - shadow[id];
      shadow[id] = -1;
      if (refaultDistance <= nrActive) activate = true;
    }
    if (activate) {
      flags[id] = (f & ~PG_REFERENCED) | PG_RESIDENT | PG_ACTIVE | dirty;
      list_add(next, prev, id, ACT);
      nrActive++;
      refaultActivations++;
      age++; // the activation ages the counter too
    } else {
      flags[id] = (f & ~(PG_REFERENCED | PG_ACTIVE)) | PG_RESIDENT | dirty;
      list_add(next, prev, id, INA);
      nrInactive++;
    }
    markPageAccessed(id); // the faulting reference itself
  }
  return replayCounts(inp, misses, refaults, evictions, writebacks, { activations, deactivations, rotations, refaultActivations, shadowHits, nrActive, nrInactive, activeMax });
}
