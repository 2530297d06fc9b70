/*
 * bench/scale.ts — page_fault1 faults/s at 1 and 2 CPUs under each lock
 * scheme, as processes (one mm per CPU) and threads (one shared mm), with the
 * 2/1 ratio measured in the same run (real piscina workers, compiled JS).
 *
 * Memory is at least 512 MiB, so the zone's pcp batch is the kernel's 31
 * (2.6.16 zone_batchsize; a 96 MiB zone gets 3 and zone->lock every third
 * page). Each region size is run beside its clear_page ceiling
 * (clear_ceiling.ts): the 2/1 ratio of bare page clearing on this host, the
 * most any page_fault1 run can show there. 32 MiB per CPU is will-it-scale's
 * memory-bound case; 1 MiB per CPU stays in the host's L2, where the ceiling
 * is near 2 and what is left is the simulated kernel's own sharing
 * (zone->lock, the LRU lock: see lock_stat of `smpvm run`).
 *
 * Run: npm run build && node dist/bench/scale.js [seconds-per-point] [regionMiB,...]
 */
import { runMachine } from '../src/sim/run.js';
import { LOCK_SCHEMES } from '../src/config.js';
import { writeResult, fmtRate, isMain, hostCores, timeSliceWarning } from './common.js';
import { clearPageCeiling, type ClearCeiling } from './clear_ceiling.js';

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
          config: { mem: `${Math.max(512, regionMiB * cpus + 32)}M`, swap: 0, cpus, locks, lockImpl, maxVma: 256 },
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
  const regions = (argv[1] ?? '32,1').split(',').map(Number);
  const cpuCounts = [1, 2];
  const warn = timeSliceWarning(Math.max(...cpuCounts));
  if (warn) console.log(warn);
  const runs: { regionMiB: number; ceiling: ClearCeiling; points: ScalePoint[]; rows: Record<string, unknown>[] }[] = [];
  for (const regionMiB of regions) {
    const ceiling = await clearPageCeiling(seconds, regionMiB);
    const points = await pageFaultScale(seconds, regionMiB, cpuCounts);
    const rows: Record<string, unknown>[] = [];
    console.log(`\npage_fault1, ${regionMiB} MiB per CPU, ${seconds} s per point, host cores ${hostCores}`);
    console.log(`host ceiling (bare clear_page, 1 vs 2 workers): 2/1 ${ceiling.ratio.toFixed(2)}`);
    console.log('locks  mode       1 CPU faults/s  2 CPU faults/s  2/1   of ceiling');
    for (const locks of LOCK_SCHEMES) {
      for (const mode of ['processes', 'threads'] as const) {
        const one = points.find((p) => p.locks === locks && p.mode === mode && p.cpus === 1)!;
        const two = points.find((p) => p.locks === locks && p.mode === mode && p.cpus === 2)!;
        const ratio = two.faultsPerSec / one.faultsPerSec;
        rows.push({ locks, mode, cpu1: one.faultsPerSec, cpu2: two.faultsPerSec, ratio, ofCeiling: ratio / ceiling.ratio });
        console.log(
          `${locks.padEnd(6)} ${mode.padEnd(10)} ${fmtRate(one.faultsPerSec).padStart(14)}  ${fmtRate(two.faultsPerSec).padStart(14)}  ` +
            `${ratio.toFixed(2)}  ${(ratio / ceiling.ratio).toFixed(2)}`,
        );
      }
    }
    runs.push({ regionMiB, ceiling, points, rows });
  }
  writeResult('results/bench-scale.json', { date: new Date().toISOString(), hostCores, seconds, runs });
}

if (isMain(import.meta.url)) await main();
