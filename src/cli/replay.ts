/*
 * cli/replay.ts — `smpvm replay FILE...`: page-reference traces through a
 * replacement policy (issue 7).
 *
 *   one CPU (default)   the deterministic single-thread replay engine
 *                       (reclaim/replay/): every memory size in --mem, the
 *                       textbook fifo / lru / clock and 2q, clockpro,
 *                       clockpro-approx; a miss is any reference to a page
 *                       not resident (first touches included), a refault a
 *                       miss on a page evicted earlier.
 *   --cpus N            the SMP machine: N CPUs of one machine, each
 *                       replaying one trace (N FILE arguments) or one of N
 *                       contiguous slices of one trace, in its own process
 *                       (workload/tracewl.ts), with kswapd, under the
 *                       machine policy of the same name — fifo and lru have
 *                       none (no kernel keeps an exact LRU: it would move a
 *                       page on every reference) and are refused; clock
 *                       maps to the machine's `clock` (LaHaise's page clock
 *                       over mem_map, whose hand sweeps pfn order, not
 *                       insertion order). Memory is --mem pages (a machine
 *                       needs at least 256), swap is sized to hold every
 *                       page, swap read-ahead is off so that each swap-in is
 *                       one major fault (the one-CPU replay has no
 *                       read-ahead either). A miss is a major fault or a
 *                       page's first touch; results are counts from the
 *                       machine's vmstat, not deterministic (the CPUs
 *                       really run concurrently), checked by the invariant
 *                       checker and the content oracle.
 *
 * Trace lines: `R|W <hex page>` or one key per line, `#` comments, .gz and
 * .zst by magic number (workload/trace.ts); or a binary trace, smpvm's own
 * or libCacheSim's oracleGeneral (--format, workload/trace_bin.ts). A
 * malformed line or record is an error naming the file and the line or
 * record (exit 2), as is every bad flag (parseReplayFlags).
 * The machine mode lives in cli/replay_machine.ts, loaded only for it.
 */
import { checkOutput, writeJsonOutput } from './outputs.js';
import type { Command } from 'commander';
import { readTrace, TraceError, TRACE_FORMATS, type TraceFormat } from '../workload/trace.js';
import type { PageTrace } from '../reclaim/page_trace.js';
import { replay, REPLAY_POLICIES, type ReplayPolicy, type ReplayResult } from '../reclaim/replay/index.js';
import type { MachineReplayResult } from './replay_machine.js';

export type { MachineReplayResult, MachineReplaySize } from './replay_machine.js';
import type { PolicyName, RmapSchemeName } from '../config.js';
import { CliError, EXIT_FAIL, EXIT_OK, type Io } from './io.js';
import { intProblem, oneOfProblem } from '../config_messages.js';
import { textTable } from '../report/table.js';

export interface ReplayOpts {
  policy?: string;
  mem?: string;
  json?: string;
  cpus?: string;
  refaultActivation?: boolean;
  rmap?: string;
  seed?: string;
  format?: string;
}

/** Replay policy → machine policy for --cpus > 1 (undefined: none). */
export const MACHINE_POLICY: Record<ReplayPolicy, PolicyName | undefined> = {
  fifo: undefined,
  lru: undefined,
  clock: 'clock',
  '2q': '2q',
  clockpro: 'clockpro',
  'clockpro-approx': 'clockpro-approx',
};

/** Smallest machine --cpus > 1 can build (config.mem >= 1 MiB). */
export const MACHINE_MIN_PAGES = 256;

export interface TraceReplayResult extends ReplayResult {
  version: number;
  kind: 'replay';
  mode: 'trace';
  tool: string;
  date: string;
}

/**
 * The flags of `replay`, checked in this order, each error one line naming
 * the flag with config.ts's wording (int(), oneOf()). By hand, not by a zod
 * schema: zod and config.ts took 35-45 ms to load, a fifth of a whole
 * replay process on a small binary trace (issue 20 item 5; README.md).
 * --cpus is the host-clock machine's bound (64). --rmap and --seed are the
 * machine config's own fields, checked by config.ts's schema, which is loaded
 * only when one of them is given or --cpus > 1.
 */
export interface ReplayFlags {
  policy: ReplayPolicy;
  mem: number[];
  cpus: number;
  rmap: RmapSchemeName;
  seed: number;
  format: TraceFormat;
  refaultActivation: boolean;
  json?: string;
}

/** An integer flag in [min, max] (config.ts's int(), same wording: config_messages.ts). */
function intFlag(flag: string, raw: string, min: number, max: number): number {
  const why = intProblem(raw, min, max);
  if (why !== null) throw new CliError(`${flag}: ${why}`);
  return Number(raw);
}

/** A flag naming one of `names` (config.ts's oneOf()). */
function oneOfFlag<T extends string>(flag: string, raw: string, names: readonly T[]): T {
  const why = oneOfProblem(raw, names);
  if (why !== null) throw new CliError(`${flag}: ${why}`);
  return raw as T;
}

/** Parse replay's flags, or throw the CliError naming the flag. */
export async function parseReplayFlags(o: ReplayOpts): Promise<ReplayFlags> {
  const policy = o.policy === undefined ? 'clockpro' : oneOfFlag('--policy', o.policy, REPLAY_POLICIES);
  if (o.mem === undefined) throw new CliError('--mem: give the memory size(s) in pages, e.g. --mem 1000,2000');
  const mem = o.mem.split(',').map((x) => intFlag('--mem', x.trim(), 1, Number.MAX_SAFE_INTEGER));
  const cpus = o.cpus === undefined ? 1 : intFlag('--cpus', o.cpus, 1, 64);
  let rmap: RmapSchemeName = 'objrmap';
  let seed = 1;
  if (o.rmap !== undefined || o.seed !== undefined || cpus > 1) {
    const { CONFIG_FIELDS, issueLine } = await import('../config.js');
    const r = CONFIG_FIELDS.rmap.removeDefault().default('objrmap').safeParse(o.rmap);
    if (!r.success) throw new CliError(issueLine(r.error, () => '--rmap'));
    const sd = CONFIG_FIELDS.seed.safeParse(o.seed);
    if (!sd.success) throw new CliError(issueLine(sd.error, () => '--seed'));
    rmap = r.data;
    seed = sd.data;
  }
  const format = o.format === undefined ? 'auto' : oneOfFlag('--format', o.format, TRACE_FORMATS);
  return { policy, mem, cpus, rmap, seed, format, refaultActivation: o.refaultActivation === true, ...(o.json === undefined ? {} : { json: o.json }) };
}

async function load(file: string, format: TraceFormat): Promise<PageTrace> {
  try {
    return await readTrace(file, format);
  } catch (e) {
    if (e instanceof TraceError) throw new CliError(e.message);
    const err = e as NodeJS.ErrnoException;
    throw new CliError(`${file}: cannot read (${err.code ?? err.message})`);
  }
}

const writeJson = (file: string, v: unknown) => writeJsonOutput('--json', file, v);

/* ---- one CPU: the replay engine ---- */

function printTraceReplay(io: Io, r: ReplayResult): void {
  const t = r.trace;
  const opt = Object.keys(r.options).length ? ` (${Object.entries(r.options).map(([k, v]) => `${k} ${v}`).join(', ')})` : '';
  io.out(`replay ${t.name}: ${t.refs} references, ${t.distinctPages} distinct pages, ${t.writes} writes; policy ${r.policy}${opt}, 1 CPU\n`);
  const rows = r.sizes.map((s) => [s.pages, s.refs, s.misses, s.missRatio.toFixed(4), s.refaults, s.evictions, s.writebacks]);
  io.out(textTable(['pages', 'refs', 'misses', 'miss ratio', 'refaults', 'evictions', 'writebacks'], rows) + '\n');
}

/* ---- the command ---- */

export async function cmdReplay(io: Io, files: string[], opts: ReplayOpts): Promise<number> {
  const o = await parseReplayFlags(opts);
  const { policy, mem: sizes, cpus } = o;
  if (o.refaultActivation && policy !== '2q') throw new CliError('--refault-activation: only for --policy 2q');
  if (files.length === 0) throw new CliError('replay: no trace file given');
  if (cpus === 1 && files.length > 1) throw new CliError(`replay: ${files.length} traces need --cpus ${files.length} (one CPU each)`);
  if (cpus > 1 && files.length > 1 && files.length !== cpus) throw new CliError(`replay: ${files.length} traces for --cpus ${cpus}: give one trace per CPU, or one trace to slice`);
  let machinePolicy: PolicyName | undefined;
  if (cpus > 1) {
    machinePolicy = MACHINE_POLICY[policy];
    if (!machinePolicy) throw new CliError(`--policy ${policy}: no machine policy implements it; with --cpus > 1 use clock, 2q, clockpro or clockpro-approx`);
    const small = sizes.find((p) => p < MACHINE_MIN_PAGES);
    if (small !== undefined) throw new CliError(`--mem: ${small} pages is too small for a machine (--cpus > 1 needs at least ${MACHINE_MIN_PAGES} pages = 1 MiB)`);
  }
  if (o.json) checkOutput('--json', o.json);
  const traces: PageTrace[] = [];
  for (const f of files) traces.push(await load(f, o.format));
  // an empty trace replays to zero references: say so rather than print a table of zeros silently
  for (let i = 0; i < files.length; i++) if (traces[i]!.length === 0) io.err(`smpvm: warning: ${files[i]}: the trace has no page references\n`);
  if (cpus === 1) {
    const r = replay(traces[0]!, { policy, pages: sizes, ...(o.refaultActivation ? { refaultActivation: true } : {}) });
    printTraceReplay(io, r);
    if (o.json) {
      const { TOOL, RESULTS_VERSION } = await import('../sim/results.js'); // the simulator's modules only when they are needed
      const out: TraceReplayResult = { version: RESULTS_VERSION, kind: 'replay', mode: 'trace', tool: TOOL, date: new Date().toISOString(), ...r };
      writeJson(o.json, out);
      io.out(`\nresults: ${o.json}\n`);
    }
    return EXIT_OK;
  }
  const { machineReplay, printMachineReplay } = await import('./replay_machine.js');
  const r: MachineReplayResult = await machineReplay(traces, policy, machinePolicy!, sizes, cpus, o);
  printMachineReplay(io, r, files.length === 1);
  if (o.json) {
    writeJson(o.json, r);
    io.out(`\nresults: ${o.json}\n`);
  }
  const bad = r.sizes.find((s) => !s.checker.ok || !s.oracle.ok);
  if (bad) {
    const why = !bad.checker.ok ? `invariant checker: ${bad.checker.violations[0]}` : `content oracle: ${bad.oracle.failures[0]}`;
    throw new CliError(`${bad.pages} pages: ${why}`, EXIT_FAIL);
  }
  return EXIT_OK;
}

/** Add `replay` to the program (src/cli.ts). */
export function addReplayCommand(p: Command, io: Io, done: (code: number) => void): void {
  p.command('replay')
    .description('replay page-reference traces through a replacement policy at one or more memory sizes; miss ratio and refaults per size')
    .argument('<file...>', "trace files: 'R|W <hex page>' or one key per line; .gz / .zst accepted")
    .option('--policy <p>', `${REPLAY_POLICIES.join(', ')} (default clockpro)`)
    .option('--mem <pages>', 'memory size(s) in pages, comma-separated: 1000,2000 (required)')
    .option('--json <file>', 'write the results JSON here')
    .option('-c, --cpus <n>', 'replay N traces (or N slices of one) on N CPUs of one machine, with kswapd (default 1: the deterministic replay)')
    .option('--refault-activation', '2q: activate refaults within nr_active (mm/workingset.c)')
    .option('--rmap <scheme>', `--cpus > 1: the machine's reverse-mapping scheme (default objrmap)`)
    .option('--seed <n>', '--cpus > 1: the machine seed (default 1)')
    .option('--format <f>', `trace format: ${TRACE_FORMATS.join(', ')} (default auto: smpvm's magic number, else oracleGeneral if the file name says so, else text)`)
    .addHelpText('after', '\nWith --cpus > 1, fifo and lru are refused (no machine policy); clock is the machine\'s page clock (LaHaise).')
    .action(async (files: string[], o: ReplayOpts) => done(await cmdReplay(io, files, o)));
}
