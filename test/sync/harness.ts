/*
 * harness.ts — the main-thread side of the sync tests: start CPU workers
 * (real worker_threads running lock-worker.ts, loaded through tsx by the
 * lock-worker.mjs bootstrap), send them
 * scenarios, and wait for conditions on shared words without blocking the
 * event loop (polling every millisecond, with a deadline that names what
 * was awaited).
 */
import { Worker } from 'node:worker_threads';
import { createMachine, type Machine } from '../../src/machine/machine.js';
import { makeCpuBase, type CpuBase } from '../../src/machine/cpu.js';
import type { LockImplName } from '../../src/config.js';
import type { ScenarioName } from './scenarios.js';

export interface CpuWorker {
  run<T = unknown>(m: Machine, cpu: number, scenario: ScenarioName, args?: unknown): Promise<T>;
  terminate(): Promise<number>;
}

/** The first error any CPU worker reported: `until` gives up at once instead of waiting out its deadline. */
let workerFailure: Error | null = null;

export function startCpuWorker(): CpuWorker {
  const worker = new Worker(new URL('./lock-worker.mjs', import.meta.url));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  worker.on('message', (msg: { id: number; ok: boolean; result?: unknown; error?: string }) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else {
      const e = new Error(msg.error);
      workerFailure ??= e;
      p.reject(e);
    }
  });
  worker.on('error', (e) => {
    workerFailure ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  });
  return {
    run<T>(m: Machine, cpu: number, scenario: ScenarioName, args: unknown = {}): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        worker.postMessage({ id, sab: m.sab, cpu, scenario, args });
      });
    },
    terminate: () => worker.terminate(),
  };
}

/** Resolve once `cond()` is true; reject after `ms` naming `what`. */
export async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (workerFailure) throw new Error(`while waiting for ${what}: ${workerFailure.message}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** The machine every sync test uses (each test starts with one): 2 CPUs (+ the kswapd slot, which the main thread plays). */
export function testMachine(lockImpl: LockImplName, extra: Record<string, unknown> = {}): Machine {
  workerFailure = null; // a new test: earlier failures are reported by their own tests
  return createMachine({ cpus: 2, mem: '4M', swap: 0, lockImpl, lockdep: true, ...extra });
}

/** The main thread as a CPU: the third per-CPU slot (kswapd's), unused by the workers. */
export const MAIN_CPU = 2;
export const mainCpu = (m: Machine): CpuBase => makeCpuBase(m, MAIN_CPU);

/** What the worker's 'counter' job reports. */
export interface CounterResult {
  violations: number;
  overlapped: boolean;
  ms: number;
}

/**
 * CPUs 0 and 1 (`cpus`) each increment the test counter `n0` times under
 * `lock`; retried on a fresh machine, with twice the increments each time
 * (on a busy host one worker's vCPU can be descheduled for a whole short
 * run), until the two runs really overlapped in time. Returns the per-CPU
 * count `n` of the run that counts.
 */
export async function contendedCounter(cpus: CpuWorker[], impl: LockImplName, lock: 'spin' | 'page' | 'chain', n0: number, extra = {}) {
  for (let attempt = 1, n = n0; ; attempt++, n *= 2) {
    const m = testMachine(impl, extra);
    const res = await Promise.all([0, 1].map((c) => cpus[c]!.run<CounterResult>(m, c, 'counter', { n, lock, nr: 2 })));
    if (res.some((r) => r.overlapped) || attempt === 6) return { m, res, attempt, n };
  }
}
