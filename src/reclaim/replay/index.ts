/*
 * Trace replay: run a page-reference trace through a replacement policy on
 * one CPU, deterministically, at one or more memory sizes.
 *
 *   replay(trace, { policy: 'clockpro', pages: [1000, 2000] })
 *     -> { policy, trace: {...}, sizes: [{ pages, refs, hits, misses, missRatio,
 *          refaults, evictions, writebacks, stats }], refsPerSec, elapsedMs }
 *
 * The keys are mapped to dense ids once (ids.ts); each size is then one call
 * of the policy's own loop over typed arrays. Every field of the result is a
 * pure function of (trace, options) except the timings (refsPerSec,
 * elapsedMs). Policies:
 *
 *   fifo, lru, clock   textbook definitions (fifo.ts, lru.ts, clock.ts)
 *   2q                 Linux 2.6 active/inactive lists; refaultActivation adds
 *                      mm/workingset.c's refault-distance activation (twoq.ts)
 *   clockpro           CLOCK-Pro, three hands, adaptive cold target (clockpro.ts)
 *   clockpro-approx    LinuxMM wiki two-list approximation (clockpro_approx.ts)
 */
import type { PageTrace } from '../page_trace.js';
import { replayClock } from './clock.js';
import { replayClockPro } from './clockpro.js';
import { replayClockProApprox } from './clockpro_approx.js';
import type { PolicyCounts, PolicyInput } from './common.js';
import { replayFifo } from './fifo.js';
import { densify, type DenseTrace } from './ids.js';
import { replayLru } from './lru.js';
import { replayTwoQ } from './twoq.js';

export type { PolicyCounts, PolicyInput } from './common.js';
export { densify, type DenseTrace } from './ids.js';

export const REPLAY_POLICIES = ['fifo', 'lru', 'clock', '2q', 'clockpro', 'clockpro-approx'] as const;
export type ReplayPolicy = (typeof REPLAY_POLICIES)[number];

export interface ReplayOptions {
  readonly policy: ReplayPolicy;
  /** Memory sizes M to replay at, in pages (positive integers). */
  readonly pages: readonly number[];
  /** 2q only: activate refaults whose refault distance <= nr_active (mm/workingset.c). */
  readonly refaultActivation?: boolean;
  /** clockpro only: initial cold target m_c as a fraction of M (default 0.01). */
  readonly coldInit?: number;
  /** clockpro-approx only: initial inactive target as a fraction of M (default 0.01). */
  readonly inactiveInit?: number;
  /** clockpro-approx only: nonresident table size as a multiple of M (default 2). */
  readonly nonresidentFactor?: number;
}

export interface ReplaySizeResult {
  /** Memory size M in pages. */
  pages: number;
  /** References replayed. */
  refs: number;
  hits: number;
  /** Major faults: references to a non-resident page (first touches included). */
  misses: number;
  /** misses / refs (0 for an empty trace). */
  missRatio: number;
  /** Misses on pages evicted earlier in the run. */
  refaults: number;
  evictions: number;
  /** Evictions of pages written since they were brought in. */
  writebacks: number;
  /** Policy-specific end-of-run figures. */
  stats: Record<string, number>;
  /** Wall time of this size's replay (not deterministic). */
  elapsedMs: number;
}

export interface ReplayResult {
  policy: ReplayPolicy;
  /** The policy options that were given (refaultActivation, coldInit, ...). */
  options: Record<string, number | boolean>;
  trace: { name: string; refs: number; distinctPages: number; writes: number };
  sizes: ReplaySizeResult[];
  /** References replayed per second over all sizes (not deterministic). */
  refsPerSec: number;
  /** Wall time of all sizes, id mapping included (not deterministic). */
  elapsedMs: number;
}

/** Trace input: a parsed trace, or bare keys (ops default to reads). */
export type ReplayTrace = PageTrace | { readonly keys: Float64Array; readonly ops?: Uint8Array; readonly name?: string };

/** Run one policy at one size over an already densified trace (the building block of replay()). */
export function runPolicy(dense: DenseTrace, ops: Uint8Array, pages: number, opts: ReplayOptions, hitLog: Uint8Array | null = null): PolicyCounts {
  const inp: PolicyInput = { ids: dense.ids, ops, n: dense.ids.length, nIds: dense.nIds, pages, hitLog };
  switch (opts.policy) {
    case 'fifo':
      return replayFifo(inp);
    case 'lru':
      return replayLru(inp);
    case 'clock':
      return replayClock(inp);
    case '2q':
      return replayTwoQ(inp, { refaultActivation: opts.refaultActivation ?? false });
    case 'clockpro':
      return replayClockPro(inp, { coldInit: opts.coldInit });
    case 'clockpro-approx':
      return replayClockProApprox(inp, { inactiveInit: opts.inactiveInit, nonresidentFactor: opts.nonresidentFactor });
    default: {
      const bad: never = opts.policy;
      throw new RangeError(`replay: unknown policy '${String(bad)}' (one of ${REPLAY_POLICIES.join(', ')})`);
    }
  }
}

/** Replay `trace` through `opts.policy` at each size of `opts.pages`. */
export function replay(trace: ReplayTrace, opts: ReplayOptions): ReplayResult {
  if (!(REPLAY_POLICIES as readonly string[]).includes(opts.policy)) {
    throw new RangeError(`replay: unknown policy '${opts.policy}' (one of ${REPLAY_POLICIES.join(', ')})`);
  }
  if (opts.pages.length === 0) throw new RangeError('replay: no memory size given');
  for (const p of opts.pages) {
    if (!Number.isInteger(p) || p < 1) throw new RangeError(`replay: memory size ${p} is not a positive integer`);
  }
  const keys = trace.keys;
  const n = 'length' in trace ? trace.length : keys.length;
  const ops = trace.ops ?? new Uint8Array(n);
  if (ops.length < n) throw new RangeError(`replay: ${ops.length} ops for ${n} references`);
  let writes = 0;
  for (let i = 0; i < n; i++) writes += ops[i] !== 0 ? 1 : 0;

  const t0 = performance.now();
  const dense = densify(keys, n);
  const sizes: ReplaySizeResult[] = [];
  for (const pages of opts.pages) {
    const t1 = performance.now();
    const c = runPolicy(dense, ops, pages, opts);
    const elapsedMs = performance.now() - t1;
    sizes.push({
      pages,
      refs: n,
      hits: c.hits,
      misses: c.misses,
      missRatio: n === 0 ? 0 : c.misses / n,
      refaults: c.refaults,
      evictions: c.evictions,
      writebacks: c.writebacks,
      stats: c.stats,
      elapsedMs,
    });
  }
  const elapsedMs = performance.now() - t0;
  const options: Record<string, number | boolean> = {};
  for (const k of ['refaultActivation', 'coldInit', 'inactiveInit', 'nonresidentFactor'] as const) {
    const v = opts[k];
    if (v !== undefined) options[k] = v;
  }
  return {
    policy: opts.policy,
    options,
    trace: { name: trace.name ?? '<keys>', refs: n, distinctPages: dense.nIds, writes },
    sizes,
    refsPerSec: elapsedMs > 0 ? (n * opts.pages.length) / (elapsedMs / 1000) : 0,
    elapsedMs,
  };
}
