/*
 * --warmup SECONDS: will-it-scale's warm-up (main.c WARMUP_ITERATIONS: the
 * first seconds are printed but not averaged, every task running all the
 * while). Each CPU notes where it stood at its first step boundary past the
 * warm-up; its row counts only what follows, and the run's ops/s is the sum
 * of the CPUs' rates from there to the stop. Under the virtual clock the
 * figures are exact, so the test can ask for them.
 * The runs share one worker pool (test/run-pool.ts).
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { destroySharedPool } from '../run-pool.js';
import { bufferIo } from '../../src/cli/io.js';
import type { RunResults } from '../../src/sim/results.js';

vi.mock('../../src/sim/run.js', (orig) => import('../run-pool.js').then((p) => p.withSharedPool(orig)));
afterAll(destroySharedPool);

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
// virtual seconds: a page_fault1 loop over 64K (16 faults) takes about 8 us on the default preset
const PF1 = [...VT, '-w', 'page_fault1_processes', '-c', '2', '--duration', '0.0001', '--warmup', '0.00003'];

describe('--warmup', () => {
  it('measures each CPU from its first step boundary past the warm-up; ops/s is the sum of those rates', async () => {
    const r = await runJson('pf1', ...PF1);
    expect(r.stop.durationMs).toBe(0.1);
    expect(r.stop.warmupMs).toBeCloseTo(0.03, 12);
    for (const c of r.perCpu) {
      const w = c.warmup!;
      expect(w.elapsedMs).toBeGreaterThanOrEqual(0.03);
      expect(w.loops).toBeGreaterThan(0);
      expect(c.loops).toBeGreaterThan(0);
      expect(c.ops).toBe(c.loops * 16); // 16 pages of 64K per loop
      expect(c.opsPerSec).toBeCloseTo((c.ops / c.elapsedMs) * 1000, 6);
      expect(c.vmstat.pgfault).toBe((w.loops + c.loops) * 16); // vmstat covers the whole run
    }
    expect(r.ops).toBe(r.perCpu[0]!.ops + r.perCpu[1]!.ops);
    expect(r.opsPerSec).toBeCloseTo(r.perCpu[0]!.opsPerSec + r.perCpu[1]!.opsPerSec, 6);
    const out = (await cli('run', ...PF1)).out;
    expect(out).toMatch(/0\.0001 s \(the first 0\.00003 s a warm-up\)/);
    expect(out).toMatch(/the sum of each CPU's rate after a warm-up of 0\.00003 s/);
  });

  it('without it nothing changes: no warmup fields, ops/s = ops / duration', async () => {
    const r = await runJson('plain', ...VT, '-w', 'page_fault1_processes', '-c', '2', '--ops', '5');
    expect(r.stop).toEqual({ opsPerCpu: 5 });
    expect(r.perCpu[0]!.warmup).toBeUndefined();
    expect(r.opsPerSec).toBeCloseTo((r.ops / r.durationMs) * 1000, 6);
  });

  it("page_fault3_processes keeps scaling once the file's pages are on the active list (8 CPUs within 2% of 8x one CPU)", async () => {
    // without a warm-up the first loops (LRU adds, then the third touch's activate_page under the
    // global pagemap_lru_lock) weigh on a short run at 8 CPUs; will-it-scale never measures them
    const pf3 = [...VT, '--region', '16K', '-w', 'page_fault3_processes', '--duration', '0.00005'];
    const rate = async (name: string, ...a: string[]) => (await runJson(name, ...pf3, ...a)).opsPerSec;
    const warm = (await rate('pf3-8', '-c', '8', '--warmup', '0.00003')) / (await rate('pf3-1', '-c', '1', '--warmup', '0.00003'));
    const cold = (await rate('pf3-8-cold', '-c', '8')) / (await rate('pf3-1-cold', '-c', '1'));
    expect(warm).toBeGreaterThan(8 * 0.98);
    expect(cold).toBeLessThan(8 * 0.98);
  }, 120_000);

  it('a results JSON repeats its warm-up (--config)', async () => {
    const r = await runJson('again', '--config', join(dir, 'pf1.json'));
    expect(r.stop.durationMs).toBe(0.1);
    expect(r.stop.warmupMs).toBeCloseTo(0.03, 12);
  });

  it('warns when a CPU finished no step after the warm-up', async () => {
    // one page_fault1 loop over 64 MiB / 1 CPU takes far longer than the 0.0001 s run
    const r = await runJson('short', '--clock', 'virtual', '--mem', '64M', '-w', 'page_fault1_processes', '-c', '1', '--duration', '0.0001', '--warmup', '0.00005');
    expect(r.warnings.join('\n')).toMatch(/CPU\(s\) 0 finished no step after the 0\.05 ms warm-up/);
    expect(r.opsPerSec).toBe(0);
  });

  it('prints its warnings: a quantum above 0 says it is out of order (the futex mutex: overcounted waits); the default quantum 0 does not', async () => {
    const args = ['run', '--clock', 'virtual', '--lock-impl', 'futex', '-c', '2', '--ops', '1', '--mem', '16M', '--region', '256K'];
    const q = await cli(...args, '--quantum', '1000');
    expect(q.code).toBe(0);
    expect(q.out).toMatch(/^warning: at quantum 1000 ns CPUs act up to 1000 ns out of virtual-time order.*futex mutex's contended waits are overcounted.*--quantum 0$/m);
    const t = await cli('run', '--clock', 'virtual', '-c', '2', '--ops', '1', '--mem', '16M', '--region', '256K', '--quantum', '500');
    expect(t.out).toMatch(/^warning: at quantum 500 ns CPUs act up to 500 ns out of virtual-time order/m);
    expect(t.out).not.toMatch(/futex/);
    const q0 = await cli(...args);
    expect(q0.out).toMatch(/quantum 0 ns/);
    expect(q0.out).not.toMatch(/out of virtual-time order|overcounted/);
  });

  it.each([
    [['--warmup', '-1'], /^smpvm: --warmup: /],
    [['--warmup', 'x'], /^smpvm: --warmup: not a number of seconds/],
    [['--warmup', '2', '--duration', '1'], /^smpvm: --warmup: 2 s must be shorter than the duration \(1 s\)\n$/],
    [['--warmup', '0.1', '--ops', '3'], /^smpvm: --warmup: needs --duration/],
  ])('%j is one line naming the flag, exit 2', async (args, msg) => {
    const r = await cli('run', ...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
    expect(r.err.split('\n').length).toBe(2);
  });
});
