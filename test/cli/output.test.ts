/*
 * What run prints and writes (issue 16): output paths are checked before
 * the run (one line naming the flag, exit 2, nothing run, no hang on a
 * pseudo-filesystem); a write that fails after the run comes after the
 * results are printed; the events line names OOM kills; vmstat shows what
 * moved; lock_stat on a terminal fits the terminal.
 * The runs share one worker pool (test/run-pool.ts).
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { destroySharedPool } from '../run-pool.js';
import { bufferIo, type Io } from '../../src/cli/io.js';

vi.mock('../../src/sim/run.js', (orig) => import('../run-pool.js').then((p) => p.withSharedPool(orig)));
afterAll(destroySharedPool);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smpvm-out-'));
  writeFileSync(join(dir, 'a-file'), 'x');
  writeFileSync(join(dir, 'empty.txt'), '');
  writeFileSync(join(dir, 'binary.txt'), Buffer.from('R 1\x1b[31mred\x07\x00\x01\n', 'latin1'));
});

const TINY = ['--cpus', '1', '--mem', '8M', '--ops', '1'];

describe('output paths are checked before the run', () => {
  const CASES: [string, () => string[], RegExp][] = [
    ['run --json under /proc', () => ['run', ...TINY, '--json', '/proc/x.json'], /^smpvm: --json \/proc\/x\.json: \/proc is a pseudo-filesystem; choose a path on a disk$/],
    ['run --json naming a directory', () => ['run', ...TINY, '--json', dir], /^smpvm: --json .*: is a directory$/],
    ['run --json under a regular file', () => ['run', ...TINY, '--json', join(dir, 'a-file', 'x.json')], /^smpvm: --json .*: cannot create it: .*a-file is not a directory$/],
    ['profile --trace under /proc', () => ['profile', ...TINY, '--trace', '/proc/t.json'], /^smpvm: --trace \/proc\/t\.json: \/proc is a pseudo-filesystem/],
    ['profile --folded under /sys', () => ['profile', ...TINY, '--folded', '/sys/w.folded'], /^smpvm: --folded \/sys\/w\.folded: \/sys is a pseudo-filesystem/],
    ['scale --csv naming a directory', () => ['scale', '--cpus', '1', '--mem', '8M', '--ops', '1', '--csv', dir], /^smpvm: --csv .*: is a directory$/],
    ['stress --json under /dev', () => ['stress', '--ops', '1', '--json', '/dev/x/y.json'], /^smpvm: --json \/dev\/x\/y\.json: \/dev is a pseudo-filesystem/],
    ['start --out naming a regular file', () => ['start', '--out', join(dir, 'a-file')], /^smpvm: --out .*a-file: exists and is not a directory$/],
    ['start --out under /proc (no recursive mkdir, no hang)', () => ['start', '--duration', '0.1', '--out', '/proc/x'], /^smpvm: --out \/proc\/x: \/proc is a pseudo-filesystem/],
    ['replay --json under /proc', () => ['replay', 'test/fixtures/trace-small.txt', '--mem', '100', '--json', '/proc/r.json'], /^smpvm: --json \/proc\/r\.json: \/proc is a pseudo-filesystem/],
  ];
  it.each(CASES)('%s: one line naming the flag, exit 2, nothing printed', async (_n, argv, msg) => {
    const io = bufferIo();
    const t0 = Date.now();
    const code = await main(argv(), io);
    expect(code).toBe(2);
    expect(io.stdout()).toBe('');
    expect(io.stderr().trimEnd().split('\n')).toHaveLength(1);
    expect(io.stderr().trimEnd()).toMatch(msg);
    expect(Date.now() - t0).toBeLessThan(2000); // refused before any run
  });

  it('a write that fails after the run still prints the results first (exit 1, the flag named)', async () => {
    const io = bufferIo();
    const parent = join(dir, 'late');
    let blocked = false;
    // the first line of results is printed after the run, before the file is written: block the path then
    const late: Io = {
      ...io,
      out(s) {
        if (!blocked) {
          writeFileSync(parent, 'now a file');
          blocked = true;
        }
        io.out(s);
      },
    };
    const code = await main(['run', ...TINY, '--json', join(parent, 'r.json')], late);
    expect(code).toBe(1);
    expect(io.stdout()).toContain('checker: ok');
    expect(io.stdout()).toContain('# /proc/vmstat');
    expect(io.stderr().trimEnd()).toMatch(/^smpvm: --json .*late\/r\.json: cannot write \((ENOTDIR|EEXIST)\)$/m);
    expect(existsSync(join(parent, 'r.json'))).toBe(false);
  });
});

describe('a results JSON as --config', () => {
  it('re-derives rmapPool and pageCluster when a flag changes what they derive from', async () => {
    const first = join(dir, 'first.json');
    const second = join(dir, 'second.json');
    expect(await main(['run', '--cpus', '1', '--mem', '8M', '--ops', '1', '--json', first], bufferIo())).toBe(0);
    expect(await main(['run', '--config', first, '--rmap', 'vmnode', '--mem', '16M', '--json', second], bufferIo())).toBe(0);
    const c = JSON.parse(readFileSync(second, 'utf8')).config;
    expect(c.rmap).toBe('vmnode');
    expect(c.rmapPool).toBe(((16 << 20) / 4096) * 4);
    expect(c.pageCluster).toBe(3);
  }, 30_000);
});

describe('replay input', () => {
  it('warns about an empty trace', async () => {
    const io = bufferIo();
    expect(await main(['replay', join(dir, 'empty.txt'), '--mem', '100'], io)).toBe(0);
    expect(io.stderr()).toMatch(/^smpvm: warning: .*empty\.txt: the trace has no page references$/m);
  });

  it('echoes no control bytes from a binary file', async () => {
    const io = bufferIo();
    expect(await main(['replay', join(dir, 'binary.txt'), '--mem', '100'], io)).toBe(2);
    const err = io.stderr();
    expect(err.trimEnd().split('\n')).toHaveLength(1);
    // eslint-disable-next-line no-control-regex
    expect(err.trimEnd()).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(err).toContain('\\x1b[31m');
  });
});

describe('what run prints', () => {
  it('names OOM kills on the events line; vmstat lists what moved; lock_stat fits a terminal (the kernel layout with --all)', async () => {
    const io = bufferIo(true);
    const code = await main(['run', '--workload', 'pressure', '--swap', '0', '--cpus', '1', '--mem', '4M', '--ops', '300'], io);
    expect(code).toBe(0);
    const out = io.stdout();
    expect(out).toMatch(/^events: \d+ OOM kills?/m);
    expect(out).toMatch(/^oom_kill [1-9]\d*$/m);
    expect(out).not.toMatch(/^[a-z_]+ 0$/m);
    const ls = out.slice(out.indexOf('# lock_stat'), out.indexOf('# perf lock contention'));
    expect(ls).toMatch(/^class +contended +acquired +acq-bounces +wait total +most waited at$/m);
    for (const l of ls.split('\n')) expect(l.length, l).toBeLessThanOrEqual(120);
    const all = bufferIo(true);
    expect(await main(['run', '--workload', 'pressure', '--swap', '0', '--cpus', '1', '--mem', '4M', '--ops', '3', '--all'], all)).toBe(0);
    expect(all.stdout()).toContain('lock_stat version 0.4');
    expect(all.stdout()).toMatch(/^oom_kill \d+$/m);
    expect(all.stdout()).toMatch(/^pswpin 0$/m);
  }, 60_000);

  it('a quiet run has no events line', async () => {
    const io = bufferIo();
    expect(await main(['run', ...TINY], io)).toBe(0);
    expect(io.stdout()).not.toMatch(/^events:/m);
  });
});
