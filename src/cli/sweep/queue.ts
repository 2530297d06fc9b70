/*
 * sweep/queue.ts — a sweep across machines through BullMQ on Redis
 * (DESIGN.md §6: points are jobs on an existing queue, never a home-made
 * scheduler).
 *
 *   submitter  `smpvm sweep GRID --queue redis://H:P`: adds each point not
 *              already in its folder as a job whose id is the point's hash,
 *              follows the jobs, writes each finished point's results into
 *              the folder, then merges (sweep/merge.ts).
 *   worker     `smpvm worker --queue redis://H:P`, on any number of machines:
 *              takes jobs, runs each point as `smpvm run` would
 *              (sweep/point.ts) and returns its results JSON, kept by Redis
 *              as the job's return value (or, with --store DIR, written there
 *              and the path returned).
 *
 * What BullMQ guarantees and what it is used for: a job id is unique in its
 * queue, so adding a point twice (a resumed or repeated submit) adds nothing
 * and a point is never run to completion twice; a job completes only under
 * the lock of the worker that holds it, and a worker renews that lock while
 * it lives, so a killed worker's point is moved back to the wait list by the
 * stalled-job check after `lockDuration` and taken up by another worker;
 * `attempts` bounds the retries of a point that crashed, while a point the
 * run refuses (bad config, exit 2) fails at once (UnrecoverableError).
 *
 * Redis going away: the clients reconnect by themselves; the submitter says
 * so on stderr when the connection drops and when it is back, and gives up
 * after `waitS` seconds without Redis with a message that names what is kept
 * (every finished point is already in the folder: the same command resumes).
 * Not shared memory; no locking.
 */
import { Queue, Worker, UnrecoverableError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, type Io } from '../io.js';
import type { SweepPoint } from './grid.js';
import type { PointState } from './merge.js';
import { runPoint } from './point.js';
import { pointLabel, pointsDir } from './local.js';
import type { RunResults } from '../../sim/results.js';

export const QUEUE_NAME = 'smpvm-sweep';

/** What a worker returns for a finished point. */
type PointReturn = { results: RunResults } | { file: string };
interface PointJob {
  hash: string;
  config: Record<string, unknown>;
  at: Record<string, unknown>;
}

const BAD = 'bad config: ';

/** Parse `redis://[user:pass@]host:port[/db]` into ioredis options; CliError naming the flag otherwise. */
/** The connection fields a redis:// URL gives (as both ioredis and BullMQ take them). */
interface RedisConn {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  maxRetriesPerRequest: null;
}

export function redisOptions(url: string): { opts: RedisConn; label: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(`--queue: not a URL: ${JSON.stringify(url)} (use redis://HOST:PORT)`);
  }
  if (u.protocol !== 'redis:' || !u.hostname) throw new CliError(`--queue: ${JSON.stringify(url)} is not a redis://HOST:PORT URL`);
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new CliError(`--queue: database ${JSON.stringify(u.pathname.slice(1))} is not a number`);
  return {
    opts: {
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port,
      db,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      maxRetriesPerRequest: null,
    },
    label: `redis://${u.hostname}:${port}${db ? `/${db}` : ''}`,
  };
}

/** Ping Redis once within `ms`; CliError (exit 2) naming the URL if it does not answer. */
export async function checkReachable(o: { opts: RedisConn; label: string }, ms = 3000): Promise<void> {
  const c = new Redis({ ...o.opts, lazyConnect: true, connectTimeout: ms, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  let cause: NodeJS.ErrnoException | undefined;
  c.on('error', (e: NodeJS.ErrnoException) => (cause ??= e));
  try {
    await c.connect();
    await c.ping();
  } catch (e) {
    const why = cause ?? (e as NodeJS.ErrnoException);
    throw new CliError(`--queue: cannot reach ${o.label} (${why.code ?? why.message})`);
  } finally {
    c.disconnect();
  }
}

export interface QueueSweepOpts {
  url: string;
  dir: string;
  attempts: number;
  /** seconds to wait for a Redis that went away before giving up */
  waitS: number;
  signal?: AbortSignal;
}

/** Submit the points not yet in `states`, follow them to the end, and fill `states`. */
export async function runQueueSweep(io: Io, points: SweepPoint[], states: Map<string, PointState>, o: QueueSweepOpts): Promise<void> {
  const ro = redisOptions(o.url);
  await checkReachable(ro);
  const conn = new Redis({ ...ro.opts });
  let lostAt = 0;
  let giveUp: ((e: Error) => void) | undefined;
  const gaveUp = new Promise<never>((_, rej) => (giveUp = rej));
  gaveUp.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  conn.on('error', () => {});
  let closing = false;
  conn.on('close', () => {
    if (lostAt || closing) return;
    lostAt = Date.now();
    io.err(`sweep: lost ${ro.label}; waiting up to ${o.waitS} s for it (finished points are kept in ${o.dir})\n`);
    timer = setTimeout(() => {
      const done = [...states.values()].filter((s) => s.status === 'done').length;
      giveUp!(new CliError(`--queue: ${ro.label} unreachable for ${o.waitS} s; ${done} of ${points.length} points done and kept in ${o.dir}: run the same command again to resume`, 1));
    }, o.waitS * 1000);
  });
  conn.on('ready', () => {
    if (!lostAt) return;
    io.err(`sweep: ${ro.label} is back after ${((Date.now() - lostAt) / 1000).toFixed(1)} s; resuming\n`);
    lostAt = 0;
    clearTimeout(timer);
  });
  const queue = new Queue<PointJob, PointReturn>(QUEUE_NAME, { connection: conn });
  queue.on('error', () => {});
  const pending = new Map<string, SweepPoint>();
  // the job id is the point's hash: adding a point already on the queue adds nothing
  const add = (p: SweepPoint) =>
    queue.add(p.hash, { hash: p.hash, config: p.config, at: p.at }, { jobId: p.hash, attempts: o.attempts, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
  try {
    const follow = async () => {
      for (const p of points) {
        if (states.has(p.hash)) continue;
        const job = await queue.getJob(p.hash);
        const state = job ? await job.getState() : 'unknown';
        if (job && state === 'failed' && !job.failedReason?.startsWith(BAD)) await job.retry('failed'); // a resumed sweep tries crashed points again
        else if (!job || state === 'unknown') await add(p);
        pending.set(p.hash, p);
      }
      io.err(`sweep: ${pending.size} points on ${ro.label} (queue ${QUEUE_NAME}), ${points.length - pending.size} already in ${o.dir}; start workers with: smpvm worker --queue ${ro.label}\n`);
      const total = pending.size;
      let finished = 0;
      while (pending.size && !o.signal?.aborted) {
        for (const [hash, p] of pending) {
          const job = await queue.getJob(hash);
          if (!job) {
            // gone from the queue (a Redis that came back empty, or someone cleaned it): add it again
            await add(p);
            continue;
          }
          const state = await job.getState();
          let s: PointState | undefined;
          if (state === 'completed') s = { status: 'done', results: readReturn(job.returnvalue) };
          else if (state === 'failed' && (job.failedReason?.startsWith(BAD) || job.attemptsMade >= o.attempts)) {
            s = job.failedReason?.startsWith(BAD)
              ? { status: 'bad', message: job.failedReason.slice(BAD.length) }
              : { status: 'failed', message: `${job.failedReason} (after ${job.attemptsMade} attempts)` };
          }
          if (!s) continue;
          if (s.status === 'done') writeFileSync(join(pointsDir(o.dir), `${hash}.json`), JSON.stringify(s.results, null, 2) + '\n');
          states.set(hash, s);
          pending.delete(hash);
          finished++;
          io.err(`sweep: [${finished}/${total}] ${pointLabel(p)}: ${s.status === 'done' ? `${Math.round(s.results.opsPerSec).toLocaleString('en-US')} ops/s` : `${s.status}: ${s.message}`}\n`);
        }
        if (pending.size) await new Promise((r) => setTimeout(r, 300));
      }
    };
    mkdirSync(pointsDir(o.dir), { recursive: true });
    await Promise.race([follow(), gaveUp]);
  } finally {
    closing = true;
    clearTimeout(timer);
    await queue.close().catch(() => {});
    conn.disconnect();
  }
}

function readReturn(v: PointReturn): RunResults {
  if ('results' in v) return v.results;
  return JSON.parse(readFileSync(v.file, 'utf8')) as RunResults;
}

export interface WorkerOpts {
  url: string;
  /** write results here and return the path (a folder every machine sees), instead of returning them through Redis */
  store?: string;
  concurrency: number;
  /** ms a point's lock lives without renewal: how soon a crashed worker's point is taken up again */
  lockMs: number;
  signal: AbortSignal;
}

/** `smpvm worker`: take points off the queue and run them until `signal`. */
export async function runQueueWorker(io: Io, o: WorkerOpts): Promise<void> {
  const ro = redisOptions(o.url);
  await checkReachable(ro);
  const scratch = mkdtempSync(join(tmpdir(), 'smpvm-worker-'));
  if (o.store) mkdirSync(o.store, { recursive: true });
  const worker = new Worker<PointJob, PointReturn>(
    QUEUE_NAME,
    async (job: Job<PointJob, PointReturn>) => {
      const p: SweepPoint = job.data;
      io.err(`worker: running ${pointLabel(p)} (attempt ${job.attemptsMade + 1})\n`);
      const r = await runPoint(p, o.store ?? scratch, o.signal);
      if (r.status === 'bad') throw new UnrecoverableError(`${BAD}${r.message}`);
      if (r.status === 'crashed') throw new Error(r.message);
      io.err(`worker: ${pointLabel(p)}: ${Math.round(r.results.opsPerSec).toLocaleString('en-US')} ops/s\n`);
      return o.store ? { file: join(o.store, `${p.hash}.json`) } : { results: r.results };
    },
    { connection: { ...ro.opts }, concurrency: o.concurrency, lockDuration: o.lockMs, stalledInterval: Math.max(1000, Math.round(o.lockMs / 2)), maxStalledCount: 3 },
  );
  worker.on('error', () => {});
  worker.on('failed', (job, e) => job && io.err(`worker: ${pointLabel(job.data)}: ${e.message}\n`));
  io.err(`worker: taking points from ${ro.label} (queue ${QUEUE_NAME}), ${o.concurrency} at a time${o.store ? `, results into ${o.store}` : ''}\n`);
  await new Promise<void>((ok) => (o.signal.aborted ? ok() : o.signal.addEventListener('abort', () => ok(), { once: true })));
  // force: do not wait for the running point (its child is killed by the signal); its lock expires
  // and the stalled-job check hands it to another worker
  await worker.close(true);
  rmSync(scratch, { recursive: true, force: true });
}
