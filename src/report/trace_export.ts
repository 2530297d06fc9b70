/*
 * report/trace_export.ts — the per-CPU trace rings (sim/trace.ts) as
 *
 *   - a Chrome/Perfetto trace (the JSON "Trace Event Format" both
 *     chrome://tracing, ui.perfetto.dev and speedscope read): one track
 *     (tid) per CPU named by `M` thread_name metadata; `X` complete events
 *     for each fault (handle_mm_fault, "[major]" etc. appended unless minor)
 *     with the lock waits ("wait CLASS (SITE)") and holds ("CLASS (SITE)")
 *     it went through nested inside; `C` counter events, one series per lock
 *     class, counting the CPUs waiting for it;
 *   - folded stacks of lock wait time (Brendan Gregg's flamegraph.pl input,
 *     also read by speedscope): `workload;handle_mm_fault;SITE;CLASS NS`,
 *     one line per distinct stack, the weight in nanoseconds of waiting;
 *   - the fault latency distribution the trace measured.
 *
 * Slices on one track must nest. Faults contain their locks, and locks are
 * nearly always released in the reverse order of acquisition; when one is
 * not (hand-over-hand), the holds opened after it are closed at that instant
 * and reopened (a second slice of the same name), so the nesting stays well
 * formed and every hold keeps its true start and end.
 *
 * Only the window the rings kept is covered: with `lost` > 0 a CPU's oldest
 * events were overwritten, and a release (or fault end) whose start fell out
 * of the window is dropped.
 */
import { LOCK_CLASSES, LOCK_SITES, CLASS_KIND, LockKind } from '../sync/classes.js';
import {
  TR_FAULT_BEGIN,
  TR_FAULT_END,
  TR_LOCK_ACQUIRED,
  TR_LOCK_RELEASE,
  lockKeyClass,
  lockKeyRead,
  lockKeySite,
  type CpuTrace,
  type LatencyHistogram,
} from '../machine/trace.js';

export interface TraceSlice {
  cpu: number;
  name: string;
  cat: 'fault' | 'lock_wait' | 'lock_hold';
  /** ms, performance.now() timeline */
  start: number;
  end: number;
  depth: number;
}

export interface LockWait {
  cpu: number;
  cls: number;
  read: number;
  site: number;
  start: number;
  end: number;
  /** frames enclosing the wait (fault), outermost first */
  stack: string[];
}

export interface TraceAnalysis {
  slices: TraceSlice[];
  waits: LockWait[];
  /** fault durations in ms */
  faults: number[];
  /** events kept per CPU, and overwritten per CPU */
  events: number[];
  lost: number[];
  cpus: number[];
  t0: number;
  t1: number;
}

const VM_FAULT_MINOR = 1; // vm/fault.ts
const FAULT_RESULT: Record<number, string> = { 2: 'major', 0: 'retry', [-1]: 'SIGSEGV', [-2]: 'OOM', [-3]: 'SIGBUS' };

/** Class name with -R / -W for a read/write class, as lock_stat prints it. */
export function lockName(cls: number, read: number): string {
  const name = LOCK_CLASSES[cls]?.name ?? `class#${cls}`;
  if (CLASS_KIND[cls] !== LockKind.RW) return name;
  return `${name}-${read ? 'R' : 'W'}`;
}

const siteName = (s: number): string => LOCK_SITES[s] ?? `site#${s}`;

interface Open {
  name: string;
  cat: TraceSlice['cat'];
  start: number;
  /** cls * 2 + read for holds, -1 for a fault */
  lock: number;
}

/** Turn every CPU's ring into nested slices, wait intervals and fault durations. */
export function analyzeTrace(traces: CpuTrace[]): TraceAnalysis {
  const slices: TraceSlice[] = [];
  const waits: LockWait[] = [];
  const faults: number[] = [];
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const t of traces) {
    if (t.events.length) {
      t0 = Math.min(t0, t.events[0]!.ts);
      t1 = Math.max(t1, t.events[t.events.length - 1]!.ts);
    }
  }
  for (const t of traces) {
    const stack: Open[] = [];
    const close = (o: Open, end: number, depth: number) =>
      slices.push({ cpu: t.cpu, name: o.name, cat: o.cat, start: o.start, end, depth });
    for (const e of t.events) {
      switch (e.type) {
        case TR_FAULT_BEGIN:
          stack.push({ name: 'handle_mm_fault', cat: 'fault', start: e.ts, lock: -1 });
          break;
        case TR_FAULT_END: {
          const i = stack.findLastIndex((o) => o.lock === -1);
          if (i < 0) break; // began before the window
          while (stack.length > i + 1) close(stack.pop()!, e.ts, stack.length);
          const f = stack.pop()!;
          if (e.a !== VM_FAULT_MINOR) f.name += ` [${FAULT_RESULT[e.a] ?? e.a}]`;
          close(f, e.ts, stack.length);
          faults.push(e.ts - f.start);
          break;
        }
        case TR_LOCK_ACQUIRED: {
          const cls = lockKeyClass(e.a);
          const read = lockKeyRead(e.a);
          const site = lockKeySite(e.a);
          const name = `${lockName(cls, read)} (${siteName(site)})`;
          if (e.b > 0) {
            slices.push({ cpu: t.cpu, name: `wait ${name}`, cat: 'lock_wait', start: e.b, end: e.ts, depth: stack.length });
            waits.push({ cpu: t.cpu, cls, read, site, start: e.b, end: e.ts, stack: stack.filter((o) => o.lock === -1).map((o) => o.name) });
          }
          stack.push({ name, cat: 'lock_hold', start: e.ts, lock: cls * 2 + read });
          break;
        }
        case TR_LOCK_RELEASE: {
          const i = stack.findLastIndex((o) => o.lock === e.a);
          if (i < 0) break; // taken before the window
          const above = stack.splice(i + 1);
          for (let k = above.length - 1; k >= 0; k--) close(above[k]!, e.ts, i + 1 + k);
          close(stack.pop()!, e.ts, i);
          for (const o of above) stack.push({ ...o, start: e.ts });
          break;
        }
        default:
          break;
      }
    }
    // still open when the run (or the ring) ended
    while (stack.length) close(stack.pop()!, t.events.length ? t.events[t.events.length - 1]!.ts : 0, stack.length);
  }
  return {
    slices,
    waits,
    faults,
    events: traces.map((t) => t.events.length),
    lost: traces.map((t) => t.lost),
    cpus: traces.map((t) => t.cpu),
    t0: Number.isFinite(t0) ? t0 : 0,
    t1: Number.isFinite(t1) ? t1 : 0,
  };
}

export interface ChromeTraceEvent {
  name: string;
  ph: 'X' | 'M' | 'C';
  pid: number;
  tid?: number;
  ts: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ns' | 'ms';
  otherData: Record<string, unknown>;
}

const PID = 1;
/**
 * Microseconds since the start of the window, quantized to 1/1024 us (~1 ns).
 * Dyadic fractions add and subtract exactly in doubles, so a viewer's
 * ts + dur lands exactly on the next slice's ts: a wait that ends where its
 * hold begins never appears to overlap it (speedscope pairs B/E by order).
 */
const Q = 1024;
const us = (ms: number, t0: number) => Math.round((ms - t0) * 1000 * Q) / Q;

/**
 * The Chrome/Perfetto trace: one track per CPU (tid = cpu), faults with
 * nested waits and holds, per-class waiter counters. `cpuNames` names
 * tracks (default "CPU n").
 */
export function chromeTrace(a: TraceAnalysis, meta: { title: string; cpuNames?: Record<number, string>; otherData?: Record<string, unknown> }): ChromeTrace {
  const ev: ChromeTraceEvent[] = [];
  ev.push({ name: 'process_name', ph: 'M', pid: PID, ts: 0, args: { name: meta.title } });
  for (const cpu of a.cpus) {
    ev.push({ name: 'thread_name', ph: 'M', pid: PID, tid: cpu, ts: 0, args: { name: meta.cpuNames?.[cpu] ?? `CPU ${cpu}` } });
    ev.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: cpu, ts: 0, args: { sort_index: cpu } });
  }
  // parents before children at equal timestamps: sort by start, then depth
  const sorted = [...a.slices].sort((x, y) => x.cpu - y.cpu || x.start - y.start || x.depth - y.depth);
  for (const s of sorted) {
    const ts = us(s.start, a.t0);
    // no args: viewers such as speedscope key frames by name + args, so per-event
    // args would keep identical frames from merging; what matters is in the name
    ev.push({ name: s.name, ph: 'X', cat: s.cat, pid: PID, tid: s.cpu, ts, dur: Math.max(0, us(s.end, a.t0) - ts) });
  }
  // waiter counters: +1 at each wait's start, -1 at its end, per class
  const deltas = new Map<string, [number, number][]>();
  for (const w of a.waits) {
    const name = `waiters ${lockName(w.cls, w.read)}`;
    let d = deltas.get(name);
    if (!d) deltas.set(name, (d = []));
    d.push([w.start, 1], [w.end, -1]);
  }
  for (const [name, d] of [...deltas.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    d.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let n = 0;
    ev.push({ name, ph: 'C', pid: PID, ts: 0, args: { waiters: 0 } });
    for (let i = 0; i < d.length; i++) {
      n += d[i]![1];
      // one sample per distinct timestamp
      if (i + 1 < d.length && d[i + 1]![0] === d[i]![0]) continue;
      ev.push({ name, ph: 'C', pid: PID, ts: us(d[i]![0], a.t0), args: { waiters: n } });
    }
  }
  return {
    traceEvents: ev,
    displayTimeUnit: 'ns',
    otherData: { ...meta.otherData, windowMs: a.t1 - a.t0, eventsPerCpu: a.events, lostPerCpu: a.lost },
  };
}

const frame = (s: string) => s.replace(/[\s;]+/g, '_');

/**
 * Folded stacks of lock wait time, heaviest first:
 * `workload;[handle_mm_fault;]SITE;CLASS NANOSECONDS`. The site frame is
 * left out when it repeats the enclosing frame.
 */
export function foldedWaitStacks(a: TraceAnalysis, workload: string): string[] {
  const acc = new Map<string, number>();
  for (const w of a.waits) {
    const frames = [workload, ...w.stack];
    const site = siteName(w.site);
    if (frames[frames.length - 1] !== site) frames.push(site);
    frames.push(lockName(w.cls, w.read));
    const key = frames.map(frame).join(';');
    acc.set(key, (acc.get(key) ?? 0) + (w.end - w.start) * 1e6);
  }
  return [...acc.entries()]
    .map(([k, ns]) => [k, Math.round(ns)] as const)
    .filter(([, ns]) => ns > 0)
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
    .map(([k, ns]) => `${k} ${ns}`);
}

/** Fault latency from the trace's fault slices (exact percentiles over the window). */
export function faultLatency(a: TraceAnalysis): LatencyHistogram | undefined {
  if (a.faults.length === 0) return undefined;
  const v = a.faults.map((ms) => ms * 1000).sort((x, y) => x - y);
  const q = (p: number) => v[Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1))]!;
  const buckets: { le: number; count: number }[] = [];
  let le = 0.125;
  let i = 0;
  while (i < v.length) {
    let n = 0;
    while (i < v.length && v[i]! <= le) {
      n++;
      i++;
    }
    if (n > 0 || buckets.length > 0) buckets.push({ le, count: n });
    le *= 2;
  }
  return {
    what: 'handle_mm_fault',
    per: 'faults',
    unit: 'us',
    count: v.length,
    min: v[0]!,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    max: v[v.length - 1]!,
    mean: v.reduce((s, x) => s + x, 0) / v.length,
    buckets,
  };
}
