/*
 * The random operation streams (mmap/munmap/mremap/fork/exit/exec/touch with
 * the content oracle) on a deterministic 2-CPU machine so small that memory
 * runs out all the time: direct reclaim swaps pages out and faults bring
 * them back, through fork, COW and mremap, under every policy × every rmap
 * scheme registered in this build (and each lock scheme). After each run the
 * invariant checker (with the LRU, swap_map and swap-cache checks) and the
 * oracle must be clean, and once everything has exited every frame and every
 * swap slot must be free.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { bootMachine } from '../../src/sim/boot.js';
import { detSetup, detRun, detFailures, detTeardown } from '../../src/sim/detsched.js';
import { check_invariants } from '../../src/sim/checker.js';
import type { RandomParams } from '../../src/workload/random.js';
import { swap_info } from '../../src/reclaim/index.js';
import { vmsum, rmapNames, POLICY_NAMES } from './helpers.js';
import { recordStressOps } from '../stress-ops.js';

/** A memory-hungry stream: big regions, many touches, few wild accesses. */
const HUNGRY: RandomParams = { maxTasks: 5, maxRegions: 10, maxRegionPages: 96, touchesPerStep: 32, segvRate: 0.005, compactRate: 0, swapoffRate: 0.01 };

function run(seed: number, ops: number, cfg: Record<string, unknown>) {
  const m = bootMachine({ mem: '1M', swap: '4M', cpus: 2, seed, lockdep: true, debug: true, filePages: 128, maxVma: 512, maxMm: 32, swapIoUs: 0, ...cfg });
  const r = detSetup(m, seed, 1, HUNGRY);
  detRun(r, ops);
  recordStressOps(`reclaim/det ${cfg.policy ?? ''}/${cfg.rmap ?? ''}/${cfg.locks ?? ''}`, ops, seed);
  const mid = check_invariants(r.cpus[0]!);
  const failures = detFailures(r);
  const out = vmsum(m, 'pswpout');
  const inn = vmsum(m, 'pswpin');
  const end = detTeardown(r);
  return { problems: [...mid.violations, ...failures, ...end.violations], out, inn, m };
}

describe('random streams under memory pressure (deterministic mode)', () => {
  for (const rmap of rmapNames()) {
    for (const policy of POLICY_NAMES) {
      it(`${policy} policy × ${rmap} rmap: clean, and pages went out to swap and came back`, () => {
        const seed = 17;
        const r = run(seed, 1000, { policy, rmap });
        if (r.problems.length) console.error(`${policy}/${rmap} seed ${seed}:\n${r.problems.slice(0, 8).join('\n')}`);
        expect(r.problems).toEqual([]);
        expect(r.out).toBeGreaterThan(20);
        expect(r.inn).toBeGreaterThan(10);
        expect(swap_info(r.m).inuse).toBe(0);
      });
    }
  }

  for (const locks of ['2.4', 'bkl'] as const) {
    it(`the ${locks} lock scheme (every policy): clean`, () => {
      for (const policy of POLICY_NAMES) {
        const r = run(23, 700, { policy, locks });
        expect(r.problems).toEqual([]);
        expect(r.out).toBeGreaterThan(0);
      }
    });
  }

  it('fast-check: seeded sequences over policy × rmap × lock scheme stay clean', () => {
    const rmaps = rmapNames();
    let runs = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.integer({ min: 100, max: 500 }),
        fc.constantFrom(...POLICY_NAMES),
        fc.constantFrom(...rmaps),
        fc.constantFrom('split', '2.4', 'bkl'),
        (seed, ops, policy, rmap, locks) => {
          const r = run(seed, ops, { policy, rmap, locks });
          runs++;
          if (r.problems.length) throw new Error(`seed ${seed} ops ${ops} ${policy}/${rmap}/${locks}:\n${r.problems.slice(0, 8).join('\n')}`);
          return true;
        },
      ),
      { numRuns: 30, seed: 20261122 },
    );
    expect(runs).toBe(30);
  });
});
