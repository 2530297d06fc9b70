/*
 * bench/rmap.ts — what each reverse-mapping scheme costs (issue 5), as a
 * benchmark entry: the same run as `smpvm rmap-cost` (src/cli/rmap-cost.ts
 * prints the tables, src/sim/rmap_cost.ts measures). Every figure is a ratio
 * against `scan` (or against N = 1) measured in one run.
 *
 * Run: npm run build && node dist/bench/rmap.js [--quick] [--out FILE]
 * Writes results/bench-rmap.json and prints the tables.
 */
import { rmapCost } from '../src/cli/rmap-cost.js';
import { benchArgs, benchMain } from './common.js';

export async function main(argv = process.argv.slice(2)) {
  const a = benchArgs('rmap', argv, { quick: { kind: 'flag' }, out: { kind: 'string' } });
  return rmapCost({ quick: a.quick, out: a.out });
}

benchMain(import.meta.url, main);
