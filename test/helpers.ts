// Test helpers: boot a small machine and a CPU context on the main thread.
import { bootMachine } from '../src/sim/boot.js';
import { makeCpu, type Cpu } from '../src/vm/cpu.js';
import type { Machine } from '../src/machine/machine.js';
import { createRunPool, type RunOutcome } from '../src/sim/run.js';
import { beforeAll, afterAll } from 'vitest';
import type { Piscina } from 'piscina';
import { readLockdepReport, formatLockdepReport } from '../src/sync/lockdep.js';

export function boot(cfg: Record<string, unknown> = {}): { m: Machine; cpu: Cpu } {
  const m = bootMachine({ mem: '8M', swap: 0, cpus: 1, lockdep: true, debug: true, ...cfg });
  return { m, cpu: makeCpu(m, 0) };
}

/**
 * A pool of `threads` run workers (default 3: 2 CPUs + kswapd) for the
 * enclosing describe block, made before its tests and destroyed after: each
 * runMachine on it skips the workers' start-up (~1.8 s for three tsx
 * workers on 2 cores, against ~0.25 s for a 1000-op stress run).
 */
export function usePool(threads = 3): () => Piscina {
  let pool: Piscina | undefined;
  beforeAll(() => {
    pool = createRunPool(threads);
  });
  afterAll(async () => {
    await pool?.destroy();
  });
  // a stuck run destroys the pool it ran on (sim/run.ts): the next run gets a new one
  return () => (pool!.threads.length > 0 ? pool! : (pool = createRunPool(threads)));
}

/**
 * Everything a stress run found wrong: the error a CPU threw (with its stack
 * when `stack`), checkpoint and final checker violations, oracle failures,
 * and, when `lockdep`, the lockdep report.
 */
export function runProblems(r: RunOutcome, opts: { stack?: boolean; lockdep?: boolean } = {}): string[] {
  const p = [
    ...(r.error ? [`cpu ${r.error.cpu} threw in ${r.error.op}: ${r.error.message}${opts.stack ? `\n${r.error.stack ?? ''}` : ''}`] : []),
    ...r.checkpoints.violations,
    ...r.checker.violations,
    ...r.perCpu.flatMap((c) => c.failures),
  ];
  if (opts.lockdep) {
    const ld = readLockdepReport(r.m.w, r.m.layout.lockdep);
    if (ld.count) p.push(formatLockdepReport(ld));
  }
  return p;
}
