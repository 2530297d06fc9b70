/*
 * hostprobe.test.ts — the host's cache-line round trip (src/sim/hostprobe.ts):
 * a real echo thread answers every value, so the probe finishes and reports
 * a time per round trip that is two line transfers plus the loop: at least
 * twice what this thread's own store + load loop costs with no echo to wait
 * for (a probe that does not wait for the echo measures just that loop), and
 * under 50 ms (a spinning echo answers within a cache miss or two; on a
 * loaded, time-sliced host each side may wait a few scheduler slices for a
 * core — 3.3 ms a round trip was seen here with four jobs on two cores — but
 * not more); a
 * probe asked for more rounds than its budget allows stops at the budget and
 * lets the echo thread go; a one-core host is not probed at all. The wake-up
 * probe (both sides asleep between values, the cost table's futex_wake)
 * finishes with its sleeping echo and reads more than the spinning one: a
 * sleep and a wake-up cost more than a line transfer.
 */
import { describe, it, expect, vi } from 'vitest';
import { lineRoundTripNs, wakeRoundTripNs } from '../../src/sim/hostprobe.js';

/** ns per iteration of the probe's loop body on this thread alone: store PING, load a word this thread owns. */
function localLoopNs(rounds: number): number {
  const w = new Int32Array(new SharedArrayBuffer(256));
  let sink = 0;
  const t0 = performance.now();
  for (let i = 1; i <= rounds; i++) {
    Atomics.store(w, 16, i);
    sink += Atomics.load(w, 32);
  }
  const ns = ((performance.now() - t0) * 1e6) / rounds;
  w[48] = sink; // the loads are used
  return ns;
}

describe('lineRoundTripNs', () => {
  it('measures a round trip between two threads: two line transfers, not this thread\'s loop alone', async () => {
    const local = localLoopNs(200_000);
    const ns = await lineRoundTripNs(5_000, 3);
    expect(Number.isFinite(ns)).toBe(true);
    expect(ns, `round trip ${ns} ns, local loop ${local} ns`).toBeGreaterThan(2 * local);
    expect(ns, `round trip ${ns} ns`).toBeLessThan(50e6);
  });

  it('stops at its time budget (2 s a probe) however many rounds were asked for', async () => {
    const t0 = performance.now();
    const ns = await lineRoundTripNs(1e9, 1);
    expect(performance.now() - t0).toBeLessThan(6000);
    expect(Number.isFinite(ns)).toBe(true);
  }, 20_000);

  it('is not measured on a one-core host', async () => {
    vi.resetModules();
    vi.doMock('node:os', async (orig) => ({ ...(await orig<typeof import('node:os')>()), availableParallelism: () => 1 }));
    const { lineRoundTripNs: probe, wakeRoundTripNs: wprobe } = await import('../../src/sim/hostprobe.js');
    expect(await probe(5_000, 1)).toBeNull();
    expect(await wprobe(500, 1)).toBeNull();
    vi.doUnmock('node:os');
  });
});

describe('wakeRoundTripNs', () => {
  it('wakes a sleeping echo thread every round, and a wake-up costs more than a line transfer', async () => {
    const spin = await lineRoundTripNs(5_000, 3);
    const wake = await wakeRoundTripNs(500, 3);
    expect(Number.isFinite(wake)).toBe(true);
    expect(wake, `wake round trip ${wake} ns, line round trip ${spin} ns`).toBeGreaterThan(spin!);
    expect(wake, `wake round trip ${wake} ns`).toBeLessThan(50e6);
  });
});
