/*
 * cli/commands.ts — what `smpvm run | scale | profile | stress | start` do.
 *
 * Each command resolves its flags into validated run plans first (any bad
 * input fails before a worker starts: CliError, exit 2), runs them through
 * the orchestrator (sim/run.ts runMachine), builds the results JSON
 * (sim/results.ts) and prints views of it (report/). A CPU that throws
 * ends the command with one line naming the CPU and the operation (exit 1);
 * so does a checker violation, an oracle failure or a lockdep report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import pc from 'picocolors';
import { dirname, join, relative, isAbsolute } from 'node:path';
import type { Piscina } from 'piscina';
import { runMachine, createRunPool, type RunOutcome } from '../sim/run.js';
import { lineRoundTripNs } from '../sim/hostprobe.js';
import { buildResults, scaleRatios, timeSliceWarning, hostCores, TOOL, RESULTS_VERSION, type RunResults, type ScaleResults, type ScalePoint } from '../sim/results.js';
import { readTrace, readCpuTrace } from '../machine/trace.js';
import { kswapdCpu } from '../machine/layout.js';
import { LOCK_SCHEMES } from '../config.js';
import { formatLockStat, formatPerfLockContention } from '../report/lockstat.js';
import { formatSummary, formatVerdict, formatVmstat, runHeadline, fmtRate, fmtInt, fmtSize } from '../report/summary.js';
import { scaleCsv, scaleChart } from '../report/scaling.js';
import { analyzeTrace, chromeTrace, foldedWaitStacks, faultLatency } from '../report/trace_export.js';
import { CliError, EXIT_FAIL, EXIT_OK, type Io } from './io.js';
import { format_refaults } from '../reclaim/nonresident.js';
import { planBase, finishPlan, parseCpuList, willItScaleBase, type SharedOpts, type RunPlan, type PlanBase } from './options.js';
import { progressBar, IdleSampler, LONG_RUN_MS, type Progress } from './progress.js';

export const RUN_DEFAULTS = { workload: 'page_fault1_processes', cpus: '2', duration: 2 };
export const SCALE_DEFAULTS = { workload: 'page_fault1', cpus: '1,2', duration: 2 };
export const PROFILE_DEFAULTS = { workload: 'page_fault1_threads', cpus: '2', duration: 0.5 };
export const STRESS_DEFAULTS = { workload: 'random', cpus: '2', duration: 3 };
/** trace ring entries per CPU for profile: 64 Ki events × 32 bytes = 2 MiB per CPU */
export const PROFILE_TRACE_RING = 1 << 16;

function writeFile(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

export const writeJson = (file: string, v: unknown) => writeFile(file, JSON.stringify(v, null, 2) + '\n');

/** A path as the user would type it: relative when under the working directory. */
function show(f: string): string {
  if (!isAbsolute(f)) return f;
  const r = relative(process.cwd(), f);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : f;
}

interface Executed {
  outcome: RunOutcome;
  results: RunResults;
}

/** Run one plan: the orchestrator, the idle sampler, the results object. */
async function execute(
  plan: RunPlan,
  opts: { progress?: (f: number) => void; checkpoints?: number; build?: (o: RunOutcome) => Partial<Parameters<typeof buildResults>[1]>; pool?: Piscina },
): Promise<Executed> {
  const idle = new IdleSampler();
  if (plan.opsPerCpu !== undefined) idle.mark();
  const outcome = await runMachine({
    config: plan.config,
    spec: plan.spec,
    durationMs: plan.durationMs,
    opsPerCpu: plan.opsPerCpu,
    checkpoints: opts.checkpoints,
    checkEmpty: true,
    pool: opts.pool,
    onProgress: (f) => {
      idle.mark();
      opts.progress?.(f);
    },
  });
  if (plan.opsPerCpu !== undefined) idle.mark();
  const results = buildResults(outcome, {
    spec: plan.spec,
    durationMs: plan.durationMs,
    opsPerCpu: plan.opsPerCpu,
    hostIdlePct: idle.pct(),
    ...opts.build?.(outcome),
  });
  return { outcome, results };
}

/** The run's failure as one line (exit 1), or undefined if it passed. */
function failureOf(r: RunResults): string | undefined {
  if (r.error) return `cpu ${r.error.cpu} failed in ${r.error.op}${r.error.atNs !== undefined ? ` at ${r.error.atNs} virtual ns` : ''}: ${r.error.message.split('\n')[0]}`;
  if (!r.checker.ok) return `invariant checker: ${r.checker.violations.length} violation(s); first: ${r.checker.violations[0]}`;
  if (!r.oracle.ok) return `content oracle: ${r.oracle.failures.length} failure(s); first: ${r.oracle.failures[0]}`;
  if (r.lockdep.count > 0) return `lockdep: ${r.lockdep.count} report(s); first: ${r.lockdep.first?.kind} ${r.lockdep.first?.a} / ${r.lockdep.first?.b}`;
  return undefined;
}

/** Colours only on a terminal. */
const colors = (io: Io) => pc.createColors(io.isTTY);

function warn(io: Io, cfg: { cpus: number; clock: string }): void {
  if (cfg.clock === 'virtual') return; // one CPU runs at a time: nothing is time-sliced
  const w = timeSliceWarning(cfg.cpus);
  if (w) io.err(`smpvm: ${colors(io).yellow(w)}\n`);
}

function printRun(io: Io, r: RunResults): void {
  io.out(`${runHeadline(r)}\n`);
  io.out(formatSummary(r));
  io.out(
    `throughput: ${fmtRate(r.opsPerSec)} ops/s (${fmtInt(r.ops)} ops in ${(r.durationMs / 1000).toFixed(3)} s${clockNote(r)})` +
      `${r.hostIdlePct === null ? '' : `, host idle ${r.hostIdlePct.toFixed(1)}%`}` +
      `${r.hostLineRoundTripNs === null ? '' : `, host cache-line round trip ${r.hostLineRoundTripNs.toFixed(0)} ns`}\n`,
  );
  io.out(formatVerdict(r));
  io.out('\n# /proc/lock_stat\n');
  io.out(formatLockStat(r.lockStat));
  if (!r.config.holdTime) io.out('(holdtime columns are measured with --hold-time)\n');
  io.out('\n# perf lock contention\n');
  io.out(contentionText(r));
  io.out('\n# /proc/vmstat\n');
  io.out(formatVmstat(r.vmstat));
  if (r.refaults.lookups > 0) {
    // issue 7: Rik van Riel's /proc/refaults, when anything was looked up
    io.out(`\n# /proc/refaults (${r.refaults.nrBuckets} buckets x ${r.refaults.numNr} cookies)\n`);
    io.out(format_refaults(r.refaults.rows) + '\n');
  }
}

/** Under the virtual clock: which table timed it, and what it cost on the host. */
function clockNote(r: RunResults): string {
  const v = r.virtual;
  if (!v) return '';
  return ` of virtual time: cost table ${v.cost.name} ${v.cost.hash}, topology ${v.topology}, quantum ${v.quantumNs} ns; ${r.hostSeconds.toFixed(2)} host s, ${fmtInt(v.handoffs)} hand-overs`;
}

function contentionText(r: RunResults): string {
  return r.contention.some((c) => c.total_wait_ns > 0) ? formatPerfLockContention(r.contention) : '(no contended acquisitions)\n';
}

function progressFor(io: Io, plan: RunPlan, label: string): Progress {
  return progressBar(io, (plan.durationMs ?? 0) >= LONG_RUN_MS, label);
}

/* ---- run ---- */

export async function cmdRun(io: Io, o: SharedOpts): Promise<number> {
  const base = planBase(o, RUN_DEFAULTS);
  const plan = finishPlan(base, undefined, base.workload);
  warn(io, plan.config);
  // what a bounced line costs on this host right now: the yardstick for lock_stat's bounces (the virtual clock's come from its cost table)
  const rtt = plan.config.cpus > 1 && plan.config.clock === 'host' ? await lineRoundTripNs() : null;
  const bar = progressFor(io, plan, plan.spec.name);
  const { results } = await execute(plan, { progress: (f) => bar.update(f), build: () => ({ hostLineRoundTripNs: rtt }) }).finally(() => bar.stop());
  if (o.json) writeJson(o.json, results);
  const fail = failureOf(results);
  if (results.error) throw new CliError(fail!, EXIT_FAIL);
  printRun(io, results);
  if (o.json) io.out(`\nresults: ${show(o.json)}\n`);
  if (fail) throw new CliError(fail, EXIT_FAIL);
  return EXIT_OK;
}

/* ---- scale ---- */

export interface ScaleOpts extends SharedOpts {
  csv?: string;
}

interface ScaleJob {
  tasks: number;
  mode: 'processes' | 'threads';
  plan: RunPlan;
}

/** Validate every point of the sweep before running any. */
function scaleJobs(o: SharedOpts, d: { workload: string; duration: number; cpus: string }): { test: string; jobs: ScaleJob[]; cpus: number[]; base: PlanBase } {
  const list = parseCpuList(o.cpus ?? d.cpus);
  const base = planBase({ ...o, cpus: undefined }, d);
  const test = willItScaleBase(base.workload);
  const modes = test ? (['processes', 'threads'] as const) : (['processes'] as const);
  const maxCpus = list[list.length - 1]!;
  const jobs: ScaleJob[] = [];
  for (const n of list) {
    for (const mode of modes) {
      const name = test ? `${test}_${mode}` : base.workload;
      jobs.push({ tasks: n, mode, plan: finishPlan(base, n, name, maxCpus) });
    }
  }
  return { test: test ?? base.workload, jobs, cpus: list, base };
}

async function runScale(io: Io, o: SharedOpts, d: typeof SCALE_DEFAULTS): Promise<ScaleResults> {
  const { test, jobs, cpus } = scaleJobs(o, d);
  const virtual = jobs[0]?.plan.config.clock === 'virtual';
  warn(io, { cpus: cpus[cpus.length - 1]!, clock: virtual ? 'virtual' : 'host' });
  const long = jobs.length > 1 || (jobs[0]?.plan.durationMs ?? 0) >= LONG_RUN_MS;
  // what a bounced line costs on this host, before and after the points (it can change while they run)
  const shares = cpus[cpus.length - 1]! > 1 && !virtual;
  const rtt: number[] = [];
  const probe = async () => {
    const ns = shares ? await lineRoundTripNs() : null;
    if (ns !== null) rtt.push(ns);
  };
  await probe();
  const bar = progressBar(io, long, 'scale');
  const points: ScalePoint[] = cpus.map((tasks) => ({ tasks }));
  // virtual clock: one pool of workers for every point (a point's own start-up is most of its host time)
  const pool = virtual ? createRunPool(cpus[cpus.length - 1]! + 1) : undefined;
  try {
    for (let i = 0; i < jobs.length; i++) {
      const j = jobs[i]!;
      const label = `${j.plan.spec.name} ×${j.tasks}`;
      const { results } = await execute(j.plan, { progress: (f) => bar.update((i + f) / jobs.length, label), pool });
      const fail = failureOf(results);
      if (fail) {
        if (o.json) writeJson(o.json, { kind: 'scale', failed: results });
        throw new CliError(`${j.plan.spec.name} at ${j.tasks} CPU(s): ${fail}`, EXIT_FAIL);
      }
      points.find((p) => p.tasks === j.tasks)![j.mode] = results;
      bar.update((i + 1) / jobs.length, label);
      if (!io.isTTY || !long) {
        io.out(
          `${j.plan.spec.name.padEnd(24)} ${String(j.tasks).padStart(3)} CPU${j.tasks === 1 ? ' ' : 's'}  ${fmtRate(results.opsPerSec).padStart(9)} ops/s` +
            `${results.hostIdlePct === null ? '' : `  host idle ${results.hostIdlePct.toFixed(1)}%`}\n`,
        );
      }
    }
  } finally {
    bar.stop();
    await pool?.destroy();
  }
  await probe();
  const ws = virtual ? undefined : timeSliceWarning(cpus[cpus.length - 1]!);
  return {
    version: RESULTS_VERSION,
    kind: 'scale',
    tool: TOOL,
    date: new Date().toISOString(),
    workload: test,
    hostCores: hostCores(),
    hostLineRoundTripNs: rtt,
    cpus,
    runs: points,
    ratios: scaleRatios(points),
    warnings: ws ? [ws] : [],
  };
}

function printScale(io: Io, s: ScaleResults): void {
  const first = s.runs[0]?.processes ?? s.runs[0]?.threads;
  if (first) {
    const c = first.config;
    io.out(`\n${s.workload}: mem ${fmtSize(c.mem)}${first.workload.regionBytes ? `, region ${fmtSize(Number(first.workload.regionBytes))}/CPU` : ''}, rmap ${c.rmap}, locks ${c.locks}/${c.lockImpl}, ${first.stop.durationMs !== undefined ? `${(first.stop.durationMs / 1000).toFixed(2)} s` : `${first.stop.opsPerCpu} steps/CPU`} per point, host cores ${s.hostCores}\n`);
    if (first.virtual) {
      const hostS = s.runs.reduce((a, p) => a + (p.processes?.hostSeconds ?? 0) + (p.threads?.hostSeconds ?? 0), 0);
      io.out(`virtual clock: cost table ${first.virtual.cost.name} ${first.virtual.cost.hash}, topology ${first.virtual.topology}, quantum ${first.virtual.quantumNs} ns; ops/s are per virtual second (${hostS.toFixed(1)} host s in all)\n`);
    }
    if (s.hostLineRoundTripNs.length === 2) {
      const [a, b] = s.hostLineRoundTripNs.map((x) => x.toFixed(0));
      io.out(`host cache-line round trip between two threads: ${a} ns before, ${b} ns after (each bounce of a shared lock or line costs about half)\n`);
    }
    io.out('\n');
  }
  io.out(scaleCsv(s));
  io.out('\n');
  io.out(scaleChart(s, { color: io.isTTY }));
}

export async function cmdScale(io: Io, o: ScaleOpts): Promise<number> {
  const s = await runScale(io, o, SCALE_DEFAULTS);
  printScale(io, s);
  if (o.json) writeJson(o.json, s);
  if (o.csv) writeFile(o.csv, scaleCsv(s));
  if (o.json || o.csv) io.out('\n');
  if (o.json) io.out(`results: ${show(o.json)}\n`);
  if (o.csv) io.out(`csv: ${show(o.csv)}\n`);
  return EXIT_OK;
}

/* ---- profile ---- */

export interface ProfileOpts extends SharedOpts {
  trace?: string;
  folded?: string;
  traceRing?: string;
}

export async function runProfile(io: Io, o: ProfileOpts, files: { trace: string; folded: string }): Promise<RunResults> {
  const base = planBase(o, PROFILE_DEFAULTS);
  if (o.traceRing !== undefined) {
    if (!/^\d+$/.test(o.traceRing)) throw new CliError(`--trace-ring: not an integer: ${JSON.stringify(o.traceRing)}`);
    base.cfg.traceRing = Number(o.traceRing);
  } else if (!base.userKeys.has('traceRing')) base.cfg.traceRing = PROFILE_TRACE_RING;
  if (base.cfg.traceRing === 0) throw new CliError('--trace-ring: profile needs a trace ring (> 0 entries)');
  const plan = finishPlan(base, undefined, base.workload);
  warn(io, plan.config);
  const bar = progressFor(io, plan, `profile ${plan.spec.name}`);
  let analysis: ReturnType<typeof analyzeTrace> | undefined;
  const { results } = await execute(plan, {
    progress: (f) => bar.update(f),
    build: (outcome) => {
      const traces = readTrace(outcome.m);
      const ks = readCpuTrace(outcome.m, kswapdCpu(outcome.m.layout));
      if (ks.events.length) traces.push(ks);
      analysis = analyzeTrace(traces);
      return {
        latency: faultLatency(analysis),
        trace: { file: files.trace, folded: files.folded, eventsPerCpu: analysis.events, lostPerCpu: analysis.lost, windowMs: analysis.t1 - analysis.t0 },
      };
    },
  }).finally(() => bar.stop());
  if (results.error) {
    if (o.json) writeJson(o.json, results);
    throw new CliError(failureOf(results)!, EXIT_FAIL);
  }
  const a = analysis!;
  const names: Record<number, string> = {};
  for (const c of a.cpus) names[c] = c === kswapdCpu({ nrCpus: plan.config.cpus }) ? 'kswapd' : `CPU ${c}`;
  const trace = chromeTrace(a, {
    title: `smpvm ${plan.spec.name}`,
    cpuNames: names,
    otherData: { tool: TOOL, workload: plan.spec, config: plan.config },
  });
  writeFile(files.trace, JSON.stringify(trace) + '\n');
  const folded = foldedWaitStacks(a, plan.spec.name);
  writeFile(files.folded, folded.length ? folded.join('\n') + '\n' : '');
  if (o.json) writeJson(o.json, results);
  return results;
}

function printProfile(io: Io, r: RunResults, files: { trace: string; folded: string }, json?: string): void {
  io.out(`${runHeadline(r)}\n`);
  io.out(formatSummary(r));
  io.out(`throughput (traced): ${fmtRate(r.opsPerSec)} ops/s${clockNote(r) ? ` (${clockNote(r).trim()})` : ''}\n`);
  io.out(formatVerdict(r));
  io.out('\n# perf lock contention\n');
  io.out(contentionText(r));
  const t = r.trace!;
  const lost = t.lostPerCpu.reduce((s, x) => s + x, 0);
  io.out(
    `\ntrace window: ${t.windowMs.toFixed(2)} ms, ${t.eventsPerCpu.map((n) => fmtInt(n)).join(' + ')} events per CPU` +
      (lost > 0 ? ` (the ring kept the last ${fmtInt(r.config.traceRing)} per CPU; ${fmtInt(lost)} older events overwritten)` : '') +
      '\n',
  );
  io.out(`trace:  ${show(files.trace)}  (open in ui.perfetto.dev, chrome://tracing or speedscope)\n`);
  io.out(`folded: ${show(files.folded)}  (lock wait ns; flamegraph.pl or speedscope)\n`);
  if (json) io.out(`results: ${show(json)}\n`);
}

export async function cmdProfile(io: Io, o: ProfileOpts): Promise<number> {
  const files = { trace: o.trace ?? 'smpvm-trace.json', folded: o.folded ?? 'smpvm-wait.folded' };
  const r = await runProfile(io, o, files);
  printProfile(io, r, files, o.json);
  const fail = failureOf(r);
  if (fail) throw new CliError(fail, EXIT_FAIL);
  return EXIT_OK;
}

/* ---- stress ---- */

export interface StressOpts extends SharedOpts {
  checkpoints?: string;
  inject?: string;
}

export async function cmdStress(io: Io, o: StressOpts): Promise<number> {
  const schemes = (o.locks ?? LOCK_SCHEMES.join(',')).split(',').map((s) => s.trim());
  const base = planBase({ ...o, locks: undefined }, STRESS_DEFAULTS);
  if (!base.userKeys.has('lockdep')) base.cfg.lockdep = true;
  if (o.inject !== undefined) base.cfg.inject = o.inject;
  if (!base.userKeys.has('swap') && o.swap === undefined) base.cfg.swap = 0;
  if (!base.userKeys.has('mem') && o.mem === undefined) base.cfg.mem = '16M';
  let checkpoints = 3;
  if (o.checkpoints !== undefined) {
    if (!/^\d+$/.test(o.checkpoints)) throw new CliError(`--checkpoints: not an integer: ${JSON.stringify(o.checkpoints)}`);
    checkpoints = Number(o.checkpoints);
  }
  const plans = schemes.map((locks) => finishPlan({ ...base, cfg: { ...base.cfg, locks } }, undefined, base.workload));
  warn(io, plans[0]!.config);
  const all: RunResults[] = [];
  let failed: string | undefined;
  const long = plans.length > 1 || (plans[0]!.durationMs ?? 0) >= LONG_RUN_MS;
  const bar = progressBar(io, long, 'stress');
  try {
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i]!;
      const { results } = await execute(p, { checkpoints, progress: (f) => bar.update((i + f) / plans.length, `stress ${p.config.locks}`) });
      all.push(results);
      const fail = failureOf(results);
      const ops = results.loops;
      const line = `stress ${p.config.locks.padEnd(5)} ${fmtInt(ops)} ${p.spec.name} operations on ${p.config.cpus} CPUs, ${results.checker.checkpoints} stop-the-world checks, lockdep ${p.config.lockdep ? 'on' : 'off'}, seed ${p.config.seed}:`;
      if (fail) {
        const stop = p.opsPerCpu !== undefined ? `--ops ${p.opsPerCpu}` : `--duration ${(p.durationMs ?? 0) / 1000}`;
        const inject = p.config.inject !== 'none' ? ` --inject ${p.config.inject}` : '';
        const vc = p.config.cost;
        const clock = p.config.clock === 'virtual' && vc !== undefined && typeof vc !== 'string' ? ` --clock virtual --quantum ${p.config.quantum} --cost ${vc.name}${p.config.topology ? ` --topology ${p.config.topology}` : ''}` : '';
        io.out(`${line} ${colors(io).red('FAILED')}\n  ${fail}\n  reproduce: smpvm stress --locks ${p.config.locks} --lock-impl ${p.config.lockImpl} --rmap ${p.config.rmap} --cpus ${p.config.cpus} --seed ${p.config.seed} ${stop}${inject}${clock}\n`);
        failed ??= `stress failed under ${p.config.locks} (seed ${p.config.seed}): ${fail}`;
      } else {
        io.out(`${line} ${colors(io).green('ok')}\n`);
      }
    }
  } finally {
    bar.stop();
  }
  if (o.json) writeJson(o.json, { version: RESULTS_VERSION, kind: 'stress', tool: TOOL, date: new Date().toISOString(), ok: !failed, runs: all });
  if (failed) throw new CliError(failed, EXIT_FAIL);
  return EXIT_OK;
}

/* ---- start: the main job ---- */

const START_MEM = '512M';
const START_REGION = '16M';

export interface StartOpts {
  out?: string;
  duration?: string;
  /** issue 17: the CPU counts of the virtual-clock curve (default START_VIRTUAL.cpus) */
  virtualCpus?: string;
}

/** issue 17: the virtual-clock curve of `npm start`: CPU counts, machine, steps per CPU */
const START_VIRTUAL = { cpus: '1,2,4,8,16,32,64', mem: '256M', region: '256K', ops: '4', cost: 'skylake-2s-112' };

/**
 * `npm start`: a scale of page_fault1 processes vs threads at 1 and 2 CPUs
 * under the default schemes on the host clock, the same curve from 1 to 64
 * CPUs under the virtual clock on a modelled 2-socket Skylake-SP (issue 17),
 * then a short profile of page_fault1_threads on 2 CPUs; writes the scale
 * JSONs and CSVs, the trace and the folded stacks.
 */
export async function cmdStart(io: Io, o: StartOpts): Promise<number> {
  const dir = o.out ?? join('results', 'start');
  const files = {
    json: join(dir, 'scale.json'),
    csv: join(dir, 'scale.csv'),
    trace: join(dir, 'trace.json'),
    folded: join(dir, 'wait.folded'),
    profileJson: join(dir, 'profile.json'),
    virtualJson: join(dir, 'scale-virtual.json'),
    virtualCsv: join(dir, 'scale-virtual.csv'),
  };
  const duration = o.duration ?? '1.5';
  io.out(`smpvm start: will-it-scale page_fault1, processes vs threads at 1 and 2 CPUs (${duration} s each), then 1 to 64 CPUs on the virtual clock, then a ${PROFILE_DEFAULTS.duration} s profile of page_fault1_threads on 2 CPUs\n\n`);
  // 512 MiB: the zone's pcp batch is the kernel's 31 (a 64 MiB zone gets 7)
  const machine = { mem: START_MEM, region: START_REGION };
  const s = await runScale(io, { workload: 'page_fault1', cpus: '1,2', duration, ...machine }, SCALE_DEFAULTS);
  printScale(io, s);
  writeJson(files.json, s);
  writeFile(files.csv, scaleCsv(s));
  const v = { ...START_VIRTUAL, cpus: o.virtualCpus ?? START_VIRTUAL.cpus };
  io.out(`\nthe same on the virtual clock, ${v.cpus} CPUs of a modelled ${v.cost} (${v.ops} loops of ${v.region} per CPU and point):\n`);
  const vs = await runScale(io, { workload: 'page_fault1', cpus: v.cpus, ops: v.ops, clock: 'virtual', cost: v.cost, mem: v.mem, region: v.region }, SCALE_DEFAULTS);
  printScale(io, vs);
  writeJson(files.virtualJson, vs);
  writeFile(files.virtualCsv, scaleCsv(vs));
  io.out(`\nprofiling page_fault1_threads on 2 CPUs ...\n`);
  const p = await runProfile(io, { workload: 'page_fault1_threads', cpus: '2', json: files.profileJson, ...machine }, files);
  io.out(`${fmtRate(p.opsPerSec)} faults/s traced; top lock waits:\n`);
  io.out(contentionText(p));
  io.out(`\nscale results: ${show(files.json)}\n`);
  io.out(`scale csv:     ${show(files.csv)}\n`);
  io.out(`virtual clock: ${show(files.virtualJson)}, ${show(files.virtualCsv)}\n`);
  io.out(`trace:         ${show(files.trace)}  (ui.perfetto.dev, chrome://tracing, speedscope)\n`);
  io.out(`folded stacks: ${show(files.folded)}\n`);
  io.out(`profile run:   ${show(files.profileJson)}\n`);
  const fail = failureOf(p);
  if (fail) throw new CliError(fail, EXIT_FAIL);
  return EXIT_OK;
}
