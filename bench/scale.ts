/*
 * bench/scale.ts — page_fault1 faults/s at 1 and 2 CPUs under each lock
 * scheme, as processes (one mm per CPU) and threads (one shared mm), with the
 * 2/1 ratio measured in the same run (real piscina workers, compiled JS).
 *
 * Run: npm run build && node dist/bench/scale.js [seconds-per-point] [regionMiB]
 */
import { runMachine } from '../src/sim/run.js';
import { LOCK_SCHEMES } from '../src/config.js';
import { writeResult, fmtRate, isMain, hostCores, timeSliceWarning } from './common.js';

export interface ScalePoint {
  locks: string;
  mode: 'processes' | 'threads';
  cpus: number;
  faults: number;
  ms: number;
  faultsPerSec: number;
}

export async function pageFaultScale(seconds: number, regionMiB: number, cpuCounts: number[], lockImpl = 'ticket') {
  const points: ScalePoint[] = [];
  for (const locks of LOCK_SCHEMES) {
    for (const mode of ['processes', 'threads'] as const) {
      for (const cpus of cpuCounts) {
        const r = await runMachine({
          config: { mem: `${regionMiB * cpus + 32}M`, swap: 0, cpus, locks, lockImpl, maxVma: 256 },
          spec: { name: `page_fault1_${mode}`, regionBytes: regionMiB << 20 },
          durationMs: seconds * 1000,
        });
        if (r.error) throw new Error(`cpu ${r.error.cpu} failed in ${r.error.op}: ${r.error.message}`);
        const faults = r.perCpu.reduce((a, c) => a + c.units, 0);
        points.push({ locks, mode, cpus, faults, ms: r.durationMs, faultsPerSec: (faults / r.durationMs) * 1000 });
      }
    }
  }
  return points;
}

export async function main(argv = process.argv.slice(2)) {
  const seconds = Number(argv[0] ?? 2);
  const regionMiB = Number(argv[1] ?? 32);
  const cpuCounts = [1, 2];
  const warn = timeSliceWarning(Math.max(...cpuCounts));
  if (warn) console.log(warn);
  const points = await pageFaultScale(seconds, regionMiB, cpuCounts);
  const rows: Record<string, unknown>[] = [];
  console.log(`page_fault1, ${regionMiB} MiB per CPU, ${seconds} s per point, host cores ${hostCores}`);
  console.log('locks  mode       1 CPU faults/s  2 CPU faults/s  2/1');
  for (const locks of LOCK_SCHEMES) {
    for (const mode of ['processes', 'threads'] as const) {
      const one = points.find((p) => p.locks === locks && p.mode === mode && p.cpus === 1)!;
      const two = points.find((p) => p.locks === locks && p.mode === mode && p.cpus === 2)!;
      const ratio = two.faultsPerSec / one.faultsPerSec;
      rows.push({ locks, mode, cpu1: one.faultsPerSec, cpu2: two.faultsPerSec, ratio });
      console.log(`${locks.padEnd(6)} ${mode.padEnd(10)} ${fmtRate(one.faultsPerSec).padStart(14)}  ${fmtRate(two.faultsPerSec).padStart(14)}  ${ratio.toFixed(2)}`);
    }
  }
  writeResult('results/bench-scale.json', { date: new Date().toISOString(), hostCores, seconds, regionMiB, points, rows });
}

if (isMain(import.meta.url)) await main();
