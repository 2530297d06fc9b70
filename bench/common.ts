/*
 * bench/common.ts — small helpers shared by the benchmarks: timing, result
 * files, and the warning every comparison above the host's core count prints.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostCores as cores, timeSliceWarning } from '../src/sim/results.js';

export const hostCores = cores();
/** The time-slicing warning: the same text the simulator prints (src/sim/results.ts). */
export { timeSliceWarning };

export function writeResult(file: string, data: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
}

export const fmtRate = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));

/** Is this module the program's entry point? */
export const isMain = (metaUrl: string) => process.argv[1] !== undefined && metaUrl.endsWith(process.argv[1].replace(/\\/g, '/'));

/** Median of a non-empty list. */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

