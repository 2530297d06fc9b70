/*
 * bench/trace_input.ts — trace input at the speed of the replay loop (issue
 * 20 item 5): references per second of a whole `smpvm replay` process on
 * the same trace as text, gzip, zstd, smpvm binary and libCacheSim's
 * oracleGeneral, beside the replay loop alone, and libCacheSim's `cachesim`
 * on the oracleGeneral file when it is installed.
 *
 *   CACHESIM=/tmp/lcs/_build/bin/cachesim flock /tmp/bench.lock node dist/bench/trace_input.js
 *
 *   npm run build && flock /tmp/bench.lock node dist/bench/trace_input.js [--runs N] [--dir DIR] [--out FILE]
 *
 * No real program trace is available on this machine, so three synthetic
 * page-reference traces of real programs' shapes are generated (sizes in
 * the issue's 1.8-4.5 M range), deterministically:
 *
 *   matmul   a 320x320 double matrix multiply, i-k-j loop order, one page
 *            reference per element access with runs on one page collapsed
 *            (what a page-granular tracer records): 1.8 M references
 *   zipfloop bench/replay.ts's mix: zipf(0.9) over 65536 pages and a
 *            sequential loop over 12000 (a key-value store beside a scan): 3 M
 *   heap     a stack/heap program: 70% a hot set of 48 pages (stack, globals),
 *            20% an allocation front sweeping a 150k-page heap, 10% uniform
 *            reads of the heap, one write in four: 4.5 M
 *
 * Each whole process is `node dist/src/cli.js replay FILE --policy lru --mem
 * 16384` (one CPU, the deterministic replay engine), timed from spawn to
 * exit; the figure is the best of N runs (default 3). Two floors are timed
 * too: `node -e 0` (node's own start) and `smpvm replay --help` (node plus
 * replay's modules). The loop alone is replay() on the parsed trace in this
 * process (best of N, after a warm-up). Text and zstd files are made by this
 * bench (zstd by the zstd CLI, level 3); the binary files by `smpvm trace
 * convert`'s encoders.
 *
 * libCacheSim's `cachesim` ($CACHESIM, else `cachesim` on PATH; it has no
 * Debian package — README.md says how to build it): on each trace's
 * oracleGeneral file, for each policy both define the same textbook way
 * (lru, fifo, clock), `cachesim FILE oracleGeneral POLICY 16384
 * --ignore-obj-size 1` (a size in objects, one object a page) and `smpvm
 * replay FILE --policy POLICY --mem 16384` run in turns, best of N each; the
 * table gives both times, both miss ratios (they must agree to the 4
 * decimals cachesim prints: both count first touches as misses) and each
 * tool's loop (smpvm's replay() alone; the throughput cachesim prints, which
 * times its simulate loop with the trace reading inside it). Without
 * cachesim the bench prints its commands and skips those columns.
 * Writes results/bench-trace-input.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, statSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import Table from 'cli-table3';
import { plain } from '../src/report/summary.js';
import { formatTrace } from '../src/workload/trace.js';
import { encodeSmpvm, encodeOracleGeneral } from '../src/workload/trace_bin.js';
import { replay } from '../src/reclaim/replay/index.js';
import { OP_READ, OP_WRITE, type PageTrace } from '../src/reclaim/page_trace.js';
import { syntheticTrace } from './replay.js';
import { fmtRate, writeResult, benchArgs, benchMain, BenchArgError } from './common.js';

const MEM = 16384;
const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../src/cli.js');

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** Collects page references, dropping a repeat of the previous page (a page-granular tracer's view). */
class Refs {
  keys: Float64Array;
  ops: Uint8Array;
  n = 0;
  constructor(readonly cap: number) {
    this.keys = new Float64Array(cap);
    this.ops = new Uint8Array(cap);
  }
  get full() {
    return this.n === this.cap;
  }
  ref(page: number, op: number): void {
    if (this.n > 0 && this.keys[this.n - 1] === page && this.ops[this.n - 1] === op) return;
    if (this.n === this.cap) return;
    this.keys[this.n] = page;
    this.ops[this.n++] = op;
  }
  trace(name: string): PageTrace {
    return { name, length: this.n, keys: this.keys.subarray(0, this.n), ops: this.ops.subarray(0, this.n) };
  }
}

/** C[i][j] += A[i][k] * B[k][j], i-k-j order, 8-byte doubles, row-major, repeated until `refs` references. */
function matmul(refs: number): PageTrace {
  const N = 320;
  const r = new Refs(refs);
  const A = 0x08050; // page numbers of the three arrays (800 KiB each)
  const B = A + 256;
  const C = B + 256;
  const page = (base: number, i: number, j: number) => base + Math.floor(((i * N + j) * 8) / 4096);
  while (!r.full) {
    for (let i = 0; i < N && !r.full; i++)
      for (let k = 0; k < N && !r.full; k++) {
        r.ref(page(A, i, k), OP_READ);
        for (let j = 0; j < N && !r.full; j++) {
          r.ref(page(B, k, j), OP_READ);
          r.ref(page(C, i, j), OP_WRITE);
        }
      }
  }
  return r.trace(`matmul 320x320 (synthetic), ${refs} refs`);
}

function heap(refs: number): PageTrace {
  const rnd = xorshift(0x9e3779b9);
  const r = new Refs(refs);
  const HOT = 48;
  const HEAP = 150_000;
  let front = 0;
  while (!r.full) {
    const u = rnd();
    const op = rnd() < 0.25 ? OP_WRITE : OP_READ;
    if (u < 0.7) r.ref(0xbfff0 - Math.floor(rnd() * HOT), op);
    else if (u < 0.9) r.ref(0x10000 + (front++ % HEAP), OP_WRITE);
    else r.ref(0x10000 + Math.floor(rnd() * HEAP), op);
  }
  return r.trace(`heap (synthetic), ${refs} refs`);
}

interface Row {
  trace: string;
  refs: number;
  format: string;
  bytes: number;
  seconds: number;
  refsPerSec: number;
  vsText: number;
}

/** One trace and policy through both whole processes on the same oracleGeneral file. */
interface VsRow {
  trace: string;
  refs: number;
  policy: Policy;
  smpvmSeconds: number;
  cachesimSeconds: number;
  /** cachesim's time / smpvm's: above 1, smpvm's whole process is faster */
  speedup: number;
  smpvmMisses: number;
  smpvmMissRatio: number;
  /** as cachesim prints it (4 decimals) */
  cachesimMissRatio: string;
  agree: boolean;
  /** smpvm's replay() alone on the parsed trace, refs/s */
  smpvmLoopRefsPerSec: number;
  /** the throughput cachesim prints: its simulate loop, trace reading included, refs/s */
  cachesimLoopRefsPerSec: number;
}

/** The policies smpvm replay and cachesim both define, the same way (textbook; reclaim/replay/): their misses must agree. */
const POLICIES = ['lru', 'fifo', 'clock'] as const;
type Policy = (typeof POLICIES)[number];

/** A process's wall time (spawn to exit) and its output; throws if it fails. */
function timeProcess(argv: string[]): { s: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 26 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${(r.stderr || r.stdout).split('\n')[0]}`);
  return { s, out: r.stdout };
}

/** Best wall time of `runs` spawns of each command, the commands taking turns (so load shifts hit both alike); the last output of each. */
function bestOf(cmds: string[][], runs: number): { s: number; out: string }[] {
  const best = cmds.map(() => ({ s: Infinity, out: '' }));
  for (let i = 0; i < runs; i++)
    for (const [k, c] of cmds.entries()) {
      const r = timeProcess(c);
      best[k] = { s: Math.min(best[k]!.s, r.s), out: r.out };
    }
  return best;
}

/** Best time of replay() alone on a parsed trace, after a warm-up. */
function loopSeconds(t: PageTrace, policy: Policy, runs: number): number {
  replay(t, { policy, pages: [MEM] });
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    replay(t, { policy, pages: [MEM] });
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

/** misses at MEM pages from `smpvm replay`'s table (pages refs misses ...). */
function smpvmMisses(out: string): number {
  const m = new RegExp(`^\\s*${MEM}\\s+(\\d+)\\s+(\\d+)\\s`, 'm').exec(out);
  if (!m) throw new Error(`smpvm replay printed no row for ${MEM} pages`);
  return Number(m[2]);
}

/** cachesim's result line: "... miss ratio 0.7119, throughput 7.77 MQPS". */
function cachesimResult(out: string): { missRatio: string; mqps: number } {
  const m = /miss ratio ([\d.]+), throughput ([\d.]+) MQPS/.exec(out);
  if (!m) throw new Error(`cachesim printed no result line: ${out.split('\n')[0]}`);
  return { missRatio: m[1]!, mqps: Number(m[2]) };
}

const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();

/** cachesim: $CACHESIM if set (it must exist), else `cachesim` on PATH, else ''. */
function findCachesim(): string {
  const env = process.env.CACHESIM;
  if (env) {
    if (!existsSync(env)) throw new BenchArgError(`bench/trace_input: CACHESIM=${env}: no such file`);
    return resolve(env);
  }
  return which('cachesim');
}

/** libCacheSim's command on an oracleGeneral file: sizes in objects (--ignore-obj-size), one object a page. */
const cachesimArgs = (og: string, policy: Policy, outFile: string) => [og, 'oracleGeneral', policy, String(MEM), '--ignore-obj-size', '1', '-o', outFile];

export async function main(argv: string[] = process.argv.slice(2)) {
  const a = benchArgs('trace_input', argv, {
    runs: { kind: 'number', dflt: 3, min: 1 },
    dir: { kind: 'string', dflt: 'results/trace-input' },
    out: { kind: 'string', dflt: 'results/bench-trace-input.json' },
  });
  mkdirSync(a.dir, { recursive: true });
  const zstd = which('zstd');
  const cachesim = findCachesim();
  const cachesimVersion = cachesim ? spawnSync(cachesim, ['-V'], { encoding: 'utf8' }).stdout.trim() : null;
  const traces = [matmul(1_800_000), syntheticTrace(3_000_000), heap(4_500_000)];
  const names = ['matmul', 'zipfloop', 'heap'];
  const replayCmd = (file: string, policy: Policy) => [process.execPath, CLI, 'replay', file, '--policy', policy, '--mem', String(MEM)];
  const [nodeFloor, replayStart] = bestOf([[process.execPath, '-e', '0'], [process.execPath, CLI, 'replay', '--help']], a.runs);
  const rows: Row[] = [];
  const loops: { trace: string; refs: number; policy: Policy; seconds: number; refsPerSec: number }[] = [];
  const vs: VsRow[] = [];
  const cachesimCmds: string[] = [];
  for (const [k, t] of traces.entries()) {
    const base = join(a.dir, names[k]!);
    const text = Buffer.from(formatTrace(t));
    const files: [string, string][] = [
      ['text', `${base}.txt`],
      ['gzip', `${base}.txt.gz`],
      ...(zstd ? ([['zstd', `${base}.txt.zst`]] as [string, string][]) : []),
      ['smpvm', `${base}.smpvm`],
      ['oracleGeneral', `${base}.oracleGeneral.bin`],
    ];
    const og = `${base}.oracleGeneral.bin`;
    writeFileSync(`${base}.txt`, text);
    writeFileSync(`${base}.txt.gz`, gzipSync(text, { level: 6 }));
    if (zstd) spawnSync(zstd, ['-q', '-f', '-3', `${base}.txt`, '-o', `${base}.txt.zst`]);
    writeFileSync(`${base}.smpvm`, encodeSmpvm(t));
    writeFileSync(og, encodeOracleGeneral(t));
    let textS = 0;
    for (const [format, file] of files) {
      const s = bestOf([replayCmd(file, 'lru')], a.runs)[0]!.s;
      if (format === 'text') textS = s;
      rows.push({ trace: names[k]!, refs: t.length, format, bytes: statSync(file).size, seconds: s, refsPerSec: t.length / s, vsText: textS / s });
    }
    for (const policy of POLICIES) {
      const loop = loopSeconds(t, policy, a.runs);
      loops.push({ trace: names[k]!, refs: t.length, policy, seconds: loop, refsPerSec: t.length / loop });
      const csArgs = cachesimArgs(og, policy, `${base}.${policy}.cachesim`);
      cachesimCmds.push(`cachesim ${csArgs.join(' ')}`);
      if (!cachesim) continue;
      // the two whole processes, taking turns, on the same oracleGeneral file
      const [sm, cs] = bestOf([replayCmd(og, policy), [cachesim, ...csArgs]], a.runs);
      const misses = smpvmMisses(sm!.out);
      const c = cachesimResult(cs!.out);
      const ratio = misses / t.length;
      vs.push({
        trace: names[k]!,
        refs: t.length,
        policy,
        smpvmSeconds: sm!.s,
        cachesimSeconds: cs!.s,
        speedup: cs!.s / sm!.s,
        smpvmMisses: misses,
        smpvmMissRatio: ratio,
        cachesimMissRatio: c.missRatio,
        agree: Math.abs(ratio - Number(c.missRatio)) <= 0.00005 + 1e-12,
        smpvmLoopRefsPerSec: t.length / loop,
        cachesimLoopRefsPerSec: c.mqps * 1e6,
      });
    }
  }
  const table = new Table({ head: ['trace', 'refs', 'input', 'bytes/ref', 'whole process s', 'refs/s', '× text'], style: plain });
  for (const r of rows) table.push([r.trace, r.refs, r.format, (r.bytes / r.refs).toFixed(2), r.seconds.toFixed(3), fmtRate(r.refsPerSec), r.vsText.toFixed(2)]);
  for (const l of loops.filter((l) => l.policy === 'lru')) table.push([l.trace, l.refs, 'loop alone (replay())', '', l.seconds.toFixed(3), fmtRate(l.refsPerSec), '']);
  console.log(`trace input: whole \`smpvm replay --policy lru --mem ${MEM}\` processes, best of ${a.runs}; node ${process.version}; \`node -e 0\` ${nodeFloor!.s.toFixed(3)} s, \`smpvm replay --help\` ${replayStart!.s.toFixed(3)} s`);
  console.log(table.toString());
  if (cachesim) {
    const t2 = new Table({
      head: ['trace', 'policy', 'smpvm s', 'cachesim s', 'cachesim s / smpvm s', 'smpvm refs/s', 'cachesim refs/s', 'smpvm loop refs/s', 'cachesim loop refs/s', 'miss ratio smpvm', 'cachesim', 'agree'],
      style: plain,
    });
    for (const v of vs)
      t2.push([v.trace, v.policy, v.smpvmSeconds.toFixed(3), v.cachesimSeconds.toFixed(3), v.speedup.toFixed(2), fmtRate(v.refs / v.smpvmSeconds), fmtRate(v.refs / v.cachesimSeconds), fmtRate(v.smpvmLoopRefsPerSec), fmtRate(v.cachesimLoopRefsPerSec), v.smpvmMissRatio.toFixed(6), v.cachesimMissRatio, v.agree ? 'yes' : 'NO']);
    console.log(`\nsmpvm replay vs libCacheSim's cachesim (${cachesim}, ${cachesimVersion}): whole processes on the same oracleGeneral file, ${MEM} pages = ${MEM} objects (--ignore-obj-size), taking turns, best of ${a.runs}; "loop" is smpvm's replay() in this process and the throughput cachesim prints (its simulate loop, trace reading included)`);
    console.log(t2.toString());
    const off = vs.filter((v) => !v.agree);
    if (off.length) console.log(`miss ratios differ: ${off.map((v) => `${v.trace} ${v.policy}`).join(', ')}`);
  } else {
    console.log("libCacheSim's cachesim not found (set CACHESIM=/path/to/cachesim or put it on PATH): not measured. Its commands on the same files:");
    for (const c of cachesimCmds) console.log(`  ${c}`);
  }
  writeResult(a.out, {
    bench: 'trace_input',
    date: new Date().toISOString(),
    node: process.version,
    mem: MEM,
    runs: a.runs,
    nodeFloorSeconds: nodeFloor!.s,
    replayStartSeconds: replayStart!.s,
    cachesim: cachesim || null,
    cachesimVersion,
    cachesimCommands: cachesimCmds,
    rows,
    loops,
    vsCachesim: vs,
  });
  console.log(`wrote ${a.out}`);
  return rows;
}

benchMain(import.meta.url, main);
