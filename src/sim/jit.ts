/*
 * jit.ts — the one V8 setting the CPU worker pools need: field types not
 * tracked (`--no-track-field-types`), set once, process-wide, before the
 * first pool's workers start (run.ts workerFile).
 *
 * Why: a pooled worker runs many machines, and each run builds its objects
 * afresh (machine.ts views, machine/cpu.ts makeCpuBase: the Machine, the
 * Cpu, the layout, their typed arrays). V8 records the class of the first
 * object stored in each such field; TurboFan compiles the fault path
 * against those classes; the second run's objects generalise every field
 * to Any, and every optimized function that depended on them is thrown
 * away and compiled again (`node --trace-deopt`: "marking dependent code
 * ... reason: code dependencies" for __handle_mm_fault, do_anonymous_page,
 * the lock library, the allocator, ... at the start of each worker's second
 * run; none at the third). Under the virtual clock at 64 CPUs that second
 * compile of 64 isolates cost as much host time as the first (README "Speed
 * and size"). Untracked, the fields are Any from the start: nothing to
 * invalidate, and the steady-state fault path measured no slower (host
 * clock, 1 CPU, page_fault1: within the run-to-run noise).
 *
 * What it changes: host speed only. Nothing simulated depends on V8's
 * compilation, so every figure of both clocks is unchanged.
 *
 * Locking: none; called on the main thread before any worker exists. The
 * flag is process-global, so the workers' isolates start with it.
 */
import { setFlagsFromString } from 'node:v8';

/** The V8 flag the worker pools run with. */
export const JIT_FLAGS = '--no-track-field-types';

let set = false;

/** Set JIT_FLAGS once, before the first worker pool starts. */
export function jit_setup(): void {
  if (set) return;
  setFlagsFromString(JIT_FLAGS);
  set = true;
}
