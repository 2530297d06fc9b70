/*
 * cli/rmap-cost.ts — `smpvm rmap-cost`: what each reverse-mapping scheme
 * costs (issue 5), as bench/rmap.ts measures it: rmap metadata per mapped
 * pte, fork+exit of a large RSS against `scan`, try_to_unmap of a page
 * mapped by N = 1..1000 processes, the anon_vma worst case, page_fault1 at 1
 * and 2 CPUs. Every figure is a ratio measured in the same run; the tables
 * go to stdout and the results object to a JSON file.
 *
 * A separate file so the command is one line in cli.ts; the measurements
 * live in bench/rmap.ts (also `node dist/bench/rmap.js`).
 */
import type { Command } from 'commander';
import type { Io } from './io.js';
import { checkOutput } from './outputs.js';
import { rmapCost } from '../../bench/rmap.js';

export function addRmapCostCommand(p: Command, io: Io, done: (code: number) => void): void {
  p.command('rmap-cost')
    .description('what each reverse-mapping scheme costs: metadata per pte, fork+exit, unmap vs N mappers, the anon_vma worst case, page_fault1')
    .option('--quick', 'smaller sizes: seconds instead of minutes')
    .option('--out <file>', 'results JSON (default results/bench-rmap.json)')
    .action(async (o: { quick?: boolean; out?: string }) => {
      checkOutput('--out', o.out ?? 'results/bench-rmap.json'); // before minutes of measuring
      await rmapCost({ quick: o.quick === true, out: o.out, log: (s) => io.out(`${s}\n`) });
      done(0);
    });
}
