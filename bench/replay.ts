/*
 * bench/replay.ts — trace-replay speed: references per second for each
 * replacement policy on a 1M-reference synthetic trace, single thread.
 *
 *   npm run build && node dist/bench/replay.js [--refs N] [--out FILE]
 *
 * The trace mixes the two patterns the policies are built for: half the
 * references are zipf(0.9) over 65536 pages (a skewed working set), half a
 * sequential loop over 12000 pages (a scan larger than the smaller memory).
 * Each policy runs at M = 4096 and M = 16384 pages; the figure kept is the
 * best of five runs after one warm-up run (JIT), so it measures the policy
 * loop, not compilation. The key -> dense id mapping (once per trace, shared
 * by all sizes) is timed separately. Writes results/bench-replay.json.
 */
import Table from 'cli-table3';
import { plain } from '../src/report/summary.js';
import { availableParallelism, cpus as osCpus } from 'node:os';
import { densify, runPolicy, type ReplayOptions } from '../src/reclaim/replay/index.js';
import { OP_READ, OP_WRITE, type PageTrace } from '../src/reclaim/page_trace.js';
import { fmtRate, writeResult, benchArgs, benchMain } from './common.js';

export interface ReplayBenchRow {
  policy: string;
  pages: number;
  refs: number;
  misses: number;
  missRatio: number;
  refaults: number;
  refsPerSec: number;
}

const VARIANTS: { label: string; opts: Omit<ReplayOptions, 'pages'> }[] = [
  { label: 'fifo', opts: { policy: 'fifo' } },
  { label: 'lru', opts: { policy: 'lru' } },
  { label: 'clock', opts: { policy: 'clock' } },
  { label: '2q', opts: { policy: '2q' } },
  { label: '2q+workingset', opts: { policy: '2q', refaultActivation: true } },
  { label: 'clockpro', opts: { policy: 'clockpro' } },
  { label: 'clockpro-approx', opts: { policy: 'clockpro-approx' } },
];

const SIZES = [4096, 16384];

/** Deterministic zipf + loop mix, one write in five. */
export function syntheticTrace(refs: number, seed = 0x2545f491): PageTrace {
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const zipfPages = 65536;
  const cdf = new Float64Array(zipfPages);
  let sum = 0;
  for (let i = 0; i < zipfPages; i++) cdf[i] = sum += 1 / Math.pow(i + 1, 0.9);
  const loopPages = 12000;
  const keys = new Float64Array(refs);
  const ops = new Uint8Array(refs);
  let l = 0;
  for (let j = 0; j < refs; j++) {
    if (rnd() < 0.5) {
      const u = rnd() * sum;
      let lo = 0;
      let hi = zipfPages - 1;
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (cdf[m] < u) lo = m + 1;
        else hi = m;
      }
      keys[j] = lo * 4096 + 0x40000000; // byte-address-like keys, above 2^30
    } else {
      keys[j] = 1_000_000 + (l++ % loopPages);
    }
    ops[j] = rnd() < 0.2 ? OP_WRITE : OP_READ;
  }
  return { name: `synthetic zipf0.9x65536 + loop12000, ${refs} refs`, length: refs, keys, ops };
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<ReplayBenchRow[]> {
  const { refs, out } = benchArgs('replay', argv, { refs: { kind: 'number', dflt: 1_000_000, min: 1000 }, out: { kind: 'string', dflt: 'results/bench-replay.json' } });

  const trace = syntheticTrace(refs);
  let t0 = performance.now();
  const dense = densify(trace.keys);
  const densifyMs = performance.now() - t0;
  for (let k = 0; k < 2; k++) densify(trace.keys); // warm for a fair second measurement
  t0 = performance.now();
  densify(trace.keys);
  const densifyWarmMs = performance.now() - t0;

  const rows: ReplayBenchRow[] = [];
  for (const v of VARIANTS) {
    for (const pages of SIZES) {
      const opts: ReplayOptions = { ...v.opts, pages: [pages] };
      runPolicy(dense, trace.ops, pages, opts); // warm-up
      let best = Infinity;
      let counts = runPolicy(dense, trace.ops, pages, opts);
      for (let r = 0; r < 5; r++) {
        const t = performance.now();
        counts = runPolicy(dense, trace.ops, pages, opts);
        best = Math.min(best, performance.now() - t);
      }
      rows.push({
        policy: v.label,
        pages,
        refs,
        misses: counts.misses,
        missRatio: counts.misses / refs,
        refaults: counts.refaults,
        refsPerSec: refs / (best / 1000),
      });
    }
  }

  const table = new Table({ head: ['policy', ...SIZES.flatMap((p) => [`M=${p} miss`, `M=${p} refs/s`])], style: plain });
  for (const v of VARIANTS) {
    const r = rows.filter((x) => x.policy === v.label);
    table.push([v.label, ...r.flatMap((x) => [x.missRatio.toFixed(4), fmtRate(x.refsPerSec)])]);
  }
  console.log(`trace replay: ${trace.name}, ${dense.nIds} distinct pages; node ${process.version}, ${osCpus()[0]?.model ?? '?'}`);
  console.log(table.toString());
  console.log(`key -> id mapping: ${densifyMs.toFixed(1)} ms cold, ${densifyWarmMs.toFixed(1)} ms warm (${fmtRate(refs / (densifyWarmMs / 1000))} refs/s)`);
  writeResult(out, {
    bench: 'replay',
    date: new Date().toISOString(),
    node: process.version,
    hostCpus: availableParallelism(),
    trace: { name: trace.name, refs, distinctPages: dense.nIds },
    densifyMs: { cold: densifyMs, warm: densifyWarmMs },
    rows,
  });
  console.log(`wrote ${out}`);
  return rows;
}

benchMain(import.meta.url, main);
