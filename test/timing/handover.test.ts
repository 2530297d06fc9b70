/*
 * Lock hand-over in the virtual clock (src/timing/conductor.ts wake, and
 * vt_acquired's stamped waits): the lock_counter workload (one shared
 * counter under one spinlock) on the amd-48 preset shows each
 * implementation's shape — a ticket lock collapses as spinners are added
 * (every one re-reads the line on each release), MCS levels off (one line to
 * the successor), a tas lock does worse than a ttas lock (its spinners keep
 * the line exclusive, so the holder pulls it back to release), and a futex
 * mutex hands over at most once per wake-up. Deterministic: fixed figures
 * for any host.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { runMachine, createRunPool } from '../../src/sim/run.js';
import { buildResults } from '../../src/sim/results.js';
import { loadCostTable } from '../../src/timing/cost.js';

const pool = createRunPool(17);
afterAll(() => pool.destroy());

async function rate(cpus: number, lockImpl: string): Promise<number> {
  const spec = { name: 'lock_counter', csLines: 3, thinkNs: 2000 };
  const o = await runMachine({ config: { clock: 'virtual', cpus, lockImpl, cost: 'amd-48', mem: 8 << 20, maxMm: 8, swap: 0 }, spec, opsPerCpu: 150, pool });
  const r = buildResults(o, { spec, opsPerCpu: 150 });
  expect(r.error).toBeUndefined();
  return r.opsPerSec;
}

describe('lock hand-over by implementation, lock_counter on amd-48', () => {
  it('ticket collapses past its peak, MCS levels off, tas below ttas, futex bounded by its wake-up', async () => {
    const r: Record<string, [number, number]> = {};
    for (const impl of ['tas', 'ttas', 'ticket', 'mcs', 'futex']) r[impl] = [await rate(8, impl), await rate(16, impl)];
    const [t8, t16] = r.ticket!;
    const [m8, m16] = r.mcs!;
    expect(t16).toBeLessThan(0.6 * t8); // collapse
    expect(m16).toBeGreaterThan(0.95 * m8); // levels off
    expect(m16).toBeGreaterThan(2 * t16);
    expect(r.tas![1]).toBeLessThan(0.97 * r.ttas![1]); // the same without the release pull-back
    // every contended hand-over of the futex mutex is a wake-up: at most one acquisition per futex_wake
    const wake = loadCostTable('amd-48').ns.futex_wake!;
    expect(r.futex![1]).toBeLessThan(1e9 / wake);
  }, 120_000);
});
