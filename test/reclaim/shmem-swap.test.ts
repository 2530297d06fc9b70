/*
 * Shared anonymous memory through swap (issue 18 item 1): a MAP_SHARED|
 * MAP_ANONYMOUS region bigger than RAM, mapped by several processes, is
 * written and read back through swap — the pages leave through their shmem
 * inode (shmem_writepage: ptes cleared, the entry in the inode's index) and
 * come back through it (shmem_getpage), every mapper seeing the one page.
 * Deterministic on one CPU per policy and rmap scheme; then 2 worker CPUs
 * with kswapd under each lock scheme. Content oracle, checker, no OOM kill.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Piscina } from 'piscina';
import { check_invariants } from '../../src/sim/checker.js';
import { runMachine, createRunPool } from '../../src/sim/run.js';
import { createPressure, pressureParams, pressureSpec } from '../../src/workload/pressure.js';
import { LOCK_SCHEMES } from '../../src/config.js';
import { swap_info, registeredPolicies } from '../../src/reclaim/index.js';
import { readLockdepReport } from '../../src/sync/lockdep.js';
import { bootR, vmsum, rmapNames } from './helpers.js';

const SHMEM_CFG = { filePages: 512, maxFiles: 16 };

describe('shared anonymous memory swaps through its inode, deterministic', () => {
  for (const policy of registeredPolicies()) {
    for (const rmap of rmapNames()) {
      it(`${policy} × ${rmap}: 1.5 × RAM of shmem over 3 processes, written and read back`, () => {
        const { m, cpu } = bootR({ mem: '1M', swap: '8M', policy, rmap, ...SHMEM_CFG });
        const inst = createPressure(cpu, pressureParams(pressureSpec({ shmem: true, processes: 3, pattern: 'uniform' }), m.cfg.mem, 1, 5));
        for (let i = 0; i < 60; i++) inst.step();
        const r = inst.result();
        expect(r.failures).toEqual([]);
        expect(r.extra!.oracleChecks).toBeGreaterThan(500);
        expect(r.extra!.oomKilled).toBe(0);
        expect(vmsum(m, 'oom_kill')).toBe(0);
        expect(vmsum(m, 'shmem_swapout')).toBeGreaterThan(0);
        expect(vmsum(m, 'pswpout')).toBeGreaterThan(0);
        expect(vmsum(m, 'pswpin')).toBeGreaterThan(0);
        expect(vmsum(m, 'shmem_swapin')).toBeGreaterThan(0);
        expect(check_invariants(cpu).violations).toEqual([]);
        inst.end();
        expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
        expect(swap_info(m).inuse).toBe(0);
      });
    }
  }
});

describe('shared anonymous memory swaps through its inode on 2 worker CPUs with kswapd', () => {
  let pool: Piscina;
  beforeAll(() => {
    pool = createRunPool(3);
  });
  afterAll(async () => {
    await pool.destroy();
  });
  for (const locks of LOCK_SCHEMES) {
    it(`${locks}: 1.5 × RAM of shmem per CPU family of 3 processes, oracle and checker clean, no OOM kill`, async () => {
      const seed = 1800 + locks.length;
      const r = await runMachine({
        config: { mem: '1M', swap: '8M', cpus: 2, seed, policy: '2q', rmap: 'objrmap', locks, lockdep: true, debug: true, swapIoUs: 0, ...SHMEM_CFG },
        spec: { name: 'pressure', shmem: true, processes: 3, pattern: 'uniform' },
        opsPerCpu: 60,
        checkpoints: 1,
        checkEmpty: true,
        pool,
      });
      const p = [...(r.error ? [`cpu ${r.error.cpu} threw: ${r.error.message}`] : []), ...r.checkpoints.violations, ...r.checker.violations, ...r.perCpu.flatMap((c) => c.failures)];
      if (p.length) console.error(`shmem swap ${locks} failed; reproduce with seed ${seed}:\n${p.slice(0, 10).join('\n')}`);
      expect(p).toEqual([]);
      expect(r.kswapd?.error).toBeUndefined();
      expect(readLockdepReport(r.m.w, r.m.layout.lockdep).count).toBe(0);
      expect(vmsum(r.m, 'oom_kill')).toBe(0);
      for (const c of r.perCpu) expect(c.extra.oomKilled).toBe(0);
      expect(vmsum(r.m, 'shmem_swapout')).toBeGreaterThan(0);
      expect(vmsum(r.m, 'shmem_swapin')).toBeGreaterThan(0);
      expect(vmsum(r.m, 'pswpout')).toBeGreaterThan(0);
      expect(vmsum(r.m, 'pswpin')).toBeGreaterThan(0);
      expect(r.perCpu.reduce((a, c) => a + (c.extra.oracleChecks ?? 0), 0)).toBeGreaterThan(500);
      expect(swap_info(r.m).inuse).toBe(0);
    });
  }
});
