/*
 * sim/results.ts — the one results object of a run (DESIGN.md §5: "results
 * are JSON first; tables, charts and trace files are views of that JSON").
 *
 * buildResults(outcome, opts) reads everything a report needs out of the
 * finished machine — per-CPU and total vmstat, lock_stat rows, the top
 * contention points, the lockdep report — and the orchestrator's outcome
 * (throughput, checker, oracle). The object is plain JSON, versioned by
 * RESULTS_VERSION; its schema is documented in README.md ("Results JSON")
 * and checked by test/report/results.test.ts. `scale` keeps one such object
 * per CPU count and mode (ScaleResults).
 *
 * Runs after the workers have joined: reads the buffer without locking.
 */
import { availableParallelism } from 'node:os';
import type { RunOutcome } from './run.js';
import type { CpuResult } from './cpuloop.js';
import type { Config } from '../config.js';
import type { WorkloadSpec } from '../workload/index.js';
import type { Machine } from '../machine/machine.js';
import { percpuBase, PC_VMSTAT } from '../machine/layout.js';
import { VMSTAT_NAMES, type VmstatName } from '../machine/vmstat.js';
import { readLockdepReport, type LockdepReport } from '../sync/lockdep.js';
import { lockStatRows, topContentionSites, type LockStatRow, type ContentionSite } from '../sync/lockstat_rows.js';
import type { LatencyHistogram } from '../machine/trace.js';
import { refault_report, type RefaultReport } from '../reclaim/workingset.js';
import { latencySummary } from '../workload/latency.js';
import type { RmapOverhead } from './rmap_sample.js';
import type { HandoffsBy } from '../timing/conductor.js';

/** Bump when a field changes meaning or disappears (adding fields does not). */
export const RESULTS_VERSION = 1;

export type Vmstat = Record<string, number>;

export interface PerCpuResult {
  cpu: number;
  /** work units (faults for page_fault*, mmap+munmap pairs for mmap1, operations for random) */
  ops: number;
  /** whole workload steps (one mmap/touch/munmap loop, one random operation) */
  loops: number;
  elapsedMs: number;
  opsPerSec: number;
  /** with a warm-up (stop.warmupMs): the warm-up's part, which ops, loops, elapsedMs and opsPerSec above leave out */
  warmup?: { ops: number; loops: number; elapsedMs: number };
  /** over the whole run, warm-up included */
  vmstat: Vmstat;
}

export interface RunResults {
  version: number;
  kind: 'run';
  tool: string;
  date: string;
  /** the validated machine config (config.ts), every field */
  config: Config;
  workload: WorkloadSpec;
  /** how the run stopped: after durationMs, or after opsPerCpu steps per CPU; the first warmupMs were not measured */
  stop: { durationMs?: number; opsPerCpu?: number; warmupMs?: number };
  cpus: number;
  hostCores: number;
  durationMs: number;
  ops: number;
  loops: number;
  /** ops / durationMs; with a warm-up (stop.warmupMs), the sum of the CPUs' measured rates (perCpu[].opsPerSec) */
  opsPerSec: number;
  /** host idle % over the run (os.cpus() idle time / all time, every host core), null if not measured */
  hostIdlePct: number | null;
  /** the host's cache-line round trip between two threads just before the run, ns (sim/hostprobe.ts); null if not measured (`run` measures it for 2+ CPUs) */
  hostLineRoundTripNs: number | null;
  perCpu: PerCpuResult[];
  /** kernel name → total over every CPU slot (workload CPUs, kswapd, the monitor's setup/teardown) */
  vmstat: Vmstat;
  lockStat: LockStatRow[];
  /** perf lock contention rows: contention points by caller, most total wait first */
  contention: ContentionSite[];
  lockdep: LockdepReport;
  checker: { ok: boolean; violations: string[]; checkpoints: number };
  /** content oracle (checks: null when the workload runs none) */
  oracle: { ok: boolean; failures: string[]; checks: number | null };
  /** fault latency, when the run recorded a trace */
  latency?: LatencyHistogram;
  /** per-step latency of the workloads that time their steps (fork, fork_big, exec, shared_file), every CPU merged */
  opLatency?: LatencyHistogram;
  /** the workload's own counts (its result().extra), summed over its CPUs; absent when it reports none */
  workloadCounts?: Record<string, number>;
  /** the rmap scheme's metadata bytes, sampled while the CPUs ran: peak, end, bytes per mapped pte (sim/rmap_sample.ts) */
  rmap: RmapOverhead;
  /** trace files and ring statistics (profile) */
  trace?: { file?: string; folded?: string; eventsPerCpu: number[]; lostPerCpu: number[]; windowMs: number };
  warnings: string[];
  /** a CPU that threw: the run stopped there */
  error?: { cpu: number; op: string; message: string; atNs?: number };
  /** issue 7: the nonresident table's geometry and Rik's /proc/refaults histogram, summed over every CPU */
  refaults: RefaultReport;
  /** issue 17: which clock durationMs, opsPerSec, lock_stat times, vmstat rates and traces are in */
  clock: 'host' | 'virtual';
  /** the host seconds the run took (gate to end); under the host clock ≈ durationMs / 1000 */
  hostSeconds: number;
  /**
   * virtual clock: the cost table (name, sha256 prefix), quantum, topology, the conductor's turns and parks,
   * and the struct page / global line transfers (timing/coherence.ts) with the virtual ns they cost
   */
  virtual?: {
    cost: { name: string; hash: string };
    quantumNs: number;
    topology: string;
    handoffs: number;
    handoffsBy: HandoffsBy;
    parks: number;
    lineTransfers: number;
    lineTransferNs: number;
  };
}

/** Fields that depend on the host, not on the simulation: a virtual-clock result is identical apart from these. */
export const HOST_TIME_FIELDS = ['date', 'hostCores', 'hostIdlePct', 'hostLineRoundTripNs', 'hostSeconds', 'warnings'] as const;

export interface ScalePoint {
  tasks: number;
  processes?: RunResults;
  threads?: RunResults;
}

export interface ScaleResults {
  version: number;
  kind: 'scale';
  tool: string;
  date: string;
  /** will-it-scale test name (page_fault1), or the workload run in the processes column */
  workload: string;
  hostCores: number;
  /** the host's cache-line round trip between two threads, ns, before and after the points (sim/hostprobe.ts); empty when no point has 2 CPUs or the host has one core */
  hostLineRoundTripNs: number[];
  cpus: number[];
  runs: ScalePoint[];
  /** opsPerSec at N CPUs / opsPerSec at the first CPU count, per mode */
  ratios: { tasks: number; processes: number | null; threads: number | null }[];
  warnings: string[];
}

export const hostCores = (): number => availableParallelism();

export const TOOL = 'smpvm 0.1.0';

export function timeSliceWarning(cpus: number, cores = hostCores()): string | undefined {
  return cpus > cores
    ? `warning: ${cpus} simulated CPUs on ${cores} host cores: workers are time-sliced and spinlocks suffer lock-holder preemption`
    : undefined;
}

/** One CPU slot's vmstat counters by kernel name. */
export function cpuVmstat(m: Machine, slot: number): Vmstat {
  const b = percpuBase(m.layout, slot) + PC_VMSTAT;
  const out: Vmstat = {};
  VMSTAT_NAMES.forEach((n, i) => (out[n] = m.w[b + i]!));
  return out;
}

/** One counter summed over every CPU slot (workload CPUs, kswapd, monitor). */
export function vmstatSum(m: Machine, name: VmstatName): number {
  const k = VMSTAT_NAMES.indexOf(name);
  let s = 0;
  for (let c = 0; c < m.layout.nrCpuSlots; c++) s += m.w[percpuBase(m.layout, c) + PC_VMSTAT + k]!;
  return s;
}

/** Totals over every CPU slot (workload CPUs, kswapd, monitor). */
export function totalVmstat(m: Machine): Vmstat {
  const out: Vmstat = {};
  for (const n of VMSTAT_NAMES) out[n] = 0;
  for (let s = 0; s < m.layout.nrCpuSlots; s++) {
    const v = cpuVmstat(m, s);
    for (const n of VMSTAT_NAMES) out[n]! += v[n]!;
  }
  return out;
}

export interface BuildOptions {
  spec: WorkloadSpec;
  durationMs?: number;
  opsPerCpu?: number;
  warmupMs?: number;
  hostIdlePct?: number | null;
  hostLineRoundTripNs?: number | null;
  latency?: LatencyHistogram;
  trace?: RunResults['trace'];
  warnings?: string[];
  date?: Date;
}

/**
 * One CPU's row: with a warm-up, what came after its first step boundary
 * past the warm-up (a CPU with none measured nothing: 0 ops at 0 ops/s).
 */
function measured(c: CpuResult, warmupMs: number, vmstat: Vmstat): PerCpuResult {
  const w = warmupMs > 0 ? (c.warmup ?? { ops: c.ops, units: c.units, elapsedMs: c.elapsedMs }) : { ops: 0, units: 0, elapsedMs: 0 };
  const units = c.units - w.units;
  const ms = c.elapsedMs - w.elapsedMs;
  return {
    cpu: c.cpu,
    ops: units,
    loops: c.ops - w.ops,
    elapsedMs: ms,
    opsPerSec: ms > 0 ? (units / ms) * 1000 : 0,
    ...(warmupMs > 0 ? { warmup: { ops: w.units, loops: w.ops, elapsedMs: w.elapsedMs } } : {}),
    vmstat,
  };
}

/**
 * A quantum above 0 (the default is 0): its measured error against strict
 * order (config.ts DEFAULT_QUANTUM_NS, README "Virtual time", bench/vclock.ts
 * quantum) — a CPU behind in virtual time waits for holds that began after
 * its clock, and with the futex mutex each such wait is also a wake-up.
 */
export const QUANTUM_WARNING = (q: number, lockImpl: string) =>
  `warning: at quantum ${q} ns CPUs act up to ${q} ns out of virtual-time order; at 1000 ns bench/vclock.ts quantum read from 39% below to 128% above quantum 0, by configuration${lockImpl === 'futex' ? " (the futex mutex's contended waits are overcounted: up to 34% fewer ops/s)" : ''}: compare figures at --quantum 0`;

export function buildResults(outcome: RunOutcome, opts: BuildOptions): RunResults {
  const m = outcome.m;
  const cores = hostCores();
  const warmupMs = opts.warmupMs ?? 0;
  const perCpu: PerCpuResult[] = outcome.perCpu.map((c) => measured(c, warmupMs, cpuVmstat(m, c.cpu)));
  const ops = perCpu.reduce((s, c) => s + c.ops, 0);
  const loops = perCpu.reduce((s, c) => s + c.loops, 0);
  const failures = outcome.perCpu.flatMap((c) => c.failures.map((f) => `cpu ${c.cpu}: ${f}`));
  const checks = outcome.perCpu.some((c) => typeof c.extra.oracleChecks === 'number')
    ? outcome.perCpu.reduce((s, c) => s + (c.extra.oracleChecks ?? 0), 0)
    : null;
  const violations = [...outcome.checkpoints.violations.map((v) => `checkpoint: ${v}`), ...outcome.checker.violations];
  const warnings = [...(opts.warnings ?? [])];
  const virtual = m.cfg.clock === 'virtual';
  const ts = virtual ? undefined : timeSliceWarning(m.cfg.cpus, cores);
  if (ts && !warnings.includes(ts)) warnings.unshift(ts);
  const cold = warmupMs > 0 ? outcome.perCpu.filter((c) => !c.warmup || c.warmup.elapsedMs >= c.elapsedMs).map((c) => c.cpu) : [];
  if (cold.length) warnings.push(`warning: CPU(s) ${cold.join(', ')} finished no step after the ${warmupMs} ms warm-up: they measured nothing`);
  if (virtual && m.cfg.quantum > 0 && m.cfg.cpus > 1) warnings.push(QUANTUM_WARNING(m.cfg.quantum, m.cfg.lockImpl));
  const r: RunResults = {
    version: RESULTS_VERSION,
    kind: 'run',
    tool: TOOL,
    date: (opts.date ?? new Date()).toISOString(),
    config: m.cfg,
    workload: opts.spec,
    stop: {
      ...(opts.durationMs !== undefined ? { durationMs: opts.durationMs } : { opsPerCpu: opts.opsPerCpu }),
      ...(warmupMs > 0 ? { warmupMs } : {}),
    },
    cpus: m.cfg.cpus,
    hostCores: cores,
    durationMs: outcome.durationMs,
    ops,
    loops,
    // with a warm-up, will-it-scale's sum: each CPU's rate from its first step boundary past the warm-up to its stop
    opsPerSec: warmupMs > 0 ? perCpu.reduce((s, c) => s + c.opsPerSec, 0) : outcome.durationMs > 0 ? (ops / outcome.durationMs) * 1000 : 0,
    hostIdlePct: opts.hostIdlePct ?? null,
    hostLineRoundTripNs: opts.hostLineRoundTripNs ?? null,
    perCpu,
    vmstat: totalVmstat(m),
    lockStat: lockStatRows(m),
    contention: topContentionSites(m),
    lockdep: readLockdepReport(m.w, m.layout.lockdep),
    checker: { ok: violations.length === 0, violations, checkpoints: outcome.checkpoints.done },
    oracle: { ok: failures.length === 0, failures, checks },
    warnings,
    refaults: refault_report(m),
    rmap: outcome.rmap,
    clock: m.cfg.clock,
    hostSeconds: outcome.hostMs / 1000,
  };
  const cost = m.cfg.cost;
  if (virtual && cost !== undefined && typeof cost !== 'string') {
    r.virtual = {
      cost: { name: cost.name, hash: cost.hash },
      quantumNs: m.cfg.quantum,
      topology: m.cfg.topology ?? cost.topology,
      handoffs: outcome.vt?.handoffs ?? 0,
      handoffsBy: outcome.vt?.handoffsBy ?? { acquire: 0, release: 0, park: 0, sleep: 0, done: 0, checkpoint: 0 },
      parks: outcome.vt?.parks ?? 0,
      lineTransfers: outcome.vt?.lineTransfers ?? 0,
      lineTransferNs: outcome.vt?.lineTransferNs ?? 0,
    };
  }
  if (opts.latency) r.latency = opts.latency;
  const of = outcome.perCpu.find((c) => c.latencyOf)?.latencyOf;
  const op = latencySummary(of ?? `${opts.spec.name} step`, outcome.perCpu.flatMap((c) => (c.latency ? [c.latency] : [])), of ? `${of}s` : 'steps');
  if (op) r.opLatency = op;
  const counts: Record<string, number> = {};
  for (const c of outcome.perCpu) for (const [k, v] of Object.entries(c.extra)) counts[k] = (counts[k] ?? 0) + v;
  if (Object.keys(counts).length > 0) r.workloadCounts = counts;
  if (opts.trace) r.trace = opts.trace;
  if (outcome.error) {
    r.error = { cpu: outcome.error.cpu, op: outcome.error.op, message: outcome.error.message };
    if (outcome.error.atNs !== undefined) r.error.atNs = outcome.error.atNs;
  }
  return r;
}

/** Ratios of each CPU count's throughput to the first (lowest) count's, per mode. */
export function scaleRatios(runs: ScalePoint[]): ScaleResults['ratios'] {
  const base = runs[0];
  const ratio = (r: RunResults | undefined, b: RunResults | undefined) =>
    r && b && b.opsPerSec > 0 ? r.opsPerSec / b.opsPerSec : null;
  return runs.map((p) => ({ tasks: p.tasks, processes: ratio(p.processes, base?.processes), threads: ratio(p.threads, base?.threads) }));
}

/** The keys every RunResults has (README "Results JSON"; tests check them). */
export const RUN_RESULT_KEYS = [
  'version',
  'kind',
  'tool',
  'date',
  'config',
  'workload',
  'stop',
  'cpus',
  'hostCores',
  'durationMs',
  'ops',
  'loops',
  'opsPerSec',
  'hostIdlePct',
  'perCpu',
  'vmstat',
  'lockStat',
  'contention',
  'lockdep',
  'checker',
  'oracle',
  'warnings',
  'refaults',
  'rmap',
  'clock',
  'hostSeconds',
] as const;
