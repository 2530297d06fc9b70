import { describe, it, expect } from 'vitest';
import {
  computeLayout,
  PAGE_WORDS,
  LINE_WORDS,
  PC_FIXED_WORDS,
  PC_F64,
  HDR_WORDS,
  NR_GLOBAL_LINES,
  PAGE_STRUCT_WORDS,
  MM_WORDS,
  VMA_WORDS,
  INODE_WORDS,
  FS_WORDS,
  MAX_LOCK_CLASSES,
  LD_REPORT_WORDS,
  TRACE_ENTRY_F64,
  type Layout,
} from '../../src/machine/layout.js';
import { makeConfig } from '../../src/config.js';
import { createMachine, attachMachine } from '../../src/machine/machine.js';

/**
 * Every region's size in words, from what it must hold (the layout's counts
 * times the struct sizes), not from where the next region starts: so a
 * region computeLayout forgot to reserve shows up as an overlap.
 */
const regionWords = (l: Layout): Record<string, number> => ({
  header: HDR_WORDS,
  globals: NR_GLOBAL_LINES * LINE_WORDS,
  percpu: l.percpuWords * l.nrCpuSlots,
  memMap: l.nrFrames * PAGE_STRUCT_WORDS,
  mmTable: l.maxMm * MM_WORDS,
  vmaTable: l.maxVma * VMA_WORDS,
  inodes: l.maxFiles * INODE_WORDS,
  pcHash: l.pcHashMask + 1,
  fileStore: l.maxFiles * l.filePages * FS_WORDS,
  shmemSwp: l.maxFiles * l.filePages,
  rmapPool: l.rmapEntries * l.rmapEntryWords,
  swapMap: l.nrSwap,
  nonres: l.nrBuckets * l.bucketWords,
  lockdep: MAX_LOCK_CLASSES * MAX_LOCK_CLASSES + LD_REPORT_WORDS,
  frames: l.nrFrames * PAGE_WORDS,
  swapSlots: l.nrSwap * PAGE_WORDS,
});
const REGIONS = Object.keys(regionWords(computeLayout(makeConfig({})))) as (keyof Layout)[];

/** Regions that share a word: [a, b, first shared word]. */
function overlaps(l: Layout): [string, string, number][] {
  const size = regionWords(l);
  const spans = REGIONS.map((r) => ({ r, start: l[r] as number, end: (l[r] as number) + size[r]! })).sort((a, b) => a.start - b.start || a.end - b.end);
  const out: [string, string, number][] = [];
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length && spans[j]!.start < spans[i]!.end; j++) {
      if (spans[j]!.end > spans[j]!.start && spans[i]!.end > spans[i]!.start) out.push([spans[i]!.r, spans[j]!.r, spans[j]!.start]);
    }
  }
  return out;
}

describe('layout', () => {
  for (const cfg of [{}, { mem: '1M', swap: 0, cpus: 1 }, { mem: '256M', cpus: 8, rmap: 'ptechain25', traceRing: 1024, nrBucketBytes: 128 }]) {
    it(`places every region in order without overlap (${JSON.stringify(cfg)})`, () => {
      const l = computeLayout(makeConfig(cfg));
      const offs = REGIONS.map((r) => l[r] as number);
      for (let i = 1; i < offs.length; i++) expect(offs[i]).toBeGreaterThanOrEqual(offs[i - 1]!);
      expect(overlaps(l)).toEqual([]);
      const size = regionWords(l);
      for (const r of REGIONS) expect((l[r] as number) + size[r]!, r).toBeLessThanOrEqual(l.totalWords);
      expect(l.percpuWords).toBeGreaterThanOrEqual(PC_FIXED_WORDS + 2 * TRACE_ENTRY_F64 * l.traceRing); // the trace ring fits
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
