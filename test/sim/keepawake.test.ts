/*
 * sim/keepawake.ts: one keeper thread per host core, at nice 19, spinning
 * while a run wants the cores awake and asleep otherwise; its CPU time is
 * read from /proc (and kept out of a run's process CPU time by sim/run.ts).
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { keep_awake, keepers_cpu_ms, KEEPAWAKE_SUPPORTED } from '../../src/sim/keepawake.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** nice values of this process's threads */
function nices(): number[] {
  return readdirSync('/proc/self/task').map((t) => {
    const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
    return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16]); // field 19: nice
  });
}

describe.runIf(KEEPAWAKE_SUPPORTED)('keep_awake', () => {
  it('spins one nice-19 thread per host core while wanted, and sleeps after', async () => {
    const before = nices().filter((n) => n === 19).length;
    const release = keep_awake();
    await sleep(300);
    expect(nices().filter((n) => n === 19).length - before).toBe(availableParallelism());
    const a = keepers_cpu_ms();
    await sleep(500);
    const spun = keepers_cpu_ms() - a;
    // on an idle host each keeper gets most of a core; under load at least some of it
    expect(spun).toBeGreaterThan(50);
    release();
    release(); // a second call does nothing
    await sleep(200);
    const b = keepers_cpu_ms();
    await sleep(500);
    expect(keepers_cpu_ms() - b).toBeLessThanOrEqual(20); // asleep in Atomics.wait (10 ms ticks)
  });
});

describe('vtTuningFor: the host-side defaults of a virtual-clock run', () => {
  it('polls with no more CPUs than host cores, keeps the cores awake with more; an explicit tuning wins', async () => {
    const { vtTuningFor, VT_SPIN_POLLS } = await import('../../src/sim/run.js');
    const cores = availableParallelism();
    expect(vtTuningFor(undefined, cores)).toMatchObject({ spinBeforeSleep: VT_SPIN_POLLS, keepAwake: false });
    expect(vtTuningFor(undefined, cores + 1)).toMatchObject({ spinBeforeSleep: 0, keepAwake: KEEPAWAKE_SUPPORTED });
    expect(vtTuningFor({ keepAwake: false }, cores + 1).keepAwake).toBe(false);
  });

  it.runIf(KEEPAWAKE_SUPPORTED)('a run with more CPUs than cores keeps them awake while it runs, and lets the keepers sleep after', async () => {
    const { runMachine } = await import('../../src/sim/run.js');
    const cpus = availableParallelism() + 2;
    const a = keepers_cpu_ms();
    const o = await runMachine({ config: { clock: 'virtual', cpus, mem: '32M', swap: 0 }, spec: { name: 'page_fault1_processes', regionBytes: 1 << 20 }, opsPerCpu: 8 });
    expect(o.error).toBeUndefined();
    expect(keepers_cpu_ms() - a).toBeGreaterThan(0); // the keepers spun during the run
    await sleep(200);
    const b = keepers_cpu_ms();
    await sleep(500);
    expect(keepers_cpu_ms() - b).toBeLessThanOrEqual(20);
  });
});
