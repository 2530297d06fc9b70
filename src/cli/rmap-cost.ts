/*
 * cli/rmap-cost.ts — `smpvm rmap-cost`: what each reverse-mapping scheme
 * costs (issue 5): rmap metadata per mapped pte, fork+exit of a large RSS
 * against `scan`, try_to_unmap of a page mapped by N = 1..1000 processes,
 * the anon_vma worst case, page_fault1 at 1 and 2 CPUs. Every figure is a
 * ratio measured in the same run (sim/rmap_cost.ts measures); the tables go
 * to stdout and the results object to a JSON file. bench/rmap.ts is the same
 * run as a benchmark entry (`node dist/bench/rmap.js`).
 */
import type { Command } from 'commander';
import { loadavg } from 'node:os';
import { writeJson, type Io } from './io.js';
import { checkOutput } from './outputs.js';
import { metadata, forkExit, unmapN, anonVmaWorst, pageFault1 } from '../sim/rmap_cost.js';
import { hostCores as cores } from '../sim/results.js';
import { RMAP_SCHEMES } from '../config.js';
import { textTable } from '../report/table.js';

const hostCores = cores();
const table = (title: string, head: string[], rows: (string | number)[][]) => '\n' + textTable(head, rows, title);

export interface RmapCostOptions {
  quick?: boolean;
  out?: string;
  log?: (s: string) => void;
}

/** Run every part; returns the results object (also written to `out`). */
export async function rmapCost(o: RmapCostOptions = {}) {
  const log = o.log ?? ((s: string) => console.log(s));
  const quick = o.quick === true;
  const schemes = RMAP_SCHEMES;
  const res: Record<string, unknown> = { date: new Date().toISOString(), hostCores, loadAvgAtStart: loadavg(), quick };
  // warm the JIT on every scheme's paths before anything is timed
  metadata(schemes);
  forkExit(schemes, 2, 1);
  unmapN(schemes, [1, 10], 4, 50);
  anonVmaWorst(schemes, 10, 4, 50);

  const md = metadata(schemes);
  res.metadata = md;
  log(
    table(
      'rmap metadata per mapped pte (16 MiB anonymous in full pte tables; struct page word listed apart)',
      ['scheme', 'B/pte 1 mapper', 'B/pte 4 mappers', 'B/page in struct page'],
      md.map((r) => [r.scheme, r.bytesPerPte1, r.bytesPerPte4, r.pageWordBytes]),
    ),
  );

  const fe = forkExit(schemes, quick ? 8 : 32, quick ? 3 : 31);
  res.forkExit = fe;
  log(
    table(
      `fork + exit of a process with ${quick ? 8 : 32} MiB of written anonymous memory (median)`,
      ['scheme', 'fork ms', 'exit ms', 'fork/scan', '(fork+exit)/scan'],
      fe.map((r) => [r.scheme, r.forkMs, r.exitMs, r.forkVsScan, r.forkExitVsScan]),
    ),
  );

  const ns = [1, 10, 100, 1000];
  const un = unmapN(schemes, ns, quick ? 8 : 32, quick ? 300 : 1500);
  res.unmapN = un;
  log(
    table(
      'try_to_unmap of one page mapped by N processes: µs per page (ratio to N = 1; ratio to scan)',
      ['scheme', ...ns.map((n) => `N=${n}`), ...ns.slice(1).map((n) => `N=${n}/N=1`), 'N=1000/scan'],
      schemes.map((s) => {
        const by = (n: number) => un.find((r) => r.scheme === s && r.n === n)!;
        return [s, ...ns.map((n) => by(n).usPerPage), ...ns.slice(1).map((n) => by(n).vsN1), by(1000).vsScan];
      }),
    ),
  );

  const children = quick ? 200 : 1000;
  const perChild = quick ? 16 : 64;
  const av = anonVmaWorst(schemes, children, perChild, quick ? 500 : 2500);
  res.anonVma = { children, pagesPerChild: perChild, scaledDownFrom: 1000, rows: av };
  log(
    table(
      `anon_vma worst case: ${children} children each COW-fault ${perChild} pages (the issue's 1000 pages/child scaled down ${1000 / perChild}x), then page_referenced on every child page`,
      ['scheme', 'fork ms', 'COW faults/s', 'µs/page walk', 'VMAs/page (anonmm: mms)', 'walk/scan', 'all pages (s)', 'pages timed'],
      av.map((r) => [r.scheme, r.forkMs, r.cowFaultsPerSec, r.usPerPageWalk, r.vmasPerPage, r.vsScan, r.projectedWalkAllSec, `${r.walkedPages}/${r.pages}`]),
    ),
  );

  // op budgets of ~1 s per CPU: a worker starts with cold JIT, and a short run measures mostly that
  const pf = await pageFault1(schemes, [1, 2], quick ? 16 : 32, quick ? 8 : 40, quick ? 1 : 5);
  res.pageFault1 = pf;
  log(
    table(
      `page_fault1_processes (real workers, split locks, ${hostCores} host cores): faults/s, best of ${quick ? 1 : 5} (median)`,
      ['scheme', '1 CPU', '2 CPUs', '1 CPU/scan', '2 CPUs/scan', '2/1', 'median 1 CPU', 'median 2 CPUs'],
      schemes.map((s) => {
        const a = pf.find((r) => r.scheme === s && r.cpus === 1)!;
        const b = pf.find((r) => r.scheme === s && r.cpus === 2)!;
        return [s, a.faultsPerSec, b.faultsPerSec, a.vsScan, b.vsScan, b.scaling, a.median, b.median];
      }),
    ),
  );
  res.loadAvgAtEnd = loadavg();
  const out = o.out ?? 'results/bench-rmap.json';
  writeJson(out, res);
  log(`\nwrote ${out} (host load average ${(res.loadAvgAtEnd as number[]).map((x) => x.toFixed(1)).join(' ')} on ${hostCores} cores)`);
  return res;
}

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
