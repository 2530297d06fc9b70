/*
 * cli/calibrate.ts — `smpvm calibrate` (issue 17): measure this host's cost
 * table for the virtual clock (sim/calibrate.ts) and write it as a cost file
 * that `--clock virtual --cost FILE` loads; `--corun` fits it with the
 * host's other cores busy (sim/calibrate.ts).
 */
import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Io } from './io.js';
import { calibrate } from '../sim/calibrate.js';

export const CALIBRATE_OUT = 'results/timing/host.json';

export function addCalibrateCommand(p: Command, io: Io, done: (code: number) => void): void {
  p.command('calibrate')
    .description('measure the virtual clock\'s cost table on this host (per-operation costs on one CPU, the cache-line round trip); write it as a cost file')
    .option('--out <file>', `cost file to write (default ${CALIBRATE_OUT}); use it with --clock virtual --cost FILE`)
    .option('--corun', 'fit the fault and syscall costs with every other host core running a copy of the same run (table host-corun: the costs a CPU sees when its siblings are busy, for multi-CPU comparisons)', false)
    .action(async (o: { out?: string; corun: boolean }) => {
      const file = o.out ?? CALIBRATE_OUT;
      const c = await calibrate((s) => io.out(`${s}\n`), { corun: o.corun });
      if (o.corun && !c.corunTable) io.out('co-run: this host has one core; the table is the one measured alone\n');
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(c.corunTable ?? c.table, null, 2) + '\n');
      io.out(`cost table: ${file} (--clock virtual --cost ${file})\n`);
      done(0);
    });
}
