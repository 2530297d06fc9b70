/*
 * The `pressure` workload (issue 6): a working set of 1.5 × RAM over several
 * processes, in each pattern, with the content oracle — deterministically on
 * the main thread, then on worker CPUs with kswapd; and without swap, where
 * the OOM killer takes processes and the run goes on.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Piscina } from 'piscina';
import { check_invariants } from '../../src/sim/checker.js';
import { runMachine, createRunPool } from '../../src/sim/run.js';
import { createPressure, pressureParams, pressureSpec, PRESSURE_PATTERNS } from '../../src/workload/pressure.js';
import { workloadByName } from '../../src/workload/index.js';
import { reclaim_stats } from '../../src/reclaim/index.js';
import { bootR, vmsum, rmapNames } from './helpers.js';

/** a chain rmap if this build has one (the scan baseline walks every page table per page: slow) */
const RMAP = rmapNames().includes('ptechain') ? 'ptechain' : 'scan';

describe('pressure workload, deterministic', () => {
  it('is registered as a workload', () => {
    expect(workloadByName('pressure')?.name).toBe('pressure');
  });

  for (const pattern of PRESSURE_PATTERNS) {
    it(`${pattern}: 3 × RAM over 4 processes swaps and keeps every stamp`, () => {
      const { m, cpu } = bootR({ mem: '2M', swap: '16M', policy: 'clock', rmap: RMAP });
      const inst = createPressure(cpu, pressureParams(pressureSpec({ pattern, wsBytes: 6 << 20, zipfS: 0.7 }), m.cfg.mem, 1, 7));
      for (let i = 0; i < 80; i++) inst.step();
      const r = inst.result();
      expect(r.failures).toEqual([]);
      expect(r.extra!.oracleChecks).toBeGreaterThan(200);
      expect(vmsum(m, 'pswpout')).toBeGreaterThan(0);
      if (pattern !== 'sequential') expect(vmsum(m, 'pswpin')).toBeGreaterThan(0);
      expect(check_invariants(cpu).violations).toEqual([]);
      inst.end();
      expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
    });
  }

  it('shared: the processes start as one forked family sharing every page', () => {
    const { m, cpu } = bootR({ mem: '2M', swap: '8M', policy: '2q', rmap: RMAP });
    const inst = createPressure(cpu, pressureParams(pressureSpec({ shared: true, processes: 3, wsBytes: 3 << 20 }), m.cfg.mem, 1, 3));
    for (let i = 0; i < 60; i++) inst.step();
    expect(inst.result().failures).toEqual([]);
    expect(vmsum(m, 'cow_fault')).toBeGreaterThan(0);
    expect(vmsum(m, 'pswpout')).toBeGreaterThan(0);
    expect(check_invariants(cpu).violations).toEqual([]);
    inst.end();
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });
});

describe('pressure workload on worker CPUs with kswapd', () => {
  let pool: Piscina;
  beforeAll(() => {
    pool = createRunPool(3);
  });
  afterAll(async () => {
    await pool.destroy();
  });

  it('kswapd is woken below pages_low and reclaims; the CPUs stall into direct reclaim too; all clean', async () => {
    const r = await runMachine({
      config: { mem: '2M', swap: '16M', cpus: 2, seed: 11, policy: '2q', rmap: RMAP, locks: 'split', lockdep: true, debug: true },
      spec: { name: 'pressure', pattern: 'zipf' },
      durationMs: 600,
      checkpoints: 1,
      checkEmpty: true,
      pool,
    });
    expect(r.error).toBeUndefined();
    expect([...r.checkpoints.violations, ...r.checker.violations, ...r.perCpu.flatMap((c) => c.failures)]).toEqual([]);
    expect(vmsum(r.m, 'kswapd_wake')).toBeGreaterThan(0);
    expect(vmsum(r.m, 'pgsteal_kswapd')).toBeGreaterThan(0);
    expect(vmsum(r.m, 'pswpout')).toBeGreaterThan(0);
    expect(r.kswapd!.ops).toBeGreaterThan(0); // balance rounds
    const st = reclaim_stats(r.m);
    expect(st.swap_used).toBe(0); // everything exited
    expect(st.nr_active + st.nr_inactive).toBe(0);
  });

  it('without swap the OOM killer kills processes and the run goes on', async () => {
    const r = await runMachine({
      config: { mem: '2M', swap: 0, cpus: 2, debug: true, seed: 12, policy: '2q', rmap: RMAP, locks: 'split' },
      spec: { name: 'pressure', pattern: 'looping', processes: 3, wsBytes: 2 << 20 },
      durationMs: 700,
      checkEmpty: true,
      pool,
    });
    expect(r.error).toBeUndefined();
    expect([...r.checker.violations, ...r.perCpu.flatMap((c) => c.failures)]).toEqual([]);
    expect(vmsum(r.m, 'oom_kill')).toBeGreaterThan(0);
    const killed = r.perCpu.reduce((a, c) => a + (c.extra.oomKilled ?? 0), 0);
    expect(killed).toBeGreaterThan(0);
    for (const c of r.perCpu) expect(c.units).toBeGreaterThan(0);
  });
});
