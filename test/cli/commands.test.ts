/*
 * Every smpvm command on a tiny config, in-process (main(argv, io)); the
 * workers run the .ts worker through tsx (sim/run.ts picks it under vitest).
 * Checks that what the commands print and write parses: the results JSON
 * schema, lock_stat and vmstat text, the scaling CSV, the Chrome trace
 * (per-CPU tracks, M metadata, nested X slices) and the folded stacks.
 * The runs share one worker pool (test/run-pool.ts).
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { destroySharedPool } from '../run-pool.js';
import { bufferIo } from '../../src/cli/io.js';
import { RUN_RESULT_KEYS, type RunResults, type ScaleResults } from '../../src/sim/results.js';
import { VMSTAT_NAMES } from '../../src/machine/vmstat.js';
import type { ChromeTrace, ChromeTraceEvent } from '../../src/report/trace_export.js';

vi.mock('../../src/sim/run.js', (orig) => import('../run-pool.js').then((p) => p.withSharedPool(orig)));
afterAll(destroySharedPool);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smpvm-cli-'));
});

async function cli(...argv: string[]) {
  const io = bufferIo();
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** stderr of a clean run: nothing but (on a host with fewer cores than CPUs) the time-slicing warning */
const clean = (err: string) => expect(err).toMatch(/^(smpvm: warning: \d+ simulated CPUs on \d+ host cores.*\n)*$/);

const LOCK_STAT_COLUMNS = [
  'con-bounces',
  'contentions',
  'waittime-min',
  'waittime-max',
  'waittime-total',
  'waittime-avg',
  'acq-bounces',
  'acquisitions',
  'holdtime-min',
  'holdtime-max',
  'holdtime-total',
  'holdtime-avg',
];

function checkRunResults(r: RunResults, cpus: number): void {
  for (const k of RUN_RESULT_KEYS) expect(r, `results.${k}`).toHaveProperty(k);
  expect(r.version).toBe(1);
  expect(r.kind).toBe('run');
  expect(r.cpus).toBe(cpus);
  expect(r.config.cpus).toBe(cpus);
  expect(r.perCpu.map((c) => c.cpu)).toEqual([...Array(cpus).keys()]);
  expect(Object.keys(r.vmstat)).toEqual([...VMSTAT_NAMES]);
  for (const c of r.perCpu) expect(Object.keys(c.vmstat)).toEqual([...VMSTAT_NAMES]);
  expect(r.ops).toBe(r.perCpu.reduce((s, c) => s + c.ops, 0));
  expect(r.opsPerSec).toBeGreaterThan(0);
  expect(r.lockStat.length).toBeGreaterThan(0);
  for (const row of r.lockStat) for (const col of ['class name', ...LOCK_STAT_COLUMNS]) expect(row).toHaveProperty(col);
  expect(r.checker).toEqual({ ok: true, violations: [], checkpoints: expect.any(Number) });
  expect(r.oracle.ok).toBe(true);
  expect(r.lockdep).toHaveProperty('count');
}

describe('smpvm run', () => {
  it('prints a summary, lock_stat, perf lock contention and vmstat, and writes the results JSON', async () => {
    const json = join(dir, 'run.json');
    const r = await cli('run', '--workload', 'page_fault1_threads', '--cpus', '2', '--mem', '8M', '--region', '256K', '--ops', '3', '--hold-time', '--lockdep', '--json', json);
    clean(r.err);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^page_fault1_threads on 2 CPUs \(host cores \d+\): mem 8M region 256K, rmap scan, locks split\/ticket, seed 1, 3 steps\/CPU$/m);
    expect(r.out).toMatch(/│ all\s+│\s+384 │\s+6 │/); // 2 CPUs × 3 loops × 64 pages
    expect(r.out).toContain('checker: ok');
    expect(r.out).toContain('lockdep: no reports');
    // lock_stat: the v0.4 header and class rows
    const ls = r.out.slice(r.out.indexOf('# /proc/lock_stat'), r.out.indexOf('# perf lock contention'));
    expect(ls).toContain('lock_stat version 0.4');
    const header = ls.split('\n').find((l) => l.trimStart().startsWith('class name'))!;
    expect(header.trim().split(/\s+/).slice(2)).toEqual(LOCK_STAT_COLUMNS);
    const rows = ls.split('\n').filter((l) => /^\s*\S.*: +\d+( +\d+(\.\d+)?){11}$/.test(l));
    expect(rows.map((l) => l.split(':')[0]!.trim())).toEqual(expect.arrayContaining(['&mm->mmap_sem-R', 'ptlock_ptr(page)']));
    // vmstat: name value lines of the counters that moved, then how many zeros were left out
    const vmText = r.out.slice(r.out.indexOf('# /proc/vmstat') + '# /proc/vmstat'.length).trim().split('\n');
    const vm = vmText.filter((l) => /^[a-z_]+ \d+$/.test(l));
    for (const l of vm) expect(l).toMatch(/^[a-z_]+ [1-9]\d*$/);
    expect(vm).toContain('pgfault 384');
    const hidden = Number(/^\((\d+) counters at 0 not shown; --all shows every counter\)$/.exec(vmText[vm.length]!)?.[1]);
    expect(vm.length + hidden).toBe(VMSTAT_NAMES.length);
    // the JSON
    const res = JSON.parse(readFileSync(json, 'utf8')) as RunResults;
    checkRunResults(res, 2);
    expect(res.ops).toBe(384);
    expect(res.loops).toBe(6);
    expect(res.vmstat.pgfault).toBe(384);
    expect(res.perCpu.map((c) => c.vmstat.pgfault)).toEqual([192, 192]);
    expect(res.stop).toEqual({ opsPerCpu: 3 });
    expect(res.workload).toEqual({ name: 'page_fault1_threads', regionBytes: 256 << 10 });
    expect(res.oracle.checks).toBeNull();
    const ptl = res.lockStat.find((x) => x['class name'] === 'ptlock_ptr(page)')!;
    expect(ptl.acquisitions).toBeGreaterThanOrEqual(384);
    expect(ptl['holdtime-max']).toBeGreaterThan(0); // --hold-time
    expect(res.config.populate).toBe(true); // measuring commands touch the buffer's host pages first
    // 2 CPUs: the host's line round trip, measured before the run, in the JSON and on the throughput line
    expect(res.hostLineRoundTripNs).toBeGreaterThan(0);
    expect(r.out).toMatch(new RegExp(`^throughput: .*, host cache-line round trip ${res.hostLineRoundTripNs!.toFixed(0)} ns$`, 'm'));
    expect(r.out).toContain(`results: ${json}`);
  });

  it('--no-populate leaves the buffer to be faulted in by the run', async () => {
    const json = join(dir, 'run-nopop.json');
    const r = await cli('run', '--cpus', '1', '--mem', '8M', '--region', '256K', '--ops', '1', '--no-populate', '--json', json);
    expect(r.code).toBe(0);
    const res = JSON.parse(readFileSync(json, 'utf8')) as RunResults;
    expect(res.config.populate).toBe(false);
    expect(res.hostLineRoundTripNs).toBeNull(); // one CPU: nothing is shared, nothing probed
  });

  it('repeats a run from its results JSON (--config)', async () => {
    const r = await cli('run', '--config', join(dir, 'run.json'), '--ops', '1');
    clean(r.err);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^page_fault1_threads on 2 CPUs .* mem 8M region 256K, .* 1 steps\/CPU$/m);
  });
});

describe('simulated CPUs beyond the host cores', () => {
  it('warn on stderr and in the results JSON exactly when cpus > host cores', async () => {
    const cpus = availableParallelism() + 1;
    const json = join(dir, 'over.json');
    const r = await cli('run', '--cpus', String(cpus), '--mem', '16M', '--region', '128K', '--ops', '1', '--json', json);
    expect(r.code).toBe(0);
    const line = `smpvm: warning: ${cpus} simulated CPUs on ${availableParallelism()} host cores: workers are time-sliced and spinlocks suffer lock-holder preemption\n`;
    expect(r.err).toBe(line);
    const res = JSON.parse(readFileSync(json, 'utf8')) as RunResults;
    expect(res.warnings).toEqual([line.slice('smpvm: '.length, -1)]);
    expect(res.hostCores).toBe(availableParallelism());
    const ok = await cli('run', '--cpus', '1', '--mem', '8M', '--region', '128K', '--ops', '1');
    expect(ok.err).toBe('');
  });
});

describe('smpvm scale', () => {
  it("prints will-it-scale's CSV plus ratios and a chart; writes CSV and one results object per CPU count and mode", async () => {
    const csv = join(dir, 'scale.csv');
    const json = join(dir, 'scale.json');
    const r = await cli('scale', '--workload', 'page_fault1', '--cpus', '1,2', '--mem', '8M', '--region', '256K', '--ops', '2', '--csv', csv, '--json', json);
    clean(r.err);
    expect(r.code).toBe(0);
    const text = readFileSync(csv, 'utf8');
    expect(r.out).toContain(text);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('tasks,processes,processes_idle,threads,threads_idle,linear,processes_ratio,threads_ratio');
    expect(lines).toHaveLength(3);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((f) => f[0])).toEqual(['1', '2']);
    for (const f of rows) {
      expect(f).toHaveLength(8);
      for (const i of [1, 3, 5]) expect(Number(f[i])).toBeGreaterThan(0);
      for (const i of [2, 4]) expect(f[i] === '' || (Number(f[i]) >= 0 && Number(f[i]) <= 100)).toBe(true);
    }
    expect([rows[0]![6], rows[0]![7]]).toEqual(['1.000', '1.000']);
    expect(r.out).toContain('(CPUs)');
    const s = JSON.parse(readFileSync(json, 'utf8')) as ScaleResults;
    expect(s.kind).toBe('scale');
    expect(s.workload).toBe('page_fault1');
    expect(s.cpus).toEqual([1, 2]);
    // the host's line round trip, before and after the points, printed from the JSON
    expect(s.hostLineRoundTripNs).toHaveLength(2);
    const [before, after] = s.hostLineRoundTripNs.map((x) => x.toFixed(0));
    expect(r.out).toContain(`host cache-line round trip between two threads: ${before} ns before, ${after} ns after`);
    expect(s.runs).toHaveLength(2);
    s.runs.forEach((p, i) => {
      checkRunResults(p.processes!, p.tasks);
      checkRunResults(p.threads!, p.tasks);
      expect(p.processes!.workload.name).toBe('page_fault1_processes');
      expect(p.threads!.workload.name).toBe('page_fault1_threads');
      expect(Math.round(p.processes!.opsPerSec)).toBe(Number(rows[i]![1]));
    });
    expect(Number(rows[1]![5])).toBe(Math.round(2 * s.runs[0]!.processes!.opsPerSec)); // linear: 1-CPU processes × 2
    expect(s.ratios[1]!.processes).toBeCloseTo(s.runs[1]!.processes!.opsPerSec / s.runs[0]!.processes!.opsPerSec, 9);
  });
});

/** Every pair of X slices on one track is disjoint or nested. */
function nestedPerTrack(events: ChromeTraceEvent[]): boolean {
  const byTid = new Map<number, ChromeTraceEvent[]>();
  for (const e of events) if (e.ph === 'X') byTid.set(e.tid!, [...(byTid.get(e.tid!) ?? []), e]);
  for (const xs of byTid.values()) {
    const stack: number[] = [];
    for (const x of [...xs].sort((a, b) => a.ts - b.ts || b.dur! - a.dur!)) {
      while (stack.length && stack[stack.length - 1]! <= x.ts) stack.pop();
      if (stack.length && x.ts + x.dur! > stack[stack.length - 1]!) return false;
      stack.push(x.ts + x.dur!);
    }
  }
  return true;
}

describe('smpvm profile', () => {
  it('writes a Chrome trace with one track per CPU and nested fault/lock slices, and folded wait stacks', async () => {
    const trace = join(dir, 'trace.json');
    const folded = join(dir, 'wait.folded');
    const json = join(dir, 'profile.json');
    const r = await cli('profile', '--workload', 'page_fault1_threads', '--cpus', '2', '--mem', '8M', '--region', '256K', '--ops', '4', '--trace', trace, '--folded', folded, '--json', json);
    clean(r.err);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`trace:  ${trace}`);
    const t = JSON.parse(readFileSync(trace, 'utf8')) as ChromeTrace;
    const ev = t.traceEvents;
    const tracks = ev.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, (e.args as { name: string }).name]);
    expect(tracks).toEqual([
      [0, 'CPU 0'],
      [1, 'CPU 1'],
    ]);
    const xs = ev.filter((e) => e.ph === 'X');
    for (const tid of [0, 1]) {
      const faults = xs.filter((e) => e.tid === tid && e.cat === 'fault');
      expect(faults).toHaveLength(4 * 64); // every fault of this CPU's 4 loops
      const holds = xs.filter((e) => e.tid === tid && e.cat === 'lock_hold');
      // some lock hold lies inside some fault on the same track
      expect(holds.some((h) => faults.some((f) => f.ts <= h.ts && h.ts + h.dur! <= f.ts + f.dur!))).toBe(true);
    }
    expect(nestedPerTrack(ev)).toBe(true);
    const res = JSON.parse(readFileSync(json, 'utf8')) as RunResults;
    checkRunResults(res, 2);
    expect(res.latency!.count).toBe(2 * 4 * 64);
    expect(res.trace!.lostPerCpu).toEqual([0, 0]);
    // folded: one "frame;frame;... N" line per stack, present iff the trace has waits
    const lines = readFileSync(folded, 'utf8').split('\n').filter(Boolean);
    for (const l of lines) expect(l).toMatch(/^page_fault1_threads(;[^ ;]+)+ \d+$/);
    const waits = xs.filter((e) => e.cat === 'lock_wait' && e.dur! > 0);
    expect(lines.length > 0).toBe(waits.length > 0);
    // counters: one series per lock class that had waiters
    for (const c of ev.filter((e) => e.ph === 'C')) expect(c.name).toMatch(/^waiters /);
  });
});

describe('smpvm run --swapoff-at', () => {
  it('runs swapoff on CPU 0 while the other CPU keeps running the stream, and says what it did', async () => {
    const cfg = join(dir, 'swapoff-random.json');
    writeFileSync(cfg, JSON.stringify({ filePages: 128, maxVma: 1024, maxMm: 64, workload: { name: 'random', maxRegionPages: 96, touchesPerStep: 32, filesPerCpu: 1 } }));
    const r = await cli('run', '--config', cfg, '--mem', '1M', '--swap', '8M', '--cpus', '2', '--policy', '2q', '--duration', '1.5', '--swapoff-at', '0.75', '--seed', '4');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^checker: ok/m);
    expect(r.out).toMatch(/^oracle: ok/m);
    expect(r.out).toMatch(
      /^swapoff on cpu 0 at [01]\.\d\d\d s while the other CPUs kept running: (done in [\d.]+ ms, [\d,]+ pages brought back; swap stayed off|failed with ENOMEM \(the swapped pages do not fit in memory\); the area stays on, nothing lost)$/m,
    );
    const at = Number(/^swapoff on cpu 0 at ([\d.]+) s/m.exec(r.out)![1]);
    expect(at).toBeGreaterThanOrEqual(0.75); // between two steps of CPU 0, once its clock passed the time asked
    expect(at).toBeLessThan(1.5);
  });
});

describe('smpvm stress', () => {
  it('runs random streams under a scheme with checker, oracle and lockdep, and passes', async () => {
    const r = await cli('stress', '--locks', 'split', '--ops', '300', '--seed', '5');
    clean(r.err);
    expect(r.code).toBe(0);
    // under memory pressure by default: the machine and what went through swap are on the line
    expect(r.out).toMatch(/^stress split 600 random operations on 2 CPUs, 1M \+ 16M swap \(pswpout [1-9][\d,]*, pswpin [\d,]+, swapoff pages [\d,]+\), \d+ stop-the-world checks, lockdep on, seed 5: ok$/m);
  });

  it('--swap 0 runs without swap and without pressure (16 MiB)', async () => {
    const r = await cli('stress', '--locks', 'split', '--ops', '100', '--seed', '5', '--swap', '0');
    clean(r.err);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^stress split 200 random operations on 2 CPUs, \d+ stop-the-world checks, lockdep on, seed 5: ok$/m);
  });

  it('exits non-zero and prints the seed when a planted bug breaks the machine (flags override the bug\'s settings)', async () => {
    const r = await cli('stress', '--locks', '2.4', '--inject', 'no_zone_lock', '--duration', '6', '--checkpoints', '5', '--seed', '77');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^planted bug: no_zone_lock — /);
    expect(r.out).toMatch(/seed 77: CAUGHT/);
    expect(r.out).toMatch(/reproduce: smpvm stress --locks 2\.4 .*--seed 77 .*--inject no_zone_lock/);
    const errs = r.err.trim().split('\n').filter((l) => !l.startsWith('smpvm: warning:'));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^smpvm: planted bug no_zone_lock caught under 2\.4 \(seed 77\)/);
  });
});

describe('smpvm start', () => {
  it('runs the main job and says where the JSON, CSV and trace went', async () => {
    const out = join(dir, 'start');
    const r = await cli('start', '--out', out, '--duration', '0.2', '--virtual-cpus', '1,2');
    clean(r.err);
    expect(r.code).toBe(0);
    for (const f of ['scale.json', 'scale.csv', 'scale-virtual.json', 'scale-virtual.csv', 'trace.json', 'wait.folded', 'profile.json']) {
      expect(existsSync(join(out, f))).toBe(true);
      expect(r.out).toContain(join(out, f));
    }
    const s = JSON.parse(readFileSync(join(out, 'scale.json'), 'utf8')) as ScaleResults;
    expect(s.cpus).toEqual([1, 2]);
    expect(s.runs.every((p) => p.processes && p.threads)).toBe(true);
    expect(readFileSync(join(out, 'scale.csv'), 'utf8').split('\n')[0]).toBe('tasks,processes,processes_idle,threads,threads_idle,linear,processes_ratio,threads_ratio');
    const v = JSON.parse(readFileSync(join(out, 'scale-virtual.json'), 'utf8')) as ScaleResults;
    expect(v.cpus).toEqual([1, 2]);
    expect(v.runs[1]!.processes!.clock).toBe('virtual');
  });
});
