/*
 * The CI stress tests' shared seed and operation count (issue 18 item 4).
 *
 * STRESS_SEED: drawn afresh on every run, or SMPVM_STRESS_SEED to repeat
 * one; each stress test derives its runs' seeds from it and prints it with
 * any failure. recordStressOps: each stress run adds the random operations
 * it executed to the file named by SMPVM_STRESS_OPS_FILE (scripts/test.mjs
 * sets it, sums the lines after the suite and prints the total; the full
 * suite must reach STRESS_OPS_MIN). Outside `npm test` nothing is written.
 */
import { appendFileSync } from 'node:fs';

export const STRESS_SEED = Number(process.env.SMPVM_STRESS_SEED ?? 1 + Math.floor(Math.random() * 1e6));

/** Add `ops` random operations run by `what` (one line: ops, seed, what). */
export function recordStressOps(what: string, ops: number, seed: number = STRESS_SEED): void {
  const f = process.env.SMPVM_STRESS_OPS_FILE;
  if (f) appendFileSync(f, `${ops}\t${seed}\t${what}\n`);
}
