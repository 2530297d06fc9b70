import { describe, it, expect } from 'vitest';
import { boot } from '../helpers.js';
import { mm_alloc } from '../../src/mm/mm_struct.js';
import { set_brk, sys_brk } from '../../src/vm/brk.js';
import { mmput } from '../../src/vm/fork.js';
import { newOracle } from '../../src/workload/oracle.js';
import { check_invariants } from '../../src/sim/checker.js';
import { VM } from '../../src/machine/vmstat.js';
import { newArena, malloc, free, request2size, MALLOC_DEFAULTS, DEFAULT_MMAP_THRESHOLD_MAX } from '../../src/workload/ptmalloc.js';
import { newLatency, record, latencySummary, LAT_RESOLUTION } from '../../src/workload/latency.js';

const HEAP = 0x08100000;
const KiB = 1024;

function mainArena() {
  const { cpu } = boot({ mem: '16M' });
  const mm = mm_alloc(cpu, cpu.mmCache);
  set_brk(cpu, mm, HEAP);
  const a = newArena(cpu, mm, true, MALLOC_DEFAULTS, newOracle(0));
  return { cpu, mm, a };
}

describe('ptmalloc model', () => {
  it('request2size: size word + 8-byte alignment, 16 bytes at least', () => {
    expect([0, 1, 12, 13, 1024].map(request2size)).toEqual([16, 16, 16, 24, 1032]);
  });

  it('malloc2 (1 KiB): one sbrk of the request plus top_pad, then no system call at all', () => {
    const { cpu, mm, a } = mainArena();
    const p = malloc(a, 1024);
    expect(p).toBe(HEAP + 8);
    expect(sys_brk(cpu, mm, 0)).toBe(HEAP + Math.ceil((1032 + 16 + 128 * KiB) / 4096) * 4096);
    const calls = a.syscalls;
    free(a, p);
    for (let i = 0; i < 100; i++) free(a, malloc(a, 1024));
    expect(a.syscalls).toBe(calls);
    expect(a.oracle.checks).toBe(101);
    expect(a.oracle.failures).toEqual([]);
    mmput(cpu, mm);
    expect(check_invariants(cpu).violations).toEqual([]);
  });

  it('malloc1 (above the mmap threshold): mmap, one header fault, munmap each time', () => {
    const { cpu, mm, a } = mainArena();
    const faults = cpu.w[cpu.vm + VM.pgfault]!;
    for (let i = 0; i < 10; i++) {
      const p = malloc(a, 8 << 20);
      expect(p).toBeGreaterThanOrEqual(0x40000000);
      free(a, p);
    }
    expect(a.syscalls).toBe(1 + 20); // brk(0), then mmap + munmap per pair
    expect(cpu.w[cpu.vm + VM.pgfault]! - faults).toBe(10);
    expect(a.p.mmapThreshold).toBe(MALLOC_DEFAULTS.mmapThreshold); // 8 MiB is above DEFAULT_MMAP_THRESHOLD_MAX: no adjustment
    mmput(cpu, mm);
    expect(check_invariants(cpu).violations).toEqual([]);
  });

  it('freeing an mmapped chunk below DEFAULT_MMAP_THRESHOLD_MAX raises the thresholds (dynamic threshold)', () => {
    const { cpu, mm, a } = mainArena();
    free(a, malloc(a, 200 * KiB));
    expect(a.p.mmapThreshold).toBe(Math.ceil((200 * KiB + 8 + 4) / 4096) * 4096);
    expect(a.p.trimThreshold).toBe(2 * a.p.mmapThreshold);
    expect(a.p.mmapThreshold).toBeLessThanOrEqual(DEFAULT_MMAP_THRESHOLD_MAX);
    const calls = a.syscalls;
    free(a, malloc(a, 200 * KiB)); // now a heap chunk: one sbrk; its free merges into top, below the doubled trim threshold
    expect(a.syscalls - calls).toBe(1);
    mmput(cpu, mm);
  });

  it('a large free that reaches top trims all but top_pad with a negative sbrk', () => {
    const { cpu, mm, a } = mainArena();
    const p = malloc(a, 100 * KiB);
    const q = malloc(a, 100 * KiB); // grows the heap again
    const brk = sys_brk(cpu, mm, 0);
    free(a, q);
    free(a, p);
    expect(a.oracle.failures).toEqual([]);
    expect(sys_brk(cpu, mm, 0)).toBeLessThan(brk);
    expect(sys_brk(cpu, mm, 0) - HEAP).toBeGreaterThanOrEqual(128 * KiB);
    mmput(cpu, mm);
    expect(check_invariants(cpu).violations).toEqual([]);
  });

  it('a non-main arena is one 1 MiB heap mapping; a trim there is madvise(DONTNEED)', () => {
    const { cpu } = boot({ mem: '16M' });
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = newArena(cpu, mm, false, MALLOC_DEFAULTS, newOracle(0));
    expect(a.heap).toBeGreaterThanOrEqual(0x40000000);
    const p = malloc(a, 100 * KiB);
    const q = malloc(a, 100 * KiB);
    const calls = a.syscalls;
    expect(calls).toBe(1);
    free(a, q);
    free(a, p);
    expect(a.syscalls).toBe(calls + 1);
    expect(a.oracle.failures).toEqual([]);
    mmput(cpu, mm);
    expect(check_invariants(cpu).violations).toEqual([]);
  });
});

describe('per-operation latency histogram', () => {
  it('percentiles within one 3.1% bucket of the true values', () => {
    const h = newLatency();
    for (let i = 1; i <= 1000; i++) record(h, i / 1000); // 1 us .. 1000 us
    const s = latencySummary('t', [h])!;
    expect(s.count).toBe(1000);
    expect(s.p50).toBeGreaterThanOrEqual(500);
    expect(s.p50).toBeLessThanOrEqual(500 * (1 + LAT_RESOLUTION) + 0.01);
    expect(s.p99).toBeGreaterThanOrEqual(990);
    expect(s.p99).toBeLessThanOrEqual(990 * (1 + LAT_RESOLUTION) + 0.01);
    expect(s.max).toBeGreaterThanOrEqual(1000);
    expect(latencySummary('t', [newLatency()])).toBeUndefined();
  });
});
