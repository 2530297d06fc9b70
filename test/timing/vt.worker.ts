/*
 * A piscina worker for test/timing/conductor.test.ts: a CPU under the
 * virtual clock that does one scripted thing instead of a workload, with
 * cpuloop.ts's own barrier, error and exit.
 *   spec.script 'abba':  CPU 0 takes test_lock_a then test_lock_b, CPU 1 the
 *                        other way round, each charging 1 µs between: a
 *                        simulated ABBA deadlock.
 *   spec.script 'throw': CPU 1 throws in the middle of a munmap while CPU 0
 *                        keeps taking and releasing a lock.
 *   spec.script 'throw_held': the same, but CPU 1 throws holding the lock
 *                        (CPU 0 then waits for it, parked).
 */
import { attachMachine } from '../../src/machine/machine.js';
import { PC_STATE, G_BKL, G_ZONE, globalLine } from '../../src/machine/layout.js';
import { makeCpu } from '../../src/vm/cpu.js';
import { enter_op, OP_MUNMAP, OP_MMAP } from '../../src/machine/cpu.js';
import { spin_lock, spin_unlock } from '../../src/sync/spinlock.js';
import { C_TEST_A, C_TEST_B, SITE } from '../../src/sync/classes.js';
import { start_barrier, cpu_done, fail, type CpuTask, type CpuResult } from '../../src/sim/cpuloop.js';
import { vt_begin, vt_end, vt_setup_done, vt_done, charge } from '../../src/timing/index.js';

export default function run(t: CpuTask & { spec: { script?: string } }): CpuResult {
  const m = attachMachine(t.sab);
  const w = m.w;
  const cpu = makeCpu(m, t.cpu);
  const res: CpuResult = { cpu: t.cpu, ops: 0, units: 0, elapsedMs: 0, failures: [], extra: {} };
  start_barrier(w);
  vt_begin(m, t.cpu);
  vt_setup_done();
  w[cpu.pc + PC_STATE] = 1;
  const a = globalLine(m.layout, G_BKL);
  const z = globalLine(m.layout, G_ZONE);
  try {
    if (t.spec.script === 'abba') {
      enter_op(cpu, OP_MMAP);
      const [first, c1, second, c2] = t.cpu === 0 ? [a, C_TEST_A, z, C_TEST_B] : [z, C_TEST_B, a, C_TEST_A];
      spin_lock(cpu, first, c1, SITE.test);
      charge(1000);
      spin_lock(cpu, second, c2, SITE.test);
      res.ops = 1;
    } else {
      for (let i = 0; i < 50; i++) {
        enter_op(cpu, OP_MUNMAP);
        spin_lock(cpu, a, C_TEST_A, SITE.test);
        charge(500);
        if (t.cpu === 1 && i === 20 && t.spec.script === 'throw_held') throw new Error('planted: cpu 1 gives up holding the lock');
        spin_unlock(cpu, a, C_TEST_A);
        charge(300);
        if (t.cpu === 1 && i === 20) throw new Error('planted: cpu 1 gives up');
        res.ops++;
      }
    }
  } catch (e) {
    fail(w, res, t.cpu, cpu.op, e);
  }
  cpu_done(w, cpu.pc);
  vt_done();
  vt_end();
  return res;
}
