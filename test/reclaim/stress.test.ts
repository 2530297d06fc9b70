/*
 * SMP stress with memory pressure (issue 6): 2 workload CPUs on real worker
 * threads plus kswapd in a worker of its own, a 1 MiB machine with swap, the
 * memory-hungry random streams (fork, COW, mremap, swap-in, munmap, exit …
 * with the content oracle), a stop-the-world checkpoint during the run and
 * the full checker at the end (every frame and every swap slot free after
 * everything exits), lockdep on — for every policy × rmap scheme registered
 * in this build × lock scheme. Short runs: the matrix is wide. A run with a
 * skipped swap_duplicate at fork (planted bug) must be caught. A failure
 * prints the seed that reproduces it: drawn afresh every run (issue 18,
 * test/stress-ops.ts: SMPVM_STRESS_SEED repeats it); the streams swap
 * off and on now and then, and their operations count toward the suite's
 * total.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Piscina } from 'piscina';
import { runMachine, createRunPool, type RunOutcome } from '../../src/sim/run.js';
import { readLockdepReport } from '../../src/sync/lockdep.js';
import { LOCK_SCHEMES } from '../../src/config.js';
import { swap_info } from '../../src/reclaim/index.js';
import { vmsum, rmapNames, POLICY_NAMES } from './helpers.js';
import { STRESS_SEED, recordStressOps } from '../stress-ops.js';

const DURATION = Number(process.env.SMPVM_RECLAIM_STRESS_MS ?? 250);
/** one pool of 3 workers (2 CPUs + kswapd) for every run: no worker start-up per run */
let pool: Piscina;
const HUNGRY = { maxTasks: 5, maxRegions: 10, maxRegionPages: 96, touchesPerStep: 32, segvRate: 0.005, swapoffRate: 0.002 };

function problems(r: RunOutcome): string[] {
  return [
    ...(r.error ? [`cpu ${r.error.cpu} threw in ${r.error.op}: ${r.error.message}`] : []),
    ...r.checkpoints.violations,
    ...r.checker.violations,
    ...r.perCpu.flatMap((c) => c.failures),
  ];
}

function stress(policy: string, rmap: string, locks: string, seed: number, extra: Record<string, unknown> = {}) {
  return runMachine({
    config: { mem: '1M', swap: '8M', cpus: 2, policy, rmap, locks, lockdep: true, debug: true, seed, filePages: 128, maxVma: 1024, maxMm: 64, ...extra },
    spec: { name: 'random', filesPerCpu: 1, seed, ...HUNGRY },
    durationMs: DURATION,
    checkpoints: 1,
    checkEmpty: true,
    pool,
  });
}

describe('SMP stress with memory pressure and kswapd: 2 worker CPUs + kswapd', () => {
  beforeAll(() => {
    pool = createRunPool(3);
  });
  afterAll(async () => {
    await pool.destroy();
  });
  const seen = { pswpout: 0, kswapd: 0, direct: 0 };
  for (const policy of POLICY_NAMES) {
    for (const rmap of rmapNames()) {
      it(`${policy} × ${rmap} × {${LOCK_SCHEMES.join(', ')}}: clean`, async () => {
        for (const locks of LOCK_SCHEMES) {
          // each lock scheme its own run seed (by index: bkl and 2.4 have names of one length)
          const seed = STRESS_SEED + policy.length * 7 + rmap.length * 3 + LOCK_SCHEMES.indexOf(locks);
          const r = await stress(policy, rmap, locks, seed);
          const p = problems(r);
          const why = `reclaim stress ${policy}/${rmap}/${locks}: reproduce with SMPVM_STRESS_SEED=${STRESS_SEED} (run seed ${seed})`;
          if (p.length) console.error(`${why}\n${p.slice(0, 10).join('\n')}`);
          recordStressOps(`reclaim/stress ${policy}/${rmap}/${locks}`, r.perCpu.reduce((a, c) => a + c.ops, 0), seed);
          // the seed in every check's message: a host-clock failure may not come back on a rerun
          expect(p, why).toEqual([]);
          expect(r.kswapd?.error, why).toBeUndefined();
          const ld = readLockdepReport(r.m.w, r.m.layout.lockdep);
          expect(ld.count, `${why}: ${JSON.stringify(ld.first)}`).toBe(0);
          expect(swap_info(r.m).inuse, `${why}: swap slots left in use`).toBe(0);
          expect(r.checkpoints.done, `${why}: checkpoints taken`).toBe(1);
          seen.pswpout += vmsum(r.m, 'pswpout');
          seen.kswapd += vmsum(r.m, 'pgsteal_kswapd');
          seen.direct += vmsum(r.m, 'pgsteal_direct');
        }
      });
    }
  }

  it('memory really ran out: kswapd and direct reclaim both freed pages, and pages went to swap', () => {
    expect(seen.kswapd).toBeGreaterThan(0);
    expect(seen.direct).toBeGreaterThan(0);
    expect(seen.pswpout).toBeGreaterThan(0);
  });

  it('a fork that skips one swap_duplicate (planted bug) is caught', async () => {
    const seed = 91;
    const r = await runMachine({
      config: { mem: '1M', swap: '8M', cpus: 2, policy: 'swapout', locks: 'split', seed, filePages: 128, maxVma: 1024, maxMm: 64, inject: 'no_swap_dup' },
      spec: { name: 'random', filesPerCpu: 1, seed, ...HUNGRY },
      durationMs: 4000,
      checkpoints: 7,
      checkEmpty: true,
      pool,
    });
    const p = problems(r);
    console.log(`planted no_swap_dup: ${p.length} problems (seed ${seed}); first: ${p[0]}`);
    expect(p.length).toBeGreaterThan(0);
  });
});
