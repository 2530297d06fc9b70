/*
 * One worker pool kept across the runs of a test file whose code under test
 * builds its own runs (the CLI's commands, called in-process): a vi.mock of
 * src/sim/run.js hands runMachine this file's pool whenever the caller
 * brings none, so each run skips the CPU workers' start-up (three tsx
 * workers take ~1.8 s on 2 cores; a small CLI run itself well under that).
 *
 *   vi.mock('../../src/sim/run.js', (orig) => import('../run-pool.js').then((p) => p.withSharedPool(orig)));
 *   afterAll(destroySharedPool);
 *
 * The pool grows to the largest run so far (MAX_CPUS_VIRTUAL CPUs + kswapd
 * at most) and keeps its threads: a run of fewer CPUs uses as many of them,
 * the rest sit idle in Atomics.wait. A run that got stuck destroys the pool
 * it ran on (sim/run.ts: a stuck thread cannot be given back); the next run
 * then gets a new one. Everything else runMachine does — boot, barrier,
 * checkpoints, teardown, checker — is unchanged. Main thread only.
 */
import { Piscina } from 'piscina';
import { MAX_CPUS_VIRTUAL } from '../src/config.js';
import type * as Run from '../src/sim/run.js';

let pool: Piscina | undefined;

/** The shared pool; a new one if there is none yet or a stuck run destroyed it (no threads left). */
function sharedPool(mod: typeof Run): Piscina {
  if (!pool || pool.threads.length === 0) {
    pool = new Piscina({
      ...mod.workerFile(),
      minThreads: 1,
      maxThreads: MAX_CPUS_VIRTUAL + 1,
      idleTimeout: Infinity,
    });
  }
  return pool;
}

/** The module sim/run.js with runMachine running on the shared pool when the caller passes none. */
export async function withSharedPool(importOriginal: () => Promise<unknown>): Promise<typeof Run> {
  const mod = (await importOriginal()) as typeof Run;
  const runMachine: typeof Run.runMachine = (opts) => mod.runMachine(opts.pool ? opts : { ...opts, pool: sharedPool(mod) });
  return { ...mod, runMachine };
}

/** Terminate the shared pool's threads (afterAll). */
export async function destroySharedPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.destroy();
}
