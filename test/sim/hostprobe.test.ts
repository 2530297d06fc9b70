/*
 * hostprobe.test.ts — the host's cache-line round trip (src/sim/hostprobe.ts):
 * a real echo thread answers every value, so the probe finishes and reports
 * a plausible time per round trip (two line transfers plus the loop: more
 * than a nanosecond, less than the millisecond a lost echo would take).
 */
import { describe, it, expect } from 'vitest';
import { lineRoundTripNs } from '../../src/sim/hostprobe.js';

describe('lineRoundTripNs', () => {
  it('measures a round trip between two threads', async () => {
    const ns = await lineRoundTripNs(5_000, 3);
    expect(Number.isFinite(ns)).toBe(true);
    expect(ns).toBeGreaterThan(1);
    expect(ns).toBeLessThan(1e6);
  });
});
