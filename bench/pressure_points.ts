/*
 * bench/pressure_points.ts — the measurement loop bench/freeable.ts and
 * bench/writeout.ts share: the pressure workload (1.5 x RAM working set) on a
 * PRESSURE_MEM machine with 8 x as much swap, split locks, seed 7, memory
 * populated, kswapd on; for every access pattern, at 1 and 2 CPUs, one run
 * per variant (the thing the bench compares), the variants of a point one
 * after the other so they see the same host. One pool of 3 workers for all
 * runs. Prints the time-slicing warning first when the host has fewer than 3
 * cores (2 CPUs + kswapd).
 *
 * Main thread only; every run boots its own machine (src/sim/run.ts), so
 * nothing is shared between runs.
 */
import { runMachine, createRunPool, type RunOutcome } from '../src/sim/run.js';
import { registeredRmapSchemes } from '../src/rmap/index.js';
import { timeSliceWarning } from './common.js';

export const PRESSURE_MEM = 4 << 20;

/** The rmap scheme of these benches: ptechain when this build has it, else scan. */
export const pressureRmap = (): string => (registeredRmapSchemes().includes('ptechain') ? 'ptechain' : 'scan');

export interface PressurePoint<V> {
  pattern: string;
  cpus: number;
  variant: V;
  r: RunOutcome;
  /** page touches by every CPU */
  touches: number;
}

/**
 * Run every (pattern, CPUs, variant) point: `config(variant)` adds the
 * variant's fields (policy, write-out mode, ...) to the common config, `row`
 * turns a run into the bench's row. A CPU's error throws, naming the point
 * with `label(variant)`.
 */
export async function pressurePoints<V, R>(
  patterns: readonly string[],
  variants: readonly V[],
  seconds: number,
  config: (variant: V) => Record<string, unknown>,
  label: (variant: V) => string,
  row: (p: PressurePoint<V>) => R,
): Promise<R[]> {
  const warn = timeSliceWarning(3);
  if (warn) console.log(`${warn} (2 CPUs + kswapd)`);
  const rmap = pressureRmap();
  const rows: R[] = [];
  const pool = createRunPool(3);
  try {
    for (const pattern of patterns) {
      for (const cpus of [1, 2]) {
        for (const variant of variants) {
          const r = await runMachine({
            config: { mem: PRESSURE_MEM, swap: 8 * PRESSURE_MEM, cpus, rmap, locks: 'split', seed: 7, populate: true, ...config(variant) },
            spec: { name: 'pressure', pattern },
            durationMs: seconds * 1000,
            pool,
          });
          if (r.error) throw new Error(`${pattern} ${cpus} CPUs ${label(variant)}: ${r.error.message}`);
          rows.push(row({ pattern, cpus, variant, r, touches: r.perCpu.reduce((a, c) => a + c.units, 0) }));
        }
      }
    }
  } finally {
    await pool.destroy();
  }
  return rows;
}
