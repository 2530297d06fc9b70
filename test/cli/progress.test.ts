/*
 * progress.test.ts — the host idle sampler (src/cli/progress.ts IdleSampler):
 * nothing to report before an interval is marked; over an interval of busy
 * work, idle and steal are percentages of the interval (steal read from
 * /proc/stat's aggregate line on Linux, null elsewhere).
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { IdleSampler } from '../../src/cli/progress.js';

describe('IdleSampler', () => {
  it('reports nothing until an interval is marked', () => {
    const s = new IdleSampler();
    expect(s.pct()).toBeNull();
    expect(s.stealPct()).toBeNull();
    s.mark();
    expect(s.pct()).toBeNull();
    expect(s.stealPct()).toBeNull();
  });

  it('reports idle and steal as percentages of the interval', async () => {
    const s = new IdleSampler();
    s.mark();
    const end = Date.now() + 300; // a few clock ticks (jiffies are 10 ms)
    while (Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    s.mark();
    const idle = s.pct();
    expect(idle).not.toBeNull();
    expect(idle!).toBeGreaterThanOrEqual(0);
    expect(idle!).toBeLessThanOrEqual(100);
    const steal = s.stealPct();
    if (!existsSync('/proc/stat')) return expect(steal).toBeNull();
    expect(steal).not.toBeNull();
    expect(steal!).toBeGreaterThanOrEqual(0);
    expect(steal!).toBeLessThanOrEqual(100);
  });
});
