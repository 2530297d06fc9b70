/*
 * bench/lat_proc.ts — lmbench's comparison of 2.5's pte chains (REFERENCE.md
 * §3.3: lat_proc fork +25%, exec +26% on 2.5.65 against 2.4.20, which has no
 * reverse map) redone over every rmap scheme: the fork, exec and fork_big
 * workloads (src/workload/lat_proc.ts) on one simulated CPU, each scheme's
 * mean time per operation as a ratio to `scan` (2.4's no-rmap baseline)
 * measured in the same run.
 *
 *   fork      a small process (lat_proc: 16 text pages, ~40 resident ptes)
 *   exec      fork + exec of `hello` + a few faults + exit
 *   fork_big  fork + exit of a parent with 32 MiB written (8,192 more ptes)
 *
 * Each (workload, scheme) point runs `seconds` (default 1.5) of real worker
 * time; the schemes are run in turn, `rounds` times (default 5, order
 * rotated each round). The figure compared is the median operation
 * (opLatency p50, 3% buckets), median over the rounds: on a shared host a
 * few operations per second are stretched by preemption and garbage
 * collection by milliseconds, which the mean (1 / ops per second, printed
 * beside it) absorbs and the median does not.
 *
 * Run (compiled, under the bench lock):
 *   npm run build && flock /tmp/bench.lock node dist/bench/lat_proc.js [seconds] [rounds]
 * Writes results/bench-lat-proc.json.
 */
import { runMachine } from '../src/sim/run.js';
import { buildResults } from '../src/sim/results.js';
import { RMAP_SCHEMES } from '../src/config.js';
import { writeResult, isMain, median, hostCores } from './common.js';

type Scheme = (typeof RMAP_SCHEMES)[number];
const WORKLOADS = ['fork', 'exec', 'fork_big'] as const;

interface Point {
  workload: string;
  rmap: Scheme;
  opsPerSec: number[];
  p50us: number[];
}

async function one(workload: string, rmap: Scheme, seconds: number): Promise<{ opsPerSec: number; p50: number }> {
  const spec = { name: workload };
  const r = await runMachine({
    config: { mem: '64M', swap: 0, cpus: 1, rmap, locks: 'split', lockdep: false, populate: true, seed: 1 },
    spec,
    durationMs: seconds * 1000,
    kswapd: false,
  });
  const res = buildResults(r, { spec, durationMs: seconds * 1000 });
  if (res.error) throw new Error(`${workload} ${rmap}: ${res.error.message}`);
  if (!res.checker.ok || !res.oracle.ok) throw new Error(`${workload} ${rmap}: checker/oracle failed: ${[...res.checker.violations, ...res.oracle.failures][0]}`);
  return { opsPerSec: res.opsPerSec, p50: res.opLatency?.p50 ?? NaN };
}

export async function latProc(seconds: number, rounds: number): Promise<Point[]> {
  const pts: Point[] = [];
  for (const workload of WORKLOADS) for (const rmap of RMAP_SCHEMES) pts.push({ workload, rmap, opsPerSec: [], p50us: [] });
  for (let round = 0; round < rounds; round++) {
    for (const workload of WORKLOADS) {
      for (let k = 0; k < RMAP_SCHEMES.length; k++) {
        const rmap = RMAP_SCHEMES[(k + round) % RMAP_SCHEMES.length]!;
        const r = await one(workload, rmap, seconds);
        const p = pts.find((x) => x.workload === workload && x.rmap === rmap)!;
        p.opsPerSec.push(r.opsPerSec);
        p.p50us.push(r.p50);
      }
    }
  }
  return pts;
}

const PUBLISHED: Partial<Record<string, string>> = { fork: '+25%', exec: '+26%' };

if (isMain(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 1.5);
  const rounds = Number(process.argv[3] ?? 5);
  const pts = await latProc(seconds, rounds);
  const p50 = (p: Point) => median(p.p50us);
  const mean = (p: Point) => 1e6 / median(p.opsPerSec);
  const pct = (x: number) => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(0)}%`;
  const rows = pts.map((p) => {
    const base = pts.find((x) => x.workload === p.workload && x.rmap === 'scan')!;
    return { workload: p.workload, rmap: p.rmap, p50us: p50(p), vsScan: p50(p) / p50(base), meanUs: mean(p), meanVsScan: mean(p) / mean(base), p50usRounds: p.p50us, opsPerSec: p.opsPerSec };
  });
  console.log(`lat_proc on 1 simulated CPU (host cores ${hostCores}), ${seconds} s per point, median of ${rounds} rounds`);
  console.log('workload   scheme      p50 us   vs scan   mean us   vs scan   published (pte chains vs 2.4)');
  for (const r of rows)
    console.log(
      `${r.workload.padEnd(10)} ${r.rmap.padEnd(11)} ${r.p50us.toFixed(1).padStart(7)}   ${pct(r.vsScan).padStart(6)}   ${r.meanUs.toFixed(1).padStart(7)}   ${pct(r.meanVsScan).padStart(6)}   ${r.rmap === 'ptechain25' ? (PUBLISHED[r.workload] ?? '') : ''}`,
    );
  writeResult('results/bench-lat-proc.json', { date: new Date().toISOString(), hostCores, seconds, rounds, rows });
}
