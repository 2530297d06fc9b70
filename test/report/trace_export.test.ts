/*
 * The trace ring (sim/trace.ts) and its exports (report/trace_export.ts):
 * ring wrap-around and the lock hooks on a real machine; slice nesting,
 * hand-over-hand releases, events whose start fell out of the window,
 * waiter counters, folded stacks and fault latency on synthetic rings.
 */
import { describe, it, expect } from 'vitest';
import { createMachine } from '../../src/machine/machine.js';
import { makeCpuBase } from '../../src/machine/cpu.js';
import { globalLine, G_ZONE, G_LRU, percpuBase, PC_TRACE_HEAD } from '../../src/machine/layout.js';
import { C_MMAP_SEM, C_PTL, C_ZONE_LOCK, C_LRU_LOCK, SITE } from '../../src/sync/classes.js';
import { spin_lock, spin_unlock } from '../../src/sync/spinlock.js';
import {
  trace_event,
  readCpuTrace,
  lockKey,
  lockKeyClass,
  lockKeyRead,
  lockKeySite,
  lockKeyOff,
  TR_FAULT_BEGIN,
  TR_FAULT_END,
  TR_LOCK_ACQUIRED,
  TR_LOCK_RELEASE,
  type CpuTrace,
  type TraceRecord,
} from '../../src/machine/trace.js';
import { analyzeTrace, chromeTrace, foldedWaitStacks, faultLatency, type ChromeTraceEvent } from '../../src/report/trace_export.js';

const acq = (ts: number, cls: number, read: number, site: number, waitStart = 0): TraceRecord => ({
  ts,
  type: TR_LOCK_ACQUIRED,
  a: lockKey(4096, cls, read, site),
  b: waitStart,
});
const rel = (ts: number, cls: number, read: number): TraceRecord => ({ ts, type: TR_LOCK_RELEASE, a: cls * 2 + read, b: 0 });
const fb = (ts: number): TraceRecord => ({ ts, type: TR_FAULT_BEGIN, a: 0x40000000, b: 1 });
const fe = (ts: number, r = 1): TraceRecord => ({ ts, type: TR_FAULT_END, a: r, b: 0 });

/* CPU 0: a fault that holds mmap_sem for reading and waits 10 us for a pte lock */
const cpu0: CpuTrace = {
  cpu: 0,
  lost: 0,
  events: [
    fb(1.0),
    acq(1.01, C_MMAP_SEM, 1, SITE.handle_mm_fault),
    acq(1.03, C_PTL, 0, SITE.do_anonymous_page, 1.02),
    rel(1.04, C_PTL, 0),
    rel(1.05, C_MMAP_SEM, 1),
    fe(1.06),
  ],
};
/* CPU 1: hand-over-hand (A, B, release A, release B), then events whose start was overwritten */
const cpu1: CpuTrace = {
  cpu: 1,
  lost: 3,
  events: [
    acq(1.0, C_ZONE_LOCK, 0, SITE.free_pages_bulk),
    acq(1.01, C_LRU_LOCK, 0, SITE.lru_cache_add, 1.005),
    rel(1.02, C_ZONE_LOCK, 0),
    rel(1.03, C_LRU_LOCK, 0),
    rel(1.035, C_PTL, 0),
    fe(1.04),
  ],
};

/** Every pair of X slices on one track is either disjoint or nested. */
function assertNested(events: ChromeTraceEvent[]): void {
  const byTid = new Map<number, ChromeTraceEvent[]>();
  for (const e of events) if (e.ph === 'X') byTid.set(e.tid!, [...(byTid.get(e.tid!) ?? []), e]);
  for (const [, xs] of byTid) {
    const sorted = [...xs].sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
    const stack: number[] = [];
    for (const x of sorted) {
      while (stack.length && stack[stack.length - 1]! <= x.ts) stack.pop();
      if (stack.length) expect(x.ts + x.dur!).toBeLessThanOrEqual(stack[stack.length - 1]!);
      stack.push(x.ts + x.dur!);
    }
  }
}

describe('trace ring (sim/trace.ts)', () => {
  it('keeps the latest traceRing events per CPU, oldest first, and counts the overwritten ones', () => {
    const m = createMachine({ mem: '1M', swap: 0, cpus: 1, traceRing: 4 });
    const cpu = makeCpuBase(m, 0);
    for (let i = 1; i <= 6; i++) trace_event(cpu, TR_FAULT_BEGIN, i, 0);
    const t = readCpuTrace(m, 0);
    expect(t.lost).toBe(2);
    expect(t.events.map((e) => e.a)).toEqual([3, 4, 5, 6]);
    for (let i = 1; i < t.events.length; i++) expect(t.events[i]!.ts).toBeGreaterThanOrEqual(t.events[i - 1]!.ts);
  });

  it('a ring filled exactly (no overwrite) reads back whole', () => {
    const m = createMachine({ mem: '1M', swap: 0, cpus: 1, traceRing: 3 });
    const cpu = makeCpuBase(m, 0);
    for (let i = 1; i <= 3; i++) trace_event(cpu, TR_FAULT_END, i, 0);
    const t = readCpuTrace(m, 0);
    expect(t.lost).toBe(0);
    expect(t.events.map((e) => e.a)).toEqual([1, 2, 3]);
  });

  it('lockKey packs offset, class, read and site losslessly', () => {
    const k = lockKey(123456789, 21, 1, 127);
    expect([lockKeyOff(k), lockKeyClass(k), lockKeyRead(k), lockKeySite(k)]).toEqual([123456789, 21, 1, 127]);
  });

  it('spin_lock / spin_unlock record acquire and release through the lock hooks, and nothing when the ring is off', () => {
    const m = createMachine({ mem: '1M', swap: 0, cpus: 1, traceRing: 16 });
    const cpu = makeCpuBase(m, 0);
    const off = globalLine(m.layout, G_LRU);
    spin_lock(cpu, off, C_LRU_LOCK, SITE.lru_cache_add);
    spin_unlock(cpu, off, C_LRU_LOCK);
    const t = readCpuTrace(m, 0);
    expect(t.events.map((e) => e.type)).toEqual([TR_LOCK_ACQUIRED, TR_LOCK_RELEASE]);
    const k = t.events[0]!.a;
    expect([lockKeyOff(k), lockKeyClass(k), lockKeyRead(k), lockKeySite(k)]).toEqual([off, C_LRU_LOCK, 0, SITE.lru_cache_add]);
    expect(t.events[0]!.b).toBe(0); // uncontended: no wait
    expect(t.events[1]!.a).toBe(C_LRU_LOCK * 2);

    const off2 = createMachine({ mem: '1M', swap: 0, cpus: 1 });
    const c2 = makeCpuBase(off2, 0);
    spin_lock(c2, globalLine(off2.layout, G_ZONE), C_ZONE_LOCK, SITE.rmqueue_bulk);
    spin_unlock(c2, globalLine(off2.layout, G_ZONE), C_ZONE_LOCK);
    expect(off2.w[percpuBase(off2.layout, 0) + PC_TRACE_HEAD]).toBe(0);
    expect(readCpuTrace(off2, 0).events).toEqual([]);
  });
});

describe('trace export (report/trace_export.ts)', () => {
  const a = analyzeTrace([cpu0, cpu1]);

  it('nests waits and holds inside the fault, and reopens holds released out of order', () => {
    const s0 = a.slices.filter((s) => s.cpu === 0).map((s) => [s.name, s.start, s.end]);
    expect(s0).toEqual(
      expect.arrayContaining([
        ['handle_mm_fault', 1.0, 1.06],
        ['&mm->mmap_sem-R (handle_mm_fault)', 1.01, 1.05],
        ['wait ptlock_ptr(page) (do_anonymous_page)', 1.02, 1.03],
        ['ptlock_ptr(page) (do_anonymous_page)', 1.03, 1.04],
      ]),
    );
    expect(s0).toHaveLength(4);
    const s1 = a.slices.filter((s) => s.cpu === 1).map((s) => [s.name, s.start, s.end]);
    expect(s1).toEqual(
      expect.arrayContaining([
        ['&zone->lock (free_pages_bulk)', 1.0, 1.02],
        ['wait pagemap_lru_lock (lru_cache_add)', 1.005, 1.01],
        ['pagemap_lru_lock (lru_cache_add)', 1.01, 1.02],
        ['pagemap_lru_lock (lru_cache_add)', 1.02, 1.03],
      ]),
    );
    // the release and fault end whose starts were overwritten are dropped
    expect(s1).toHaveLength(4);
    expect(a.faults.map((f) => Math.round(f * 1e6))).toEqual([60000]);
    expect(a.lost).toEqual([0, 3]);
  });

  it('writes a Chrome trace: M metadata per CPU, well-nested X slices per track, waiter counters', () => {
    const t = chromeTrace(a, { title: 'smpvm test' });
    const names = t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, (e.args as { name: string }).name]);
    expect(names).toEqual([
      [0, 'CPU 0'],
      [1, 'CPU 1'],
    ]);
    expect(t.traceEvents.find((e) => e.ph === 'M' && e.name === 'process_name')?.args).toEqual({ name: 'smpvm test' });
    const xs = t.traceEvents.filter((e) => e.ph === 'X');
    expect(xs).toHaveLength(8);
    assertNested(t.traceEvents);
    // ts + dur of the wait is exactly the hold's ts (dyadic quantization)
    const wait = xs.find((e) => e.name.startsWith('wait ptlock'))!;
    const hold = xs.find((e) => e.name === 'ptlock_ptr(page) (do_anonymous_page)')!;
    expect(wait.ts + wait.dur!).toBe(hold.ts);
    expect(wait.ts).toBeCloseTo(20, 2); // us after the window start (1.000 ms)
    const c = t.traceEvents.filter((e) => e.ph === 'C' && e.name === 'waiters ptlock_ptr(page)').map((e) => [Math.round(e.ts), (e.args as { waiters: number }).waiters]);
    expect(c).toEqual([
      [0, 0],
      [20, 1],
      [30, 0],
    ]);
  });

  it('folds lock wait time into workload;frames;site;class NS lines', () => {
    const lines = foldedWaitStacks(a, 'page_fault1_threads');
    expect(lines).toEqual(['page_fault1_threads;handle_mm_fault;do_anonymous_page;ptlock_ptr(page) 10000', 'page_fault1_threads;lru_cache_add;pagemap_lru_lock 5000']);
    for (const l of lines) expect(l).toMatch(/^[^ ]+ \d+$/);
  });

  it('measures fault latency from the fault slices', () => {
    const l = faultLatency(a)!;
    expect(l.count).toBe(1);
    expect(l.p50).toBeCloseTo(60, 6);
    expect(l.max).toBeCloseTo(60, 6);
    expect(l.buckets.reduce((s, b) => s + b.count, 0)).toBe(1);
    expect(l.buckets[l.buckets.length - 1]!.le).toBe(64);
    expect(faultLatency(analyzeTrace([{ cpu: 0, lost: 0, events: [] }]))).toBeUndefined();
  });
});
