/*
 * bench/common.ts — small helpers shared by the benchmarks: timing, result
 * files, and the warning every comparison above the host's core count prints.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';

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

