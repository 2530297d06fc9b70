/*
 * cli/options.ts — the flags every command shares, and how flags plus a
 * config file become one validated run plan (config + workload spec + stop
 * condition).
 *
 * Precedence: built-in defaults < the --config FILE < flags. The file is
 * either a machine config object (config.ts fields) that may also carry the
 * run keys `workload` (a name, or a spec object), `region`, `duration`
 * (seconds) and `ops`, or a results JSON written by --json (its `config`
 * and `workload` are reused, so a run can be repeated from its results).
 *
 * Every bad input becomes a CliError (exit 2) with one line naming the flag
 * or config field: an unknown workload, a CPU count below 1, memory too
 * small for the workload (workload.minMemPerCpu × cpus), a malformed config
 * file, an unknown scheme.
 *
 * Sizes chosen here so that defaults run in seconds and always fit:
 * page_fault* regions come from the memory per CPU (half of it for
 * page_fault1, a quarter for page_fault2/3, whose page-cache copy of the
 * file stays resident beside the region) unless --region is given; a
 * page_fault2/3 file is made at least as large as the region (filePages).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { makeConfig, parseSize, ConfigError, RMAP_SCHEMES, LOCK_SCHEMES, LOCK_IMPLS, POLICIES, CLOCKS, MAX_CPUS_VIRTUAL, DEFAULT_QUANTUM_NS, type Config } from '../config.js';
import { resolveCost, parseTopology, CostError, COST_PRESETS, DEFAULT_COST_PRESET } from '../timing/index.js';
import { PRESSURE_PATTERNS } from '../workload/pressure.js';
import { workloadByName, WORKLOAD_NAMES, type WorkloadSpec } from '../workload/index.js';
import { CliError } from './io.js';
import { fmtSize } from '../report/summary.js';

const MiB = 1 << 20;
const PAGE = 4096;

/** What commander hands an action for the shared flags (camelCased). */
export interface SharedOpts {
  workload?: string;
  cpus?: string;
  mem?: string;
  swap?: string;
  region?: string;
  rmap?: string;
  locks?: string;
  lockImpl?: string;
  policy?: string;
  pattern?: string;
  duration?: string;
  ops?: string;
  seed?: string;
  config?: string;
  json?: string;
  lockdep?: boolean;
  holdTime?: boolean;
  populate?: boolean;
  /* issue 17: the virtual clock */
  clock?: string;
  quantum?: string;
  topology?: string;
  cost?: string;
}

/** Add the shared flags to a command. */
export function addSharedOptions(cmd: Command, d: { workload: string; cpus: string; duration: number }): Command {
  return cmd
    .option('-w, --workload <name>', `workload, default ${d.workload} (${WORKLOAD_NAMES.join(', ')})`)
    .option('-c, --cpus <n>', `simulated CPUs (default ${d.cpus})`)
    .option('-m, --mem <size>', 'simulated RAM, e.g. 256M (default 64M)')
    .option('--swap <size>', 'swap area, e.g. 64M, 0 for none (default 64M)')
    .option('--region <size>', 'bytes each CPU maps per loop (page_fault*, mmap1; default: from --mem / cpus)')
    .option('--rmap <scheme>', `reverse-mapping scheme (${RMAP_SCHEMES.join(', ')}; default scan)`)
    .option('--locks <scheme>', `lock scheme (${LOCK_SCHEMES.join(', ')}; default split)`)
    .option('--lock-impl <impl>', `lock implementation (${LOCK_IMPLS.join(', ')}; default ticket)`)
    .option('--policy <name>', `page replacement policy (${POLICIES.join(', ')}; default 2q)`)
    .option('--pattern <name>', `access pattern of the pressure workload (${PRESSURE_PATTERNS.join(', ')}; default uniform)`)
    .option('-d, --duration <seconds>', `run this long (default ${d.duration})`)
    .option('--ops <n>', 'or: run this many workload steps per CPU')
    .option('--seed <n>', 'PRNG seed (default 1)')
    .option('--lockdep', 'build the lock dependency graph and report cycles')
    .option('--hold-time', 'measure lock hold times (lock_stat holdtime columns; costs two clock reads per acquisition)')
    .option('--no-populate', "leave the machine buffer's host pages unmapped at boot (by default every page is touched first, as MAP_POPULATE, so host first-touch faults are not timed as simulated work)")
    .option('--clock <clock>', `host (workers run at once, host time) or virtual (one CPU at a time in virtual-time order, timed by a cost table; deterministic, up to ${MAX_CPUS_VIRTUAL} CPUs); default host`)
    .option('--quantum <ns>', `virtual clock: how far a CPU may run ahead of the next-lowest clock before handing over, virtual ns (0 = strict order; default ${DEFAULT_QUANTUM_NS})`)
    .option('--topology <SxC>', "virtual clock: sockets x cores per socket, e.g. 2x28 (default: the cost table's)")
    .option('--cost <file|preset>', `virtual clock: cost table, a JSON file or a preset (${COST_PRESETS.join(', ')}; default ${DEFAULT_COST_PRESET})`)
    .option('--config <file>', 'JSON config file (config fields, workload, region, duration, ops; or a results JSON)')
    .option('--json <file>', 'write the results JSON here');
}

/** The parts of a plan that do not depend on the CPU count or the workload variant. */
export interface PlanBase {
  cfg: Record<string, unknown>;
  /** config keys set by the file or a flag (derived defaults leave them alone) */
  userKeys: Set<string>;
  workload: string;
  /** spec fields from the file, or --region */
  spec: Record<string, unknown>;
  durationMs?: number;
  opsPerCpu?: number;
}

export interface RunPlan {
  config: Config;
  spec: WorkloadSpec;
  durationMs?: number;
  opsPerCpu?: number;
}

function intArg(flag: string, v: string, min: number): number {
  if (!/^\s*-?\d+\s*$/.test(v)) throw new CliError(`${flag}: not an integer: ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min) throw new CliError(`${flag}: must be >= ${min} (got ${n})`);
  return n;
}

/** --cpus for one run: a single integer (validated by config: >= 1). */
export function parseCpus(v: string): number {
  if (v.includes(',')) throw new CliError(`--cpus: one CPU count expected, got ${JSON.stringify(v)} (scale takes a list)`);
  if (!/^\s*-?\d+\s*$/.test(v)) throw new CliError(`--cpus: not an integer: ${JSON.stringify(v)}`);
  return Number(v);
}

/** --cpus for scale: "1,2,4", ascending, distinct. */
export function parseCpuList(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim());
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) throw new CliError(`--cpus: not a list of CPU counts: ${JSON.stringify(v)} (e.g. 1,2,4)`);
    const n = Number(p);
    if (n < 1) throw new CliError(`--cpus: CPU counts must be >= 1 (got ${n})`);
    if (out.length && n <= out[out.length - 1]!) throw new CliError(`--cpus: CPU counts must increase (got ${v})`);
    out.push(n);
  }
  return out;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`--config ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CliError(`--config ${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CliError(`--config ${file}: expected a JSON object`);
  return v as Record<string, unknown>;
}

/**
 * Merge defaults, the config file and flags (everything but the CPU count
 * and the workload variant, which scale varies).
 */
export function planBase(o: SharedOpts, d: { workload: string; duration: number }): PlanBase {
  let cfg: Record<string, unknown> = {};
  let spec: Record<string, unknown> = {};
  let workload: string | undefined;
  let duration: unknown;
  let ops: unknown;
  if (o.config) {
    const f = readConfigFile(o.config);
    if (f.config && typeof f.config === 'object' && !Array.isArray(f.config)) {
      // a results JSON: repeat its run
      cfg = { ...(f.config as Record<string, unknown>) };
      const w = f.workload as Record<string, unknown> | undefined;
      if (w && typeof w === 'object') {
        const { name, ...rest } = w;
        workload = typeof name === 'string' ? name : undefined;
        spec = rest;
      }
      const stop = f.stop as { durationMs?: number; opsPerCpu?: number } | undefined;
      if (stop?.durationMs !== undefined) duration = stop.durationMs / 1000;
      if (stop?.opsPerCpu !== undefined) ops = stop.opsPerCpu;
    } else {
      const { workload: w, region, duration: du, ops: op, ...rest } = f;
      cfg = rest;
      if (typeof w === 'string') workload = w;
      else if (w && typeof w === 'object') {
        const { name, ...r } = w as Record<string, unknown>;
        if (typeof name === 'string') workload = name;
        spec = r;
      } else if (w !== undefined) throw new CliError(`--config ${o.config}: workload must be a name or an object`);
      if (region !== undefined) spec.regionBytes = sizeArg(`--config ${o.config}: region`, region);
      duration = du;
      ops = op;
    }
  }
  if (o.cpus !== undefined) cfg.cpus = parseCpus(o.cpus);
  if (o.mem !== undefined) cfg.mem = o.mem;
  if (o.swap !== undefined) cfg.swap = o.swap;
  if (o.rmap !== undefined) cfg.rmap = o.rmap;
  if (o.locks !== undefined) cfg.locks = o.locks;
  if (o.lockImpl !== undefined) cfg.lockImpl = o.lockImpl;
  if (o.policy !== undefined) cfg.policy = o.policy;
  if (o.seed !== undefined) cfg.seed = intArg('--seed', o.seed, 0);
  virtualClockFlags(o, cfg);
  if (o.lockdep) cfg.lockdep = true;
  if (o.holdTime) cfg.holdTime = true;
  cfg.populate = o.populate !== false;
  if (o.region !== undefined) spec.regionBytes = sizeArg('--region', o.region);
  if (o.workload !== undefined) workload = o.workload;
  if (o.pattern !== undefined) {
    if (!(PRESSURE_PATTERNS as readonly string[]).includes(o.pattern))
      throw new CliError(`--pattern: unknown pattern '${o.pattern}' (${PRESSURE_PATTERNS.join(', ')})`);
    if ((workload ?? d.workload) !== 'pressure') throw new CliError('--pattern: applies to the pressure workload only (--workload pressure)');
    spec.pattern = o.pattern;
  }
  if (o.duration !== undefined && o.ops !== undefined) throw new CliError('--duration and --ops are exclusive: give one');
  // a flag beats the file; in the file, ops beats duration
  if (o.ops !== undefined) [ops, duration] = [o.ops, undefined];
  else if (o.duration !== undefined) [ops, duration] = [undefined, o.duration];
  const base: PlanBase = { cfg, userKeys: new Set(Object.keys(cfg)), workload: workload ?? d.workload, spec };
  if (ops !== undefined) {
    base.opsPerCpu = intArg('--ops', String(ops), 1);
  } else {
    const s = duration === undefined ? d.duration : Number(duration);
    if (!Number.isFinite(s) || s <= 0) throw new CliError(`--duration: seconds > 0 expected, got ${JSON.stringify(duration)}`);
    base.durationMs = s * 1000;
  }
  return base;
}

/** --clock, --quantum, --topology, --cost into cfg; a virtual clock's cost table is loaded here (CostError: exit 2). */
function virtualClockFlags(o: SharedOpts, cfg: Record<string, unknown>): void {
  if (o.clock !== undefined) {
    if (!(CLOCKS as readonly string[]).includes(o.clock)) throw new CliError(`--clock: host or virtual expected, got ${JSON.stringify(o.clock)}`);
    cfg.clock = o.clock;
  }
  if (o.quantum !== undefined) {
    const q = Number(o.quantum);
    if (o.quantum.trim() === '' || !Number.isFinite(q) || q < 0) throw new CliError(`--quantum: virtual ns >= 0 expected, got ${JSON.stringify(o.quantum)}`);
    cfg.quantum = q;
  }
  if (o.topology !== undefined) {
    if (!parseTopology(o.topology)) throw new CliError(`--topology: SOCKETSxCORES expected (e.g. 2x28), got ${JSON.stringify(o.topology)}`);
    cfg.topology = o.topology;
  }
  if (o.cost !== undefined) cfg.cost = o.cost;
  if (cfg.clock !== 'virtual') {
    for (const k of ['quantum', 'topology', 'cost'] as const) {
      if (o[k] !== undefined) throw new CliError(`--${k}: applies to the virtual clock only (add --clock virtual)`);
    }
    return;
  }
  try {
    Object.assign(cfg, resolveCost(cfg));
  } catch (e) {
    if (e instanceof CostError) throw new CliError(e.message);
    throw e;
  }
}

function sizeArg(flag: string, v: unknown): number {
  const n = parseSize(v as string | number);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`${flag}: not a size: ${JSON.stringify(v)} (use e.g. 16M)`);
  return n;
}

function validate(cfg: Record<string, unknown>): Config {
  try {
    return makeConfig(cfg);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message);
    throw e;
  }
}

const WIS = /^(page_fault[123]|mmap1)_(processes|threads)$/;

/** The will-it-scale test a workload name belongs to ("page_fault1"), or undefined. */
export function willItScaleBase(name: string): string | undefined {
  const m = WIS.exec(name);
  return m ? m[1] : /^(page_fault[123]|mmap1)$/.test(name) ? name : undefined;
}

const pow2Floor = (x: number) => 2 ** Math.floor(Math.log2(Math.max(1, x)));

/**
 * A validated plan for `cpus` CPUs running `workload`. `sizeForCpus`: the CPU
 * count the default region is sized for (scale: the largest of the sweep,
 * so every point does the same work per loop).
 */
export function finishPlan(b: PlanBase, cpus: number | undefined, workload: string, sizeForCpus?: number): RunPlan {
  const cfg: Record<string, unknown> = { ...b.cfg };
  if (cpus !== undefined) cfg.cpus = cpus;
  const c0 = validate(cfg);
  const wl = workloadByName(workload);
  if (!wl) {
    const base = willItScaleBase(workload);
    const hint = base && base === workload ? ` (did you mean ${base}_processes or ${base}_threads?)` : '';
    throw new CliError(`unknown workload '${workload}'${hint}; known: ${WORKLOAD_NAMES.join(', ')}`);
  }
  const spec: WorkloadSpec = { name: workload, ...b.spec };
  const test = willItScaleBase(workload);
  if (test && test !== 'mmap1' && spec.regionBytes === undefined) {
    const per = c0.mem / (sizeForCpus ?? c0.cpus);
    const frac = test === 'page_fault1' ? 2 : 4;
    spec.regionBytes = Math.max(PAGE, Math.min(128 * MiB, pow2Floor(per / frac)));
  }
  if (test === 'page_fault2' || test === 'page_fault3') {
    const pages = Math.ceil(Number(spec.regionBytes ?? 128 * MiB) / PAGE);
    if (!b.userKeys.has('filePages') && pages > c0.filePages) {
      cfg.filePages = pages;
      if (!b.userKeys.has('maxFiles')) cfg.maxFiles = Math.max(c0.cpus + 4, 8);
    }
  }
  if (workload === 'random') {
    // the stress tests' sizes: small files and tables, so a random stream touches everything often
    if (!b.userKeys.has('filePages')) cfg.filePages = 64;
    if (!b.userKeys.has('maxVma')) cfg.maxVma = 2048;
    if (!b.userKeys.has('maxMm')) cfg.maxMm = 64;
  }
  const config = validate(cfg);
  const need = wl.minMemPerCpu(spec);
  if (need * config.cpus > config.mem) {
    throw new CliError(
      `memory too small for ${workload}: it needs ${fmtSize(need)} per CPU × ${config.cpus} CPU(s) = ${fmtSize(need * config.cpus)}, mem is ${fmtSize(config.mem)} (raise --mem or lower --region)`,
    );
  }
  return { config, spec, durationMs: b.durationMs, opsPerCpu: b.opsPerCpu };
}
