/*
 * lru.ts — least-recently-used replacement, the textbook definition
 * (Mattson, Gecsei, Slutz, Traiger, "Evaluation techniques for storage
 * hierarchies", IBM Systems Journal 9(2), 1970 — LRU is the stack algorithm
 * of that paper): every reference moves the page to the most-recent end; a
 * miss on a full memory evicts the page referenced longest ago.
 *
 *     sentinel <-> MRU <-> ... <-> LRU <-> sentinel     (circular, by id)
 *                  ^ hit or fault goes here     ^ evicted
 *
 * The list is threaded through two Int32Arrays indexed by page id, with one
 * sentinel slot at index nIds, so a hit is four stores and a miss O(1). No
 * kernel can afford this on every reference (it needs a hook on every memory
 * access); it is here as the reference point CLOCK approximates and as the
 * "stock" baseline of the looping-scan comparison (REFERENCE.md §2.4).
 *
 * No machine counterpart, for the reason just given; `smpvm replay --cpus N`
 * refuses it.
 */
import { checkInput, evict_page, replayCounts, PG_DIRTY, PG_EVICTED, PG_RESIDENT, type PolicyCounts, type PolicyInput } from './common.js';

export function replayLru(inp: PolicyInput): PolicyCounts {
  checkInput(inp, 'lru');
  const { ids, ops, n, nIds, pages: M, hitLog } = inp;
  const flags = new Uint8Array(nIds);
  const S = nIds; // sentinel
  const next = new Int32Array(nIds + 1); // towards LRU
  const prev = new Int32Array(nIds + 1); // towards MRU
  next[S] = S;
  prev[S] = S;
  let used = 0;
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
      if (next[S] !== id) {
        // unlink, then insert at the MRU end
        const p = prev[id];
        const q = next[id];
        next[p] = q;
        prev[q] = p;
        const h = next[S];
        next[id] = h;
        prev[id] = S;
        prev[h] = id;
        next[S] = id;
      }
      continue;
    }
    misses++;
    if (hitLog !== null) hitLog[i] = 0;
    if ((f & PG_EVICTED) !== 0) refaults++;
    if (used < M) {
      used++;
    } else {
      const v = prev[S];
      const p = prev[v];
      next[p] = S;
      prev[S] = p;
      if (evict_page(flags, v, 0)) writebacks++;
      evictions++;
    }
    const h = next[S];
    next[id] = h;
    prev[id] = S;
    prev[h] = id;
    next[S] = id;
    flags[id] = f | PG_RESIDENT | dirty;
  }
  return replayCounts(inp, misses, refaults, evictions, writebacks, {});
}
