/*
 * sweep/local.ts — run a sweep's points on this machine: at most `jobs`
 * points at once (at most one per host core: a point's simulated CPUs are
 * host threads, and two points on one core would time each other), each a
 * child process (sweep/point.ts).
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
import type { Io } from '../cli/io.js';
import { progressBar } from '../cli/progress.js';

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
  let next = 0;
  const report = (p: SweepPoint, s: PointState) => {
    finished++;
    const el = performance.now() - t0;
    const eta = (el / finished) * (total - finished);
    const what = s.status === 'done' ? `${Math.round(s.results.opsPerSec).toLocaleString('en-US')} ops/s` : `${s.status}: ${s.message}`;
    bar.update(finished / total, `sweep ${finished}/${total}`);
    if (!io.isTTY) io.err(`sweep: [${finished}/${total}] ${pointLabel(p)}: ${what}${finished < total ? ` (ETA ${fmtS(eta)})` : ''}\n`);
  };
  const lane = async () => {
    while (next < todo.length && !o.signal?.aborted) {
      const p = todo[next++]!;
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
      if (o.signal?.aborted) return; // an interrupted point is missing, not failed: a resume runs it
      states.set(p.hash, s!);
      report(p, s!);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(o.jobs, total) }, lane));
  } finally {
    bar.stop();
  }
}
