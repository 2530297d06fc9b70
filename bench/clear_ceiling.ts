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
 * Run: npm run build && node dist/bench/clear_ceiling.js [seconds] [regionMiB]
 */
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { isMain, fmtRate } from './common.js';

const PAGE_WORDS = 1024;

interface ClearArgs {
  kind: 'clear-ceiling';
  sab: SharedArrayBuffer;
  index: number;
  pages: number;
  ms: number;
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

async function runWorkers(sab: SharedArrayBuffer, workers: number, pages: number, ms: number): Promise<number> {
  const file = fileURLToPath(import.meta.url);
  const rates = await Promise.all(
    Array.from({ length: workers }, (_, index) => {
      const wd: ClearArgs = { kind: 'clear-ceiling', sab, index, pages, ms };
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

if (!isMainThread && (workerData as ClearArgs | undefined)?.kind === 'clear-ceiling') {
  parentPort!.postMessage(clearLoop(workerData as ClearArgs));
}

export async function main(argv = process.argv.slice(2)): Promise<ClearCeiling> {
  const c = await clearPageCeiling(Number(argv[0] ?? 2), Number(argv[1] ?? 32));
  console.log(
    `clear_page ceiling, ${c.regionMiB} MiB per worker: 1 worker ${fmtRate(c.pagesPerSec1)} pages/s, ` +
      `2 workers ${fmtRate(c.pagesPerSec2)} pages/s, 2/1 ${c.ratio.toFixed(2)}`,
  );
  return c;
}

if (isMainThread && isMain(import.meta.url)) await main();
