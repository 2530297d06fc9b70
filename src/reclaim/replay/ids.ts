/*
 * ids.ts — map a trace's page keys to dense ids 0..nIds-1, once, before replay.
 *
 * Every policy keeps its per-page state in typed arrays indexed by that id, so
 * the replay loop does no hashing at all. The mapping itself is one pass over
 * the keys through an open-addressing table (linear probing, power-of-two
 * size, load <= 1/2): Float64 keys, Int32 ids, no Map and no boxing, which
 * matters for keys above 2^31 (a Map would hash heap numbers).
 *
 * Ids are handed out in order of first reference, so the mapping (and every
 * replay result built on it) is deterministic.
 */

/** The trace rewritten in dense ids. */
export interface DenseTrace {
  /** ids[i] is the dense id of the i-th reference's key. */
  readonly ids: Int32Array;
  /** Number of distinct keys. */
  readonly nIds: number;
  /** keyOf[id] is the original key. */
  readonly keyOf: Float64Array;
}

const TWO32 = 4294967296;

/** 32-bit mix of an integer key < 2^53 (murmur3 finaliser over both halves). */
function hashKey(k: number): number {
  const lo = k >>> 0;
  const hi = (k / TWO32) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 13;
  return h;
}

/** Map keys[0, n) to dense ids in order of first appearance. */
export function densify(keys: Float64Array, n = keys.length): DenseTrace {
  let cap = 1024;
  while (cap < 2 * Math.min(n, 1 << 18)) cap *= 2; // grows by rehashing
  let mask = cap - 1;
  let tabKey = new Float64Array(cap);
  let tabId = new Int32Array(cap).fill(-1);
  let keyOf = new Float64Array(Math.max(16, Math.min(n, 1 << 20)));
  let nIds = 0;
  const ids = new Int32Array(n);

  for (let i = 0; i < n; i++) {
    const k = keys[i];
    let s = hashKey(k) & mask;
    let id: number;
    for (;;) {
      id = tabId[s];
      if (id < 0 || tabKey[s] === k) break;
      s = (s + 1) & mask;
    }
    if (id < 0) {
      id = nIds++;
      tabKey[s] = k;
      tabId[s] = id;
      if (id === keyOf.length) {
        const g = new Float64Array(keyOf.length * 2);
        g.set(keyOf);
        keyOf = g;
      }
      keyOf[id] = k;
      if (2 * nIds > cap) {
        // Rehash into a table twice the size.
        const oKey = tabKey;
        const oId = tabId;
        cap *= 2;
        mask = cap - 1;
        tabKey = new Float64Array(cap);
        tabId = new Int32Array(cap).fill(-1);
        for (let j = 0; j < oId.length; j++) {
          const oid = oId[j];
          if (oid < 0) continue;
          const ok = oKey[j];
          let t = hashKey(ok) & mask;
          while (tabId[t] >= 0) t = (t + 1) & mask;
          tabKey[t] = ok;
          tabId[t] = oid;
        }
      }
    }
    ids[i] = id;
  }
  return { ids, nIds, keyOf: keyOf.slice(0, nIds) };
}
