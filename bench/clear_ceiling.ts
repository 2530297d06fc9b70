/*
 * bench/clear_ceiling.ts — the host's ceiling for page_fault1's 2/1 ratio.
 *
 * page_fault1's fault is dominated by clear_page, a 4 KiB store stream that
 * is memory-bound once the region outgrows the caches; two host cores share
 * one memory system, so two CPUs cannot clear pages twice as fast whatever
 * the simulated kernel does. This control runs clear_page's own operation
 * (copyWithin from the zero frame, src/mm/clear_page.ts) over a private
 * region per worker — no locks, no shared line, nothing of smpvm — with 1 and
 * 2 workers, and reports the ratio: the best 2/1 any page_fault1 run can show
 * on this host at that region size. Scale figures are read against it.
 *
 * A second control, `compute`, asks whether the host's two vCPUs are two
 * free cores at all: one L1-resident summing loop per worker thread (four
 * independent chains, so two threads on one physical core would share its
 * ALUs), 1 then 2 threads, several trials in a row. On a quiet host every
 * trial reads about 2.0; a spread of trials means a noisy neighbour (a vCPU
 * descheduled or placed on a busy core), and then no 2-CPU ratio measured
 * at that time means much.
 *
 * Last, what a shared cache line costs: the round trip of one line between
 * two threads (src/sim/hostprobe.ts). Every lock acquisition that bounces
 * and every list line two CPUs both write pays about half of it; on this VM
 * it has read from ~240 ns to ~1 µs on the same day (bare metal: ~50-150
 * ns), and page_fault1's 2/1 follows it.
 *
 * Run: npm run build && node dist/bench/clear_ceiling.js [seconds] [regionMiB] [computeTrials]
 * Results: results/bench-ceiling.json (written by main).
 */
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { benchArgs, benchMain, fmtRate, writeResult } from './common.js';
import { lineRoundTripNs } from '../src/sim/hostprobe.js';

const PAGE_WORDS = 1024;

interface ClearArgs {
  kind: 'clear-ceiling' | 'compute-ceiling';
  sab: SharedArrayBuffer;
  index: number;
  pages: number;
  ms: number;
}

/** The compute control's loop: 16 KiB of private Int32s summed in four chains; returns passes/s. */
function computeLoop(a: ClearArgs): number {
  const v = new Int32Array(4096);
  for (let i = 0; i < v.length; i++) v[i] = Math.imul(i, 7);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < a.ms) {
    for (let i = 0; i < 4096; i += 4) {
      s0 = (s0 + v[i]!) | 0;
      s1 = (s1 ^ v[i + 1]!) | 0;
      s2 = (s2 + v[i + 2]!) | 0;
      s3 = (s3 ^ v[i + 3]!) | 0;
    }
    n++;
  }
  return ((n + ((s0 ^ s1 ^ s2 ^ s3) & 0)) / (performance.now() - t0)) * 1000;
}

function clearLoop(a: ClearArgs): number {
  const w = new Int32Array(a.sab);
  const base = (1 + a.index * a.pages) * PAGE_WORDS; // frame 0 is the zero frame
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < a.ms) {
    for (let p = 0; p < a.pages; p++) w.copyWithin(base + p * PAGE_WORDS, 0, PAGE_WORDS);
    n += a.pages;
  }
  return (n / (performance.now() - t0)) * 1000;
}

async function runWorkers(sab: SharedArrayBuffer, workers: number, pages: number, ms: number, kind: ClearArgs['kind'] = 'clear-ceiling'): Promise<number> {
  const file = fileURLToPath(import.meta.url);
  const rates = await Promise.all(
    Array.from({ length: workers }, (_, index) => {
      const wd: ClearArgs = { kind, sab, index, pages, ms };
      const wk = new Worker(file, { workerData: wd });
      return new Promise<number>((res, rej) => {
        wk.once('message', res);
        wk.once('error', rej);
      });
    }),
  );
  return rates.reduce((s, r) => s + r, 0);
}

export interface ClearCeiling {
  regionMiB: number;
  pagesPerSec1: number;
  pagesPerSec2: number;
  ratio: number;
}

/** clear_page throughput with 1 and 2 workers over regionMiB each (a warm-up pass first). */
export async function clearPageCeiling(seconds: number, regionMiB: number): Promise<ClearCeiling> {
  const pages = (regionMiB << 20) / 4096;
  const sab = new SharedArrayBuffer((1 + 2 * pages) * 4096);
  await runWorkers(sab, 2, pages, 100); // first touch of the buffer's host pages
  const one = await runWorkers(sab, 1, pages, seconds * 1000);
  const two = await runWorkers(sab, 2, pages, seconds * 1000);
  return { regionMiB, pagesPerSec1: one, pagesPerSec2: two, ratio: two / one };
}

export interface ComputeTrial {
  passesPerSec1: number;
  passesPerSec2: number;
  ratio: number;
}

/** The compute control: `trials` rounds of 1 then 2 threads, `seconds` each. */
export async function computeCeiling(seconds: number, trials: number): Promise<ComputeTrial[]> {
  const sab = new SharedArrayBuffer(64);
  const out: ComputeTrial[] = [];
  for (let t = 0; t < trials; t++) {
    const one = await runWorkers(sab, 1, 0, seconds * 1000, 'compute-ceiling');
    const two = await runWorkers(sab, 2, 0, seconds * 1000, 'compute-ceiling');
    out.push({ passesPerSec1: one, passesPerSec2: two, ratio: two / one });
  }
  return out;
}

if (!isMainThread) {
  const a = workerData as ClearArgs | undefined;
  if (a?.kind === 'clear-ceiling') parentPort!.postMessage(clearLoop(a));
  else if (a?.kind === 'compute-ceiling') parentPort!.postMessage(computeLoop(a));
}

export async function main(argv = process.argv.slice(2)): Promise<{ clear: ClearCeiling; compute: ComputeTrial[]; roundTripNs: number | null }> {
  const a = benchArgs('clear_ceiling', argv, { seconds: { kind: 'number', dflt: 2, min: 0.1 }, region: { kind: 'number', dflt: 32, min: 1 }, trials: { kind: 'number', dflt: 8, min: 1 } }, ['seconds', 'region', 'trials']);
  const seconds = a.seconds;
  const c = await clearPageCeiling(seconds, a.region);
  console.log(
    `clear_page ceiling, ${c.regionMiB} MiB per worker: 1 worker ${fmtRate(c.pagesPerSec1)} pages/s, ` +
      `2 workers ${fmtRate(c.pagesPerSec2)} pages/s, 2/1 ${c.ratio.toFixed(2)}`,
  );
  const compute = await computeCeiling(Math.min(seconds, 1.5), a.trials);
  console.log(`compute control (nothing shared), 1 vs 2 threads, ${compute.length} trials in a row:`);
  console.log('trial  1 thread passes/s  2 threads passes/s   2/1');
  compute.forEach((t, i) => console.log(`${String(i + 1).padStart(5)}  ${fmtRate(t.passesPerSec1).padStart(17)}  ${fmtRate(t.passesPerSec2).padStart(18)}  ${t.ratio.toFixed(2).padStart(5)}`));
  const rs = compute.map((t) => t.ratio);
  console.log(`2/1 from ${Math.min(...rs).toFixed(2)} to ${Math.max(...rs).toFixed(2)} (a quiet 2-core host reads ~2.0 every time)`);
  const roundTripNs = await lineRoundTripNs();
  console.log(`cache-line round trip between two threads: ${roundTripNs === null ? 'not measured (one host core)' : `${roundTripNs.toFixed(0)} ns`} (src/sim/hostprobe.ts)`);
  writeResult('results/bench-ceiling.json', { date: new Date().toISOString(), kind: 'ceiling', clear: c, compute, roundTripNs });
  return { clear: c, compute, roundTripNs };
}

benchMain(import.meta.url, main);
