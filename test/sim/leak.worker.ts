/*
 * A piscina worker for test/sim/run.test.ts's hung-run case: CPU 0 takes
 * the LRU lock and finishes its work without releasing it and without an
 * error (a lock leaked on some return path); CPU 1 then waits for that lock
 * for ever. Nothing raises the stop flag: only the hung-task detector
 * (sim/run.ts HUNG_MS) can end the run.
 */
import { attachMachine } from '../../src/machine/machine.js';
import { H_ERROR, PC_OPS, PC_STATE } from '../../src/machine/layout.js';
import { makeCpu } from '../../src/vm/cpu.js';
import { enter_op, OP_MUNMAP } from '../../src/machine/cpu.js';
import { lru_lock } from '../../src/sync/scheme.js';
import { SITE } from '../../src/sync/classes.js';
import { start_barrier, cpu_done, type CpuTask, type CpuResult } from '../../src/sim/cpuloop.js';

export default function run(t: CpuTask): CpuResult {
  const m = attachMachine(t.sab);
  const w = m.w;
  const cpu = makeCpu(m, t.cpu);
  start_barrier(w);
  w[cpu.pc + PC_STATE] = 1;
  if (t.cpu === 1) Atomics.wait(w, H_ERROR, 0, 200); // let CPU 0 take the lock first
  enter_op(cpu, OP_MUNMAP);
  lru_lock(cpu, SITE.test); // CPU 1 never gets past this
  w[cpu.pc + PC_OPS] = 1;
  cpu_done(w, cpu.pc);
  return { cpu: t.cpu, ops: 1, units: 0, elapsedMs: 0, failures: [], extra: {} };
}
