/*
 * common.ts — what every replay policy shares: its input, its counters, the
 * low bits of the per-page flag byte, the eviction (evict_page) and the
 * id-threaded list helpers.
 *
 * A policy is one function that runs the whole trace at one memory size, with
 * its own inner loop (so each loop is monomorphic and its helpers inline), and
 * keeps per-page state in typed arrays indexed by the dense page id (ids.ts).
 * Nothing is allocated per reference. The per-reference hit/miss counting
 * stays in each loop, on local counters: kept in one shared counter object
 * instead, it cost 6-8% of refs/s; and 2q's refill_inactive step stays
 * written out in twoq.ts and clockpro_approx.ts: as one shared helper it cost
 * 2q+workingset about 9% (bench/replay.ts's trace, measured).
 * Single-threaded: no shared memory, no locks.
 *
 * Counting rules, the same for every policy:
 *   hit        the page was resident;
 *   miss       it was not (a major fault); memory fills first, then every miss
 *              evicts exactly one resident page (evictions = misses - pages,
 *              once memory is full);
 *   refault    a miss on a page that was evicted earlier in this run (as
 *              opposed to a first touch) — the kernel's workingset_refault
 *              event, counted here from exact history whatever the policy
 *              itself remembers;
 *   writeback  an eviction of a page written (W) since it was brought in.
 */

/** Per-page flag bits every policy uses; policies add their own from PG_POLICY up. */
export const PG_RESIDENT = 1;
export const PG_DIRTY = 2;
/** Evicted at least once: the next miss on this page is a refault. */
export const PG_EVICTED = 4;
/** First bit free for a policy's own flags. */
export const PG_POLICY = 8;

/** One replay's input: the trace in dense ids and the memory size. */
export interface PolicyInput {
  /** Dense page id of each reference. */
  readonly ids: Int32Array;
  /** OP_READ (0) / OP_WRITE (1) of each reference. */
  readonly ops: Uint8Array;
  /** Number of references to replay (ids.length). */
  readonly n: number;
  /** Number of distinct pages (ids are 0..nIds-1). */
  readonly nIds: number;
  /** Memory size M in pages (>= 1). */
  readonly pages: number;
  /** If given (length >= n), hitLog[i] is set to 1 on a hit and 0 on a miss. */
  readonly hitLog: Uint8Array | null;
}

/** What one replay counted. */
export interface PolicyCounts {
  hits: number;
  misses: number;
  refaults: number;
  evictions: number;
  writebacks: number;
  /** Policy-specific figures at the end of the run (activations, targets, ...). */
  stats: Record<string, number>;
}

/** Check a replay input once, before the loop. */
export function checkInput(inp: PolicyInput, who: string): void {
  if (!Number.isInteger(inp.pages) || inp.pages < 1) throw new RangeError(`${who}: memory size ${inp.pages} is not a positive integer`);
  if (inp.ids.length < inp.n || inp.ops.length < inp.n) throw new RangeError(`${who}: trace arrays shorter than n=${inp.n}`);
  if (inp.hitLog !== null && inp.hitLog.length < inp.n) throw new RangeError(`${who}: hitLog shorter than n=${inp.n}`);
}

/**
 * Evict resident page v: it leaves memory clean and marked PG_EVICTED, with
 * `clear` (a policy's own bits) cleared too. True if it was dirty (a
 * writeback). Called on every eviction of every policy, always with a
 * Uint8Array: monomorphic, inlined into each loop.
 */
export function evict_page(flags: Uint8Array, v: number, clear: number): boolean {
  const fv = flags[v];
  flags[v] = (fv & ~(PG_RESIDENT | PG_DIRTY | clear)) | PG_EVICTED;
  return (fv & PG_DIRTY) !== 0;
}

/** A replay's counts from its loop's counters; every reference that was not a miss was a hit. */
export function replayCounts(inp: PolicyInput, misses: number, refaults: number, evictions: number, writebacks: number, stats: Record<string, number>): PolicyCounts {
  return { hits: inp.n - misses, misses, refaults, evictions, writebacks, stats };
}

/*
 * Doubly linked lists threaded through two Int32Arrays by page id, with
 * sentinel ids as heads (2q's active/inactive lists, clockpro-approx's).
 * next[] points towards the tail (older), prev[] towards the head (newer).
 */

/** Insert x right after h (at the head of h's list). */
export function list_add(next: Int32Array, prev: Int32Array, x: number, h: number): void {
  const q = next[h]!;
  next[x] = q;
  prev[x] = h;
  prev[q] = x;
  next[h] = x;
}

/** Take x off its list. */
export function list_del(next: Int32Array, prev: Int32Array, x: number): void {
  const p = prev[x]!;
  const q = next[x]!;
  next[p] = q;
  prev[q] = p;
}
