/*
 * lockcount.ts — `lock_counter`: every CPU increments one shared counter
 * under one spinlock, the microbenchmark of Boyd-Wickizer, Kaashoek, Morris,
 * Zeldovich, "Non-scalable locks are dangerous" (Linux Symposium 2012), which
 * shows ticket-lock throughput collapsing as cores are added while MCS levels
 * off. Issue 17's lock-collapse bench (bench/vclock.ts) runs it under each
 * lock implementation on the amd-48 preset.
 *
 * One step: spin_lock(test_lock_a in the G_COUNTER line), a critical section
 * that touches spec.csLines cache lines of shared data (the counter's line
 * and its neighbours; under the virtual clock each costs a line transfer
 * from the previous holder's CPU), counter++, spin_unlock, then
 * spec.thinkNs of work outside the lock. Under the host clock the charges
 * are no-ops and it is a tight lock loop.
 *
 * Locking: the counter and its "last holder" word are written only under the
 * lock.
 */
import type { Cpu } from '../vm/cpu.js';
import { G_COUNTER, globalLine } from '../machine/layout.js';
import { spin_lock, spin_unlock } from '../sync/spinlock.js';
import { C_TEST_A, SITE } from '../sync/classes.js';
import { charge, line_ns } from '../timing/index.js';
import { z } from 'zod';
import { int, num } from '../config.js';
import type { Workload, WorkloadSpec, WorkloadSetup } from './types.js';

const CNT_VALUE = 4;
const CNT_LAST = 5; // cpu + 1 of the last holder (whose cache has the critical section's lines)

export const LOCK_COUNTER: Workload = {
  name: 'lock_counter',
  description: 'a shared counter under one spinlock (Boyd-Wickizer et al. 2012); spec csLines, thinkNs',
  /** run by bench/vclock.ts (the lock-collapse figure), not offered to --workload */
  internal: true,
  /** cache lines the critical section touches, and the work between acquisitions (virtual ns) */
  spec: z.object({ csLines: int(1, 64).default(3), thinkNs: num(0, 1e9).default(2000) }).strict(),
  minMemPerCpu: () => 64 * 1024,
  setup: (monitor: Cpu): WorkloadSetup => {
    const off = globalLine(monitor.l, G_COUNTER);
    monitor.w[off + CNT_VALUE] = 0;
    monitor.w[off + CNT_LAST] = 0;
    return { files: [], sharedMm: -1, sharedFiles: [] };
  },
  create: (cpu: Cpu, spec: WorkloadSpec) => {
    const off = globalLine(cpu.l, G_COUNTER);
    const w = cpu.w;
    const lines = Number(spec.csLines);
    const think = Number(spec.thinkNs);
    let units = 0;
    return {
      step(): number {
        spin_lock(cpu, off, C_TEST_A, SITE.test);
        charge(lines * line_ns(w[off + CNT_LAST]! - 1, cpu.id));
        w[off + CNT_VALUE]!++;
        w[off + CNT_LAST] = cpu.id + 1;
        spin_unlock(cpu, off, C_TEST_A);
        charge(think);
        units++;
        return 1;
      },
      end(): void {},
      result: () => ({ units, failures: [] }),
    };
  },
  teardown: () => undefined,
};

