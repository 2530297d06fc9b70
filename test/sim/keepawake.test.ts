/*
 * sim/keepawake.ts: one keeper thread per host core, at nice 19, runnable
 * (spinning) while a run wants the cores awake and asleep otherwise; and
 * vtTuningFor's host-side defaults. Scheduler states and wake counts, not
 * CPU time: a nice-19 thread gets ~1.5% of a core on a loaded host.
 */
import { describe, it, expect } from 'vitest';
import { availableParallelism } from 'node:os';
import { keep_awake, keeper_tids, keeper_wakes, KEEPAWAKE_SUPPORTED } from '../../src/sim/keepawake.js';
import { task_stat } from '../../src/sim/procstat.js';
import { runMachine, vtTuningFor, VT_SPIN_POLLS } from '../../src/sim/run.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `pred` every 20 ms for up to 10 s. */
async function until(pred: () => boolean): Promise<boolean> {
  for (let t = 0; t < 500; t++) {
    if (pred()) return true;
    await sleep(20);
  }
  return pred();
}

const stats = () => keeper_tids().map((tid) => task_stat(`/proc/self/task/${tid}/stat`)!);

describe('vtTuningFor: the host-side defaults of a virtual-clock run', () => {
  it('polls with no more CPUs than host cores, keeps the cores awake with more; an explicit tuning wins', () => {
    const cores = availableParallelism();
    expect(vtTuningFor(undefined, cores)).toMatchObject({ spinBeforeSleep: VT_SPIN_POLLS, keepAwake: false });
    expect(vtTuningFor(undefined, cores + 1)).toMatchObject({ spinBeforeSleep: 0, keepAwake: KEEPAWAKE_SUPPORTED });
    expect(vtTuningFor({ keepAwake: false }, cores + 1).keepAwake).toBe(false);
  });
});

describe.runIf(KEEPAWAKE_SUPPORTED)('keep_awake', () => {
  it('one nice-19 thread per host core, runnable while wanted and asleep after', async () => {
    const release = keep_awake();
    expect(await until(() => keeper_tids().length === availableParallelism())).toBe(true);
    expect(stats().map((s) => s.nice)).toEqual(keeper_tids().map(() => 19));
    expect(await until(() => stats().every((s) => s.state === 'R'))).toBe(true);
    release();
    release(); // a second call does nothing (the count would go below 0)
    expect(await until(() => stats().every((s) => s.state === 'S'))).toBe(true);
    const woke = keeper_wakes();
    await sleep(200);
    expect(keeper_wakes()).toBe(woke);
  });

  it('a virtual-clock run with more CPUs than cores wakes the keepers, and they sleep once it is over', async () => {
    const woke = keeper_wakes();
    const o = await runMachine({ config: { clock: 'virtual', cpus: availableParallelism() + 2, mem: '32M', swap: 0 }, spec: { name: 'page_fault1_processes', regionBytes: 1 << 20 }, opsPerCpu: 2 });
    expect(o.error).toBeUndefined();
    expect(keeper_wakes()).toBeGreaterThan(woke);
    expect(await until(() => stats().every((s) => s.state === 'S'))).toBe(true);
    // and a host-clock run leaves them asleep
    const before = keeper_wakes();
    await runMachine({ config: { cpus: 1, mem: '32M', swap: 0 }, spec: { name: 'page_fault1_processes', regionBytes: 1 << 20 }, opsPerCpu: 2 });
    expect(keeper_wakes()).toBe(before);
  });
});
