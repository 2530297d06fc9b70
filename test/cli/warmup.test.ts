/*
 * --warmup: will-it-scale's warm-up (main.c WARMUP_ITERATIONS: the first
 * seconds are printed but not averaged). Each CPU runs its warm-up steps
 * first; its row counts only what follows, and the run's ops/s is the work
 * done in the window from the moment the last CPU finished its warm-up to
 * the moment the first one stopped, over that window. Under the virtual
 * clock the figures are exact, so the test can ask for them.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { bufferIo } from '../../src/cli/io.js';
import type { RunResults } from '../../src/sim/results.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smpvm-warmup-'));
});

async function cli(...argv: string[]) {
  const io = bufferIo();
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

async function runJson(name: string, ...argv: string[]): Promise<RunResults> {
  const file = join(dir, `${name}.json`);
  const r = await cli('run', ...argv, '--json', file);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(readFileSync(file, 'utf8')) as RunResults;
}

const VT = ['--clock', 'virtual', '--mem', '64M', '--region', '64K'];

describe('--warmup', () => {
  it('runs warm-up + ops steps per CPU and measures only the ops steps', async () => {
    const r = await runJson('pf1', ...VT, '-w', 'page_fault1_processes', '-c', '2', '--ops', '5', '--warmup', '3');
    expect(r.stop).toEqual({ opsPerCpu: 5, warmupOps: 3 });
    for (const c of r.perCpu) {
      expect(c.loops).toBe(5);
      expect(c.ops).toBe(5 * 16); // 16 pages of 64K per loop
      expect(c.warmup).toEqual({ loops: 3, ops: 3 * 16, elapsedMs: expect.any(Number) });
      expect(c.warmup!.elapsedMs).toBeGreaterThan(0);
      expect(c.opsPerSec).toBeCloseTo((c.ops / c.elapsedMs) * 1000, 6);
      expect(c.vmstat.pgfault).toBe(8 * 16); // vmstat covers the whole run
    }
    expect(r.ops).toBe(2 * 5 * 16);
    const win = r.window!;
    expect(win.startMs).toBe(Math.max(...r.perCpu.map((c) => c.warmup!.elapsedMs)));
    expect(win.endMs).toBe(Math.min(...r.perCpu.map((c) => c.warmup!.elapsedMs + c.elapsedMs)));
    expect(win.ops).toBeGreaterThan(0);
    expect(win.ops).toBeLessThanOrEqual(r.ops);
    // two CPUs of independent processes: each at its one-CPU rate in the window
    expect(r.opsPerSec).toBeGreaterThan(0.95 * (r.perCpu[0]!.opsPerSec + r.perCpu[1]!.opsPerSec));
    expect(r.opsPerSec).toBeLessThan(1.05 * (r.perCpu[0]!.opsPerSec + r.perCpu[1]!.opsPerSec));
  });

  it('without it nothing changes: no warmup fields, ops/s = ops / duration', async () => {
    const r = await runJson('plain', ...VT, '-w', 'page_fault1_processes', '-c', '2', '--ops', '5');
    expect(r.stop).toEqual({ opsPerCpu: 5 });
    expect(r.perCpu[0]!.warmup).toBeUndefined();
    expect(r.window).toBeUndefined();
    expect(r.opsPerSec).toBeCloseTo((r.ops / r.durationMs) * 1000, 6);
  });

  it("page_fault3_processes keeps scaling once the file's pages are on the active list (8 CPUs within 2% of 8x one CPU)", async () => {
    // without a warm-up the first loops (LRU adds, then the third touch's activate_page under the
    // global pagemap_lru_lock) dominate a short run; will-it-scale never measures them
    const pf3 = [...VT, '--region', '32K', '-w', 'page_fault3_processes'];
    const one = await runJson('pf3-1', ...pf3, '--ops', '3', '--warmup', '3', '-c', '1');
    const many = await runJson('pf3-8', ...pf3, '--ops', '3', '--warmup', '3', '-c', '8');
    expect(many.opsPerSec / one.opsPerSec).toBeGreaterThan(8 * 0.98);
    const cold = await runJson('pf3-8-cold', ...pf3, '--ops', '6', '-c', '8');
    expect(cold.opsPerSec / one.opsPerSec).toBeLessThan(8 * 0.98);
  }, 60_000);

  it('CPUs that ran one after another have no common window: mmap1_threads says so and falls back to the whole run', async () => {
    // every mmap and munmap takes mmap_sem for writing; the releasing CPU takes it again before a
    // woken waiter runs, so under the virtual clock one CPU does all its steps, then the next
    const r = await runJson('mmap1t', ...VT, '-w', 'mmap1_threads', '-c', '4', '--ops', '20', '--warmup', '5');
    expect(r.window).toBeUndefined();
    expect(r.warnings.join('\n')).toMatch(/no window in which every CPU had finished its warm-up/);
    expect(r.opsPerSec).toBeCloseTo((r.ops / r.durationMs) * 1000, 6);
  });

  it('a results JSON repeats its warm-up (--config)', async () => {
    const first = join(dir, 'pf1.json');
    const r = await runJson('again', '--config', first);
    expect(r.stop).toEqual({ opsPerCpu: 5, warmupOps: 3 });
  });

  it('warns when a CPU never finished its warm-up', async () => {
    const r = await runJson('short', ...VT, '-w', 'page_fault1_processes', '-c', '1', '--duration', '0.00001', '--warmup', '1000');
    expect(r.warnings.join('\n')).toMatch(/CPU\(s\) 0 did not finish the warm-up of 1000 steps/);
    expect(r.opsPerSec).toBe(0);
  });

  it.each([['-1'], ['x'], ['1.5']])('--warmup %s is one line naming the flag, exit 2', async (v) => {
    const r = await cli('run', '--warmup', v, '--ops', '1');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^smpvm: --warmup: .*\n$/);
  });
});
