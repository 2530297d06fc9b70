/*
 * bench/trace_input.ts — trace input at the speed of the replay loop (issue
 * 20 item 5): references per second of a whole `smpvm replay` process on
 * the same trace as text, gzip, zstd, smpvm binary and libCacheSim's
 * oracleGeneral, beside the replay loop alone, and libCacheSim's `cachesim`
 * on the oracleGeneral file when it is installed.
 *
 *   npm run build && flock /tmp/bench.lock node dist/bench/trace_input.js [--runs N] [--dir DIR] [--out FILE]
 *
 * No real program trace is available on this machine, so three synthetic
 * page-reference traces of real programs' shapes are generated (sizes in
 * the 1.8-4.5 M range), deterministically:
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
 * exit; the figure is the best of N runs (default 3). "node startup" is the
 * same CLI printing --version: the floor every process pays. The loop alone
 * is replay() on the parsed trace in this process (best of N, after a
 * warm-up). Text and zstd files are made by this bench (zstd by the zstd
 * CLI, level 3); the binary files by `smpvm trace convert`'s encoders.
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
import { fmtRate, writeResult, benchArgs, benchMain } from './common.js';

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

/** Best wall time of `runs` spawns of argv, in seconds; throws if the process fails. */
function bestProcess(argv: string[], runs: number): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    const s = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${(r.stderr || r.stdout).split('\n')[0]}`);
    best = Math.min(best, s);
  }
  return best;
}

const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();

export async function main(argv: string[] = process.argv.slice(2)) {
  const a = benchArgs('trace_input', argv, {
    runs: { kind: 'number', dflt: 3, min: 1 },
    dir: { kind: 'string', dflt: 'results/trace-input' },
    out: { kind: 'string', dflt: 'results/bench-trace-input.json' },
  });
  mkdirSync(a.dir, { recursive: true });
  const zstd = which('zstd');
  const cachesim = which('cachesim');
  const traces = [matmul(1_800_000), syntheticTrace(3_000_000), heap(4_500_000)];
  const names = ['matmul', 'zipfloop', 'heap'];
  const startup = bestProcess([process.execPath, CLI, '--version'], a.runs);
  const rows: Row[] = [];
  const loops: { trace: string; refs: number; seconds: number; refsPerSec: number }[] = [];
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
    writeFileSync(`${base}.txt`, text);
    writeFileSync(`${base}.txt.gz`, gzipSync(text, { level: 6 }));
    if (zstd) spawnSync(zstd, ['-q', '-f', '-3', `${base}.txt`, '-o', `${base}.txt.zst`]);
    writeFileSync(`${base}.smpvm`, encodeSmpvm(t));
    writeFileSync(`${base}.oracleGeneral.bin`, encodeOracleGeneral(t));
    let textS = 0;
    for (const [format, file] of files) {
      const s = bestProcess([process.execPath, CLI, 'replay', file, '--policy', 'lru', '--mem', String(MEM)], a.runs);
      if (format === 'text') textS = s;
      rows.push({ trace: names[k]!, refs: t.length, format, bytes: statSync(file).size, seconds: s, refsPerSec: t.length / s, vsText: textS / s });
    }
    // the loop alone: replay() on the parsed trace, best of N after a warm-up
    replay(t, { policy: 'lru', pages: [MEM] });
    let best = Infinity;
    for (let i = 0; i < a.runs; i++) {
      const t0 = performance.now();
      replay(t, { policy: 'lru', pages: [MEM] });
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    loops.push({ trace: names[k]!, refs: t.length, seconds: best, refsPerSec: t.length / best });
    const og = `${base}.oracleGeneral.bin`;
    const cmd = `cachesim ${og} oracleGeneral lru ${MEM} --ignore-obj-size 1`;
    cachesimCmds.push(cmd);
    if (cachesim && existsSync(og)) {
      const s = bestProcess(['sh', '-c', cmd.replace(/^cachesim/, cachesim)], a.runs);
      rows.push({ trace: names[k]!, refs: t.length, format: 'cachesim (libCacheSim)', bytes: statSync(og).size, seconds: s, refsPerSec: t.length / s, vsText: textS / s });
    }
  }
  const table = new Table({ head: ['trace', 'refs', 'input', 'bytes/ref', 'whole process s', 'refs/s', '× text'], style: plain });
  for (const r of rows) table.push([r.trace, r.refs, r.format, (r.bytes / r.refs).toFixed(2), r.seconds.toFixed(3), fmtRate(r.refsPerSec), r.vsText.toFixed(2)]);
  for (const l of loops) table.push([l.trace, l.refs, 'loop alone (replay())', '', l.seconds.toFixed(3), fmtRate(l.refsPerSec), '']);
  console.log(`trace input: whole \`smpvm replay --policy lru --mem ${MEM}\` processes, best of ${a.runs}; node ${process.version}; node startup (smpvm --version) ${startup.toFixed(3)} s`);
  console.log(table.toString());
  if (!cachesim) {
    console.log("libCacheSim's cachesim is not installed (no Debian package): not measured. Its command on the same files:");
    for (const c of cachesimCmds) console.log(`  ${c}`);
  }
  writeResult(a.out, { bench: 'trace_input', date: new Date().toISOString(), node: process.version, mem: MEM, runs: a.runs, startupSeconds: startup, cachesim: cachesim || null, cachesimCommands: cachesimCmds, rows, loops });
  console.log(`wrote ${a.out}`);
  return rows;
}

benchMain(import.meta.url, main);
