/*
 * bench/migrate.ts — what moving a specific page costs per reverse-mapping
 * scheme and migrate method (seed 004), as a benchmark entry: the same run
 * as `smpvm migrate-cost` (src/cli/migrate-cost.ts runs the grid and prints
 * the tables, src/sim/migrate_cost.ts measures): a page shared by K
 * processes moved once (µs, ratio to `scan`, rmap walk visits per page) and
 * order-1 blocks compacted out of a fragmented zone. Ratios measured in one
 * run; medians of 3.
 *
 * Run: npm run build && flock /tmp/bench.lock node dist/bench/migrate.js [--quick] [--out FILE]
 * Writes results/bench-migrate.json and prints the tables.
 */
import { migrateCost, formatMigrateCost } from '../src/cli/migrate-cost.js';
import { benchArgs, benchMain } from './common.js';

export async function main(argv = process.argv.slice(2)) {
  const a = benchArgs('migrate', argv, { quick: { kind: 'flag' }, out: { kind: 'string' } });
  const r = migrateCost({ quick: a.quick, out: a.out });
  console.log(formatMigrateCost(r));
  return r;
}

benchMain(import.meta.url, main);
