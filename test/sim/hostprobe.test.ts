/*
 * hostprobe.test.ts — the host's cache-line round trip (src/sim/hostprobe.ts):
 * a real echo thread answers every value, so the probe finishes and reports
 * a plausible time per round trip (two line transfers plus the loop: more
 * than a nanosecond, less than the millisecond a lost echo would take); a
 * probe asked for more rounds than its budget allows stops at the budget and
 * lets the echo thread go; a one-core host is not probed at all.
 */
import { describe, it, expect, vi } from 'vitest';
import { lineRoundTripNs } from '../../src/sim/hostprobe.js';

describe('lineRoundTripNs', () => {
  it('measures a round trip between two threads', async () => {
    const ns = await lineRoundTripNs(5_000, 3);
    expect(Number.isFinite(ns)).toBe(true);
    expect(ns).toBeGreaterThan(1);
    expect(ns).toBeLessThan(1e6);
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
    const { lineRoundTripNs: probe } = await import('../../src/sim/hostprobe.js');
    expect(await probe(5_000, 1)).toBeNull();
    vi.doUnmock('node:os');
  });
});
