/*
 * sweep/local.ts — run a sweep's points on this machine, each a child
 * process (sweep/point.ts), within a budget of `jobs` host cores: under the
 * host clock a point takes as many cores as it has simulated CPUs (each is a
 * spinning host thread, and two points sharing a core would time each other
 * and their lock holders would be preempted), under the virtual clock one
 * (one simulated CPU runs at a time). Points start in grid order.
 *
 * Resume: a point whose results file is already in the folder is not run
 * again, so an interrupted sweep started again runs only what is missing.
 * A point the run refused (bad config) is recorded and not retried; one that
 * crashed is tried again up to `attempts` times. Progress goes to stderr: a
 * bar with an ETA on a terminal, otherwise one line per finished point.
 * `signal` (Ctrl-C) kills the running points and returns what finished.
 * Not shared memory; no locking.
 */
import { join } from 'node:path';
import type { SweepPoint } from './grid.js';
import { existingResults, runPoint } from './point.js';
import type { PointState } from './merge.js';
import type { Io } from '../io.js';
import { progressBar } from '../progress.js';

export interface LocalSweepOpts {
  dir: string;
  jobs: number;
  attempts: number;
  signal?: AbortSignal;
}

export const pointsDir = (dir: string) => join(dir, 'points');

/** Describe a point in one short line: its axis values. */
export const pointLabel = (p: SweepPoint) =>
  Object.entries(p.at)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');

/** Points already finished in `dir` (resume), keyed by hash. */
export function resumeStates(points: SweepPoint[], dir: string): Map<string, PointState> {
  const states = new Map<string, PointState>();
  for (const p of points) {
    const r = existingResults(p, pointsDir(dir));
    if (r) states.set(p.hash, { status: 'done', results: r });
  }
  return states;
}

const fmtS = (ms: number) => (ms >= 60_000 ? `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s` : `${Math.round(ms / 1000)} s`);

export async function runLocalSweep(io: Io, points: SweepPoint[], states: Map<string, PointState>, o: LocalSweepOpts): Promise<void> {
  const todo = points.filter((p) => !states.has(p.hash));
  const total = todo.length;
  if (total === 0) return;
  const bar = progressBar(io, true, 'sweep');
  const t0 = performance.now();
  let finished = 0;
  const report = (p: SweepPoint, s: PointState) => {
    finished++;
    const el = performance.now() - t0;
    const eta = (el / finished) * (total - finished);
    const what = s.status === 'done' ? `${Math.round(s.results.opsPerSec).toLocaleString('en-US')} ops/s` : `${s.status}: ${s.message}`;
    bar.update(finished / total, `sweep ${finished}/${total}`);
    if (!io.isTTY) io.err(`sweep: [${finished}/${total}] ${pointLabel(p)}: ${what}${finished < total ? ` (ETA ${fmtS(eta)})` : ''}\n`);
  };
  // host cores a point keeps busy: its CPUs under the host clock (each a spinning thread),
  // one under the virtual clock (one simulated CPU runs at a time)
  const weight = (p: SweepPoint) => (p.config.clock === 'virtual' ? 1 : Math.min(o.jobs, Math.max(1, Number(p.config.cpus ?? 2))));
  let free = o.jobs;
  let wake: (() => void) | undefined;
  const one = async (p: SweepPoint) => {
    let s: PointState | undefined;
    for (let attempt = 1; attempt <= o.attempts && !o.signal?.aborted; attempt++) {
      const r = await runPoint(p, pointsDir(o.dir), o.signal);
      if (r.status === 'done') s = { status: 'done', results: r.results };
      else if (r.status === 'bad') s = { status: 'bad', message: r.message };
      else {
        s = { status: 'failed', message: `${r.message} (attempt ${attempt} of ${o.attempts})` };
        continue;
      }
      break;
    }
    // an interrupted point is missing, not failed: a resume runs it
    if (!o.signal?.aborted && s) {
      states.set(p.hash, s);
      report(p, s);
    }
  };
  const running = new Set<Promise<void>>();
  try {
    // in grid order: the next point starts once the cores it needs are free
    for (const p of todo) {
      if (o.signal?.aborted) break;
      const w = weight(p);
      while (free < w && !o.signal?.aborted) await new Promise<void>((r) => (wake = r));
      if (o.signal?.aborted) break;
      free -= w;
      const run: Promise<void> = one(p).finally(() => {
        free += w;
        running.delete(run);
        wake?.();
      });
      running.add(run);
    }
    await Promise.all(running);
  } finally {
    bar.stop();
  }
}
