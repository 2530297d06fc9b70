/*
 * machine/trace.ts — the per-CPU trace ring: a flight recorder of faults and
 * lock waits/holds that `smpvm profile` turns into a Chrome/Perfetto trace
 * and folded stacks (report/trace_export.ts).
 *
 * Where it lives (layout.ts): config.traceRing entries right after the fixed
 * part of every per-CPU area (PC_FIXED_WORDS), each TRACE_ENTRY_F64 = 4
 * doubles {ts, type, a, b}; PC_TRACE_HEAD is the next slot to write (0 ..
 * traceRing-1), PC_TRACE_LOST counts entries overwritten. Like ftrace's
 * default (overwrite) mode the ring keeps the *latest* traceRing events of
 * each CPU: when the run is longer than the ring, the oldest are lost and
 * counted.
 *
 *   type              a                                   b
 *   TR_FAULT_BEGIN    faulting address                    1 = write
 *   TR_FAULT_END      VM_FAULT_* result                   0
 *   TR_LOCK_ACQUIRED  lockKey(off, class, read, site)     wait start (ms), 0 = got it at once
 *   TR_LOCK_RELEASE   class * 2 + read                    0
 *
 * ts is performance.now() in milliseconds (one time origin across workers,
 * TOOLCHAIN.md) — under the virtual clock, virtual milliseconds — so the rings of all CPUs merge onto one timeline. A
 * contended acquisition is one event: the wait is [b, ts] and the hold starts
 * at ts, which is all a waiter counter needs (+1 at b, -1 at ts).
 *
 * Cost: the call sites (vm/fault.ts handle_mm_fault, sync/spinlock.ts
 * lock_acquired / lock_releasing, which every lock type — spinlocks, rwsem,
 * PG_locked, PG_chainlock — goes through) are guarded by
 * `cpu.l.traceRing !== 0`, constant for the run, so with tracing off the cost
 * is one predictable branch. With it on, one clock read and five stores into
 * the CPU's own area per event; nothing is allocated.
 *
 * Locking: the ring is written only by its CPU (plain stores) and read after
 * the run (all workers joined). This module imports only machine/ so that the
 * lower layers can call it.
 */
import type { CpuBase } from './cpu.js';
import type { Machine } from './machine.js';
import { PC_FIXED_WORDS, PC_TRACE_HEAD, PC_TRACE_LOST, TRACE_ENTRY_F64, percpuBase, type Layout } from './layout.js';

export const TR_FAULT_BEGIN = 1;
export const TR_FAULT_END = 2;
export const TR_LOCK_ACQUIRED = 3;
export const TR_LOCK_RELEASE = 4;

export const TRE_TS = 0;
export const TRE_TYPE = 1;
export const TRE_A = 2;
export const TRE_B = 3;

/* lockKey packing: ((off * 32 + class) * 2 + read) * 128 + site, exact in a double (< 2^53) */
const KEY_SITES = 128;
const KEY_CLASSES = 32;
export const lockKey = (off: number, cls: number, read: number, site: number) =>
  ((off * KEY_CLASSES + cls) * 2 + read) * KEY_SITES + site;
export const lockKeySite = (k: number) => k % KEY_SITES;
export const lockKeyRead = (k: number) => Math.floor(k / KEY_SITES) % 2;
export const lockKeyClass = (k: number) => Math.floor(k / (KEY_SITES * 2)) % KEY_CLASSES;
export const lockKeyOff = (k: number) => Math.floor(k / (KEY_SITES * 2 * KEY_CLASSES));

/** What events are stamped with: performance.now(), or the virtual clock in ms (timing/ sets it per worker). */
let traceNow: () => number = () => performance.now();
export function set_trace_clock(now: () => number): void {
  traceNow = now;
}

/** Float64 index of CPU slot `cpu`'s trace ring. */
export const traceRingBase = (l: Layout, cpu: number) => (percpuBase(l, cpu) + PC_FIXED_WORDS) >>> 1;

/**
 * Record one event in this CPU's ring (only call when cpu.l.traceRing > 0).
 * Overwrites the oldest entry when the ring is full and counts it lost.
 */
export function trace_event(cpu: CpuBase, type: number, a: number, b: number): void {
  const w = cpu.w;
  const f = cpu.f64;
  const head = w[cpu.pc + PC_TRACE_HEAD]!;
  const e = ((cpu.pc + PC_FIXED_WORDS) >>> 1) + head * TRACE_ENTRY_F64;
  if (f[e + TRE_TS] !== 0) w[cpu.pc + PC_TRACE_LOST]!++;
  f[e + TRE_TS] = traceNow();
  f[e + TRE_TYPE] = type;
  f[e + TRE_A] = a;
  f[e + TRE_B] = b;
  w[cpu.pc + PC_TRACE_HEAD] = head + 1 === cpu.l.traceRing ? 0 : head + 1;
}

/** Lock hook (sync/spinlock.ts lock_acquired): `waitStart` is the contended wait's start, 0 if none. */
export function trace_lock_acquired(cpu: CpuBase, off: number, cls: number, read: number, site: number, waitStart: number): void {
  trace_event(cpu, TR_LOCK_ACQUIRED, lockKey(off, cls, read, site), waitStart);
}

/** Lock hook (sync/spinlock.ts lock_releasing). */
export function trace_lock_release(cpu: CpuBase, cls: number, read: number): void {
  trace_event(cpu, TR_LOCK_RELEASE, cls * 2 + read, 0);
}

/** One decoded ring entry. */
export interface TraceRecord {
  ts: number;
  type: number;
  a: number;
  b: number;
}

export interface CpuTrace {
  cpu: number;
  /** oldest first */
  events: TraceRecord[];
  /** events overwritten before the run ended */
  lost: number;
}

/** Read one CPU slot's ring, oldest event first (after the run). */
export function readCpuTrace(m: Machine, cpu: number): CpuTrace {
  const l = m.layout;
  const n = l.traceRing;
  const pc = percpuBase(l, cpu);
  const lost = m.w[pc + PC_TRACE_LOST]!;
  const head = m.w[pc + PC_TRACE_HEAD]!;
  const base = traceRingBase(l, cpu);
  const f = m.f64;
  const events: TraceRecord[] = [];
  if (n === 0) return { cpu, events, lost: 0 };
  // full ring (something was overwritten): oldest at head; else slots 0 .. head-1
  const full = lost > 0 || (head === 0 && f[base + TRE_TS] !== 0);
  const count = full ? n : head;
  const first = full ? head : 0;
  for (let i = 0; i < count; i++) {
    const e = base + ((first + i) % n) * TRACE_ENTRY_F64;
    events.push({ ts: f[e + TRE_TS]!, type: f[e + TRE_TYPE]!, a: f[e + TRE_A]!, b: f[e + TRE_B]! });
  }
  return { cpu, events, lost };
}

/** Every workload CPU's ring (slots 0 .. cpus-1). */
export function readTrace(m: Machine): CpuTrace[] {
  const out: CpuTrace[] = [];
  for (let c = 0; c < m.layout.nrCpus; c++) out.push(readCpuTrace(m, c));
  return out;
}

/** A latency distribution derived from the trace (report/trace_export.ts faultLatency); part of a run's results. */
export interface LatencyHistogram {
  /** what was timed */
  what: string;
  /** what `count` counts, plural ("steps", "high-order requests") */
  per: string;
  unit: 'us';
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** log2 buckets: count of samples with value <= le (and > the previous le) */
  buckets: { le: number; count: number }[];
}
