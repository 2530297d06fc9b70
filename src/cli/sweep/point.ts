/*
 * sweep/point.ts — run one sweep point: `smpvm run --config POINT --json OUT`
 * in a child process, the same command a user would type.
 *
 * A child per point keeps every point a fresh machine and a fresh process
 * (no pool, buffer or module state carried from one configuration to the
 * next), lets a point be killed without taking the sweep down, and makes a
 * local sweep and a queue worker run points identically.
 *
 * Outcomes: `done` — the run finished and wrote its results JSON (whether
 * its checks passed is in the results: a failed invariant is a result, not
 * an error); `bad` — the run refused the point (exit 2: the config is wrong,
 * running it again cannot help); `crashed` — anything else (killed, no
 * results written): worth another try. Not shared memory; no locking.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SweepPoint } from './grid.js';
import type { RunResults } from '../../sim/results.js';

export type PointOutcome =
  | { status: 'done'; results: RunResults }
  | { status: 'bad'; message: string }
  | { status: 'crashed'; message: string };

/** The compiled CLI beside this module (dist/src/cli.js); under tsx, the .ts CLI through tsx. */
function cliCommand(): { cmd: string; args: string[] } {
  const here = dirname(fileURLToPath(import.meta.url));
  const js = resolve(here, '..', '..', 'cli.js');
  if (existsSync(js)) return { cmd: process.execPath, args: [js] };
  return { cmd: process.execPath, args: ['--import', 'tsx', resolve(here, '..', '..', 'cli.ts')] };
}

/** The last line of a child's stderr that says what went wrong ("smpvm: …" without the prefix). */
function lastError(stderr: string): string {
  const lines = stderr.trim().split('\n').filter((l) => l.trim() !== '' && !l.startsWith('warning:'));
  return (lines[lines.length - 1] ?? '').replace(/^smpvm: /, '').slice(0, 300);
}

/**
 * Run one point in `dir` (its config and results files are named by its
 * hash). `signal` aborts it (the child is killed, the outcome is crashed).
 */
export function runPoint(p: SweepPoint, dir: string, signal?: AbortSignal): Promise<PointOutcome> {
  mkdirSync(dir, { recursive: true });
  const cfgFile = join(dir, `${p.hash}.config.json`);
  const out = join(dir, `${p.hash}.json`);
  const tmp = `${out}.part`;
  writeFileSync(cfgFile, JSON.stringify(p.config, null, 2) + '\n');
  rmSync(tmp, { force: true });
  const { cmd, args } = cliCommand();
  return new Promise((ok) => {
    const child = spawn(cmd, [...args, 'run', '--config', cfgFile, '--json', tmp], { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-8192);
    });
    child.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code !== 'ABORT_ERR') stderr += `\n${e.message}`;
    });
    child.on('close', (code, sig) => {
      if (code === 2) return ok({ status: 'bad', message: lastError(stderr) || 'bad input (exit 2)' });
      if ((code === 0 || code === 1) && existsSync(tmp)) {
        try {
          const results = JSON.parse(readFileSync(tmp, 'utf8')) as RunResults;
          renameSync(tmp, out); // whole or absent: a resumed sweep never reads half a file
          return ok({ status: 'done', results });
        } catch (e) {
          return ok({ status: 'crashed', message: `results unreadable: ${(e as Error).message}` });
        }
      }
      rmSync(tmp, { force: true });
      ok({ status: 'crashed', message: sig ? `killed by ${sig}` : lastError(stderr) || `exit ${code}` });
    });
  });
}

/** A point's results already in `dir` (a resumed sweep), or undefined. */
export function existingResults(p: SweepPoint, dir: string): RunResults | undefined {
  const f = join(dir, `${p.hash}.json`);
  if (!existsSync(f)) return undefined;
  try {
    const r = JSON.parse(readFileSync(f, 'utf8')) as RunResults;
    return r.kind === 'run' ? r : undefined;
  } catch {
    return undefined; // a torn file from an interrupted write: run the point again
  }
}
