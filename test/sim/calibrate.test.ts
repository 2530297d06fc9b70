/*
 * calibrate.test.ts — the co-run host runs behind `smpvm calibrate --corun`
 * (src/sim/calibrate.ts hostRates): the run and its sibling copy each report
 * a rate, and they run at the same time, one per host core — in less time
 * than the two runs' durations end to end (each lasts HOST_WARMUP_MS + 1 s
 * of host time whatever the load, so one after the other cannot finish
 * sooner).
 */
import { describe, it, expect } from 'vitest';
import { hostRates, HOST_WARMUP_MS } from '../../src/sim/calibrate.js';

const MiB = 1 << 20;

describe('hostRates', () => {
  it('runs the copies side by side and reports each one\'s rate', async () => {
    const t0 = performance.now();
    const rates = await hostRates({ config: { cpus: 1, mem: 16 * MiB, swap: 0 }, spec: { name: 'page_fault1_processes', regionBytes: MiB }, kswapd: false }, 1);
    const ms = performance.now() - t0;
    expect(rates).toHaveLength(2);
    for (const r of rates) expect(r).toBeGreaterThan(0);
    const oneRun = HOST_WARMUP_MS + 1000;
    expect(ms, `two copies took ${ms.toFixed(0)} ms; end to end they would take at least ${2 * oneRun} ms`).toBeLessThan(2 * oneRun - 100);
  }, 30_000);
});
