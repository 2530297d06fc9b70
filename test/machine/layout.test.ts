import { describe, it, expect } from 'vitest';
import { computeLayout, PAGE_WORDS, LINE_WORDS, PC_FIXED_WORDS, PC_F64 } from '../../src/machine/layout.js';
import { makeConfig } from '../../src/config.js';
import { createMachine, attachMachine } from '../../src/machine/machine.js';

const REGIONS = ['header', 'globals', 'percpu', 'memMap', 'mmTable', 'vmaTable', 'inodes', 'pcHash', 'fileStore', 'rmapPool', 'swapMap', 'nonres', 'lockdep', 'frames', 'swapSlots'] as const;

describe('layout', () => {
  for (const cfg of [{}, { mem: '1M', swap: 0, cpus: 1 }, { mem: '256M', cpus: 8, rmap: 'ptechain25', traceRing: 1024, nrBucketBytes: 128 }]) {
    it(`places every region in order without overlap (${JSON.stringify(cfg)})`, () => {
      const l = computeLayout(makeConfig(cfg));
      const offs = REGIONS.map((r) => l[r]);
      for (let i = 1; i < offs.length; i++) expect(offs[i]).toBeGreaterThanOrEqual(offs[i - 1]!);
      expect(l.frames % PAGE_WORDS).toBe(0); // frames page aligned
      expect(l.percpu % LINE_WORDS).toBe(0);
      expect(l.percpuWords % LINE_WORDS).toBe(0); // per-CPU areas are cache-line padded
      expect(l.percpuWords).toBeGreaterThanOrEqual(PC_FIXED_WORDS);
      expect(PC_F64 % 2).toBe(0);
      expect(l.nonres % (2 * LINE_WORDS)).toBe(0);
      expect(l.nrBuckets & (l.nrBuckets - 1)).toBe(0);
      expect(l.totalWords).toBe(l.swapSlots + l.nrSwap * PAGE_WORDS);
      expect(l.nrCpuSlots).toBe(l.nrCpus + 2);
    });
  }
  it('a worker can attach to the buffer and sees the same layout and config', () => {
    const m = createMachine({ mem: '2M', swap: '1M', cpus: 3, rmap: 'vmnode', seed: 9 });
    const a = attachMachine(m.sab);
    expect(a.layout).toEqual(m.layout);
    expect(a.cfg).toEqual(m.cfg);
    expect(() => attachMachine(new SharedArrayBuffer(4096))).toThrow(/not an smpvm machine/);
  });
});

describe('layout at the 4 GiB limit', () => {
  it('counts 2^20 frames for 4 GiB of RAM (no 32-bit wrap)', () => {
    const l = computeLayout(makeConfig({ mem: '4G', swap: '4G', cpus: 1 }));
    expect(l.nrFrames).toBe(1 << 20);
    expect(l.nrSwap).toBe(1 << 20);
  });
});
