/*
 * cli/sweep.ts — `smpvm sweep GRID.json` and `smpvm worker`.
 *
 *   smpvm sweep GRID.json [--out DIR] [--jobs N]      points on this machine
 *   smpvm sweep GRID.json --queue redis://HOST:PORT   points as BullMQ jobs
 *   smpvm worker --queue redis://HOST:PORT            run jobs, on any machine
 *
 * The grid is read and every point checked before anything runs (a one-line
 * error naming the field, exit 2); the output folder and the queue URL are
 * checked before the first point too. Points already in the folder are kept
 * (resume). At the end: the merged table on stdout, sweep.json, sweep.csv and
 * report.html in the folder. Exit 1 if a point failed or its checks did.
 * Ctrl-C (SIGINT/SIGTERM) stops the running points; what finished is kept.
 */
import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { CliError, EXIT_FAIL, EXIT_OK, type Io } from './io.js';
import { GridError, gridPoints, parseGrid } from './sweep/grid.js';
import { resumeStates, runLocalSweep, pointsDir } from './sweep/local.js';
import { sweepTable, writeSweep } from './sweep/merge.js';
import { hostCores } from '../sim/results.js';

const int = (flag: string, v: string, min: number, max: number): number => {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isInteger(n)) throw new CliError(`${flag}: not an integer: ${JSON.stringify(v)}`);
  if (n < min || n > max) throw new CliError(`${flag}: must be between ${min} and ${max}, got ${n}`);
  return n;
};

function readGrid(file: string) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`grid ${JSON.stringify(file)}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new CliError(`grid ${JSON.stringify(file)}: not JSON (${(e as Error).message.replace(/[\x00-\x1f\x7f]/g, '?')})`);
  }
  try {
    return parseGrid(j);
  } catch (e) {
    if (e instanceof GridError) throw new CliError(e.message);
    throw e;
  }
}

/** Run `body` with SIGINT/SIGTERM turned into an abort (the handlers are removed after). */
async function interruptible<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await body(ac.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export interface SweepOpts {
  out?: string;
  jobs?: string;
  attempts: string;
  queue?: string;
  queueWait: string;
}

export async function cmdSweep(io: Io, gridFile: string, o: SweepOpts): Promise<number> {
  const g = readGrid(gridFile);
  const points = gridPoints(g);
  const cores = hostCores();
  const jobs = o.jobs === undefined ? cores : int('--jobs', o.jobs, 1, cores);
  const attempts = int('--attempts', o.attempts, 1, 100);
  const waitS = int('--queue-wait', o.queueWait, 1, 86_400);
  const dir = resolve(o.out ?? `sweep-${basename(gridFile).replace(/\.json$/i, '')}`);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new CliError(`--out: ${JSON.stringify(dir)} is a file, not a folder`);
  try {
    mkdirSync(pointsDir(dir), { recursive: true });
  } catch (e) {
    throw new CliError(`--out: cannot create ${JSON.stringify(dir)} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  // the queue code (bullmq, ~0.7 s to load) only when a queue is used: every other command starts without it
  const queue = o.queue ? await import('./sweep/queue.js') : undefined;
  if (queue && o.queue) await queue.checkReachable(queue.redisOptions(o.queue));
  const states = resumeStates(points, dir);
  io.err(
    `sweep: ${points.length} points (${g.axes.map(([k, v]) => `${k} ×${v.length}`).join(', ')}), ${states.size} already in ${dir}` +
      (o.queue ? '' : `, on ${jobs} of ${cores} host cores`) +
      '\n',
  );
  const interrupted = await interruptible(async (signal) => {
    if (queue && o.queue) await queue.runQueueSweep(io, points, states, { url: o.queue, dir, attempts, waitS, signal });
    else await runLocalSweep(io, points, states, { dir, jobs, attempts, signal });
    return signal.aborted;
  });
  const merged = await writeSweep(dir, g, points, states);
  io.out(sweepTable(g, merged.points));
  const missing = merged.points.filter((p) => p.status === 'missing').length;
  io.out(`sweep: ${dir}/sweep.json, sweep.csv, report.html (${merged.points.length - missing} of ${merged.points.length} points)\n`);
  if (interrupted) {
    io.err(`sweep: interrupted; ${missing} points not run: the same command resumes\n`);
    return 130;
  }
  const bad = merged.points.filter((p) => p.status !== 'done' || p.ok === false).length;
  return bad ? EXIT_FAIL : EXIT_OK;
}

export function addSweepCommands(p: Command, io: Io, done: (code: number) => void): void {
  p.command('sweep')
    .description('run every point of a grid (axes × fixed run fields): locally, or as jobs on a BullMQ queue; merged table, JSON, CSV and report')
    .argument('<grid>', 'grid JSON: {"fixed": {run fields}, "axes": {field: [values]}}')
    .option('-o, --out <dir>', 'the sweep folder: points/HASH.json per point, sweep.json, sweep.csv, report.html (default sweep-GRIDNAME)')
    .option('-j, --jobs <n>', 'host cores the local points may use: a host-clock point takes one per simulated CPU, a virtual-clock point one (default: every host core)')
    .option('--attempts <n>', 'tries of a point that crashed (a point the run refuses is not retried)', '3')
    .option('--queue <url>', 'put the points on a BullMQ queue at redis://HOST:PORT instead; `smpvm worker` runs them')
    .option('--queue-wait <s>', 'seconds to wait for a Redis that went away before giving up (finished points are kept)', '300')
    .action(async (grid: string, o: SweepOpts) => done(await cmdSweep(io, grid, o)));

  p.command('worker')
    .description('take sweep points off a BullMQ queue and run them (any number of machines); Ctrl-C to stop')
    .requiredOption('--queue <url>', 'redis://HOST:PORT of the sweep')
    .option('--store <dir>', 'write results into this folder (one every machine sees) instead of returning them through Redis')
    .option('--concurrency <n>', 'points at once (at most the host cores)', '1')
    .option('--lock-ms <ms>', "how long a point's lock lives unrenewed: how soon a crashed worker's point goes to another worker", '10000')
    .action(async (o: { queue: string; store?: string; concurrency: string; lockMs: string }) => {
      const concurrency = int('--concurrency', o.concurrency, 1, hostCores());
      const lockMs = int('--lock-ms', o.lockMs, 1000, 3_600_000);
      const { runQueueWorker } = await import('./sweep/queue.js');
      await interruptible((signal) => runQueueWorker(io, { url: o.queue, store: o.store, concurrency, lockMs, signal }));
      done(0);
    });
}
