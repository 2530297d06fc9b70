/*
 * The conductor's host profile (timing/conductor.ts VtTuning.hostProfile,
 * bench/vclock.ts speed): each CPU thread's host time in turn, of it the
 * conductor's scans, its turns and how many it slept for. It only observes:
 * the same run with and without it gives the same results JSON apart from
 * the host-time fields. The threads hold the turn one at a time, so their
 * turn times add up to at most the run's host time.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { runMachine, createRunPool } from '../../src/sim/run.js';
import { buildResults, HOST_TIME_FIELDS } from '../../src/sim/results.js';

const pool = createRunPool(5);
afterAll(async () => {
  await pool.destroy();
});

const simulated = (res: object) => {
  const o = JSON.parse(JSON.stringify(res)) as Record<string, unknown>;
  for (const k of HOST_TIME_FIELDS) delete o[k];
  return o;
};

describe('virtual clock host profile', () => {
  it('accounts each CPU thread its turns and host time in turn, and changes nothing simulated', async () => {
    const spec = { name: 'page_fault1_processes', regionBytes: 1 << 20 };
    const config = { clock: 'virtual', mem: '48M', swap: 0, cpus: 4, locks: 'split', seed: 5 };
    const plain = await runMachine({ config, spec, opsPerCpu: 4, pool });
    const prof = await runMachine({ config, spec, opsPerCpu: 4, pool, vtTuning: { hostProfile: true } });
    expect(plain.error).toBeUndefined();
    expect(prof.error).toBeUndefined();
    expect(simulated(buildResults(prof, { spec, opsPerCpu: 4 }))).toEqual(simulated(buildResults(plain, { spec, opsPerCpu: 4 })));
    expect(plain.perCpu.every((r) => r.vtHost === undefined)).toBe(true);
    const hs = [...prof.perCpu, prof.kswapd].map((r) => r!.vtHost!);
    let turnMs = 0;
    let turns = 0;
    for (const h of hs) {
      expect(h.turns).toBeGreaterThan(0);
      expect(h.turnMs).toBeGreaterThan(0);
      expect(h.conductorMs).toBeGreaterThan(0);
      expect(h.conductorMs).toBeLessThanOrEqual(h.turnMs);
      expect(h.slept).toBeLessThanOrEqual(h.turns);
      turnMs += h.turnMs;
      turns += h.turns;
    }
    expect(turnMs).toBeLessThanOrEqual(prof.hostMs);
    // every hand-over gives one turn, and vt_init gave the first
    expect(turns).toBe(prof.vt!.handoffs + 1);
  });
});
