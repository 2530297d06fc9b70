/*
 * cli/migrate-cost.ts — `smpvm migrate-cost`: what moving a specific page
 * costs per reverse-mapping scheme and migrate method (issue 19): a page
 * shared by K processes moved once (µs and rmap walk visits per page, and
 * the ratio to `scan`), and order-1 blocks compacted out of a fragmented
 * zone (µs and walk visits per block). sim/migrate_cost.ts measures; this
 * file runs the grid, builds the results object, writes it as JSON and
 * prints its text view (formatMigrateCost, which reads only that object).
 * bench/migrate.ts is the same run as a benchmark entry.
 *
 * Bad flags fail before anything is measured: one line naming the flag,
 * exit 2 (CliError).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { loadavg } from 'node:os';
import { writeJson, type Io } from './io.js';
import { checkOutput } from './outputs.js';
import { parseField } from './options.js';
import { migrateShared, compactFragmented, type MigrateRow, type CompactRow } from '../sim/migrate_cost.js';
import { hostCores as cores } from '../sim/results.js';
import { RMAP_SCHEMES, MIGRATE_METHODS, int, oneOf } from '../config.js';
import { textTable } from '../report/table.js';

type Method = (typeof MIGRATE_METHODS)[number];

export const MIGRATE_COST_OUT = 'results/bench-migrate.json';

export interface MigrateCostOptions {
  quick?: boolean;
  /** pages moved per run (default 1024, --quick 256) */
  pages?: number;
  /** sharer counts K (default 1,4,16; --quick 1,4) */
  sharers?: number[];
  methods?: Method[];
  out?: string;
  log?: (s: string) => void;
}

export interface MigrateCostResults {
  date: string;
  hostCores: number;
  loadAvgAtStart: number[];
  loadAvgAtEnd: number[];
  pages: number;
  sharers: number[];
  methods: Method[];
  runs: number;
  migrate: MigrateRow[];
  compact: CompactRow[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Measure every (method, K, rmap) point, medians of 3 runs; write `out` and return the results object. */
export function migrateCost(o: MigrateCostOptions = {}): MigrateCostResults {
  const quick = o.quick === true;
  const N = o.pages ?? (quick ? 256 : 1024);
  const Ks = o.sharers ?? (quick ? [1, 4] : [1, 4, 16]);
  const methods = o.methods ?? [...MIGRATE_METHODS];
  const runs = 3;
  const loadAvgAtStart = loadavg();
  for (const rmap of RMAP_SCHEMES) for (const method of methods) {
    migrateShared(rmap, method, 2, 128); // warm the JIT on every path first
    compactFragmented(rmap, method, 128);
  }
  const migrate: MigrateRow[] = [];
  const compact: CompactRow[] = [];
  for (const method of methods) {
    for (const K of Ks) {
      for (const rmap of RMAP_SCHEMES) {
        const r = Array.from({ length: runs }, () => migrateShared(rmap, method, K, N));
        migrate.push({ ...r[0]!, usPerPage: r[0]!.moved ? median(r.map((x) => x.usPerPage ?? 0)) : null });
      }
    }
    for (const rmap of RMAP_SCHEMES) {
      const r = Array.from({ length: runs }, () => compactFragmented(rmap, method, N));
      compact.push({ ...r[0]!, usPerBlock: median(r.map((x) => x.usPerBlock)) });
    }
  }
  const res: MigrateCostResults = { date: new Date().toISOString(), hostCores: cores(), loadAvgAtStart, loadAvgAtEnd: loadavg(), pages: N, sharers: Ks, methods, runs, migrate, compact };
  writeJson(o.out ?? MIGRATE_COST_OUT, res);
  return res;
}

/** The text view of a results object (nothing else is read). */
export function formatMigrateCost(r: MigrateCostResults): string {
  const out: string[] = [];
  for (const method of r.methods) {
    const scan = (K: number) => r.migrate.find((x) => x.rmap === 'scan' && x.method === method && x.K === K)?.usPerPage ?? null;
    const f = (v: number | null, d = 1) => (v === null ? '–' : v.toFixed(d));
    out.push(
      textTable(
        ['rmap', 'K', 'pages moved', 'µs per page', 'x scan', 'rmap visits per page'],
        r.migrate
          .filter((x) => x.method === method)
          .map((x) => {
            const s = scan(x.K);
            return [x.rmap, x.K, `${x.moved}/${r.pages}`, f(x.usPerPage), x.usPerPage === null || s === null ? '–' : `${(x.usPerPage / s).toFixed(2)}x`, f(x.visitsPerPage)];
          }),
        `migrate_page, method ${method}${method === 'flip' ? ' (no swap)' : ''}: ${r.pages} anonymous pages shared by K processes, each moved once; µs per page moved (median of ${r.runs}), ratio to scan, rmap walk visits per page`,
      ),
    );
    const c = r.compact.filter((x) => x.method === method);
    out.push(
      textTable(
        ['rmap', 'blocks', 'pages moved', 'µs per block', 'visits per block'],
        c.map((x) => [x.rmap, x.blocks, x.migrated, x.usPerBlock.toFixed(1), x.visitsPerBlock.toFixed(1)]),
        `compact_pages(order 1), method ${method}: a fragmented zone (${r.pages} user pages, every free frame's buddy in use), until it fails`,
      ),
    );
  }
  out.push(`host time, ${r.hostCores} host cores, load average ${r.loadAvgAtStart.map((x) => x.toFixed(1)).join(' ')} at the start, ${r.loadAvgAtEnd.map((x) => x.toFixed(1)).join(' ')} at the end; compare rows of one run\n`);
  return out.join('\n');
}

interface Flags {
  quick?: boolean;
  pages?: string;
  sharers?: string;
  method?: string;
  out?: string;
}

const split = z.string().transform((s): (string | number)[] => s.split(',').map((x) => x.trim()));
const SHARERS = split.pipe(z.array(int(1, 32)).min(1)).refine((a: number[]) => a.every((n, i) => i === 0 || n > a[i - 1]!), 'sharer counts must increase (e.g. 1,4,16)');
const METHODS = split.pipe(z.array(oneOf(MIGRATE_METHODS)).min(1));

/** The flags as options (CliError naming the flag on bad input). */
export function migrateCostOptions(f: Flags): MigrateCostOptions {
  const methods = f.method === undefined || f.method === 'both' ? undefined : parseField(METHODS, f.method, '--method');
  return {
    quick: f.quick === true,
    pages: f.pages === undefined ? undefined : parseField(int(16, 8192), f.pages, '--pages'),
    sharers: f.sharers === undefined ? undefined : parseField(SHARERS, f.sharers, '--sharers'),
    methods: methods === undefined ? undefined : [...new Set(methods)],
    out: f.out,
  };
}

export function addMigrateCostCommand(p: Command, io: Io, done: (code: number) => void): void {
  p.command('migrate-cost')
    .description('what moving a specific page costs per rmap scheme and migrate method (flip, swap): a page shared by K processes, compaction of a fragmented zone')
    .option('--quick', 'smaller sizes: 256 pages, K = 1,4')
    .option('--pages <n>', 'pages moved per run, 16..8192 (default 1024)')
    .option('--sharers <list>', 'numbers of processes sharing each page, increasing, each 1..32 (default 1,4,16)')
    .option('--method <list>', 'migrate methods: flip, swap or both (default both)')
    .option('--out <file>', `results JSON (default ${MIGRATE_COST_OUT})`)
    .action((f: Flags) => {
      const o = migrateCostOptions(f);
      checkOutput('--out', o.out ?? MIGRATE_COST_OUT); // before the measuring
      io.out(formatMigrateCost(migrateCost(o)));
      io.out(`wrote ${o.out ?? MIGRATE_COST_OUT}\n`);
      done(0);
    });
}
