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
import { isMain } from './common.js';

export async function main(argv = process.argv.slice(2)) {
  const i = argv.indexOf('--out');
  return rmapCost({ quick: argv.includes('--quick'), out: i >= 0 ? argv[i + 1] : undefined });
}

if (isMain(import.meta.url)) await main();
