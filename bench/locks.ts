/*
 * bench/locks.ts — acquisitions per second of each lock implementation
 * (tas, ttas, ticket, mcs, futex), uncontended (one CPU) and with two CPUs
 * hammering the same lock, and the ratio of the two, measured in one run.
 *
 * Each CPU is a worker thread running this same file (compiled: node
 * dist/bench/locks.js; `npm run build` first). Per phase the bench builds a
 * fresh machine (lockdep off, as in benchmarks), the CPUs check in at a start
 * barrier in the buffer and are released together; each loops
 * spin_lock / counter++ / spin_unlock, counting acquisitions in a local
 * variable and looking at the stop flag every STOP_CHECK acquisitions; the
 * main thread raises the flag after --ms milliseconds. The counter the lock
 * guards must equal the acquisitions reported (the run is also a
 * correctness check), and lock_stat's contentions and bounces are reported
 * with the rates. "cores used" is the process's CPU time over the wall time
 * of each phase (1-CPU / 2-CPU): on a shared host the two CPU threads may be
 * time-sliced onto one core, and then they barely contend at all; a 2-CPU
 * figure near 1.0 says so.
 *
 * Scratch words: global lines 13..15 (unused by the MM code): line 13 the
 * lock and its counter, line 14 the stop flag (read-mostly, its own line),
 * line 15 the barrier. Prints a table; writes results/bench-locks.json
 * (relative to the working directory).
 *
 * Usage: node dist/bench/locks.js [--ms 500] [--out results/bench-locks.json]
 */
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { resolve } from 'node:path';
import { availableParallelism, cpus as osCpus } from 'node:os';
import { createMachine, attachMachine, type Machine } from '../src/machine/machine.js';
import { makeCpuBase } from '../src/machine/cpu.js';
import { globalLine } from '../src/machine/layout.js';
import { LOCK_IMPLS, type LockImplName } from '../src/config.js';
import { spin_lock, spin_unlock } from '../src/sync/spinlock.js';
import { C_TEST_A, SITE } from '../src/sync/classes.js';
import { lockStatRows } from '../src/sync/lockstat_rows.js';
import { benchArgs, benchMain, writeResult } from './common.js';

const LINE_LOCK = 13;
const LINE_STOP = 14;
const LINE_BARRIER = 15;
const CNT = 8; // counter word in the lock's line
const B_READY = 0;
const B_GATE = 1;
const STOP_CHECK = 256;

interface CpuRun {
  acquisitions: number;
  ms: number;
}

/* ---------------- worker: one simulated CPU ---------------- */

function cpuLoop(sab: SharedArrayBuffer, id: number, nr: number): CpuRun {
  const m = attachMachine(sab);
  const cpu = makeCpuBase(m, id);
  const w = m.w;
  const lock = globalLine(m.layout, LINE_LOCK);
  const stop = globalLine(m.layout, LINE_STOP);
  const bar = globalLine(m.layout, LINE_BARRIER);
  const site = SITE.test;
  if (Atomics.add(w, bar + B_READY, 1) === nr - 1) {
    Atomics.store(w, bar + B_GATE, 1);
    Atomics.notify(w, bar + B_GATE);
  } else {
    while (Atomics.load(w, bar + B_GATE) === 0) Atomics.wait(w, bar + B_GATE, 0);
  }
  const t0 = performance.now();
  let n = 0;
  while (Atomics.load(w, stop) === 0) {
    for (let i = 0; i < STOP_CHECK; i++) {
      spin_lock(cpu, lock, C_TEST_A, site);
      w[lock + CNT] = w[lock + CNT]! + 1;
      spin_unlock(cpu, lock, C_TEST_A);
    }
    n += STOP_CHECK;
  }
  return { acquisitions: n, ms: performance.now() - t0 };
}

if (!isMainThread) {
  parentPort!.on('message', (msg: { sab: SharedArrayBuffer; cpu: number; nr: number }) => {
    try {
      parentPort!.postMessage({ ok: true, run: cpuLoop(msg.sab, msg.cpu, msg.nr) });
    } catch (e) {
      parentPort!.postMessage({ ok: false, error: String((e as Error).stack ?? e) });
    }
  });
}

/* ---------------- main thread ---------------- */

export interface PhaseResult {
  cpus: number;
  acquisitions: number;
  acqPerSec: number;
  perCpu: CpuRun[];
  contentions: number;
  conBounces: number;
  acqBounces: number;
  counterExact: boolean;
  /** process CPU time / wall time over the phase: ~nr if the CPUs really ran at once, ~1 if time-sliced */
  coresUsed: number;
}

export interface LockBenchRow {
  impl: LockImplName;
  uncontended: PhaseResult;
  contended: PhaseResult;
  /** 2-CPU acquisitions/s over 1-CPU acquisitions/s */
  ratio: number;
}

function runOn(worker: Worker, sab: SharedArrayBuffer, cpu: number, nr: number): Promise<CpuRun> {
  return new Promise((res, rej) => {
    worker.once('message', (msg: { ok: boolean; run?: CpuRun; error?: string }) =>
      msg.ok ? res(msg.run!) : rej(new Error(`cpu ${cpu}: ${msg.error}`)),
    );
    worker.postMessage({ sab, cpu, nr });
  });
}

async function phase(workers: Worker[], impl: LockImplName, nr: number, ms: number): Promise<PhaseResult> {
  const m: Machine = createMachine({ cpus: 2, mem: '4M', swap: 0, lockImpl: impl, lockdep: false });
  const w = m.w;
  const bar = globalLine(m.layout, LINE_BARRIER);
  const runs = workers.slice(0, nr).map((wk, i) => runOn(wk, m.sab, i, nr));
  // the timer starts when the last CPU opens the gate
  const gate = Atomics.waitAsync(w, bar + B_GATE, 0);
  if (gate.async) await gate.value;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  Atomics.store(w, globalLine(m.layout, LINE_STOP), 1);
  const perCpu = await Promise.all(runs);
  const used = process.cpuUsage(cpu0);
  const coresUsed = (used.user + used.system) / 1000 / (performance.now() - wall0);
  const acquisitions = perCpu.reduce((s, r) => s + r.acquisitions, 0);
  const row = lockStatRows(m).find((r) => r.class === 'test_lock_a')!;
  return {
    cpus: nr,
    acquisitions,
    acqPerSec: perCpu.reduce((s, r) => s + (r.acquisitions / r.ms) * 1000, 0),
    perCpu,
    contentions: row.contentions,
    conBounces: row['con-bounces'],
    acqBounces: row['acq-bounces'],
    counterExact: w[globalLine(m.layout, LINE_LOCK) + CNT] === acquisitions && row.acquisitions === acquisitions,
    coresUsed,
  };
}

const fmtRate = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);
const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : '-');

export function formatLockBench(rows: LockBenchRow[]): string {
  const head = ['impl', '1 CPU acq/s', '2 CPUs acq/s', '2/1 ratio', 'contended', 'acq-bounces', 'cores used', 'exact'];
  const body = rows.map((r) => [
    r.impl,
    fmtRate(r.uncontended.acqPerSec),
    fmtRate(r.contended.acqPerSec),
    `${r.ratio.toFixed(2)}x`,
    pct(r.contended.contentions, r.contended.acquisitions),
    pct(r.contended.acqBounces, r.contended.acquisitions),
    `${r.uncontended.coresUsed.toFixed(2)} / ${r.contended.coresUsed.toFixed(2)}`,
    r.uncontended.counterExact && r.contended.counterExact ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

export async function main(argv = process.argv.slice(2)): Promise<LockBenchRow[]> {
  const a = benchArgs('locks', argv, { ms: { kind: 'number', dflt: 500, min: 1 }, out: { kind: 'string', dflt: 'results/bench-locks.json' } });
  const ms = a.ms;
  const out = resolve(a.out);
  const workers = [new Worker(new URL(import.meta.url)), new Worker(new URL(import.meta.url))];
  const rows: LockBenchRow[] = [];
  try {
    for (const impl of LOCK_IMPLS) {
      const uncontended = await phase(workers, impl, 1, ms);
      const contended = await phase(workers, impl, 2, ms);
      rows.push({ impl, uncontended, contended, ratio: contended.acqPerSec / uncontended.acqPerSec });
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  console.log(`lock implementations: ${ms} ms per phase, lock + plain counter++ + unlock, node ${process.version}, ${availableParallelism()} cpus (${osCpus()[0]?.model ?? '?'})`);
  console.log(formatLockBench(rows));
  writeResult(out, { bench: 'locks', date: new Date().toISOString(), node: process.version, hostCpus: availableParallelism(), msPerPhase: ms, rows });
  console.log(`wrote ${out}`);
  if (rows.some((r) => !r.uncontended.counterExact || !r.contended.counterExact)) {
    throw new Error('a lock lost updates: the guarded counter does not match the acquisitions');
  }
  return rows;
}

benchMain(import.meta.url, main);
