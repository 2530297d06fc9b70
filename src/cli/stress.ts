/*
 * cli/stress.ts — `smpvm stress`: random op streams under each lock scheme
 * with stop-the-world checkpoints, the invariant checker, the content
 * oracle and lockdep; and `--inject BUG`, which plants one bug and runs it
 * on the settings that expose it (INJECT below).
 *
 * Each planted bug needs its own ground to show: a missing zone or LRU lock
 * corrupts the lists on any busy run, but a missing pte lock only races when
 * another CPU (kswapd, direct reclaim) unmaps the same ptes, a skipped
 * swap_duplicate only shows once pages go to swap and come back through a
 * fork's child, and a migration that does not copy only when pages migrate
 * (compaction, which the random stream's compactRate asks for) and are read
 * again, and a missing TLB shootdown only when another CPU (kswapd, direct
 * reclaim) unmaps a page this CPU's TLB still maps. So each entry names its machine, its stream and its schemes; flags
 * still override them. A planted run stops at the first scheme that catches
 * the bug (exit 1 with the seed); the output names the bug on its first line.
 *
 * The default run is under memory pressure (COMMANDS.stress: 512 KiB of RAM
 * per CPU — 1 MiB for the default 2 — with 16 MiB of swap; STRESS_PRESSURE's stream:
 * big regions, many touches, swapoff/swapon now and then), so reclaim,
 * swap-out and swap-in of private and shared anonymous pages, swapoff and
 * migration all run beside the faults. --swap 0 turns it off: the stream's
 * default shape on 16 MiB without swap (or the user's --mem).
 *
 * Why not under bkl: no_pte_lock — every fault and every unmap already runs
 * under kernel_flag there (the pte lock *is* kernel_flag), so dropping it
 * changes nothing.
 */
import { z } from 'zod';
import { INJECTIONS, LOCK_SCHEMES, CONFIG_FIELDS, int, oneOf, fmtBytes, type ConfigInput, type LockSchemeName } from '../config.js';
import { RESULTS_VERSION, TOOL, type RunResults } from '../sim/results.js';
import { fmtInt } from '../report/summary.js';
import { planBase, finishPlan, parseField, COMMANDS, type SharedOpts, type CommandDefaults } from './options.js';
import { execute, failureOf, warn, colors } from './commands.js';
import { checkOutput, writeJsonOutput } from './outputs.js';
import { progressBar, LONG_RUN_MS } from './progress.js';
import { CliError, EXIT_FAIL, EXIT_OK, type Io } from './io.js';

type Bug = Exclude<(typeof INJECTIONS)[number], 'none'>;

interface InjectPlan {
  /** what the bug breaks, and what catches it */
  what: string;
  /** machine fields (under the user's file and flags) */
  config: ConfigInput;
  /** random-stream fields */
  spec: Record<string, unknown>;
  /** in this order: the scheme that shows it soonest first */
  locks: readonly LockSchemeName[];
  /** seconds per scheme, if not the command's 3 */
  duration?: number;
}

/** The default stream under swap: big regions, many touches, few wild accesses, a swapoff/swapon every ~500 steps per CPU. */
export const STRESS_PRESSURE: Record<string, unknown> = { filesPerCpu: 1, maxRegionPages: 96, touchesPerStep: 32, segvRate: 0.005, swapoffRate: 0.002 };

/** The machine of `smpvm stress --swap 0`: no swap, no pressure. */
const NO_SWAP_MEM = 16 << 20;
/** RAM per CPU under pressure, unless --mem (the reclaim stress tests' 1 MiB for 2 CPUs) */
const PRESSURE_MEM_PER_CPU = 512 << 10;

/** Memory pressure: 1 MiB for 2 CPUs with 8 MiB of swap, big regions, many touches, few wild accesses. */
const PRESSURE: Pick<InjectPlan, 'config' | 'spec'> = {
  config: { mem: '1M', swap: '8M', policy: 'swapout', filePages: 128, maxVma: 1024, maxMm: 64 },
  spec: { filesPerCpu: 1, maxRegionPages: 96, touchesPerStep: 32, segvRate: 0.005 },
};

export const INJECT: Record<Bug, InjectPlan> = {
  no_zone_lock: {
    what: 'the buddy allocator runs without zone->lock: the free lists tear (checker, allocator BUG_ONs)',
    config: { mem: '16M', swap: 0 },
    spec: {},
    locks: ['2.4'],
  },
  no_lru_lock: {
    what: 'the LRU lists are changed without the LRU lock: lists and counts tear (checker)',
    config: { mem: '16M', swap: 0 },
    spec: {},
    locks: ['2.4', 'split'],
  },
  no_pte_lock: {
    what: 'faults and reclaim change ptes without the pte lock: a pte table loses count of its entries (free_pte_table, checker)',
    ...PRESSURE,
    locks: ['2.4', 'split'],
    // a race with reclaim on the same pte table: measured caught within 2-8 s under 2.4 (seeds 1-3)
    duration: 10,
  },
  no_swap_dup: {
    what: "fork copies a swap pte without swap_duplicate: a slot is freed while the child still names it (swap_free, checker)",
    ...PRESSURE,
    locks: ['split', '2.4', 'bkl'],
  },
  no_migrate_copy: {
    what: 'page migration moves the page but not its 4 KiB of data: a migrated page reads stale (content oracle)',
    config: PRESSURE.config,
    spec: { ...PRESSURE.spec, compactRate: 0.05 },
    locks: ['split', '2.4', 'bkl'],
  },
  no_shmem_swp: {
    what: "shmem write-out does not record the swap entry in the inode's index: the next fault zero-fills a page whose data went to swap (content oracle)",
    ...PRESSURE,
    locks: ['split', '2.4', 'bkl'],
  },
  free_under_writeback: {
    what: 'reclaim frees a swap-cache page whose asynchronous write is still in flight: the device completes on a freed or reused page (end_page_writeback BUG, checker, content oracle)',
    config: { ...PRESSURE.config, swapWriteout: 'async' },
    spec: PRESSURE.spec,
    locks: ['split', '2.4', 'bkl'],
  },
  no_tlb_flush: {
    what: "an unmap flushes only its own CPU's TLB, no shootdown IPI: another CPU keeps using the old translation after reclaim freed and reused the frame (content oracle)",
    ...PRESSURE,
    locks: ['split', '2.4', 'bkl'],
  },
};

/** The --inject list for help: each bug and the settings it runs on. */
export function injectHelp(): string {
  const lines = Object.entries(INJECT).map(([bug, p]) => {
    const cfg = Object.entries(p.config).map(([k, v]) => (k === 'mem' || k === 'swap' ? `--${k} ${v}` : k === 'policy' ? `--policy ${v}` : `${k} ${v}`));
    const spec = Object.entries(p.spec).map(([k, v]) => `${k} ${v}`);
    const on = [`--locks ${p.locks.join(',')}`, ...(p.duration ? [`--duration ${p.duration}`] : []), ...cfg, ...(spec.length ? [`random stream ${spec.join(', ')}`] : [])].join('; ');
    return `  ${bug.padEnd(16)} ${p.what}\n  ${''.padEnd(16)} runs on: ${on}`;
  });
  const d = COMMANDS.stress.config;
  return (
    `\nThe default machine here is --mem ${fmtBytes(PRESSURE_MEM_PER_CPU)} per CPU (${fmtBytes(d.mem as number)} for 2), --swap ${fmtBytes(d.swap as number)}: memory pressure, random streams with big regions (maxRegionPages ${STRESS_PRESSURE.maxRegionPages}, touchesPerStep ${STRESS_PRESSURE.touchesPerStep}) and a swapoff/swapon now and then (swapoffRate ${STRESS_PRESSURE.swapoffRate}); lockdep on; each scheme of --locks runs in turn. --swap 0 runs the stream's default shape on ${fmtBytes(NO_SWAP_MEM)} without swap (unless --mem).\n` +
    `\n--inject BUG plants one bug and runs it where it shows (your flags still win); the run stops at the first scheme that catches it, exit 1 with the seed:\n${lines.join('\n')}\n`
  );
}

export interface StressOpts extends SharedOpts {
  checkpoints?: string;
  inject?: string;
}

const schemeList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()))
  .pipe(z.array(oneOf(LOCK_SCHEMES)).min(1));

export async function cmdStress(io: Io, o: StressOpts): Promise<number> {
  const bug = o.inject === undefined ? 'none' : parseField(oneOf(INJECTIONS), o.inject, '--inject');
  const planted = bug === 'none' ? undefined : INJECT[bug];
  let d: CommandDefaults = planted
    ? { ...COMMANDS.stress, duration: planted.duration ?? COMMANDS.stress.duration, config: { ...COMMANDS.stress.config, ...planted.config, inject: bug } }
    : COMMANDS.stress;
  const schemes = o.locks !== undefined ? parseField(schemeList, o.locks, '--locks') : (planted?.locks ?? LOCK_SCHEMES);
  const checkpoints = o.checkpoints === undefined ? 3 : parseField(int(0, 1000), o.checkpoints, '--checkpoints');
  let base = planBase({ ...o, locks: undefined }, d);
  // --swap 0 (or a planted bug's machine without swap): no pressure — the old 16 MiB machine unless --mem
  const swapField = base.cfg.swap ?? d.config.swap;
  const swapless = parseField(CONFIG_FIELDS.swap, swapField, base.from.get('swap') ?? 'swap') === 0;
  const cpus = parseField(CONFIG_FIELDS.cpus, base.cfg.cpus ?? d.config.cpus ?? CONFIG_FIELDS.cpus.parse(undefined), base.from.get('cpus') ?? 'cpus');
  const mem = swapless ? NO_SWAP_MEM : planted ? d.config.mem : PRESSURE_MEM_PER_CPU * cpus;
  if (d.config.mem !== mem) {
    d = { ...d, config: { ...d.config, mem } };
    base = planBase({ ...o, locks: undefined }, d);
  }
  if (planted) base.spec = { ...planted.spec, ...base.spec };
  else if (!swapless) base.spec = { ...STRESS_PRESSURE, ...base.spec };
  const plans = schemes.map((locks) => finishPlan({ ...base, cfg: { ...base.cfg, locks } }, undefined, base.workload));
  if (o.json) checkOutput('--json', o.json);
  warn(io, plans[0]!.config);
  if (planted) io.out(`planted bug: ${bug} — ${planted.what}\n`);
  const all: RunResults[] = [];
  let failed: string | undefined;
  const long = plans.length > 1 || (plans[0]!.durationMs ?? 0) >= LONG_RUN_MS;
  const bar = progressBar(io, long, 'stress');
  try {
    for (let i = 0; i < plans.length && !(planted && failed); i++) {
      const p = plans[i]!;
      const { results } = await execute(p, { checkpoints, progress: (f) => bar.update((i + f) / plans.length, `stress ${p.config.locks}`) });
      all.push(results);
      const fail = failureOf(results);
      const v = results.vmstat;
      const swap = p.config.swap > 0 ? `, ${fmtBytes(p.config.mem)} + ${fmtBytes(p.config.swap)} swap (pswpout ${fmtInt(v.pswpout ?? 0)}, pswpin ${fmtInt(v.pswpin ?? 0)}, swapoff pages ${fmtInt(v.swapoff_pages ?? 0)})` : '';
      const line = `stress ${p.config.locks.padEnd(5)} ${fmtInt(results.loops)} ${p.spec.name} operations on ${p.config.cpus} CPUs${swap}, ${results.checker.checkpoints} stop-the-world checks, lockdep ${p.config.lockdep ? 'on' : 'off'}, seed ${p.config.seed}:`;
      if (fail) {
        const stop = p.opsPerCpu !== undefined ? `--ops ${p.opsPerCpu}` : `--duration ${(p.durationMs ?? 0) / 1000}`;
        const inject = planted ? ` --inject ${bug}` : '';
        const vc = p.config.cost;
        const clock =
          p.config.clock === 'virtual' && vc !== undefined && typeof vc !== 'string'
            ? ` --clock virtual --quantum ${p.config.quantum} --cost ${vc.name}${p.config.topology ? ` --topology ${p.config.topology}` : ''}`
            : '';
        io.out(
          `${line} ${colors(io).red(planted ? 'CAUGHT' : 'FAILED')}\n  ${fail}\n  reproduce: smpvm stress --locks ${p.config.locks} --lock-impl ${p.config.lockImpl} --rmap ${p.config.rmap} --cpus ${p.config.cpus} --seed ${p.config.seed} ${stop}${inject}${clock}\n`,
        );
        failed ??= planted
          ? `planted bug ${bug} caught under ${p.config.locks} (seed ${p.config.seed}): ${fail}`
          : `stress failed under ${p.config.locks} (seed ${p.config.seed}): ${fail}`;
      } else {
        io.out(`${line} ${planted ? colors(io).yellow(`not caught (planted bug ${bug})`) : colors(io).green('ok')}\n`);
      }
    }
  } finally {
    bar.stop();
  }
  if (planted && !failed) io.out(`planted bug ${bug} was NOT caught in ${plans.length} run(s): the checks missed it\n`);
  if (o.json) writeJsonOutput('--json', o.json, { version: RESULTS_VERSION, kind: 'stress', tool: TOOL, date: new Date().toISOString(), inject: bug, ok: !failed, runs: all });
  if (failed) throw new CliError(failed, EXIT_FAIL);
  return EXIT_OK;
}
