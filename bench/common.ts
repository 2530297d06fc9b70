/*
 * bench/common.ts — small helpers shared by the benchmarks: timing, result
 * files, and the warning every comparison above the host's core count prints.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { VMSTAT_NAMES, type VmstatName } from '../src/machine/vmstat.js';
import { PC_VMSTAT, percpuBase } from '../src/machine/layout.js';
import type { Machine } from '../src/machine/machine.js';

export const hostCores = availableParallelism();

export function writeResult(file: string, data: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
}

export function timeSliceWarning(cpus: number): string | undefined {
  return cpus > hostCores
    ? `warning: ${cpus} simulated CPUs on ${hostCores} host cores — workers are time-sliced; spinlocks suffer lock-holder preemption`
    : undefined;
}

export const fmtRate = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));

/** Is this module the program's entry point? */
export const isMain = (metaUrl: string) => process.argv[1] !== undefined && metaUrl.endsWith(process.argv[1].replace(/\\/g, '/'));

/** Median of a non-empty list. */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** A vmstat counter summed over every CPU slot. */
export function vmsum(m: Machine, name: VmstatName): number {
  const k = VMSTAT_NAMES.indexOf(name);
  let s = 0;
  for (let c = 0; c < m.layout.nrCpuSlots; c++) s += m.w[percpuBase(m.layout, c) + PC_VMSTAT + k]!;
  return s;
}

/** The rmap schemes registered in this build. */
export { registeredRmapSchemes as registeredRmaps } from '../src/rmap/index.js';
