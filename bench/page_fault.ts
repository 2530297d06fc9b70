/*
 * bench/page_fault.ts — will-it-scale's page_fault1 on one CPU, and a COW
 * fault bench, on the main thread (one simulated CPU, no workers): the cost
 * of the MM path itself. Real 4 KiB zeroing and munmap are included.
 *
 *   page_fault1: mmap 128 MiB anonymous, write one word in every page, munmap; repeat.
 *   cow:         a parent with 64 MiB of written anonymous memory forks; the
 *                child writes every page (COW copies), exits; repeat.
 *
 * Each runs twice, each time in a fresh worker thread: on the machine alone
 * (issue 2: no reclaim installed) and with reclaim's hooks installed (the LRU,
 * as in every smpvm run).
 *
 * Run: npm run build && node dist/bench/page_fault.js [seconds]
 */
import { bootMachine } from '../src/sim/boot.js';
import { makeCpu } from '../src/vm/cpu.js';
import { mm_alloc } from '../src/mm/mm_struct.js';
import { do_mmap, do_munmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../src/vm/mmap.js';
import { do_fork, mmput } from '../src/vm/fork.js';
import { user_write_word } from '../src/vm/access.js';
import { VM } from '../src/machine/vmstat.js';
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { writeResult, fmtRate, isMain, median } from './common.js';

const MiB = 1 << 20;
const P = 4096;

/**
 * Warm-up, as will-it-scale's: the first loop is run untimed (it pays the
 * host's first touch of the buffer's pages and the JIT's tiering), then every
 * loop is timed; the rate is faults over the timed loops' time, with the
 * median and best single loop beside it (the host is shared: spread shows).
 */
export function pageFault1(seconds: number, cfg: Record<string, unknown> = {}) {
  const m = bootMachine({ mem: '192M', swap: 0, cpus: 1, populate: true, ...cfg });
  const cpu = makeCpu(m, 0);
  const mm = mm_alloc(cpu, cpu.mmCache);
  const len = 128 * MiB;
  const loop = () => {
    const a = do_mmap(cpu, mm, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (let off = 0; off < len; off += P) user_write_word(cpu, mm, a + off, off);
    do_munmap(cpu, mm, a, len);
  };
  loop(); // warm-up
  const f0 = cpu.w[cpu.vm + VM.pgfault]!;
  const rates: number[] = [];
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  do {
    const l0 = performance.now();
    const c0 = cpu.w[cpu.vm + VM.pgfault]!;
    loop();
    rates.push(((cpu.w[cpu.vm + VM.pgfault]! - c0) / (performance.now() - l0)) * 1000);
  } while (performance.now() < deadline);
  const ms = performance.now() - t0;
  const faults = cpu.w[cpu.vm + VM.pgfault]! - f0;
  return {
    bench: 'page_fault1',
    loops: rates.length,
    faults,
    ms,
    faultsPerSec: (faults / ms) * 1000,
    medianLoopFaultsPerSec: median(rates),
    bestLoopFaultsPerSec: Math.max(...rates),
  };
}

export function cowFaults(seconds: number, cfg: Record<string, unknown> = {}) {
  const m = bootMachine({ mem: '192M', swap: 0, cpus: 1, populate: true, ...cfg });
  const cpu = makeCpu(m, 0);
  const parent = mm_alloc(cpu, cpu.mmCache);
  const len = 64 * MiB;
  const a = do_mmap(cpu, parent, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let off = 0; off < len; off += P) user_write_word(cpu, parent, a + off, 1);
  const before = cpu.w[cpu.vm + VM.cow_fault]!;
  let loops = 0;
  let forkMs = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  do {
    const f0 = performance.now();
    const child = do_fork(cpu, parent);
    forkMs += performance.now() - f0;
    for (let off = 0; off < len; off += P) user_write_word(cpu, child, a + off, 2);
    mmput(cpu, child);
    loops++;
  } while (performance.now() < deadline);
  const ms = performance.now() - t0;
  const cows = cpu.w[cpu.vm + VM.cow_fault]! - before;
  return { bench: 'cow', loops, cowFaults: cows, ms, cowFaultsPerSec: (cows / (ms - forkMs)) * 1000, forkMsPer64MiB: forkMs / loops };
}

type Variant = 'machine' | 'reclaim';
interface PfArgs {
  kind: 'page-fault-bench';
  variant: Variant;
  seconds: number;
}

/** One variant in a fresh thread: its own module instances, so reclaim's hooks are installed or not. */
function runVariant(variant: Variant, seconds: number): Promise<{ pf: ReturnType<typeof pageFault1>; cow: ReturnType<typeof cowFaults> }> {
  const wd: PfArgs = { kind: 'page-fault-bench', variant, seconds };
  const wk = new Worker(fileURLToPath(import.meta.url), { workerData: wd });
  return new Promise((res, rej) => {
    wk.once('message', res);
    wk.once('error', rej);
  });
}

if (!isMainThread && (workerData as PfArgs | undefined)?.kind === 'page-fault-bench') {
  const a = workerData as PfArgs;
  // 'reclaim': the LRU (pagevecs, release_pages) and the allocator's reclaim wrapper, as every smpvm run has them
  if (a.variant === 'reclaim') await import('../src/sim/register.js');
  parentPort!.postMessage({ pf: pageFault1(a.seconds), cow: cowFaults(a.seconds) });
}

/**
 * Both variants, one after the other: `machine` is the issue-2 machine (no
 * reclaim installed: no LRU lists), `reclaim` the same with reclaim's hooks
 * installed, as in every `smpvm run` (pagevec LRU adds, release_pages at zap).
 */
export async function main(argv = process.argv.slice(2)) {
  const seconds = Number(argv[0] ?? 3);
  const out: Record<string, unknown> = { date: new Date().toISOString() };
  for (const variant of ['machine', 'reclaim'] as const) {
    const { pf, cow } = await runVariant(variant, seconds);
    console.log(
      `page_fault1 (1 CPU, ${variant.padEnd(7)}): ${fmtRate(pf.faultsPerSec)} faults/s over ${pf.loops} timed loops of 128 MiB ` +
        `(median loop ${fmtRate(pf.medianLoopFaultsPerSec)}, best ${fmtRate(pf.bestLoopFaultsPerSec)}; one warm-up loop untimed)`,
    );
    console.log(`cow faults  (1 CPU, ${variant.padEnd(7)}): ${fmtRate(cow.cowFaultsPerSec)} COW faults/s; fork of 64 MiB: ${cow.forkMsPer64MiB.toFixed(1)} ms`);
    out[variant] = { pageFault1: pf, cow };
  }
  writeResult('results/bench-page-fault.json', out);
}

if (isMainThread && isMain(import.meta.url)) await main();
