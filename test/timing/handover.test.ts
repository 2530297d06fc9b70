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

const pool = createRunPool(13);
afterAll(() => pool.destroy());

async function rate(cpus: number, lockImpl: string): Promise<number> {
  const spec = { name: 'lock_counter', csLines: 3, thinkNs: 2000 };
  const o = await runMachine({ config: { clock: 'virtual', cpus, lockImpl, cost: 'amd-48', mem: 8 << 20, maxMm: 8, swap: 0 }, spec, opsPerCpu: 100, pool });
  const r = buildResults(o, { spec, opsPerCpu: 100 });
  expect(r.error).toBeUndefined();
  return r.opsPerSec;
}

describe('lock hand-over by implementation, lock_counter on amd-48', () => {
  it('ticket collapses past its peak, MCS levels off, tas below ttas, futex bounded by its wake-up', async () => {
    const [t8, t12, m8, m12] = [await rate(8, 'ticket'), await rate(12, 'ticket'), await rate(8, 'mcs'), await rate(12, 'mcs')];
    expect(t12).toBeLessThan(0.6 * t8); // collapse
    expect(m12).toBeGreaterThan(0.95 * m8); // levels off
    expect(m12).toBeGreaterThan(2 * t12);
    const [tas, ttas, futex] = [await rate(12, 'tas'), await rate(12, 'ttas'), await rate(12, 'futex')];
    expect(tas).toBeLessThan(0.97 * ttas); // the same without the release pull-back
    // a contended futex hand-over is a wake-up (futex_wake, 2 µs here; quantum 0, the default below
    // 16 CPUs: 50% of ttas): without that the mutex ran as fast as ttas
    expect(futex).toBeLessThan(0.7 * ttas);
  }, 120_000);
});
