/*
 * fifo.ts — first-in first-out replacement, the textbook definition
 * (Belady 1966; any OS text, e.g. Tanenbaum, "Modern Operating Systems",
 * §3.4.3): memory is a queue in order of arrival; a hit changes nothing; a
 * miss on a full memory evicts the page that arrived longest ago.
 *
 *     frame[]:  [ p7 | p3 | p9 | p1 ]      hand -> oldest arrival
 *                        ^hand             a miss overwrites frame[hand]
 *                                          and advances the hand
 *
 * The frames form a ring, so the queue costs one Int32 per frame and a miss
 * is O(1). Kept because it is the baseline every simulator reports and because
 * FIFO is what CLOCK degenerates to when every page is referenced.
 *
 * No machine counterpart: no kernel policy is FIFO, and `smpvm replay --cpus N`
 * refuses it.
 */
import { checkInput, evict_page, replayCounts, PG_DIRTY, PG_EVICTED, PG_RESIDENT, type PolicyCounts, type PolicyInput } from './common.js';

export function replayFifo(inp: PolicyInput): PolicyCounts {
  checkInput(inp, 'fifo');
  const { ids, ops, n, nIds, pages: M, hitLog } = inp;
  const flags = new Uint8Array(nIds);
  const frame = new Int32Array(M);
  let used = 0;
  let hand = 0;
  let misses = 0;
  let refaults = 0;
  let evictions = 0;
  let writebacks = 0;

  for (let i = 0; i < n; i++) {
    const id = ids[i];
    const f = flags[id];
    const dirty = ops[i] !== 0 ? PG_DIRTY : 0;
    if ((f & PG_RESIDENT) !== 0) {
      if (hitLog !== null) hitLog[i] = 1;
      flags[id] = f | dirty;
      continue;
    }
    misses++;
    if (hitLog !== null) hitLog[i] = 0;
    if ((f & PG_EVICTED) !== 0) refaults++;
    if (used < M) {
      frame[used++] = id;
    } else {
      if (evict_page(flags, frame[hand], 0)) writebacks++;
      evictions++;
      frame[hand] = id;
      hand = hand + 1 === M ? 0 : hand + 1;
    }
    flags[id] = f | PG_RESIDENT | dirty;
  }
  return replayCounts(inp, misses, refaults, evictions, writebacks, {});
}
