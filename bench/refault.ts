/*
 * bench/refault.ts — the refault-driven replacement policies against plain
 * 2q on the `pressure` workloads (issue 7), ratios measured in one run.
 *
 *   policies   2q (2.6's active/inactive lists, the baseline)
 *              2q+ra (2q with mm/workingset.c's refault-distance activation)
 *              clockpro (CLOCK-Pro, PZ's two-list resident clock)
 *              clockpro-approx (the LinuxMM wiki two-list approximation)
 *   workloads  pressure looping over 1.1 x RAM (the LRU-killer loop),
 *              zipf(1.0) over 1.5 x RAM, uniform over 1.5 x RAM — per CPU:
 *              every CPU runs its own 2 processes over a working set that
 *              alone exceeds memory (so at 2 CPUs the machine wants twice
 *              that; with a shared total instead, whichever CPU runs ahead
 *              keeps its pages resident and runs at memory speed while the
 *              other thrashes, and the figures measure the scheduler);
 *              half the touches are writes
 *   CPUs       1 and 2 workload CPUs, kswapd in its own worker
 *
 * Every run lasts the same time (--seconds, default 2; all CPUs run until
 * the stop flag, so they overlap for the whole run: a run of a fixed number
 * of steps lets one CPU finish and free its memory while the other one has
 * hardly started, on a host whose cores other jobs share) and is compared
 * per 1000 touches: major faults (pgmajfault: a fault that waited for a swap
 * read), pages read from swap (pswpin, read-ahead included), refaults found
 * in the nonresident table. Throughput is touches per second, from the start
 * barrier to the slowest CPU's end (a major fault costs the simulated swap
 * latency, 20 us, plus the reclaim CPU time: the policy's price shows
 * here). Ratios are each policy's figure over 2q's on the same workload and
 * CPU count, and each policy's 2-CPU over 1-CPU throughput.
 * Every run must pass the invariant checker and the content oracle (checked
 * at the end, after every process exited).
 *
 * Machine: 8 MiB RAM, 32 MiB swap, rmap objrmap, split locks (the defaults
 * otherwise). Workers run compiled JavaScript:
 *
 *   npm run build && node dist/bench/refault.js [--seconds S] [--out FILE]
 *
 * Writes results/bench-refault.json and prints the table.
 */
import { runMachine, createRunPool } from '../src/sim/run.js';
import { totalVmstat } from '../src/sim/results.js';
import { writeResult, fmtRate, benchArgs, benchMain, timeSliceWarning } from './common.js';

const MiB = 1 << 20;
const MEM = 8 * MiB;

export const VARIANTS = [
  { label: '2q', config: { policy: '2q' } },
  { label: '2q+ra', config: { policy: '2q', refaultActivation: true } },
  { label: 'clockpro', config: { policy: 'clockpro' } },
  { label: 'clockpro-approx', config: { policy: 'clockpro-approx' } },
] as const;

export const WORKLOADS = [
  { label: 'looping 1.1x', pattern: 'looping', factor: 1.1 },
  { label: 'zipf 1.5x', pattern: 'zipf', factor: 1.5 },
  { label: 'uniform 1.5x', pattern: 'uniform', factor: 1.5 },
] as const;

export interface RefaultBenchRow {
  policy: string;
  workload: string;
  cpus: number;
  touches: number;
  ms: number;
  touchesPerSec: number;
  pgmajfault: number;
  pswpin: number;
  pswpout: number;
  refaults: number;
  activations: number;
  /** per 1000 touches */
  majfaultPer1k: number;
  pswpinPer1k: number;
  refaultsPer1k: number;
  /** this row / 2q's, same workload and CPU count (major faults per touch, throughput) */
  majfaultRatio: number;
  throughputRatio: number;
  /** this policy's 2-CPU throughput / its 1-CPU throughput (2-CPU rows) */
  scaling: number | null;
}

export async function main(argv = process.argv.slice(2)): Promise<RefaultBenchRow[]> {
  const { seconds, out } = benchArgs('refault', argv, { seconds: { kind: 'number', dflt: 2, min: 0.1 }, out: { kind: 'string', dflt: 'results/bench-refault.json' } });
  console.log(
    `refault-driven policies vs 2q: pressure workloads on ${MEM / MiB} MiB RAM, ${seconds} s per run, 2 processes per CPU, half writes, kswapd on, objrmap, swap latency 20 us`,
  );
  const warn = timeSliceWarning(3);
  if (warn) console.log(`${warn} (2 CPUs + kswapd)`);
  const rows: RefaultBenchRow[] = [];
  const pool = createRunPool(3);
  try {
    for (const wl of WORKLOADS) {
      for (const cpus of [1, 2]) {
        for (const v of VARIANTS) {
          const seed = 11;
          const r = await runMachine({
            config: { mem: MEM, swap: 4 * MEM, cpus, rmap: 'objrmap', seed, populate: true, ...v.config },
            spec: { name: 'pressure', pattern: wl.pattern, wsBytes: Math.floor(wl.factor * MEM), processes: 2, seed },
            durationMs: seconds * 1000,
            checkEmpty: true,
            pool,
          });
          const problems = [r.error?.message, ...r.checker.violations, ...r.perCpu.flatMap((c) => c.failures)].filter(Boolean);
          if (problems.length) throw new Error(`${v.label} ${wl.label} ${cpus} CPU(s), seed ${seed}: ${problems[0]}`);
          const vm = totalVmstat(r.m);
          const touches = r.perCpu.reduce((s, c) => s + c.units, 0);
          rows.push({
            policy: v.label,
            workload: wl.label,
            cpus,
            touches,
            ms: r.durationMs,
            touchesPerSec: (touches / r.durationMs) * 1000,
            pgmajfault: vm.pgmajfault!,
            pswpin: vm.pswpin!,
            pswpout: vm.pswpout!,
            refaults: vm.workingset_refault_anon! + vm.workingset_refault_file!,
            activations: vm.workingset_activate_anon! + vm.workingset_activate_file!,
            majfaultPer1k: (vm.pgmajfault! * 1000) / touches,
            pswpinPer1k: (vm.pswpin! * 1000) / touches,
            refaultsPer1k: ((vm.workingset_refault_anon! + vm.workingset_refault_file!) * 1000) / touches,
            majfaultRatio: 0,
            throughputRatio: 0,
            scaling: null,
          });
          process.stdout.write('.');
        }
      }
    }
  } finally {
    await pool.destroy();
  }
  process.stdout.write('\n');
  for (const row of rows) {
    const base = rows.find((b) => b.policy === '2q' && b.workload === row.workload && b.cpus === row.cpus)!;
    row.majfaultRatio = base.majfaultPer1k > 0 ? row.majfaultPer1k / base.majfaultPer1k : row.majfaultPer1k === 0 ? 1 : Infinity;
    row.throughputRatio = row.touchesPerSec / base.touchesPerSec;
    if (row.cpus === 2) {
      const one = rows.find((b) => b.policy === row.policy && b.workload === row.workload && b.cpus === 1)!;
      row.scaling = row.touchesPerSec / one.touchesPerSec;
    }
  }
  console.log('per 1000 touches: majflt = major faults, pswpin = pages read from swap, refault = found in the nonresident table');
  console.log(
    `${'workload'.padEnd(14)}${'CPUs'.padStart(5)}  ${'policy'.padEnd(16)}${'touches'.padStart(9)}${'majflt'.padStart(8)}${'x 2q'.padStart(7)}${'pswpin'.padStart(8)}${'refault'.padStart(8)}${'touches/s'.padStart(11)}${'x 2q'.padStart(7)}${'2/1 CPU'.padStart(9)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.workload.padEnd(14)}${String(r.cpus).padStart(5)}  ${r.policy.padEnd(16)}${String(r.touches).padStart(9)}${r.majfaultPer1k.toFixed(1).padStart(8)}${r.majfaultRatio.toFixed(2).padStart(7)}${r.pswpinPer1k.toFixed(1).padStart(8)}${r.refaultsPer1k.toFixed(1).padStart(8)}${fmtRate(r.touchesPerSec).padStart(11)}${r.throughputRatio.toFixed(2).padStart(7)}${(r.scaling === null ? '' : `${r.scaling.toFixed(2)}x`).padStart(9)}`,
    );
  }
  writeResult(out, { date: new Date().toISOString(), memBytes: MEM, secondsPerRun: seconds, rows });
  console.log(`results: ${out}`);
  return rows;
}

benchMain(import.meta.url, main);
