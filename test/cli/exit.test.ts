/*
 * The exit path: a command's process ends as soon as its output is done.
 * A pending timer (sim/run.ts once left a 10 s STOP_GRACE_MS timer armed
 * after every run), a worker or an echo thread left alive would keep the
 * process up after its last line; this runs `smpvm run` as a child process
 * and times the gap between its last output and its exit.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** Run the CLI; resolve with the exit code and the ms between the last stdout/stderr chunk and the exit. */
function timedRun(argv: string[]): Promise<{ code: number | null; lingerMs: number; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', cli, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = performance.now();
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      last = performance.now();
    });
    p.stderr.on('data', () => (last = performance.now()));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, lingerMs: performance.now() - last, out }));
  });
}

describe('exit path', () => {
  it('run --ops 1 --cpus 1 exits within 1 s of its last output', async () => {
    const r = await timedRun(['run', '--ops', '1', '--cpus', '1']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('checker: ok');
    expect(r.lingerMs).toBeLessThan(1000);
  }, 60_000);
});
