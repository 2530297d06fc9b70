/*
 * machine.test.ts — createMachine (src/machine/machine.ts): config.populate
 * faults in every host page of the buffer at creation (the host maps a fresh
 * SharedArrayBuffer lazily), and leaves the machine as it would be without.
 */
import { describe, it, expect } from 'vitest';
import { createMachine } from '../../src/machine/machine.js';

const MiB = 1 << 20;

/** Resident-set growth while creating a machine of `mem`. */
function rssGrowth(mem: string, populate: boolean): { grew: number; w: Int32Array } {
  const before = process.memoryUsage().rss;
  const m = createMachine({ mem, swap: 0, cpus: 1, populate });
  return { grew: process.memoryUsage().rss - before, w: m.w };
}

describe('createMachine populate', () => {
  it('makes the whole buffer resident with populate, only what boot writes without', () => {
    const off = rssGrowth('96M', false);
    const on = rssGrowth('96M', true);
    expect(on.grew).toBeGreaterThan(80 * MiB); // 96 MiB of frames + the tables
    expect(off.grew).toBeLessThan(48 * MiB); // the frames stay unmapped until used
    expect(on.w.length).toBe(off.w.length);
    // populating writes only zeros over zeros: the two buffers hold the same words
    let differ = 0;
    for (let i = 0; i < on.w.length; i += 97) if (on.w[i] !== off.w[i]) differ++;
    expect(differ).toBe(0);
  });
});
