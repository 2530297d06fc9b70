/*
 * workers/cpu.ts — the piscina worker entry: one long task per simulated CPU
 * for the whole run (sim/cpuloop.ts). The machine buffer arrives as a
 * SharedArrayBuffer and stays shared.
 */
import { runCpuTask, type CpuTask, type CpuResult } from '../src/sim/cpuloop.js';

export default function run(task: CpuTask): CpuResult {
  return runCpuTask(task);
}
