/*
 * bench/highorder.ts — the fragmentation workload (workload/highorder.ts)
 * at 1 and 2 CPUs, per rmap scheme × migrate method (flip, swap), and with
 * no moving at all (compact=0: free lists, then reclaim), for order-3 and
 * order-5 requests: success rate, where requests were served (free lists,
 * a block built by moving its pages, reclaim), median / p99 request
 * latency, pages moved and KiB copied per block built. One run each.
 *
 * Machine: 8 MiB of RAM, 16 MiB of swap, split locks; the CPUs fault in
 * regions of 6.25 MiB in all (1600 pages / CPUs each, filled at the start),
 * then fault and free order-0 pages in them (a quarter long-lived), and
 * every other step ask for a block, each held 64 steps — so the blocks
 * given out pile up and new ones must be made.
 *
 * Run (compiled, under the bench lock):
 *   npm run build && flock /tmp/bench.lock node dist/bench/highorder.js [seconds]
 * Writes results/bench-highorder.json.
 */
import { runMachine } from '../src/sim/run.js';
import { buildResults } from '../src/sim/results.js';
import { RMAP_SCHEMES, MIGRATE_METHODS } from '../src/config.js';
import { writeResult, isMain, hostCores } from './common.js';

export interface HighorderRow {
  order: number;
  cpus: number;
  rmap: string;
  method: string;
  requests: number;
  successPct: number;
  freeListPct: number;
  builtPct: number;
  reclaimPct: number;
  p50us: number;
  p99us: number;
  movedPerBlock: number;
  kibCopiedPerBlock: number;
}

/** order-0 pages across the CPUs: 6.25 MiB of the 8 MiB, so what is free is scattered */
const REGION_PAGES = 1600;

async function one(order: number, cpus: number, rmap: string, method: string, seconds: number): Promise<HighorderRow> {
  const compact = method === 'none' ? 0 : 1;
  const spec = { name: 'highorder', orderMin: order, orderMax: order, compact, pages: REGION_PAGES / cpus, blockLife: 64, requestPercent: 50 };
  const config = { mem: '8M', swap: '16M', cpus, rmap, locks: 'split', migrateMethod: method === 'none' ? 'flip' : method, swapIoUs: 0, populate: true, seed: 1 };
  const r = await runMachine({ config, spec, durationMs: seconds * 1000 });
  const res = buildResults(r, { spec, durationMs: seconds * 1000 });
  if (res.error || !res.checker.ok || !res.oracle.ok) throw new Error(`highorder ${rmap}/${method}/${cpus}: ${res.error?.message ?? [...res.checker.violations, ...res.oracle.failures][0]}`);
  const c = res.workloadCounts ?? {};
  const req = c.requests ?? 0;
  const built = c.builtByMoving ?? 0;
  const pct = (k: number) => (req > 0 ? (100 * k) / req : 0);
  return {
    order,
    cpus,
    rmap: method === 'none' ? '-' : rmap,
    method,
    requests: req,
    successPct: pct(req - (c.failed ?? 0)),
    freeListPct: pct(c.fromFreeLists ?? 0),
    builtPct: pct(built),
    reclaimPct: pct(c.fromReclaim ?? 0),
    p50us: res.opLatency?.p50 ?? 0,
    p99us: res.opLatency?.p99 ?? 0,
    movedPerBlock: built > 0 ? (c.pagesMoved ?? 0) / built : 0,
    kibCopiedPerBlock: built > 0 ? (c.bytesCopied ?? 0) / built / 1024 : 0,
  };
}

export async function highorder(seconds: number, orders = [3, 5], cpuList = [1, 2]): Promise<HighorderRow[]> {
  const rows: HighorderRow[] = [];
  for (const order of orders) {
    for (const cpus of cpuList) {
      rows.push(await one(order, cpus, 'scan', 'none', seconds));
      for (const rmap of RMAP_SCHEMES) for (const method of MIGRATE_METHODS) rows.push(await one(order, cpus, rmap, method, seconds));
    }
  }
  return rows;
}

export function highorderTable(rows: HighorderRow[]): string {
  const head = '| order | CPUs | rmap | method | requests | success | free lists | built by moving | reclaim | p50 µs | p99 µs | pages moved / block | KiB copied / block |';
  const sep = '|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const f = (n: number, d = 1) => n.toFixed(d);
  const lines = rows.map(
    (r) =>
      `| ${r.order} | ${r.cpus} | ${r.rmap} | ${r.method} | ${r.requests} | ${f(r.successPct)}% | ${f(r.freeListPct)}% | ${f(r.builtPct)}% | ${f(r.reclaimPct)}% | ${f(r.p50us)} | ${f(r.p99us)} | ${f(r.movedPerBlock)} | ${f(r.kibCopiedPerBlock)} |`,
  );
  return [head, sep, ...lines].join('\n');
}

if (isMain(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 1);
  const rows = await highorder(seconds);
  console.log(`highorder, ${seconds} s per run (host cores ${hostCores}); method none = free lists then reclaim, nothing moved`);
  console.log(highorderTable(rows));
  writeResult('results/bench-highorder.json', { date: new Date().toISOString(), hostCores, seconds, rows });
}
