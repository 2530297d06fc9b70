/*
 * A piscina worker for test/sim/run.test.ts's hung-task case that is not
 * hung: CPU 0 spends its one operation sleeping on simulated I/O
 * (reclaim/context.ts io_sleep, config.swapIoUs each) `t.opsBudget * 4`
 * times — longer in all than the detector's period — and then completes
 * it; CPU 1 completes its operation at once. A CPU that sleeps switches
 * context (PC_NVCSW), so the hung-task detector must leave the run alone.
 *
 * The start barrier and the exit are cpuloop.ts's own.
 */
import { attachMachine } from '../../src/machine/machine.js';
import { PC_OPS, PC_STATE } from '../../src/machine/layout.js';
import { makeCpu } from '../../src/vm/cpu.js';
import { io_sleep } from '../../src/reclaim/context.js';
import { start_barrier, cpu_done, type CpuTask, type CpuResult } from '../../src/sim/cpuloop.js';

export default function run(t: CpuTask): CpuResult {
  const m = attachMachine(t.sab);
  const w = m.w;
  const cpu = makeCpu(m, t.cpu);
  start_barrier(w);
  w[cpu.pc + PC_STATE] = 1;
  if (t.cpu === 0) for (let i = 0; i < 4 * t.opsBudget; i++) io_sleep(cpu);
  const res: CpuResult = { cpu: t.cpu, ops: 1, units: 0, elapsedMs: 0, failures: [], extra: {} };
  Atomics.store(w, cpu.pc + PC_OPS, 1);
  cpu_done(w, cpu.pc);
  return res;
}
