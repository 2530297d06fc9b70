/*
 * bench/run.ts — `npm run bench`: every benchmark in turn with its defaults,
 * one at a time (they measure CPU counts against the host's cores, so they
 * must not share it). Each writes its own results/bench-*.json; the README's
 * Benchmarks section says which figure comes from which.
 */
import { main as pageFault } from './page_fault.js';
import { main as locks } from './locks.js';
import { main as scale } from './scale.js';
import { main as rmap } from './rmap.js';
import { main as reclaim } from './reclaim.js';
import { main as nonresident } from './nonresident.js';
import { main as replay } from './replay.js';
import { main as refault } from './refault.js';
import { main as migrate } from './migrate.js';
import { main as ceiling } from './clear_ceiling.js';
import { main as micro } from './micro.js';
import { main as writeout } from './writeout.js';
import { main as freeable } from './freeable.js';
import { benchMain, BenchArgError } from './common.js';

const benches: [string, () => unknown][] = [
  ['ceiling', () => ceiling([])],
  ['page_fault', () => pageFault([])],
  ['locks', () => locks([])],
  ['scale', () => scale([])],
  ['rmap', () => rmap([])],
  ['reclaim', () => reclaim([])],
  ['nonresident', () => nonresident([])],
  ['replay', () => replay([])],
  ['refault', () => refault([])],
  ['migrate', () => migrate([])],
  ['micro', () => micro([])],
  ['writeout', () => writeout([])],
  ['freeable', () => freeable([])],
];
/** Run the benchmarks named in argv (all when none is named), in the order above. */
export async function main(only: string[]) {
  const unknown = only.filter((n) => !benches.some(([b]) => b === n));
  if (unknown.length) throw new BenchArgError(`bench: unknown benchmark ${unknown.join(', ')} (have: ${benches.map(([b]) => b).join(', ')})`);
  for (const [name, run] of benches) {
    if (only.length && !only.includes(name)) continue;
    console.log(`\n=== bench/${name} ===`);
    await run();
  }
}

benchMain(import.meta.url, main);
