/*
 * `smpvm sweep` and `smpvm worker` as a user runs them: real processes of
 * the compiled CLI (npm test builds first), a real redis-server on
 * 127.0.0.1 started by the test (Debian's redis-server, which .ci/run
 * installs).
 *
 * - local: interrupt a sweep, start it again, and only the missing points run;
 * - queue: a 6-point grid on two workers, one killed in the middle of a
 *   point: every point is present exactly once, and the merged rows equal a
 *   local run of the same grid, throughput included (the points run on the
 *   virtual clock, whose figures do not depend on the machine);
 * - an unreachable queue URL is one line, exit 2;
 * - a Redis that goes away: the sweep says so, waits, and carries on when
 *   it is back (the points it had queued are queued again if Redis lost
 *   them), or gives up after --queue-wait with what it kept.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { SweepResults, SweepRow } from '../../../src/cli/sweep/merge.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = join(root, 'dist', 'src', 'cli.js');
const REDIS = '/usr/bin/redis-server';

/** A small, fixed amount of work per point: one CPU, a few loops, nothing populated. */
/** under the virtual clock, so a point's figures are the same whichever machine ran it (issue 17) */
const FIXED = { workload: 'page_fault1_processes', mem: '8M', swap: 0, region: '1M', ops: 2, seed: 11, populate: false, clock: 'virtual' };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smpvm-sweep-'));
  expect(existsSync(CLI), 'dist/src/cli.js: npm test builds it').toBe(true);
});

function grid(name: string, axes: Record<string, unknown[]>): string {
  const f = join(dir, `${name}.json`);
  writeFileSync(f, JSON.stringify({ fixed: FIXED, axes }));
  return f;
}

interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function smpvm(...args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout!.resume();
  const exit = new Promise<number | null>((ok) => child.on('close', (code) => ok(code)));
  return { child, stderr: () => err, exit };
}

async function until(what: string, f: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const rowsOf = (out: string): SweepRow[] => (JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as SweepResults).points;
/** What a point's run did and measured: under the virtual clock its throughput is virtual time, the same on any machine. */
const work = (r: SweepRow) => ({ hash: r.hash, at: r.at, status: r.status, cpus: r.cpus, ops: r.ops, opsPerSec: r.opsPerSec, ok: r.ok });

describe('local sweep', () => {
  it('resumes: after an interruption only the missing points run', async () => {
    const g = grid('resume', { locks: ['bkl', '2.4', 'split'], rmap: ['scan', 'objrmap'] });
    const out = join(dir, 'resume');
    const first = smpvm('sweep', g, '--out', out, '--jobs', '1');
    await until('the first point', () => /\[2\/6\]/.test(first.stderr()));
    first.child.kill('SIGINT');
    expect(await first.exit).toBe(130);
    expect(first.stderr()).toMatch(/sweep: interrupted; \d+ points not run: the same command resumes/);
    const kept = readdirSync(join(out, 'points')).filter((f) => /^[0-9a-f]{16}\.json$/.test(f)).length;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(6);
    expect(readdirSync(join(out, 'points')).some((f) => f.endsWith('.part'))).toBe(false);

    const second = smpvm('sweep', g, '--out', out, '--jobs', '1');
    expect(await second.exit).toBe(0);
    expect(second.stderr()).toContain(`6 points (locks ×3, rmap ×2), ${kept} already in ${out}`);
    const ran = second.stderr().match(/sweep: \[\d+\/(\d+)\]/g)!;
    expect(ran).toHaveLength(6 - kept);
    expect(rowsOf(out).map((r) => r.status)).toEqual(Array(6).fill('done'));
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(readFileSync(join(out, 'sweep.csv'), 'utf8').split('\n')[0]).toBe('locks,rmap,status,cpus,ops,ops_per_sec,ok,hash');
  }, 240_000);
});

describe.skipIf(!existsSync(REDIS) && !process.env.CI)('sweep on a BullMQ queue', () => {
  let redis: ChildProcess | undefined;
  let port = 0;
  const url = () => `redis://127.0.0.1:${port}`;
  const startRedis = async () => {
    redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await until('redis', () => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG', 10_000);
  };
  const stopRedis = async () => {
    const r = redis;
    redis = undefined;
    if (!r || r.exitCode !== null) return;
    const gone = new Promise((ok) => r.on('close', ok));
    r.kill('SIGKILL');
    await gone;
  };
  beforeAll(async () => {
    expect(existsSync(REDIS), `${REDIS} is missing: .ci/run installs it (apt-get install redis-server)`).toBe(true);
    port = await new Promise<number>((ok) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => ok(p));
      });
    });
    await startRedis();
  });
  afterAll(stopRedis);

  it('6 points on two workers, one killed mid-point: each point once, equal to a local run', async () => {
    const g = grid('queue', { locks: ['bkl', '2.4', 'split'], rmap: ['scan', 'objrmap'] });
    const out = join(dir, 'queue');
    // the same grid run locally, alongside (its points run on the virtual clock: the host's load does not change them)
    const local = join(dir, 'queue-local');
    const l = smpvm('sweep', g, '--out', local);
    const sweep = smpvm('sweep', g, '--out', out, '--queue', url());
    await until('the points on the queue', () => /6 points on redis/.test(sweep.stderr()));
    const w1 = smpvm('worker', '--queue', url(), '--lock-ms', '2000');
    await until('worker 1 to start a point', () => /worker: running/.test(w1.stderr()));
    w1.child.kill('SIGKILL');
    await w1.exit;
    const killedMidPoint = w1.stderr().match(/worker: running (.*) \(attempt/g)!.length > (w1.stderr().match(/ ops\/s/g) ?? []).length;
    expect(killedMidPoint).toBe(true);
    // worker 2 is never killed: a long lock, so that a late renewal on a loaded host cannot make its own
    // point look stalled (worker 1's 2 s lock still expires, and worker 2's stalled check hands it over)
    const w2 = smpvm('worker', '--queue', url(), '--lock-ms', '10000');
    try {
      const code = await sweep.exit;
      expect(code, `sweep exit ${code}\n--- sweep:\n${sweep.stderr()}\n--- worker 1:\n${w1.stderr()}\n--- worker 2:\n${w2.stderr()}`).toBe(0);
    } finally {
      w2.child.kill('SIGINT');
      await w2.exit;
    }
    const rows = rowsOf(out);
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((r) => r.hash)).size).toBe(6);
    expect(rows.every((r) => r.status === 'done' && r.ok)).toBe(true);
    // completions: what the killed worker finished before it died plus what the other finished = 6, none twice
    const finished = [...w1.stderr().matchAll(/worker: (.*): [\d,]+ ops\/s/g), ...w2.stderr().matchAll(/worker: (.*): [\d,]+ ops\/s/g)].map((m) => m[1]);
    expect(finished).toHaveLength(6);
    expect(new Set(finished).size).toBe(6);

    expect(await l.exit).toBe(0);
    expect(rowsOf(local).map(work)).toEqual(rows.map(work));
  }, 400_000);

  it('a Redis that goes away: the sweep says so, waits, and finishes once it is back', async () => {
    const g = grid('outage', { locks: ['bkl', 'split'] });
    const out = join(dir, 'outage');
    const sweep = smpvm('sweep', g, '--out', out, '--queue', url(), '--queue-wait', '60');
    await until('the points on the queue', () => /2 points on redis/.test(sweep.stderr()));
    await stopRedis();
    await until('the sweep to notice', () => /sweep: lost redis:\/\/127\.0\.0\.1:\d+; waiting up to 60 s/.test(sweep.stderr()));
    await startRedis(); // empty: the queued points are gone and must be queued again
    await until('the sweep to see it back', () => /is back after [\d.]+ s; resuming/.test(sweep.stderr()));
    const w = smpvm('worker', '--queue', url());
    try {
      expect(await sweep.exit).toBe(0);
    } finally {
      w.child.kill('SIGINT');
      await w.exit;
    }
    expect(rowsOf(out).map((r) => r.status)).toEqual(['done', 'done']);
  }, 180_000);

  it('gives up after --queue-wait with what it kept, exit 1', async () => {
    const g = grid('gone', { locks: ['2.4'], rmap: ['scan', 'hint'] });
    const sweep = smpvm('sweep', g, '--out', join(dir, 'gone'), '--queue', url(), '--queue-wait', '2');
    await until('the points on the queue', () => /2 points on redis/.test(sweep.stderr()));
    await stopRedis();
    expect(await sweep.exit).toBe(1);
    expect(sweep.stderr()).toMatch(/smpvm: --queue: redis:\/\/127\.0\.0\.1:\d+ unreachable for 2 s; 0 of 2 points done and kept in .*gone: run the same command again to resume/);
    await startRedis();
  });

  it('an unreachable or malformed queue URL: one line, exit 2', async () => {
    const g = grid('unreach', { locks: ['bkl', 'split'] });
    const cases = ([
      ['redis://127.0.0.1:1', /^smpvm: --queue: cannot reach redis:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)$/],
      ['http://127.0.0.1:6379', /^smpvm: --queue: "http:\/\/127\.0\.0\.1:6379" is not a redis:\/\/HOST:PORT URL$/],
      ['redis//nope', /^smpvm: --queue: not a URL/],
    ] as [string, RegExp][]).flatMap(([u, msg]) => [
      { cmd: ['sweep', g, '--out', join(dir, 'unreach'), '--queue', u], msg },
      { cmd: ['worker', '--queue', u], msg },
    ]);
    // all six at once: each is its own process, and the unreachable ones spend most of their time waiting on the connection
    const procs = cases.map(({ cmd }) => smpvm(...cmd));
    for (const [i, { cmd, msg }] of cases.entries()) {
      expect(await procs[i]!.exit, cmd.join(' ')).toBe(2);
      expect(procs[i]!.stderr().trimEnd(), cmd.join(' ')).toMatch(msg);
    }
  });
});
