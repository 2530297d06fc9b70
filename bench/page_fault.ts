/*
 * bench/page_fault.ts — will-it-scale's page_fault1 on one CPU, and a COW
 * fault bench, on the main thread (one simulated CPU, no workers): the cost
 * of the MM path itself. Real 4 KiB zeroing and munmap are included.
 *
 *   page_fault1: mmap 128 MiB anonymous, write one word in every page, munmap; repeat.
 *   cow:         a parent with 64 MiB of written anonymous memory forks; the
 *                child writes every page (COW copies), exits; repeat.
 *
 * The fault path runs through reclaim (the LRU, as in every smpvm run): since
 * issue 15 vm/ calls reclaim directly, so there is no reclaim-less variant.
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
import { writeResult, fmtRate, benchArgs, benchMain, median } from './common.js';

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

/**
 * Both benches on this thread. The fault path always runs through reclaim
 * (pagevec LRU adds, release_pages at munmap, the allocator's watermark
 * wrapper), as in every `smpvm run`: vm/ calls reclaim directly.
 */
export async function main(argv = process.argv.slice(2)) {
  const { seconds } = benchArgs('page_fault', argv, { seconds: { kind: 'number', dflt: 3, min: 0.1 } }, ['seconds']);
  const pf = pageFault1(seconds);
  console.log(
    `page_fault1 (1 CPU): ${fmtRate(pf.faultsPerSec)} faults/s over ${pf.loops} timed loops of 128 MiB ` +
      `(median loop ${fmtRate(pf.medianLoopFaultsPerSec)}, best ${fmtRate(pf.bestLoopFaultsPerSec)}; one warm-up loop untimed)`,
  );
  const cow = cowFaults(seconds);
  console.log(`cow faults  (1 CPU): ${fmtRate(cow.cowFaultsPerSec)} COW faults/s; fork of 64 MiB: ${cow.forkMsPer64MiB.toFixed(1)} ms`);
  writeResult('results/bench-page-fault.json', { date: new Date().toISOString(), pageFault1: pf, cow });
}

benchMain(import.meta.url, main);
