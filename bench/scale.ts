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
 * (zone->lock, the LRU lock: see lock_stat of `smpvm run`). The host's
 * cache-line round trip (src/sim/hostprobe.ts), measured before and
 * after each region's runs, says what every bounce of those cost that day.
 *
 * Each figure is the median of `trials` runs, 1 and 2 CPUs interleaved; a
 * ratio is the median of the per-trial ratios.
 *
 * Run: npm run build && node dist/bench/scale.js [seconds-per-point] [regionMiB,...] [trials]
 */
import { runMachine, createRunPool } from '../src/sim/run.js';
import type { Piscina } from 'piscina';
import { LOCK_SCHEMES } from '../src/config.js';
import { writeResult, fmtRate, benchArgs, benchMain, BenchArgError, hostCores, timeSliceWarning, median } from './common.js';
import { clearPageCeiling, type ClearCeiling } from './clear_ceiling.js';
import { lineRoundTripNs } from '../src/sim/hostprobe.js';

export interface ScalePoint {
  locks: string;
  mode: 'processes' | 'threads';
  cpus: number;
  trial: number;
  faults: number;
  ms: number;
  faultsPerSec: number;
}

async function point(pool: Piscina, locks: string, mode: 'processes' | 'threads', cpus: number, seconds: number, regionMiB: number, lockImpl: string) {
  const r = await runMachine({
    pool,
    config: { mem: `${Math.max(512, regionMiB * cpus + 32)}M`, swap: 0, cpus, locks, lockImpl, maxVma: 256, populate: true },
    spec: { name: `page_fault1_${mode}`, regionBytes: regionMiB << 20 },
    durationMs: seconds * 1000,
  });
  if (r.error) throw new Error(`cpu ${r.error.cpu} failed in ${r.error.op}: ${r.error.message}`);
  const faults = r.perCpu.reduce((a, c) => a + c.units, 0);
  return { faults, ms: r.durationMs, faultsPerSec: (faults / r.durationMs) * 1000 };
}

/**
 * Every (scheme, mode) at each CPU count, `trials` times, the CPU counts
 * interleaved within a trial so that a ratio compares runs seconds apart
 * (the host is shared: its speed drifts). One pool of workers serves every
 * run, so no run pays for starting threads or for the JIT's warm-up (whose
 * background compiler would take a core from a 2-CPU run).
 */
export async function pageFaultScale(seconds: number, regionMiB: number, cpuCounts: number[], trials: number, lockImpl = 'ticket') {
  const points: ScalePoint[] = [];
  const pool = createRunPool(Math.max(...cpuCounts) + 1); // + kswapd
  try {
    for (const cpus of cpuCounts) await point(pool, 'split', 'processes', cpus, Math.min(1, seconds), regionMiB, lockImpl); // warm-up

    for (const locks of LOCK_SCHEMES) {
      for (const mode of ['processes', 'threads'] as const) {
        for (let trial = 0; trial < trials; trial++) {
          for (const cpus of cpuCounts) points.push({ locks, mode, cpus, trial, ...(await point(pool, locks, mode, cpus, seconds, regionMiB, lockImpl)) });
        }
      }
    }
  } finally {
    await pool.destroy();
  }
  return points;
}

export async function main(argv = process.argv.slice(2)) {
  const a = benchArgs('scale', argv, { seconds: { kind: 'number', dflt: 2, min: 0.1 }, regions: { kind: 'list', dflt: ['32', '1'] }, trials: { kind: 'number', dflt: 3, min: 1 } }, ['seconds', 'regions', 'trials']);
  const { seconds, trials } = a;
  const regions = a.regions.map(Number);
  if (regions.some((r) => !(r > 0))) throw new BenchArgError(`bench/scale: --regions ${a.regions.join(',')}: expected MiB sizes > 0`);
  const cpuCounts = [1, 2];
  const warn = timeSliceWarning(Math.max(...cpuCounts));
  if (warn) console.log(warn);
  const runs: { regionMiB: number; ceiling: ClearCeiling; ceilingRatios: number[]; roundTripNs: (number | null)[]; points: ScalePoint[]; rows: Record<string, unknown>[] }[] = [];
  for (const regionMiB of regions) {
    const ceilings: ClearCeiling[] = [];
    for (let t = 0; t < trials; t++) ceilings.push(await clearPageCeiling(seconds, regionMiB));
    const ceilingRatios = ceilings.map((c) => c.ratio);
    const ceiling = ceilings.find((c) => c.ratio === median(ceilingRatios))!;
    const rttBefore = await lineRoundTripNs();
    const points = await pageFaultScale(seconds, regionMiB, cpuCounts, trials);
    const roundTripNs = [rttBefore, await lineRoundTripNs()];
    const rows: Record<string, unknown>[] = [];
    console.log(`\npage_fault1, ${regionMiB} MiB per CPU, ${seconds} s per point, median of ${trials} trials, host cores ${hostCores}`);
    console.log(`host ceiling (bare clear_page, 1 vs 2 workers): 2/1 ${ceiling.ratio.toFixed(2)} (trials ${ceilingRatios.map((r) => r.toFixed(2)).join(', ')})`);
    console.log(`host cache-line round trip between two threads: ${roundTripNs.map((x) => (x === null ? 'n/a' : `${x.toFixed(0)} ns`)).join(' before, ')} after the runs`);
    console.log('locks  mode       1 CPU faults/s  2 CPU faults/s  2/1   of ceiling  trials 2/1');
    for (const locks of LOCK_SCHEMES) {
      for (const mode of ['processes', 'threads'] as const) {
        const at = (cpus: number) => points.filter((p) => p.locks === locks && p.mode === mode && p.cpus === cpus);
        const one = at(1);
        const two = at(2);
        const ratios = one.map((o, t) => two[t]!.faultsPerSec / o.faultsPerSec);
        const ratio = median(ratios);
        const cpu1 = median(one.map((p) => p.faultsPerSec));
        const cpu2 = median(two.map((p) => p.faultsPerSec));
        rows.push({ locks, mode, cpu1, cpu2, ratio, ratios, ofCeiling: ratio / ceiling.ratio });
        console.log(
          `${locks.padEnd(6)} ${mode.padEnd(10)} ${fmtRate(cpu1).padStart(14)}  ${fmtRate(cpu2).padStart(14)}  ` +
            `${ratio.toFixed(2)}  ${(ratio / ceiling.ratio).toFixed(2).padStart(10)}  ${ratios.map((r) => r.toFixed(2)).join(' ')}`,
        );
      }
    }
    runs.push({ regionMiB, ceiling, ceilingRatios, roundTripNs, points, rows });
  }
  writeResult('results/bench-scale.json', { date: new Date().toISOString(), hostCores, seconds, trials, runs });
}

benchMain(import.meta.url, main);
