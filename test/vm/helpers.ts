/*
 * Helpers for the vm tests: the mmap shorthands they all use and one-word
 * user reads and writes through user_access, i.e. through the fault path
 * (demand-zero, COW, swap-in) exactly as a workload's accesses go.
 */
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../src/vm/mmap.js';
import { user_access } from '../../src/vm/access.js';
import type { Cpu } from '../../src/vm/cpu.js';

export const P = 4096;
export const RW = PROT_READ | PROT_WRITE;
export const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

const buf = new Int32Array(1);

/** Write word v at user address a of mm: user_access's result (0, or a negative VM_FAULT_*). */
export const write = (cpu: Cpu, mm: number, a: number, v: number): number => ((buf[0] = v), user_access(cpu, mm, a, true, buf, 1));

/** The word at user address a of mm, or user_access's negative VM_FAULT_*. */
export const read = (cpu: Cpu, mm: number, a: number): number => {
  const r = user_access(cpu, mm, a, false, buf, 1);
  return r < 0 ? r : buf[0]!;
};
