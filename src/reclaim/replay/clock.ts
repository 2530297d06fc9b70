/*
 * clock.ts — CLOCK (second chance), the textbook definition (Corbató, "A
 * paging experiment with the Multics system", MIT Project MAC MAC-M-384,
 * 1968; Tanenbaum, "Modern Operating Systems", §3.4.5), stated exactly so
 * results compare with other simulators:
 *
 *   - a missed page enters with its reference bit CLEAR;
 *   - a hit sets the bit (no list movement: this is why a kernel can afford
 *     it — the MMU sets the accessed bit, nobody takes a lock);
 *   - on a miss with memory full, the hand sweeps: a page with the bit set
 *     has it cleared and is passed over, the first page with the bit clear is
 *     evicted, the new page takes its frame and the hand moves one past it.
 *
 *            frame[0]  frame[1]  frame[2]  frame[3]
 *              p4 1      p9 0      p2 1      p7 0
 *                        ^hand  -> evict p9, new page in frame[1] (bit 0),
 *                                  hand -> frame[2]
 *
 * While memory fills, pages take frames 0, 1, 2, ... and the hand stays at
 * frame 0. The reference bit lives in the page's flag byte (PG_REFERENCED),
 * the frames in one Int32Array.
 *
 * Why a copy beside the machine's `clock` (src/reclaim/clock.ts, LaHaise's
 * page-centric kswapd): that hand sweeps mem_map in pfn order over whatever
 * frames the allocator handed out, reclaims in batches above the watermarks,
 * and reads the reference bit from young ptes through the rmap; this one is
 * the textbook clock over M frames, one eviction per miss, so that its figures
 * compare with other simulators'. They give the same misses where the
 * decisions must coincide (a working set that fits; a loop larger than
 * memory) — test/reclaim/replay-machine.test.ts — and differ elsewhere.
 */
import { checkInput, evict_page, replayCounts, PG_DIRTY, PG_EVICTED, PG_POLICY, PG_RESIDENT, type PolicyCounts, type PolicyInput } from './common.js';

const PG_REFERENCED = PG_POLICY;

export function replayClock(inp: PolicyInput): PolicyCounts {
  checkInput(inp, 'clock');
  const { ids, ops, n, nIds, pages: M, hitLog } = inp;
  const flags = new Uint8Array(nIds);
  const frame = new Int32Array(M);
  let used = 0;
  let hand = 0;
  let misses = 0;
  let refaults = 0;
  let evictions = 0;
  let writebacks = 0;
  let scanned = 0; // frames the hand passed over (pgscan)

  for (let i = 0; i < n; i++) {
    const id = ids[i];
    const f = flags[id];
    const dirty = ops[i] !== 0 ? PG_DIRTY : 0;
    if ((f & PG_RESIDENT) !== 0) {
      if (hitLog !== null) hitLog[i] = 1;
      flags[id] = f | PG_REFERENCED | dirty;
      continue;
    }
    misses++;
    if (hitLog !== null) hitLog[i] = 0;
    if ((f & PG_EVICTED) !== 0) refaults++;
    if (used < M) {
      frame[used++] = id;
    } else {
      let v = frame[hand];
      let fv = flags[v];
      while ((fv & PG_REFERENCED) !== 0) {
        flags[v] = fv & ~PG_REFERENCED;
        scanned++;
        hand = hand + 1 === M ? 0 : hand + 1;
        v = frame[hand];
        fv = flags[v];
      }
      scanned++;
      if (evict_page(flags, v, 0)) writebacks++;
      evictions++;
      frame[hand] = id;
      hand = hand + 1 === M ? 0 : hand + 1;
    }
    flags[id] = (f & ~PG_REFERENCED) | PG_RESIDENT | dirty;
  }
  return replayCounts(inp, misses, refaults, evictions, writebacks, { scanned });
}
