/*
 * cli/commands.ts — what `smpvm run | scale | profile | start` do (stress:
 * cli/stress.ts, which uses execute / failureOf from here).
 *
 * Each command resolves its flags into validated run plans and checks its
 * output paths first (any bad input fails before a worker starts: CliError,
 * exit 2), runs them through
 * the orchestrator (sim/run.ts runMachine), builds the results JSON
 * (sim/results.ts), prints views of it (report/) and then writes its files
 * (cli/outputs.ts: a write that fails after the run loses nothing printed). A CPU that throws
 * ends the command with one line naming the CPU and the operation (exit 1);
 * so does a checker violation, an oracle failure or a lockdep report.
 */
import pc from 'picocolors';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, isAbsolute } from 'node:path';
import type { Piscina } from 'piscina';
import { runMachine, createRunPool, type RunOutcome } from '../sim/run.js';
import { lineRoundTripNs } from '../sim/hostprobe.js';
import { buildResults, scaleRatios, timeSliceWarning, hostCores, TOOL, RESULTS_VERSION, type RunResults, type ScaleResults, type ScalePoint } from '../sim/results.js';
import { readTrace, readCpuTrace } from '../machine/trace.js';
import { kswapdCpu } from '../machine/layout.js';
import { formatLockStat, formatPerfLockContention } from '../report/lockstat.js';
import { formatLockStatBrief } from '../report/lockstat_brief.js';
import { formatSummary, formatVerdict, formatRmapOverhead, formatVmstat, formatEvents, runHeadline, fmtRate, fmtInt, fmtSize, fmtSeconds } from '../report/summary.js';
import { scaleCsv, scaleChart } from '../report/scaling.js';
import { buildReport } from '../report/html.js';
import { analyzeTrace, chromeTrace, foldedWaitStacks, faultLatency } from '../report/trace_export.js';
import { CliError, EXIT_FAIL, EXIT_OK, type Io } from './io.js';
import { format_refaults } from '../reclaim/nonresident.js';
import { planBase, finishPlan, parseCpuList, parseField, willItScaleBase, COMMANDS, SECONDS, SECONDS_AT, type SharedOpts, type RunPlan, type PlanBase, type CommandDefaults } from './options.js';
import { int } from '../config.js';
import { checkOutput, writeOutput, writeJsonOutput } from './outputs.js';
import { progressBar, IdleSampler, LONG_RUN_MS, type Progress } from './progress.js';

/** The defaults profile shows for its trace ring (PROFILE: COMMANDS.profile.config.traceRing). */
export const PROFILE_TRACE_RING = COMMANDS.profile.config.traceRing;

/** A path as the user would type it: relative when under the working directory. */
export function show(f: string): string {
  if (!isAbsolute(f)) return f;
  const r = relative(process.cwd(), f);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : f;
}

interface Executed {
  outcome: RunOutcome;
  results: RunResults;
}

/** Run one plan: the orchestrator, the idle sampler, the results object. */
export async function execute(
  plan: RunPlan,
  opts: {
    progress?: (f: number) => void;
    checkpoints?: number;
    build?: (o: RunOutcome) => Partial<Parameters<typeof buildResults>[1]>;
    pool?: Piscina;
    /** run swapoff on CPU 0 at this run time (ms) */
    swapoffAtMs?: number;
  },
): Promise<Executed> {
  const idle = new IdleSampler();
  if (plan.opsPerCpu !== undefined) idle.mark();
  const outcome = await runMachine({
    config: plan.config,
    spec: plan.spec,
    durationMs: plan.durationMs,
    opsPerCpu: plan.opsPerCpu,
    warmupMs: plan.warmupMs,
    checkpoints: opts.checkpoints,
    checkEmpty: true,
    pool: opts.pool,
    swapoffAtMs: opts.swapoffAtMs,
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
    warmupMs: plan.warmupMs,
    // will-it-scale's idle column is the host's; beside virtual ops/s it would read as the simulated machine's
    hostIdlePct: plan.config.clock === 'virtual' ? null : idle.pct(),
    ...opts.build?.(outcome),
  });
  return { outcome, results };
}

/** The run's failure as one line (exit 1), or undefined if it passed. */
export function failureOf(r: RunResults): string | undefined {
  if (r.error) return `cpu ${r.error.cpu} failed in ${r.error.op}${r.error.atNs !== undefined ? ` at ${r.error.atNs} virtual ns` : ''}: ${r.error.message.split('\n')[0]}`;
  if (!r.checker.ok) return `invariant checker: ${r.checker.violations.length} violation(s); first: ${r.checker.violations[0]}`;
  if (!r.oracle.ok) return `content oracle: ${r.oracle.failures.length} failure(s); first: ${r.oracle.failures[0]}`;
  if (r.lockdep.count > 0) return `lockdep: ${r.lockdep.count} report(s); first: ${r.lockdep.first?.kind} ${r.lockdep.first?.a} / ${r.lockdep.first?.b}`;
  return undefined;
}

/** Colours only on a terminal. */
export const colors = (io: Io) => pc.createColors(io.isTTY);

export function warn(io: Io, cfg: { cpus: number; clock: string }): void {
  if (cfg.clock === 'virtual') return; // one CPU runs at a time: nothing is time-sliced
  const w = timeSliceWarning(cfg.cpus);
  if (w) io.err(`smpvm: ${colors(io).yellow(w)}\n`);
}

/** run's text: everything, or (all false) only non-zero vmstat counters, and lock_stat narrowed to the terminal. */
function printRun(io: Io, r: RunResults, all: boolean): void {
  io.out(`${runHeadline(r)}\n`);
  io.out(formatSummary(r));
  io.out(
    `throughput: ${fmtRate(r.opsPerSec)} ops/s (${r.stop.warmupMs ? `the sum of each CPU's rate after a warm-up of ${fmtSeconds(r.stop.warmupMs)}: ${fmtInt(r.ops)} measured ops; whole run ` : `${fmtInt(r.ops)} ops in `}${fmtSeconds(r.durationMs)}${clockNote(r)})` +
      `${r.hostIdlePct === null ? '' : `, host idle ${r.hostIdlePct.toFixed(1)}%`}` +
      `${r.hostLineRoundTripNs === null ? '' : `, host cache-line round trip ${r.hostLineRoundTripNs.toFixed(0)} ns`}\n`,
  );
  io.out(formatEvents(r));
  io.out(formatRmapOverhead(r));
  io.out(formatVerdict(r));
  if (io.isTTY && !all) {
    io.out('\n# lock_stat (the kernel\'s /proc/lock_stat layout: --all, or stdout to a file)\n');
    io.out(formatLockStatBrief(r.lockStat, r.config.holdTime));
  } else {
    io.out('\n# /proc/lock_stat\n');
    io.out(formatLockStat(r.lockStat));
  }
  if (!r.config.holdTime) io.out('(holdtime columns are measured with --hold-time)\n');
  io.out('\n# perf lock contention\n');
  io.out(contentionText(r));
  io.out('\n# /proc/vmstat\n');
  io.out(formatVmstat(r.vmstat, all));
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
  return ` of virtual time: cost table ${v.cost.name} ${v.cost.hash}, topology ${v.topology}, quantum ${v.quantumNs} ns; ${fmtInt(v.lineTransfers)} struct page / list-head line transfers (${(v.lineTransferNs / 1e6).toFixed(3)} virtual ms of latency); ${r.hostSeconds.toFixed(2)} host s, ${fmtInt(v.handoffs)} hand-overs`;
}

function contentionText(r: RunResults): string {
  return r.contention.some((c) => c.total_wait_ns > 0) ? formatPerfLockContention(r.contention) : '(no contended acquisitions)\n';
}

function progressFor(io: Io, plan: RunPlan, label: string): Progress {
  return progressBar(io, (plan.durationMs ?? 0) >= LONG_RUN_MS, label);
}

/* ---- run ---- */

export interface RunOpts extends SharedOpts {
  /** every vmstat counter and the kernel's lock_stat layout on a terminal too */
  all?: boolean;
  /** issue 18: run swapoff on CPU 0 this many seconds into the run */
  swapoffAt?: string;
}

/** --swapoff-at: seconds into the run (>= 0), within a timed run that has swap; ms, or undefined when not given. */
function swapoffAtMs(o: RunOpts, plan: RunPlan): number | undefined {
  if (o.swapoffAt === undefined) return undefined;
  const s = parseField(SECONDS_AT, o.swapoffAt, '--swapoff-at');
  const unit = plan.config.clock === 'virtual' ? 'virtual s' : 's';
  if (plan.durationMs === undefined) throw new CliError('--swapoff-at: needs a timed run (--duration); with --ops the run has no known end');
  if (s * 1000 >= plan.durationMs) throw new CliError(`--swapoff-at: ${s} ${unit} is past the end of the run (--duration ${plan.durationMs / 1000} ${unit})`);
  if (plan.config.swap === 0) throw new CliError('--swapoff-at: there is no swap area to switch off (--swap 0)');
  return s * 1000;
}

/** The line saying what --swapoff-at did (CPU 0's extra, sim/cpuloop.ts). */
function swapoffLine(outcome: RunOutcome, clock: string): string {
  const x = outcome.perCpu.find((c) => c.cpu === 0)?.extra;
  if (!x || x.swapoffRc === undefined) return 'swapoff: did not run (CPU 0 stopped before its time)\n';
  const unit = clock === 'virtual' ? 'virtual ' : '';
  const at = `swapoff on cpu 0 at ${(x.swapoffAtMs! / 1000).toFixed(3)} ${unit}s while the other CPUs kept running`;
  const rc = x.swapoffRc;
  if (rc === 0) return `${at}: done in ${x.swapoffMs!.toFixed(1)} ${unit}ms, ${fmtInt(x.swapoffPages ?? 0)} pages brought back; swap stayed off\n`;
  return `${at}: failed with ${rc === -12 ? 'ENOMEM (the swapped pages do not fit in memory)' : rc === -16 ? 'EBUSY' : `error ${rc}`}; the area stays on, nothing lost\n`;
}

export async function cmdRun(io: Io, o: RunOpts): Promise<number> {
  const base = planBase(o, COMMANDS.run);
  const plan = finishPlan(base, undefined, base.workload);
  const swapoffAt = swapoffAtMs(o, plan);
  if (o.json) checkOutput('--json', o.json);
  warn(io, plan.config);
  // what a bounced line costs on this host right now: the yardstick for lock_stat's bounces (the virtual clock's come from its cost table)
  const rtt = plan.config.cpus > 1 && plan.config.clock === 'host' ? await lineRoundTripNs() : null;
  const bar = progressFor(io, plan, plan.spec.name);
  const { results, outcome } = await execute(plan, { progress: (f) => bar.update(f), build: () => ({ hostLineRoundTripNs: rtt }), swapoffAtMs: swapoffAt }).finally(() =>
    bar.stop(),
  );
  const fail = failureOf(results);
  if (!results.error) printRun(io, results, o.all === true);
  if (swapoffAt !== undefined && !results.error) io.out(`\n${swapoffLine(outcome, plan.config.clock)}`);
  if (o.json) {
    writeJsonOutput('--json', o.json, results);
    if (!results.error) io.out(`\nresults: ${show(o.json)}\n`);
  }
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
function scaleJobs(o: SharedOpts, d: CommandDefaults): { test: string; jobs: ScaleJob[]; cpus: number[]; base: PlanBase } {
  const list = parseCpuList(o.cpus ?? d.cpuList!);
  const base = planBase(o, d);
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

async function runScale(io: Io, o: SharedOpts, d: CommandDefaults): Promise<ScaleResults> {
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
        if (o.json) writeJsonOutput('--json', o.json, { kind: 'scale', failed: results });
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
    io.out(`\n${s.workload}: mem ${fmtSize(c.mem)}${first.workload.regionBytes ? `, region ${fmtSize(Number(first.workload.regionBytes))}/CPU` : ''}, rmap ${c.rmap}, locks ${c.locks}/${c.lockImpl}, ${first.stop.durationMs !== undefined ? fmtSeconds(first.stop.durationMs) : `${first.stop.opsPerCpu} steps/CPU`}${first.stop.warmupMs ? ` (the first ${fmtSeconds(first.stop.warmupMs)} a warm-up)` : ''} per point, host cores ${s.hostCores}\n`);
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
  if (o.json) checkOutput('--json', o.json);
  if (o.csv) checkOutput('--csv', o.csv);
  const s = await runScale(io, o, COMMANDS.scale);
  printScale(io, s);
  if (o.json) writeJsonOutput('--json', o.json, s);
  if (o.csv) writeOutput('--csv', o.csv, scaleCsv(s));
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

/** Where profile writes (the flag that names each file). */
interface ProfileFiles {
  trace: string;
  folded: string;
  json?: string;
  /** the flag each file came from (start: --out) */
  flags: { trace: string; folded: string; json: string };
}

/** A validated profile plan (its output paths checked too). */
function profilePlan(o: ProfileOpts, files: ProfileFiles): RunPlan {
  const base = planBase(o, COMMANDS.profile);
  if (o.traceRing !== undefined) {
    base.cfg.traceRing = parseField(int(1, 1 << 20), o.traceRing, '--trace-ring');
    base.from.set('traceRing', '--trace-ring');
  }
  const plan = finishPlan(base, undefined, base.workload);
  if (plan.config.traceRing === 0) throw new CliError(`${base.from.get('traceRing') ?? 'config.traceRing'}: profile needs a trace ring (> 0 entries)`);
  checkOutput(files.flags.trace, files.trace);
  checkOutput(files.flags.folded, files.folded);
  if (files.json) checkOutput(files.flags.json, files.json);
  return plan;
}

async function runProfile(io: Io, plan: RunPlan, files: ProfileFiles): Promise<RunResults> {
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
    if (files.json) writeJsonOutput(files.flags.json, files.json, results);
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
  const folded = foldedWaitStacks(a, plan.spec.name);
  pendingWrites.set(results, () => {
    writeOutput(files.flags.trace, files.trace, JSON.stringify(trace) + '\n');
    writeOutput(files.flags.folded, files.folded, folded.length ? folded.join('\n') + '\n' : '');
    if (files.json) writeJsonOutput(files.flags.json, files.json, results);
  });
  return results;
}

/** A profile's files, written once its results are printed. */
const pendingWrites = new WeakMap<RunResults, () => void>();
const writeProfileFiles = (r: RunResults) => pendingWrites.get(r)?.();

function printProfile(io: Io, r: RunResults, files: ProfileFiles): void {
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
  if (files.json) io.out(`results: ${show(files.json)}\n`);
}

export async function cmdProfile(io: Io, o: ProfileOpts): Promise<number> {
  const files: ProfileFiles = {
    trace: o.trace ?? 'smpvm-trace.json',
    folded: o.folded ?? 'smpvm-wait.folded',
    json: o.json,
    flags: { trace: '--trace', folded: '--folded', json: '--json' },
  };
  const r = await runProfile(io, profilePlan(o, files), files);
  printProfile(io, r, files);
  writeProfileFiles(r);
  const fail = failureOf(r);
  if (fail) throw new CliError(fail, EXIT_FAIL);
  return EXIT_OK;
}

/* ---- start: the main job ---- */

const START_MEM = '512M';
const START_REGION = '16M';
export const START_DURATION = 1.5;

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
  const duration = parseField(SECONDS, o.duration ?? START_DURATION, '--duration');
  const files = {
    json: join(dir, 'scale.json'),
    csv: join(dir, 'scale.csv'),
    trace: join(dir, 'trace.json'),
    folded: join(dir, 'wait.folded'),
    profileJson: join(dir, 'profile.json'),
    virtualJson: join(dir, 'scale-virtual.json'),
    virtualCsv: join(dir, 'scale-virtual.csv'),
    report: join(dir, 'report.html'),
  };
  // 512 MiB: the zone's pcp batch is the kernel's 31 (a 64 MiB zone gets 7)
  const machine = { mem: START_MEM, region: START_REGION };
  const pfiles: ProfileFiles = { trace: files.trace, folded: files.folded, json: files.profileJson, flags: { trace: '--out', folded: '--out', json: '--out' } };
  // everything checked before the first line: the output directory, its files, the profile's plan
  checkOutput('--out', dir, { dir: true });
  for (const f of [files.json, files.csv, files.virtualJson, files.virtualCsv, files.report]) checkOutput('--out', f);
  const profile = profilePlan({ workload: 'page_fault1_threads', cpus: '2', ...machine }, pfiles);
  io.out(`smpvm start: will-it-scale page_fault1, processes vs threads at 1 and 2 CPUs (${duration} s each), then 1 to 64 CPUs on the virtual clock, then a ${COMMANDS.profile.duration} s profile of page_fault1_threads on 2 CPUs\n\n`);
  const s = await runScale(io, { workload: 'page_fault1', cpus: '1,2', duration: String(duration), ...machine }, COMMANDS.scale);
  printScale(io, s);
  writeJsonOutput('--out', files.json, s);
  writeOutput('--out', files.csv, scaleCsv(s));
  const v = { ...START_VIRTUAL, cpus: o.virtualCpus ?? START_VIRTUAL.cpus };
  io.out(`\nthe same on the virtual clock, ${v.cpus} CPUs of a modelled ${v.cost} (${v.ops} loops of ${v.region} per CPU and point):\n`);
  const vs = await runScale(io, { workload: 'page_fault1', cpus: v.cpus, ops: v.ops, clock: 'virtual', cost: v.cost, mem: v.mem, region: v.region }, COMMANDS.scale);
  printScale(io, vs);
  writeJsonOutput('--out', files.virtualJson, vs);
  writeOutput('--out', files.virtualCsv, scaleCsv(vs));
  io.out(`\nprofiling page_fault1_threads on 2 CPUs ...\n`);
  const p = await runProfile(io, profile, pfiles);
  writeProfileFiles(p);
  io.out(`${fmtRate(p.opsPerSec)} faults/s traced; top lock waits:\n`);
  io.out(contentionText(p));
  // the report of these runs (issue 21): both curves, the profile's lock_stat and its lock-wait flame graph
  const { html } = await buildReport(
    [
      { file: files.json, results: s },
      { file: files.virtualJson, results: vs },
      { file: files.profileJson, results: p, folded: { file: files.folded, lines: readFileSync(files.folded, 'utf8').split('\n').filter((l) => l.trim() !== '') } },
    ],
    [],
  );
  writeOutput('--out', files.report, html);
  io.out(`\nreport:        ${show(files.report)}  (open in a browser: curves, lock_stat, flame graph)\n`);
  io.out(`scale results: ${show(files.json)}\n`);
  io.out(`scale csv:     ${show(files.csv)}\n`);
  io.out(`virtual clock: ${show(files.virtualJson)}, ${show(files.virtualCsv)}\n`);
  io.out(`trace:         ${show(files.trace)}  (ui.perfetto.dev, chrome://tracing, speedscope)\n`);
  io.out(`folded stacks: ${show(files.folded)}\n`);
  io.out(`profile run:   ${show(files.profileJson)}\n`);
  const fail = failureOf(p);
  if (fail) throw new CliError(fail, EXIT_FAIL);
  return EXIT_OK;
}
