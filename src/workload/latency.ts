/*
 * latency.ts — per-operation latency of a workload step (fork, exec,
 * shared_file): a log-linear histogram of nanoseconds, 32 sub-buckets per
 * power of two (so a percentile is known to within 3.1%), one per CPU,
 * merged after the run into the results' `opLatency` (p50/p90/p99/max).
 *
 * A Float64Array allocated once per CPU at create(); record() allocates
 * nothing. CPU-local; the merge runs on the main thread after the workers
 * have joined.
 */
import type { LatencyHistogram } from '../machine/trace.js';

const SUB_SHIFT = 5;
const SUB = 1 << SUB_SHIFT;
/** values below 2 × SUB ns get one bucket each; above, SUB per power of two up to 2^31 ns */
export const LAT_BUCKETS = 2 * SUB + (31 - SUB_SHIFT - 1) * SUB;
/** a bucket's width relative to its lower bound */
export const LAT_RESOLUTION = 1 / SUB;

export const newLatency = () => new Float64Array(LAT_BUCKETS);

function bucketOf(ns: number): number {
  const v = ns >= 0x7fffffff ? 0x7fffffff : ns < 0 ? 0 : Math.floor(ns);
  if (v < 2 * SUB) return v;
  const e = 31 - Math.clz32(v);
  return 2 * SUB + (e - SUB_SHIFT - 1) * SUB + ((v >>> (e - SUB_SHIFT)) & (SUB - 1));
}

/** Upper bound (ns) of bucket b. */
function bucketTop(b: number): number {
  if (b < 2 * SUB) return b + 1;
  const e = SUB_SHIFT + 1 + ((b - 2 * SUB) >> SUB_SHIFT);
  const sub = (b - 2 * SUB) & (SUB - 1);
  return (SUB + sub + 1) * 2 ** (e - SUB_SHIFT);
}

/** Record one operation that took `ms` milliseconds (a clock_ms() difference: host time, or virtual time under the virtual clock). */
export function record(h: Float64Array, ms: number): void {
  h[bucketOf(ms * 1e6)]!++;
}

/** Merge per-CPU histograms into percentiles (microseconds; each the top of its bucket). */
export function latencySummary(what: string, hs: ArrayLike<number>[], per = 'steps'): LatencyHistogram | undefined {
  const sum = new Float64Array(LAT_BUCKETS);
  for (const h of hs) for (let b = 0; b < LAT_BUCKETS; b++) sum[b]! += h[b] ?? 0;
  const count = sum.reduce((s, n) => s + n, 0);
  if (count === 0) return undefined;
  const q = (p: number) => {
    const want = Math.max(1, Math.ceil(p * count));
    let acc = 0;
    for (let b = 0; b < LAT_BUCKETS; b++) if ((acc += sum[b]!) >= want) return bucketTop(b) / 1000;
    return bucketTop(LAT_BUCKETS - 1) / 1000;
  };
  let min = 0;
  let max = 0;
  let mean = 0;
  for (let b = 0; b < LAT_BUCKETS; b++) {
    if (sum[b] === 0) continue;
    if (min === 0) min = bucketTop(b) / 1000;
    max = bucketTop(b) / 1000;
    mean += (sum[b]! * bucketTop(b)) / 1000;
  }
  const buckets: { le: number; count: number }[] = [];
  for (let b = 0; b < LAT_BUCKETS; b++) if (sum[b]! > 0) buckets.push({ le: bucketTop(b) / 1000, count: sum[b]! });
  return { what, per, unit: 'us', count, min, p50: q(0.5), p90: q(0.9), p99: q(0.99), max, mean: mean / count, buckets };
}
