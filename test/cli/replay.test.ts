/*
 * `smpvm replay` (issue 7), in-process: the one-CPU replay prints one row
 * per memory size whose figures are the replay engine's and writes them as
 * JSON; compressed traces are read; on N CPUs it runs the machine (workers,
 * kswapd) and reports major faults and refaults per size, checker and
 * oracle clean; every bad input is one line on stderr and exit code 2, a
 * malformed trace line naming its line number. `smpvm run` prints Rik's
 * /proc/refaults when anything was looked up.
 * The runs share one worker pool (test/run-pool.ts).
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli.js';
import { destroySharedPool } from '../run-pool.js';
import { bufferIo } from '../../src/cli/io.js';
import { replay } from '../../src/reclaim/replay/index.js';
import { readTraceSync } from '../../src/workload/trace.js';
import { encodeSmpvm, encodeOracleGeneral } from '../../src/workload/trace_bin.js';
import type { MachineReplayResult, TraceReplayResult } from '../../src/cli/replay.js';
import type { RunResults } from '../../src/sim/results.js';

vi.mock('../../src/sim/run.js', (orig) => import('../run-pool.js').then((p) => p.withSharedPool(orig)));
afterAll(destroySharedPool);

const fixture = (f: string) => fileURLToPath(new URL(`../fixtures/${f}`, import.meta.url));

let dir: string;
const f = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smpvm-replay-'));
  // a loop over 300 pages, 4 times, every 4th reference a write
  const lines: string[] = [];
  for (let l = 0; l < 4; l++) for (let i = 0; i < 300; i++) lines.push(`${i % 4 === 0 ? 'W' : 'R'} ${(0x1000 + i).toString(16)}`);
  writeFileSync(f('loop.txt'), lines.join('\n') + '\n');
  writeFileSync(f('keys.txt'), '# bare keys\n1\n2\n3\n1\n0x2\n4\n');
  writeFileSync(f('bad.txt'), 'R 10\nW 11\nR zz\n');
  // the loop in both binary formats, cut short inside the first (smpvm) or the third (oracleGeneral) record
  const t = readTraceSync(f('loop.txt'));
  const sm = encodeSmpvm(t);
  writeFileSync(f('trunc.smpvm'), sm.subarray(0, 16 + 1)); // record 1 (page 0x1000) takes 3 bytes
  writeFileSync(f('trunc.oracleGeneral'), encodeOracleGeneral(t).subarray(0, 2 * 24 + 10));
});

async function cli(...argv: string[]) {
  const io = bufferIo();
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** The numeric rows of a replay table: every line of only numbers. */
const tableRows = (out: string) =>
  out
    .split('\n')
    .filter((l) => /^\s*\d+(\s+\d+(\.\d+)?)+\s*$/.test(l))
    .map((l) => l.trim().split(/\s+/).map(Number));

describe('smpvm replay, one CPU', () => {
  it("prints miss ratio and refaults per size, the replay engine's figures, and writes them as JSON", async () => {
    const json = f('lru.json');
    const r = await cli('replay', f('loop.txt'), '--policy', 'lru', '--mem', '100,299,300', '--json', json);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^replay .*loop\.txt: 1200 references, 300 distinct pages, 300 writes; policy lru, 1 CPU$/m);
    const rows = tableRows(r.out);
    expect(rows.map((x) => x[0])).toEqual([100, 299, 300]);
    const engine = replay(readTraceSync(f('loop.txt')), { policy: 'lru', pages: [100, 299, 300] });
    for (const [k, row] of rows.entries()) {
      const s = engine.sizes[k]!;
      expect(row).toEqual([s.pages, s.refs, s.misses, Number(s.missRatio.toFixed(4)), s.refaults, s.evictions, s.writebacks]);
    }
    // LRU on a loop larger than memory misses every time; at 300 pages only the first pass misses
    expect(rows[0]!.slice(1, 5)).toEqual([1200, 1200, 1, 900]);
    expect(rows[2]!.slice(1, 5)).toEqual([1200, 300, 0.25, 0]);
    const res = JSON.parse(readFileSync(json, 'utf8')) as TraceReplayResult;
    expect(res.kind).toBe('replay');
    expect(res.mode).toBe('trace');
    expect(res.policy).toBe('lru');
    expect(res.trace).toEqual({ name: f('loop.txt'), refs: 1200, distinctPages: 300, writes: 300 });
    expect(res.sizes.map((s) => s.misses)).toEqual(engine.sizes.map((s) => s.misses));
    expect(res.sizes.map((s) => s.refaults)).toEqual(engine.sizes.map((s) => s.refaults));
  });

  it('CLOCK-Pro beats LRU on the loop; bare keys and .zst traces are read; 2q takes --refault-activation', async () => {
    const cp = tableRows((await cli('replay', f('loop.txt'), '--policy', 'clockpro', '--mem', '280')).out)[0]!;
    const lru = tableRows((await cli('replay', f('loop.txt'), '--policy', 'lru', '--mem', '280')).out)[0]!;
    expect(cp[2]!).toBeLessThan(lru[2]! * 0.6);
    const keys = await cli('replay', f('keys.txt'), '--policy', 'fifo', '--mem', '3');
    expect(keys.code).toBe(0);
    expect(tableRows(keys.out)[0]!.slice(0, 3)).toEqual([3, 6, 4]);
    const zst = await cli('replay', fixture('trace-small.txt.zst'), '--policy', 'clock', '--mem', '2');
    const txt = await cli('replay', fixture('trace-small.txt'), '--policy', 'clock', '--mem', '2');
    expect(zst.code).toBe(0);
    expect(tableRows(zst.out)).toEqual(tableRows(txt.out));
    const ra = await cli('replay', f('loop.txt'), '--policy', '2q', '--refault-activation', '--mem', '200');
    expect(ra.code).toBe(0);
    expect(ra.out).toContain('policy 2q (refaultActivation true)');
  });
});

describe('smpvm trace convert, and replay of binary traces', () => {
  it('text -> smpvm -> text is the same file; smpvm and oracleGeneral replay to the figures of the text (writes aside)', async () => {
    const bin = f('loop.smpvm');
    const c = await cli('trace', 'convert', f('loop.txt'), bin);
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/loop\.smpvm: 1200 references, smpvm, \d+ bytes \(\d\.\d\d per reference\)\n$/);
    expect((await cli('trace', 'convert', bin, f('back.txt'), '--format', 'text')).code).toBe(0);
    expect(readFileSync(f('back.txt'), 'utf8')).toBe(readFileSync(f('loop.txt'), 'utf8'));
    const og = await cli('trace', 'convert', f('loop.txt'), f('loop.oracleGeneral.bin'), '--format', 'oracleGeneral');
    expect(og.out).toContain('oracleGeneral has no op field: 300 writes became reads');
    expect(readFileSync(f('loop.oracleGeneral.bin')).length).toBe(1200 * 24);
    const rows = async (file: string, ...extra: string[]) => tableRows((await cli('replay', file, '--policy', 'clockpro', '--mem', '100,280', ...extra)).out);
    const txt = await rows(f('loop.txt'));
    expect(await rows(bin)).toEqual(txt);
    // no writes in oracleGeneral: the same misses and refaults, no writebacks
    const o = await rows(f('loop.oracleGeneral.bin'));
    expect(o.map((r) => r.slice(0, 6))).toEqual(txt.map((r) => r.slice(0, 6)));
    expect(o.map((r) => r[6])).toEqual([0, 0]);
    writeFileSync(f('plain.dat'), readFileSync(f('loop.oracleGeneral.bin')));
    expect(await rows(f('plain.dat'), '--format', 'oracleGeneral')).toEqual(o);
  });

  it('a bad input or output of convert is one line, exit 2, nothing written', async () => {
    const r = await cli('trace', 'convert', f('bad.txt'), f('never.bin'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^smpvm: .*bad\.txt:3: expected 'R\|W <hex page>' or a key, got 'R zz'\n$/);
    const u = await cli('trace', 'convert', f('loop.txt'), f('never.bin'), '--format', 'csv');
    expect(u.err).toBe('smpvm: --format: unknown value "csv" (smpvm, oracleGeneral, text)\n');
    expect(u.code).toBe(2);
  });
});

describe('smpvm replay, bad input: one line on stderr, exit 2', () => {
  const BAD: [string, () => string[], RegExp][] = [
    ['a malformed line', () => ['replay', f('bad.txt'), '--mem', '4'], /^smpvm: .*bad\.txt:3: expected 'R\|W <hex page>' or a key, got 'R zz'\n$/],
    ['a truncated smpvm binary trace', () => ['replay', f('trunc.smpvm'), '--mem', '4'], /^smpvm: .*trunc\.smpvm: record 1: truncated \(the file ends inside it\)\n$/],
    ['a truncated oracleGeneral trace', () => ['replay', f('trunc.oracleGeneral'), '--mem', '4'], /^smpvm: .*trunc\.oracleGeneral: record 3: truncated \(10 of 24 bytes\)\n$/],
    ['a missing file', () => ['replay', f('nope.txt'), '--mem', '4'], /^smpvm: .*nope\.txt: cannot read \(ENOENT\)\n$/],
    ['no --mem', () => ['replay', f('loop.txt')], /^smpvm: --mem: give the memory size\(s\) in pages/],
    ['--mem not pages', () => ['replay', f('loop.txt'), '--mem', '4M'], /^smpvm: --mem: not an integer: "4M"\n$/],
    ['--mem 0', () => ['replay', f('loop.txt'), '--mem', '10,0'], /^smpvm: --mem: must be >= 1\n$/],
    ['an unknown policy', () => ['replay', f('loop.txt'), '--mem', '4', '--policy', 'arc'], /^smpvm: --policy: unknown value "arc" \(fifo, lru, clock, 2q, clockpro, clockpro-approx\)/],
    ['--cpus 0', () => ['replay', f('loop.txt'), '--mem', '4', '--cpus', '0'], /^smpvm: --cpus: must be >= 1\n$/],
    ['--cpus 65', () => ['replay', f('loop.txt'), '--mem', '4', '--cpus', '65'], /^smpvm: --cpus: must be <= 64\n$/],
    ['--seed not a number', () => ['replay', f('loop.txt'), '--mem', '300', '--cpus', '2', '--seed', 'x'], /^smpvm: --seed: not an integer: "x"\n$/],
    ['an unknown --rmap', () => ['replay', f('loop.txt'), '--mem', '300', '--cpus', '2', '--rmap', 'foo'], /^smpvm: --rmap: unknown value "foo" \(scan, /],
    ['an unknown --format', () => ['replay', f('loop.txt'), '--mem', '4', '--format', 'csv'], /^smpvm: --format: unknown value "csv" \(auto, text, smpvm, oracleGeneral\)\n$/],
    ['fifo on the machine', () => ['replay', f('loop.txt'), '--mem', '300', '--cpus', '2', '--policy', 'fifo'], /^smpvm: --policy fifo: no machine policy implements it; with --cpus > 1 use clock, 2q, clockpro or clockpro-approx\n$/],
    ['lru on the machine', () => ['replay', f('loop.txt'), '--mem', '300', '--cpus', '2', '--policy', 'lru'], /^smpvm: --policy lru: no machine policy/],
    ['a machine smaller than 1 MiB', () => ['replay', f('loop.txt'), '--mem', '100', '--cpus', '2'], /^smpvm: --mem: 100 pages is too small for a machine \(--cpus > 1 needs at least 256 pages = 1 MiB\)/],
    ['two traces on one CPU', () => ['replay', f('loop.txt'), f('keys.txt'), '--mem', '4'], /^smpvm: replay: 2 traces need --cpus 2 \(one CPU each\)/],
    ['three traces on two CPUs', () => ['replay', f('loop.txt'), f('keys.txt'), f('loop.txt'), '--mem', '300', '--cpus', '2'], /^smpvm: replay: 3 traces for --cpus 2/],
    ['--refault-activation without 2q', () => ['replay', f('loop.txt'), '--mem', '4', '--refault-activation'], /^smpvm: --refault-activation: only for --policy 2q/],
    ['no file', () => ['replay', '--mem', '4'], /^smpvm: missing required argument 'file'/],
  ];
  for (const [what, argv, re] of BAD) {
    it(what, async () => {
      const r = await cli(...argv());
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(re);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    });
  }
});

describe('smpvm replay --cpus N: the machine', () => {
  it('N slices of one trace on N CPUs: major faults and refaults per size, checker and oracle clean, JSON', async () => {
    const json = f('machine.json');
    const r = await cli('replay', f('loop.txt'), '--policy', 'clockpro', '--mem', '256,1024', '--cpus', '2', '--json', json);
    expect(r.err).toMatch(/^(smpvm: warning: .*\n)*$/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^replay .*loop\.txt in 2 slices: 1200 references on 2 CPUs of one machine; policy clockpro \(machine policy clockpro\), with kswapd$/m);
    const rows = tableRows(r.out).filter((x) => x.length === 8);
    expect(rows.map((x) => x[0])).toEqual([256, 1024]);
    const res = JSON.parse(readFileSync(json, 'utf8')) as MachineReplayResult;
    expect(res.mode).toBe('machine');
    expect(res.machinePolicy).toBe('clockpro');
    expect(res.cpus).toBe(2);
    for (const [k, s] of res.sizes.entries()) {
      expect(s.refs).toBe(1200);
      expect(s.perCpu.map((c) => c.refs)).toEqual([600, 600]);
      expect(s.checker.ok).toBe(true);
      expect(s.oracle.ok).toBe(true);
      expect(s.oracle.checks).toBeGreaterThan(0);
      expect(s.misses).toBe(s.pgmajfault + 600); // each CPU's slice: 2 passes over its own 300 pages
      expect(rows[k]).toEqual([s.pages, s.refs, s.misses, Number(s.missRatio.toFixed(4)), s.pgmajfault, s.pswpin, s.refaults, s.activations]);
      expect(s.refaultHistogram.rows.reduce((a, x) => a + x.hits, 0)).toBe(s.refaultHistogram.lookups);
    }
    // 256 pages cannot hold 2 x 300: pages went to swap and came back; 1024 pages hold everything
    expect(res.sizes[0]!.pgmajfault).toBeGreaterThan(0);
    expect(res.sizes[0]!.pswpout).toBeGreaterThan(0);
    expect(res.sizes[1]!.pgmajfault).toBe(0);
  });

  it('N traces on N CPUs (clock maps to the machine clock)', async () => {
    const r = await cli('replay', f('loop.txt'), f('keys.txt'), '--policy', 'clock', '--mem', '256', '--cpus', '2');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/1206 references on 2 CPUs of one machine; policy clock \(machine policy clock\)/);
    expect(r.out).toMatch(/^cpu 1 {2}.*keys\.txt {2}refs 6 /m);
  });
});

describe('smpvm run prints /proc/refaults', () => {
  it('when the run looked anything up, and the results JSON carries the histogram', async () => {
    const cfg = f('cp.json');
    writeFileSync(cfg, JSON.stringify({ policy: 'clockpro', mem: '2M', swap: '8M', cpus: 1, swapIoUs: 0, workload: { name: 'pressure', pattern: 'looping', processes: 1 }, ops: 150 }));
    const json = f('cp-run.json');
    const r = await cli('run', '--config', cfg, '--json', json);
    expect(r.code).toBe(0);
    const res = JSON.parse(readFileSync(json, 'utf8')) as RunResults;
    expect(res.refaults.lookups).toBeGreaterThan(0);
    expect(res.refaults.rows).toHaveLength(res.refaults.numNr + 1);
    expect(r.out).toContain(`# /proc/refaults (${res.refaults.nrBuckets} buckets x ${res.refaults.numNr} cookies)`);
    expect(r.out).toMatch(/ New\/Beyond +\d+ +\d+\n/);
  });
});

describe('smpvm run --policy / --pattern', () => {
  it('select the replacement policy and the pressure pattern from the command line', async () => {
    const cfg = f('small.json');
    writeFileSync(cfg, JSON.stringify({ mem: '2M', swap: '8M', swapIoUs: 0, workload: { name: 'pressure', processes: 1 } }));
    const json = f('flags-run.json');
    const r = await cli('run', '--config', cfg, '--cpus', '1', '--ops', '150', '--policy', 'clockpro', '--pattern', 'looping', '--json', json);
    expect(r.code).toBe(0);
    const res = JSON.parse(readFileSync(json, 'utf8')) as RunResults;
    expect(res.config.policy).toBe('clockpro');
    expect((res.workload as unknown as { pattern: string }).pattern).toBe('looping');
  });
});
