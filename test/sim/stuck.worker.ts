/*
 * A piscina worker for test/sim/run.test.ts's stuck-run cases: CPU 0 takes
 * the LRU lock and keeps it; CPU 1 then waits for that lock for ever.
 *
 *   a duration run (opsBudget 0): CPU 0 dies holding it, as a CPU whose
 *     code throws in the middle of a critical section (its error raises the
 *     stop flag);
 *   an operation budget (opsBudget > 0): CPU 0 finishes its work without
 *     releasing it and without an error, a lock leaked on some return path.
 *     Nothing raises the stop flag: only the hung-task detector (sim/run.ts
 *     HUNG_MS) can end the run.
 *
 * The start barrier, the error and the exit are cpuloop.ts's own.
 */
import { attachMachine } from '../../src/machine/machine.js';
import { H_ERROR, PC_OPS, PC_STATE, G_LRU, globalLine } from '../../src/machine/layout.js';
import { makeCpu } from '../../src/vm/cpu.js';
import { enter_op, OP_MUNMAP } from '../../src/machine/cpu.js';
import { lru_lock } from '../../src/sync/scheme.js';
import { spin_is_locked } from '../../src/sync/spinlock.js';
import { SITE } from '../../src/sync/classes.js';
import { start_barrier, cpu_done, fail, type CpuTask, type CpuResult } from '../../src/sim/cpuloop.js';

export default function run(t: CpuTask): CpuResult {
  const m = attachMachine(t.sab);
  const w = m.w;
  const cpu = makeCpu(m, t.cpu);
  const leak = t.opsBudget > 0;
  start_barrier(w);
  w[cpu.pc + PC_STATE] = 1;
  // let CPU 0 take the lock first. CPU 1 polls the lock word itself: a bare notify
  // (the H_ERROR word stays 0 when CPU 0 leaks the lock) is lost if CPU 1 starts
  // waiting after it, and a loaded host then kept CPU 1 idle for the whole wait
  if (t.cpu === 1) for (const t0 = Date.now(); !spin_is_locked(cpu, globalLine(m.layout, G_LRU)) && Date.now() - t0 < 5000; ) Atomics.wait(w, H_ERROR, 0, 1);
  enter_op(cpu, OP_MUNMAP); // where page_fault1 takes it: release_pages at munmap
  lru_lock(cpu, SITE.test); // CPU 1 never gets past this
  const res: CpuResult = { cpu: t.cpu, ops: 0, units: 0, elapsedMs: 0, failures: [], extra: {} };
  if (leak) {
    res.ops = w[cpu.pc + PC_OPS] = 1;
  } else {
    fail(w, res, t.cpu, 'test', new Error(`cpu ${t.cpu} died holding the lru lock`));
    Atomics.notify(w, H_ERROR);
  }
  cpu_done(w, cpu.pc);
  return res;
}
