/*
 * The refault-driven policies on real worker CPUs (issue 7): clockpro,
 * clockpro-approx and 2q with refault activation, each under the 2-CPU
 * `pressure` workload (working set 1.5 x memory, zipf, the content oracle on
 * every page) and the `random` operation streams on a 1 MiB machine (mmap,
 * munmap, mremap, fork, exit, file and anonymous pages, swap), with kswapd,
 * lockdep, stop-the-world invariant checks during the run and the checker at
 * the end (every frame and every swap slot free after everything exits).
 * Refaults must actually have happened, and reach the results JSON's
 * `refaults` histogram. A failure prints its seed. The runs share one pool
 * of 3 workers (2 CPUs + kswapd).
 */
import { describe, it, expect } from 'vitest';
import { runMachine } from '../../src/sim/run.js';
import { buildResults } from '../../src/sim/results.js';
import { readLockdepReport } from '../../src/sync/lockdep.js';
import { usePool } from '../helpers.js';

type Outcome = Awaited<ReturnType<typeof runMachine>>;

function problems(r: Outcome): string[] {
  return [
    ...(r.error ? [`cpu ${r.error.cpu} threw in ${r.error.op}: ${r.error.message}`] : []),
    ...r.checkpoints.violations,
    ...r.checker.violations,
    ...r.perCpu.flatMap((c) => c.failures),
  ];
}

const POLICIES = [
  { label: 'clockpro', cfg: { policy: 'clockpro' } },
  { label: 'clockpro-approx', cfg: { policy: 'clockpro-approx' } },
  { label: '2q + refaultActivation', cfg: { policy: '2q', refaultActivation: true } },
] as const;

describe('refault-driven policies on 2 worker CPUs', () => {
  const pool = usePool();
  for (const p of POLICIES) {
    it(`${p.label}: pressure (zipf, 1.5 x memory) stays clean; refaults counted and in the results`, async () => {
      const seed = 41;
      const spec = { name: 'pressure', pattern: 'zipf', processes: 3, seed };
      const r = await runMachine({
        config: { mem: '4M', swap: '16M', cpus: 2, rmap: 'objrmap', lockdep: true, debug: true, seed, swapIoUs: 0, ...p.cfg },
        spec,
        durationMs: 1500,
        checkpoints: 2,
        checkEmpty: true,
        pool: pool(),
      });
      const pr = problems(r);
      if (pr.length) console.error(`${p.label} pressure failed; reproduce with seed ${seed}:\n${pr.slice(0, 10).join('\n')}`);
      expect(pr).toEqual([]);
      expect(r.checkpoints.done).toBeGreaterThan(0);
      expect(readLockdepReport(r.m.w, r.m.layout.lockdep).count).toBe(0);
      const res = buildResults(r, { spec, durationMs: 1500 });
      expect(res.oracle.checks).toBeGreaterThan(0);
      expect(res.vmstat.pswpout).toBeGreaterThan(0);
      expect(res.vmstat.workingset_refault_anon).toBeGreaterThan(0);
      expect(res.refaults.found).toBe(res.vmstat.workingset_refault_anon + res.vmstat.workingset_refault_file);
      expect(res.refaults.rows.reduce((s, row) => s + row.hits, 0)).toBe(res.refaults.lookups);
      console.log(
        `${p.label} pressure: ${res.ops} touches on 2 CPUs, pgmajfault ${res.vmstat.pgmajfault}, refaults ${res.vmstat.workingset_refault_anon}, activated ${res.vmstat.workingset_activate_anon}, ${r.checkpoints.done} checkpoints, seed ${seed}`,
      );
    });

    it(`${p.label}: random streams on a 1 MiB machine stay clean`, async () => {
      const seed = 43;
      const r = await runMachine({
        config: { mem: '1M', swap: '16M', cpus: 2, lockdep: true, debug: true, seed, filePages: 64, maxVma: 2048, maxMm: 64, swapIoUs: 0, ...p.cfg },
        spec: { name: 'random', filesPerCpu: 2, seed },
        opsPerCpu: 2500,
        checkpoints: 2,
        checkEmpty: true,
        pool: pool(),
      });
      const pr = problems(r);
      if (pr.length) console.error(`${p.label} random failed; reproduce with seed ${seed}:\n${pr.slice(0, 10).join('\n')}`);
      expect(pr).toEqual([]);
      expect(r.perCpu.reduce((s, c) => s + c.ops, 0)).toBe(5000);
      expect(readLockdepReport(r.m.w, r.m.layout.lockdep).count).toBe(0);
    });
  }
});
