#!/usr/bin/env node
/*
 * cli.ts — the `smpvm` command (commander 14).
 *
 *   smpvm run       one config: summary, lock_stat, perf lock contention, vmstat
 *   smpvm scale     repeat over CPU counts (processes vs threads): will-it-scale CSV + chart
 *   smpvm profile   a traced run: Chrome/Perfetto trace + folded lock-wait stacks
 *   smpvm stress    random op streams under each lock scheme, checker + oracle + lockdep
 *   smpvm start     the main job (`npm start`): a page_fault1 scale + a profile
 *   smpvm replay    page-reference traces through a replacement policy (cli/replay.ts)
 *   smpvm trace     convert traces: text, smpvm binary, libCacheSim oracleGeneral (cli/trace.ts)
 *   smpvm rmap-cost what each reverse-mapping scheme costs (cli/rmap-cost.ts, bench/rmap.ts)
 *   smpvm migrate-cost what moving a specific page costs (cli/migrate-cost.ts, bench/migrate.ts)
 *   smpvm report    one HTML page of charts from results JSON (cli/report.ts, report/html.ts)
 *   smpvm sweep     every point of a grid, locally or on a BullMQ queue (cli/sweep.ts, sweep/)
 *   smpvm worker    run sweep points off the queue, on any machine
 *
 * Exit codes: 0 ok; 1 the run failed (a CPU threw, an invariant or the
 * oracle failed, lockdep reported); 2 bad input (flags, config file,
 * workload, sizes). Errors are one line on stderr, never a stack trace
 * (SMPVM_DEBUG=1 adds the stack of an unexpected error).
 *
 * main(argv, io) is exported so tests run the CLI in-process.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { CliError, EXIT_FAIL, EXIT_USAGE, processIo, type Io } from './cli/io.js';
import type { RunOpts, ScaleOpts, ProfileOpts, StartOpts } from './cli/commands.js';
import type { StressOpts } from './cli/stress.js';

/**
 * Commands that are whole without the rest of the program: `smpvm replay`
 * and `smpvm trace` start with only their own modules, each loaded for its
 * own command alone (issue 20 item 5: a whole replay process is timed against
 * libCacheSim's; loading the simulator's run, report and sweep code cost it
 * about 0.3 s of CPU, and zod with config.ts, which trace's flags use, 35-45 ms).
 */
type AddCommand = (p: Command, io: Io, done: (code: number) => void) => void;
const STANDALONE: Record<string, () => Promise<AddCommand>> = {
  replay: async () => (await import('./cli/replay.js')).addReplayCommand,
  trace: async () => (await import('./cli/trace.js')).addTraceCommand,
};

async function program(io: Io, done: (code: number) => void, first: string | undefined): Promise<Command> {
  const p = new Command('smpvm')
    .description('SMP simulator of a Linux 2.4/2.6-era VM core: scaling runs, lock contention, stress tests')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => write(`smpvm: ${errorLine(s.replace(/^error: /, '').trim())}\n`),
    })
    .showSuggestionAfterError(true);

  const standalone = first !== undefined && Object.hasOwn(STANDALONE, first) ? STANDALONE[first] : undefined;
  if (standalone) {
    (await standalone())(p, io, done);
    return p;
  }
  const [{ addSharedOptions, COMMANDS }, commands, stressCmd, { addRmapCostCommand }, { addReportCommand }, { addSweepCommands }, { addCalibrateCommand }, { addMigrateCostCommand }] = await Promise.all([
    import('./cli/options.js'),
    import('./cli/commands.js'),
    import('./cli/stress.js'),
    import('./cli/rmap-cost.js'),
    import('./cli/report.js'),
    import('./cli/sweep.js'),
    import('./cli/calibrate.js'),
    import('./cli/migrate-cost.js'),
  ]);
  const { cmdRun, cmdScale, cmdProfile, cmdStart, PROFILE_TRACE_RING, START_DURATION } = commands;
  const { cmdStress, injectHelp, INJECT } = stressCmd;

  addSharedOptions(p.command('run').description('run one configuration; print a summary, lock_stat, perf lock contention and vmstat'), COMMANDS.run)
    .option('--all', "print every vmstat counter (not only those that moved) and, on a terminal too, lock_stat in the kernel's full-width layout")
    .option(
      '--swapoff-at <seconds>',
      'run swapoff on CPU 0 this many seconds into the run, between two of its steps, while the other CPUs keep faulting (host seconds; with --clock virtual, virtual seconds of the run clock); must fall inside --duration; the area stays off after a success, ENOMEM leaves it on (default: never)',
    )
    .action(async (o: RunOpts) => done(await cmdRun(io, o)));

  addSharedOptions(
    p.command('scale').description("repeat a run over CPU counts (will-it-scale: processes vs threads); print runtest.py's CSV and a chart"),
    COMMANDS.scale,
  )
    .option('--csv <file>', 'write the scaling CSV here')
    .action(async (o: ScaleOpts) => done(await cmdScale(io, o)));

  addSharedOptions(
    p.command('profile').description('a traced run: Chrome/Perfetto trace (one track per CPU) and folded stacks of lock wait time'),
    COMMANDS.profile,
  )
    .option('--trace <file>', 'Chrome/Perfetto trace JSON (default smpvm-trace.json)')
    .option('--folded <file>', 'folded lock-wait stacks (default smpvm-wait.folded)')
    .option('--trace-ring <n>', `trace ring entries per CPU; the ring keeps the latest (default ${PROFILE_TRACE_RING})`)
    .action(async (o: ProfileOpts) => done(await cmdProfile(io, o)));

  addSharedOptions(
    p.command('stress').description('random op streams under each lock scheme with checkpoints, checker, oracle and lockdep; non-zero exit on a violation'),
    COMMANDS.stress,
  )
    .option('--checkpoints <n>', 'stop-the-world invariant checks during each run (default 3)')
    .option('--inject <bug>', `plant a bug to see the stress test catch it (${Object.keys(INJECT).join(', ')}; each on its own settings, below) (default: none)`)
    .addHelpText('after', injectHelp())
    .action(async (o: StressOpts) => done(await cmdStress(io, o)));

  (await STANDALONE.replay!())(p, io, done); // issue 7: smpvm replay (cli/replay.ts)
  (await STANDALONE.trace!())(p, io, done); // issue 20: smpvm trace convert (cli/trace.ts)

  p.command('start')
    .description('the main job: page_fault1 processes vs threads at 1 and 2 CPUs, then a profile; writes JSON, CSV and a trace')
    .option('--out <dir>', 'where the files go (default results/start)')
    .option('-d, --duration <seconds>', `seconds per scale point (default ${START_DURATION})`)
    .option('--virtual-cpus <list>', 'CPU counts of the virtual-clock curve (default 1,2,4,8,16,32,64)')
    .action(async (o: StartOpts) => done(await cmdStart(io, o)));

  addRmapCostCommand(p, io, done);
  addMigrateCostCommand(p, io, done); // issue 19: moving a specific page, per rmap scheme and migrate method
  addCalibrateCommand(p, io, done); // issue 17: the host's cost table for the virtual clock
  addReportCommand(p, io, done);
  addSweepCommands(p, io, done);

  return p;
}

/**
 * One line of an error message as it may be printed: its first line, with
 * control bytes (a binary file's contents echoed back, an escape sequence)
 * shown as \xNN instead of reaching the terminal.
 */
export const errorLine = (msg: string) =>
  // eslint-disable-next-line no-control-regex
  msg.split('\n')[0]!.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** Run the CLI on argv (without "node smpvm"); resolves to the exit code. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let code = 0;
  const p = await program(io, (c) => (code = c), argv[0]);
  try {
    if (argv.length === 0) {
      p.outputHelp();
      return EXIT_USAGE;
    }
    await p.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; every usage error exits 2 (commander already printed its one line)
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (e instanceof CliError) {
      io.err(`smpvm: ${errorLine(e.message)}\n`);
      return e.exitCode;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    io.err(`smpvm: ${errorLine(err.message)}\n`);
    if (process.env.SMPVM_DEBUG) io.err(`${err.stack}\n`);
    return EXIT_FAIL;
  }
}

const isEntry = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (isEntry) {
  // `smpvm run | head`: a closed pipe ends the command quietly, as it would a C tool
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
