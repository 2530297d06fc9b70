/*
 * cli/options.ts — the flags every command shares, and how flags plus a
 * config file become one validated run plan (config + workload spec + stop
 * condition), parsed once by the schemas (config.ts CONFIG_FIELDS, each
 * workload's spec schema, RUN_FIELDS below).
 *
 * Precedence: the schema's defaults < the workload's machine defaults
 * (random: small files and tables) < the command's defaults (COMMANDS:
 * stress runs 512K per CPU (1M for the default 2) with 16M of swap — memory
 * pressure — lockdep on, or 16M
 * without swap given --swap 0; a planted bug its own machine)
 * < the --config FILE < flags.
 * The file is either a machine config object (config.ts fields) that may also
 * carry the run keys `workload` (a name, or a spec object), `region`,
 * `duration` (seconds) and `ops`, or a results JSON written by --json (its
 * `config` and `workload` are reused, so a run can be repeated from its
 * results).
 *
 * Flags map to fields declaratively (FLAGS): a new knob is one line there
 * and one option in addSharedOptions, whose help shows the default the plan
 * really uses (test/cli/help.test.ts compares them). Every bad input becomes
 * a CliError (exit 2) with one line naming where the value came from: the
 * flag the user typed (`--cpus: must be >= 1`) or the config file's field
 * (`config.cpus`, `config.workload.maxTasks`).
 *
 * Sizes chosen here so that defaults run in seconds and always fit:
 * page_fault* regions come from the memory per CPU (half of it for
 * page_fault1, a quarter for page_fault2/3, whose page-cache copy of the
 * file stays resident beside the region) unless --region is given; a
 * page_fault2/3 file is made at least as large as the region (filePages).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Command } from 'commander';
import {
  ConfigSchema,
  ConfigError,
  CONFIG_FIELDS,
  makeConfig,
  issueLine,
  fmtBytes,
  size,
  int,
  RMAP_SCHEMES,
  LOCK_SCHEMES,
  LOCK_IMPLS,
  MIGRATE_METHODS,
  POLICIES,
  type Config,
  type ConfigInput,
  MAX_CPUS_VIRTUAL,
  DEFAULT_QUANTUM_NS,
} from '../config.js';
import { resolveCost, parseTopology, CostError, COST_PRESETS, DEFAULT_COST_PRESET } from '../timing/index.js';
import { PRESSURE_PATTERNS } from '../workload/pressure.js';
import { workloadByName, parseSpec, WORKLOAD_NAMES, type WorkloadSpec } from '../workload/index.js';
import { WorkloadParamError } from '../workload/params.js';
import { CliError } from './io.js';

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
  migrateMethod?: string;
  tlbEntries?: string;
  pattern?: string;
  duration?: string;
  ops?: string;
  warmup?: string;
  seed?: string;
  config?: string;
  json?: string;
  param?: string[];
  lockdep?: boolean;
  holdTime?: boolean;
  populate?: boolean;
  /* issue 17: the virtual clock */
  clock?: string;
  quantum?: string;
  topology?: string;
  cost?: string;
  /* issue 18: swap write-out */
  writeout?: string;
  swapLatency?: string;
  swapBandwidth?: string;
  freeable?: boolean;
}

/** A command's defaults: the workload, the stop condition, and machine fields that differ from the schema's. */
export interface CommandDefaults {
  workload: string;
  /** seconds */
  duration: number;
  config: ConfigInput;
  /** a CPU list (scale) instead of config.cpus */
  cpuList?: string;
  /** a lock-scheme list (stress) instead of config.locks */
  locksList?: string;
}

/** Every command runs on a populated buffer unless --no-populate (host first-touch faults are not simulated work); the virtual clock's default is unpopulated (finishPlan). */
const CLI_CONFIG: ConfigInput = { populate: true };

export const COMMANDS = {
  run: { workload: 'page_fault1_processes', duration: 2, config: { ...CLI_CONFIG } },
  scale: { workload: 'page_fault1', duration: 2, config: { ...CLI_CONFIG }, cpuList: '1,2' },
  profile: { workload: 'page_fault1_threads', duration: 0.5, config: { ...CLI_CONFIG, traceRing: 1 << 16 } },
  // memory pressure: small RAM, swap, small files and tables (the stream's shape is stress.ts's STRESS_PRESSURE); lockdep on
  stress: {
    workload: 'random',
    duration: 3,
    config: { ...CLI_CONFIG, mem: 1 * MiB, swap: 16 * MiB, filePages: 128, maxVma: 1024, maxMm: 64, lockdep: true },
    locksList: LOCK_SCHEMES.join(','),
  },
} satisfies Record<string, CommandDefaults>;

/** A number of seconds from a flag or a file (a number, or a decimal string; `signed`: a leading minus is read, for the range check to name). */
const seconds = (signed: boolean) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : (signed ? /^\s*-?(\d+\.?\d*|\.\d+)\s*$/ : /^\s*(\d+\.?\d*|\.\d+)\s*$/).test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: 'custom', message: `not a number of seconds: ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

/** A duration in seconds (> 0). */
export const SECONDS = seconds(false).pipe(z.number().gt(0, 'must be > 0 seconds').max(86_400, 'must be at most 86400 seconds'));

/** A time into the run in seconds (>= 0): --swapoff-at. */
export const SECONDS_AT = seconds(true).pipe(z.number().min(0, 'must be >= 0 seconds (a time into the run)'));
const RUN_FIELDS = {
  region: size(PAGE, 1024 * MiB),
  duration: SECONDS,
  ops: int(1, 0x7fffffff),
  warmup: SECONDS,
};

/**
 * Flag → field, one line each: `to` says which object the value goes to
 * (the machine config, the workload spec, or the run keys), `field` its
 * name there; the schema of that field coerces and checks it.
 */
export const FLAGS = [
  { opt: 'cpus', flag: '--cpus', to: 'config', field: 'cpus' },
  { opt: 'mem', flag: '--mem', to: 'config', field: 'mem' },
  { opt: 'swap', flag: '--swap', to: 'config', field: 'swap' },
  { opt: 'rmap', flag: '--rmap', to: 'config', field: 'rmap' },
  { opt: 'locks', flag: '--locks', to: 'config', field: 'locks' },
  { opt: 'lockImpl', flag: '--lock-impl', to: 'config', field: 'lockImpl' },
  { opt: 'policy', flag: '--policy', to: 'config', field: 'policy' },
  { opt: 'migrateMethod', flag: '--migrate-method', to: 'config', field: 'migrateMethod' },
  { opt: 'tlbEntries', flag: '--tlb-entries', to: 'config', field: 'tlbEntries' },
  { opt: 'seed', flag: '--seed', to: 'config', field: 'seed' },
  { opt: 'lockdep', flag: '--lockdep', to: 'config', field: 'lockdep' },
  { opt: 'holdTime', flag: '--hold-time', to: 'config', field: 'holdTime' },
  { opt: 'populate', flag: '--no-populate', to: 'config', field: 'populate' },
  { opt: 'clock', flag: '--clock', to: 'config', field: 'clock' },
  { opt: 'quantum', flag: '--quantum', to: 'config', field: 'quantum' },
  { opt: 'topology', flag: '--topology', to: 'config', field: 'topology' },
  { opt: 'cost', flag: '--cost', to: 'config', field: 'cost' },
  { opt: 'writeout', flag: '--writeout', to: 'config', field: 'swapWriteout' },
  { opt: 'swapLatency', flag: '--swap-latency', to: 'config', field: 'swapLatencyUs' },
  { opt: 'swapBandwidth', flag: '--swap-bandwidth', to: 'config', field: 'swapBandwidth' },
  { opt: 'freeable', flag: '--freeable', to: 'config', field: 'freeable' },
  { opt: 'region', flag: '--region', to: 'spec', field: 'regionBytes' },
  { opt: 'pattern', flag: '--pattern', to: 'spec', field: 'pattern' },
  { opt: 'duration', flag: '--duration', to: 'run', field: 'duration' },
  { opt: 'ops', flag: '--ops', to: 'run', field: 'ops' },
  { opt: 'warmup', flag: '--warmup', to: 'run', field: 'warmup' },
] as const satisfies readonly { opt: keyof SharedOpts; flag: string; to: 'config' | 'spec' | 'run'; field: string }[];

/** The machine config the schema gives with no input (the defaults help prints). */
export const SCHEMA_DEFAULTS: Config = ConfigSchema.parse({});

/** A default as help prints it. */
const show = (field: keyof Config, d: CommandDefaults): string => {
  const v = (d.config as Record<string, unknown>)[field] ?? SCHEMA_DEFAULTS[field];
  return field === 'mem' || field === 'swap' ? (v === 0 ? '0: none' : fmtBytes(v as number)) : String(v);
};

/** Add the shared flags to a command; the defaults in the help are the ones the plan uses. */
export function addSharedOptions(cmd: Command, d: CommandDefaults): Command {
  return cmd
    .option('-w, --workload <name>', `workload (${WORKLOAD_NAMES.join(', ')}) (default ${d.workload})`)
    .option('-c, --cpus <n>', d.cpuList ? `simulated CPU counts, ascending (default ${d.cpuList})` : `simulated CPUs (default ${show('cpus', d)})`)
    .option('-m, --mem <size>', `simulated RAM, e.g. 256M (default ${show('mem', d)})`)
    .option('--swap <size>', `swap area, e.g. 64M, 0 for none (default ${show('swap', d)})`)
    .option('--region <size>', 'bytes each CPU maps per loop (page_fault*, mmap1/2, tlb_flush*) (default: from --mem / cpus, 128M for mmap*, 1M for tlb_flush2)')
    .option('-p, --param <key=value...>', 'workload parameters, e.g. -p size=64K mmapThreshold=256K (malloc*), residentBytes=8M (fork_big), processes=8 (shared_file), shmem=true (pressure)')
    .option('--rmap <scheme>', `reverse-mapping scheme (${RMAP_SCHEMES.join(', ')}) (default ${show('rmap', d)})`)
    .option(
      '--locks <scheme>',
      d.locksList ? `lock schemes to run, comma-separated (${LOCK_SCHEMES.join(', ')}) (default ${d.locksList})` : `lock scheme (${LOCK_SCHEMES.join(', ')}) (default ${show('locks', d)})`,
    )
    .option('--lock-impl <impl>', `lock implementation (${LOCK_IMPLS.join(', ')}) (default ${show('lockImpl', d)})`)
    .option('--policy <name>', `page replacement policy (${POLICIES.join(', ')}) (default ${show('policy', d)})`)
    .option('--migrate-method <m>', `how a page is moved (compaction): ${MIGRATE_METHODS.join(' or ')} — flip rewrites every pte through the rmap, swap goes through the swap cache (default ${show('migrateMethod', d)})`)
    .option('--tlb-entries <n>', `entries of each CPU's TLB, 4-way set-associative, a power of two (default ${show('tlbEntries', d)})`)
    .option('--pattern <name>', `access pattern of the pressure workload (${PRESSURE_PATTERNS.join(', ')}) (default uniform)`)
    .option('-d, --duration <seconds>', `run this long (default ${d.duration})`)
    .option('--ops <n>', 'or: run this many workload steps per CPU instead of a duration (default none)')
    .option('--warmup <seconds>', "the first seconds of --duration are run and not measured, as will-it-scale's warm-up (virtual seconds under the virtual clock) (default none)")
    .option('--seed <n>', `PRNG seed (default ${show('seed', d)})`)
    .option('--lockdep', `build the lock dependency graph and report cycles (default ${d.config.lockdep ? 'on' : 'off'})`)
    .option('--hold-time', 'measure lock hold times (lock_stat holdtime columns; costs two clock reads per acquisition) (default off)')
    .option('--no-populate', "leave the machine buffer's host pages unmapped at boot (by default every page is touched first, as MAP_POPULATE, so host first-touch faults are not timed as simulated work; under --clock virtual, which charges none, the default is unpopulated)")
    .option('--clock <clock>', `host (workers run at once, host time) or virtual (one CPU at a time in virtual-time order, timed by a cost table; deterministic, up to ${MAX_CPUS_VIRTUAL} CPUs); default host`)
    .option('--quantum <ns>', `virtual clock: how far a CPU may run ahead of the next-lowest clock before handing over, virtual ns (default ${DEFAULT_QUANTUM_NS}: strict order; above 0 saves host time but read up to 39% low and 128% high at 1000, README "Virtual time")`)
    .option('--topology <SxC>', "virtual clock: sockets x cores per socket, e.g. 2x28 (default: the cost table's)")
    .option('--cost <file|preset>', `virtual clock: cost table, a JSON file or a preset (${COST_PRESETS.join(', ')}; default ${DEFAULT_COST_PRESET})`)
    .option('--writeout <mode>', `swap write-out: sync (one page at a time, the writer sleeps) or async (clustered on consecutive slots, queued on the swap device, freed on a later pass) (default ${show('swapWriteout', d)})`)
    .option('--swap-latency <us>', `async write-out: the swap device's latency per request, microseconds, > 0 (default ${show('swapLatencyUs', d)})`)
    .option('--swap-bandwidth <MB/s>', `async write-out: the swap device's transfer rate, MB/s, > 0 (default ${show('swapBandwidth', d)})`)
    .option('--freeable', 'clock policy: keep a freeable queue of clean unmapped pages that an allocation takes without running reclaim (2.4-rmap inactive_clean) (default off)')
    .option('--config <file>', 'JSON config file (config fields, workload, region, duration, ops; or a results JSON)')
    .option('--json <file>', 'write the results JSON here');
}

/** The parts of a plan that do not depend on the CPU count or the workload variant. */
export interface PlanBase {
  /** machine fields from the file and the flags (the command's and workload's defaults go under them) */
  cfg: Record<string, unknown>;
  /** spec fields from the file and the flags */
  spec: Record<string, unknown>;
  /** who set each field ("config.mem", "--mem"): the name an error gives */
  from: Map<string, string>;
  workload: string;
  defaults: CommandDefaults;
  durationMs?: number;
  opsPerCpu?: number;
  /** the first ms of the run are not measured (will-it-scale's warm-up); only with durationMs */
  warmupMs?: number;
}

export interface RunPlan {
  config: Config;
  spec: WorkloadSpec;
  durationMs?: number;
  opsPerCpu?: number;
  warmupMs?: number;
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

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parse `v` with `schema`, or throw the CliError naming the field as `name`. */
export function parseField<T>(schema: z.ZodType<T>, v: unknown, name: string): T {
  const r = schema.safeParse(v);
  if (!r.success) throw new CliError(issueLine(r.error, () => name));
  return r.data;
}

/** A results JSON's config without the fields the schema derived (rmapPool, pageCluster) when they hold the derived value. */
function withoutDerived(c: Record<string, unknown>): Record<string, unknown> {
  const { rmapPool, pageCluster, ...rest } = c;
  const r = ConfigSchema.safeParse(rest);
  if (!r.success) return c; // the parse of the whole plan names the bad field
  return { ...rest, ...(rmapPool !== r.data.rmapPool ? { rmapPool } : {}), ...(pageCluster !== r.data.pageCluster ? { pageCluster } : {}) };
}

/** The config file's fields, split: machine fields, spec fields, run keys. */
function fromFile(file: string, base: PlanBase): { run: Record<string, unknown> } {
  const f = readConfigFile(file);
  const run: Record<string, unknown> = {};
  const putSpec = (k: string, v: unknown, name: string) => {
    base.spec[k] = v;
    base.from.set(`spec.${k}`, name);
  };
  let w: unknown;
  let cfg: Record<string, unknown>;
  if (isObject(f.config)) {
    // a results JSON: repeat its run (its derived fields only where they were set, so a flag that changes mem or rmap re-derives them)
    cfg = withoutDerived(f.config);
    w = f.workload;
    const stop = isObject(f.stop) ? f.stop : {};
    if (typeof stop.durationMs === 'number') run.duration = stop.durationMs / 1000;
    if (typeof stop.opsPerCpu === 'number') run.ops = stop.opsPerCpu;
    if (typeof stop.warmupMs === 'number') run.warmup = stop.warmupMs / 1000;
  } else {
    const { workload, region, duration, ops, warmup, ...rest } = f;
    cfg = rest;
    w = workload;
    if (region !== undefined) putSpec('regionBytes', parseField(RUN_FIELDS.region, region, 'config.region'), 'config.region');
    if (duration !== undefined) run.duration = parseField(RUN_FIELDS.duration, duration, 'config.duration');
    if (ops !== undefined) run.ops = parseField(RUN_FIELDS.ops, ops, 'config.ops');
    if (warmup !== undefined) run.warmup = parseField(RUN_FIELDS.warmup, warmup, 'config.warmup');
  }
  for (const [k, v] of Object.entries(cfg)) {
    base.cfg[k] = v;
    base.from.set(k, `config.${k}`);
  }
  if (typeof w === 'string') base.workload = w;
  else if (isObject(w)) {
    const { name, ...spec } = w;
    if (typeof name !== 'string') throw new CliError('config.workload.name: required (a workload name)');
    base.workload = name;
    for (const [k, v] of Object.entries(spec)) putSpec(k, v, `config.workload.${k}`);
  } else if (w !== undefined) throw new CliError('config.workload: must be a workload name or an object with a name');
  return { run };
}

/**
 * Merge the config file and flags (everything but the CPU count and the
 * workload variant, which scale varies) over the command's defaults `d`.
 */
export function planBase(o: SharedOpts, d: CommandDefaults): PlanBase {
  const base: PlanBase = { cfg: {}, spec: {}, from: new Map(), workload: d.workload, defaults: d };
  const run = o.config ? fromFile(o.config, base).run : {};
  let flagStop: 'duration' | 'ops' | undefined;
  for (const f of FLAGS) {
    const v = o[f.opt];
    if (v === undefined) continue;
    // a switch counts when given: --lockdep is true, --no-populate false (commander's default for it is true)
    if (typeof v === 'boolean' && v === (f.opt === 'populate')) continue;
    if (f.to === 'config') {
      if (f.field === 'cpus' && d.cpuList) continue; // scale: a list (cpuList)
      base.cfg[f.field] = v;
      base.from.set(f.field, f.flag);
    } else if (f.to === 'spec') {
      base.spec[f.field] = v;
      base.from.set(`spec.${f.field}`, f.flag);
    } else if (f.field === 'warmup') {
      run.warmup = parseField(RUN_FIELDS.warmup, v, f.flag);
    } else {
      if (flagStop) throw new CliError('--duration and --ops are exclusive: give one');
      flagStop = f.field;
      run.duration = f.field === 'duration' ? parseField(RUN_FIELDS.duration, v, f.flag) : undefined;
      run.ops = f.field === 'ops' ? parseField(RUN_FIELDS.ops, v, f.flag) : undefined;
    }
  }
  // the virtual clock's own knobs mean nothing to the host clock
  if ((base.cfg.clock ?? d.config.clock) !== 'virtual') {
    for (const k of ['quantum', 'topology', 'cost'] as const) {
      if (o[k] !== undefined) throw new CliError(`--${k}: applies to the virtual clock only (add --clock virtual)`);
    }
  }
  for (const kv of o.param ?? []) {
    const m = /^([A-Za-z][A-Za-z0-9]*)=(.+)$/.exec(kv);
    if (!m) throw new CliError(`--param: expected key=value, got ${JSON.stringify(kv)}`);
    base.spec[m[1]!] = /^\s*-?\d+(\.\d+)?\s*$/.test(m[2]!) ? Number(m[2]) : m[2] === 'true' ? true : m[2] === 'false' ? false : m[2]!;
    base.from.set(`spec.${m[1]}`, `--param ${m[1]}`);
  }
  if (o.workload !== undefined) {
    base.workload = o.workload;
    base.from.set('workload', '--workload');
  }
  // in the file, ops beats duration
  if (run.ops !== undefined) base.opsPerCpu = run.ops as number;
  else base.durationMs = ((run.duration as number | undefined) ?? d.duration) * 1000;
  if (run.warmup !== undefined) {
    const name = o.warmup !== undefined ? '--warmup' : 'config.warmup';
    // will-it-scale warms up for a time, then measures for a time: a warm-up needs a duration to sit in
    if (base.durationMs === undefined) throw new CliError(`${name}: needs --duration (a warm-up is a time, as will-it-scale's; not with --ops)`);
    base.warmupMs = (run.warmup as number) * 1000;
    if (base.warmupMs >= base.durationMs) throw new CliError(`${name}: ${run.warmup} s must be shorter than the duration (${base.durationMs / 1000} s)`);
  }
  return base;
}

const WIS_TESTS = '(page_fault[123]|mmap[12]|brk[12]|malloc[12]|tlb_flush[123])';
const WIS = new RegExp(`^${WIS_TESTS}_(processes|threads)$`);
const WIS_BARE = new RegExp(`^${WIS_TESTS}$`);

/** The will-it-scale test a workload name belongs to ("page_fault1"), or undefined. */
export function willItScaleBase(name: string): string | undefined {
  const m = WIS.exec(name);
  return m ? m[1] : WIS_BARE.test(name) ? name : undefined;
}

/** will-it-scale tests whose region the CLI sizes from the memory per CPU: 1/frac of it (the rest holds page cache, tables) */
const REGION_FRACTION: Record<string, number> = { page_fault1: 2, page_fault2: 4, page_fault3: 4, tlb_flush1: 4, tlb_flush3: 4 };
/** will-it-scale tests that map a file of the region's size (one per CPU) */
const FILE_TESTS = new Set(['page_fault2', 'page_fault3', 'mmap2', 'tlb_flush1', 'tlb_flush3']);

/** --cpus for scale: "1,2,4", ascending, distinct, each a valid config.cpus. */
export function parseCpuList(v: string): number[] {
  const list = parseField(
    z
      .string()
      .transform((s): (string | number)[] => s.split(',').map((x) => x.trim()))
      .pipe(z.array(CONFIG_FIELDS.cpus.removeDefault()).min(1))
      .refine((a: number[]) => a.every((n, i) => i === 0 || n > a[i - 1]!), 'CPU counts must increase (e.g. 1,2,4)'),
    v,
    '--cpus',
  );
  return list;
}

const pow2Floor = (x: number) => 2 ** Math.floor(Math.log2(Math.max(1, x)));

/** Parse the merged machine fields once, naming a bad field by who set it. */
function parseConfig(input: Record<string, unknown>, from: Map<string, string>): Config {
  try {
    return makeConfig(input, (path) => (path.length ? (from.get(String(path[0])) ?? `config.${path.join('.')}`) : 'config'));
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message);
    throw e;
  }
}

/**
 * A validated plan for `cpus` CPUs running `workload`. `sizeForCpus`: the CPU
 * count the default region is sized for (scale: the largest of the sweep,
 * so every point does the same work per loop).
 */
export function finishPlan(b: PlanBase, cpus: number | undefined, workload: string, sizeForCpus?: number): RunPlan {
  const wl = workloadByName(workload);
  if (!wl || wl.internal) {
    const base = willItScaleBase(workload);
    const hint = base && base === workload ? ` (did you mean ${base}_processes or ${base}_threads?)` : '';
    throw new CliError(`${b.from.get('workload') ?? 'config.workload'}: unknown workload '${workload}'${hint}; known: ${WORKLOAD_NAMES.join(', ')}`);
  }
  let input: Record<string, unknown> = { ...wl.machine, ...b.defaults.config, ...b.cfg };
  if (cpus !== undefined) input.cpus = cpus;
  // the virtual clock charges no host first-touch fault, so it boots unpopulated unless told (touching 256 MiB is ~0.2 host s a run)
  if (input.clock === 'virtual' && b.cfg.populate === undefined) input.populate = false;
  try {
    input = resolveCost(input); // a virtual clock's cost table (a preset or a file) is loaded and checked here
  } catch (e) {
    if (e instanceof CostError) throw new CliError(e.message);
    throw e;
  }
  let config = parseConfig(input, b.from);
  const fields: Record<string, unknown> = { ...b.spec };
  const test = willItScaleBase(workload);
  const userRegion = fields.regionBytes !== undefined;
  const frac = test ? REGION_FRACTION[test] : undefined;
  if (frac && !userRegion) {
    const per = config.mem / (sizeForCpus ?? config.cpus);
    fields.regionBytes = Math.max(PAGE, Math.min(128 * MiB, pow2Floor(per / frac)));
  }
  const r = parseSpec(wl, fields, config);
  if (!r.ok) {
    const issue = r.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const flag = b.from.get(`spec.${issue.keys[0]}`);
      if (flag?.startsWith('--')) throw new CliError(`${flag}: not a setting of workload ${workload}`);
      throw new CliError(`config.workload: unknown field(s) ${issue.keys.join(', ')} for workload ${workload}`);
    }
    throw new CliError(issueLine(r.error, (path) => b.from.get(`spec.${String(path[0])}`) ?? `config.workload.${path.join('.')}`));
  }
  const spec = r.spec;
  try {
    wl.validate?.(spec);
  } catch (e) {
    if (e instanceof WorkloadParamError) throw new CliError(e.message);
    throw e;
  }
  if (test && FILE_TESTS.has(test)) {
    // the file is at least as large as the region
    const pages = Math.ceil(Number(spec.regionBytes ?? 128 * MiB) / PAGE);
    if (!b.cfg.filePages && pages > config.filePages) {
      input.filePages = pages;
      if (!b.cfg.maxFiles) input.maxFiles = Math.max(config.cpus + 4, 8);
      config = parseConfig(input, b.from);
    }
  }
  const need = wl.minMemPerCpu(spec, config);
  if (wl.autoMem && b.cfg.mem === undefined && need * config.cpus > config.mem) {
    // a workload that states its memory (fork_big's resident parent) gets it when the user gave none
    input.mem = Math.ceil((need * config.cpus) / MiB) * MiB;
    config = parseConfig(input, b.from);
  }
  if (need * config.cpus > config.mem) {
    const region = userRegion ? ` or lower ${b.from.get('spec.regionBytes')}` : '';
    throw new CliError(
      `${b.from.get('mem') ?? 'mem'}: ${fmtBytes(config.mem)} is too small for ${workload}: it needs ${fmtBytes(need)} per CPU × ${config.cpus} CPU(s) = ${fmtBytes(need * config.cpus)} (raise it${region})`,
    );
  }
  return { config, spec, durationMs: b.durationMs, opsPerCpu: b.opsPerCpu, warmupMs: b.warmupMs };
}
