/*
 * A piscina worker for test/sim/run.test.ts's stuck-run case: CPU 0 takes
 * the LRU lock and dies holding it (as a CPU whose code throws in the
 * middle of a critical section); CPU 1 then waits for that lock forever.
 * Same start barrier and result shape as workers/cpu.ts.
 */
import { attachMachine } from '../../src/machine/machine.js';
import { H_BARRIER, H_GATE, H_ERROR, H_STOP, H_RUNNING, PC_STATE } from '../../src/machine/layout.js';
import { makeCpu } from '../../src/vm/cpu.js';
import { lru_lock } from '../../src/sync/scheme.js';
import { SITE } from '../../src/sync/classes.js';
import type { CpuTask, CpuResult } from '../../src/sim/cpuloop.js';

export default function run(t: CpuTask): CpuResult {
  const m = attachMachine(t.sab);
  const w = m.w;
  const cpu = makeCpu(m, t.cpu);
  Atomics.add(w, H_BARRIER, 1);
  Atomics.notify(w, H_BARRIER);
  while (Atomics.load(w, H_GATE) === 0) Atomics.wait(w, H_GATE, 0, 100);
  w[cpu.pc + PC_STATE] = 1;
  if (t.cpu === 1) Atomics.wait(w, H_ERROR, 0, 5000); // let CPU 0 take the lock first
  lru_lock(cpu, SITE.test); // CPU 1 never gets past this
  Atomics.compareExchange(w, H_ERROR, 0, t.cpu + 1);
  Atomics.store(w, H_STOP, 1);
  Atomics.notify(w, H_ERROR);
  w[cpu.pc + PC_STATE] = 2; // done, as cpuloop.ts leaves a CPU that threw
  Atomics.sub(w, H_RUNNING, 1);
  return { cpu: t.cpu, ops: 0, units: 0, elapsedMs: 0, failures: [], extra: {}, error: { cpu: t.cpu, op: 'test', message: `cpu ${t.cpu} died holding the lru lock` } };
}
