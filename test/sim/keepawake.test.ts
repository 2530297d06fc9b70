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
