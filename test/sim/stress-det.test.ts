/*
 * The bulk of the CI run's random operations (issue 18 item 4): the random
 * streams of two CPUs interleaved operation by operation on this thread
 * (sim/detsched.ts: no worker start-up, no host time-slicing of spinning
 * CPUs, so an operation costs only itself), with swap and memory pressure
 * (1 MiB of RAM, 16 MiB of swap; reclaim, swap-out and swap-in of private
 * and shared anonymous pages, and a swapoff/swapon every ~1000 steps per
 * stream), under each lock scheme and rmap family, lockdep and debug
 * checks on. The seed is drawn afresh every run (test/stress-ops.ts:
 * SMPVM_STRESS_SEED repeats it); a stop-the-world check every CHUNK
 * operations, the checker and oracle at the end, every frame and slot free
 * after everything exits. The operations count toward the suite's total.
 */
import { describe, it, expect } from 'vitest';
import { bootMachine } from '../../src/sim/boot.js';
import { detSetup, detRun, detFailures, detTeardown } from '../../src/sim/detsched.js';
import { check_invariants } from '../../src/sim/checker.js';
import { DEFAULT_RANDOM } from '../../src/workload/random.js';
import { swap_info } from '../../src/reclaim/index.js';
import { vmstatSum as vmsum } from '../../src/sim/results.js';
import { STRESS_SEED, recordStressOps } from '../stress-ops.js';

const OPS = Number(process.env.SMPVM_STRESS_DET_OPS ?? 160_000);
const CHUNK = 25_000;
const RUNS = [
  { locks: 'split', rmap: 'objrmap', policy: '2q' },
  { locks: 'split', rmap: 'ptechain', policy: 'clock' },
  { locks: '2.4', rmap: 'ptechain', policy: 'swapout' },
  { locks: '2.4', rmap: 'objrmap', policy: 'clockpro' },
  { locks: 'bkl', rmap: 'vmnode', policy: '2q' },
  { locks: 'bkl', rmap: 'hint', policy: 'clock' },
] as const;

describe(`deterministic 2-CPU random streams with swap and pressure (${OPS} operations each, stress seed ${STRESS_SEED})`, () => {
  RUNS.forEach((c, i) => {
    it(`${c.locks} × ${c.rmap} × ${c.policy}: clean`, () => {
      const seed = STRESS_SEED + 100 * i;
      const m = bootMachine({ mem: '1M', swap: '16M', cpus: 2, seed, lockdep: true, debug: true, filePages: 128, maxVma: 2048, maxMm: 64, swapIoUs: 0, ...c });
      const r = detSetup(m, seed, 1, { ...DEFAULT_RANDOM, maxRegionPages: 48, swapoffRate: 0.001 });
      const problems: string[] = [];
      for (let done = 0; done < OPS && problems.length === 0; done += CHUNK) {
        detRun(r, Math.min(CHUNK, OPS - done));
        problems.push(...check_invariants(r.cpus[0]!).violations, ...detFailures(r));
      }
      const out = vmsum(m, 'pswpout');
      const swapoffs = r.streams.reduce((a, s) => a + s.swapoffs, 0);
      if (problems.length === 0) problems.push(...detTeardown(r).violations);
      const why = `${c.locks}/${c.rmap}/${c.policy}: reproduce with SMPVM_STRESS_SEED=${STRESS_SEED} (run seed ${seed})`;
      if (problems.length) console.error(`${why}:\n${problems.slice(0, 8).join('\n')}`);
      expect(problems, why).toEqual([]);
      expect(out, why).toBeGreaterThan(0);
      expect(swap_info(m).inuse, why).toBe(0);
      recordStressOps(`sim/stress-det ${c.locks}/${c.rmap}/${c.policy}`, OPS, seed);
      console.log(`${c.locks}/${c.rmap}/${c.policy}: ${OPS} random operations, ${out} pages swapped out, ${swapoffs} swapoffs, seed ${seed}`);
    }, 300_000);
  });
});
