/*
 * bench/highorder.ts — the fragmentation workload (workload/highorder.ts)
 * at 1 and 2 CPUs, per rmap scheme × migrate method (flip, swap), and with
 * no moving at all (method `none`: compact=0, the free lists then reclaim),
 * for order-3 and order-5 requests: success rate, where requests were
 * served (free lists, a block built by moving its pages, a whole free block
 * compaction took where the free lists' watermark check refused, reclaim), failures,
 * median / p99 request latency, and per block built: pages moved, what the
 * reverse-map walks visited (rmap_walk_visit: chain entries, VMAs, or every
 * pte of every mm for `scan`) and the time compaction took (built or not,
 * divided by the blocks built). One run each.
 *
 * Every run is under the virtual clock (deterministic for its seed, the
 * same on a loaded host; the latencies are virtual µs of the cost table
 * skylake-2s-112). The cost table charges the moves (copy_page, pte writes,
 * allocator, locks) but not the walk's steps, so the walk's cost is the
 * visits column, not the latency.
 *
 * Machine: 8 MiB of RAM, 16 MiB of swap (no I/O latency), split locks; the
 * CPUs' regions are 2200 pages (8.6 MiB) in all, more than RAM, so memory
 * stays full and what is free is scattered; a request every other step,
 * held 512 >> order steps (about 256 pages held per CPU at either order).
 * Without swap (`--swap 0`) the regions must fit in RAM with the blocks
 * held beside them (`--pages`: 1408 fits at 2 CPUs, 1728 only at 1), and
 * the swap method then cannot move an anonymous page at all.
 *
 * Run (compiled, under the bench lock):
 *   npm run build && flock /tmp/bench.lock node dist/bench/highorder.js [--ms N] [--swap 16M] [--pages 2200] [--orders 3,5] [--cpus 1,2]
 * Writes results/bench-highorder.json.
 */
import { runMachine } from '../src/sim/run.js';
import { buildResults } from '../src/sim/results.js';
import { RMAP_SCHEMES, MIGRATE_METHODS } from '../src/config.js';
import { writeResult, benchArgs, benchMain, hostCores, BenchArgError } from './common.js';

export interface HighorderRow {
  order: number;
  cpus: number;
  rmap: string;
  method: string;
  requests: number;
  successPct: number;
  freeListPct: number;
  builtPct: number;
  compactedFreePct: number;
  reclaimPct: number;
  failedPct: number;
  p50us: number;
  p99us: number;
  blocksBuilt: number;
  movedPerBlock: number;
  visitsPerBlock: number;
  compactUsPerBlock: number;
  hostSeconds: number;
}

export interface HighorderSetup {
  /** virtual milliseconds per run */
  ms: number;
  swap: string;
  /** region pages over all CPUs */
  pages: number;
}

async function one(s: HighorderSetup, order: number, cpus: number, rmap: string, method: string): Promise<HighorderRow> {
  const none = method === 'none';
  const spec = { name: 'highorder', orderMin: order, orderMax: order, compact: none ? 0 : 1, pages: Math.floor(s.pages / cpus), blockLife: 512 >> order, requestPercent: 50 };
  const config = { mem: '8M', swap: s.swap, cpus, rmap, locks: 'split', migrateMethod: none ? 'flip' : method, swapIoUs: 0, populate: true, seed: 1, clock: 'virtual' };
  const r = await runMachine({ config, spec, durationMs: s.ms });
  const res = buildResults(r, { spec, durationMs: s.ms });
  if (res.error || !res.checker.ok || !res.oracle.ok) throw new Error(`highorder ${rmap}/${method}/${cpus}: ${res.error?.message ?? [...res.checker.violations, ...res.oracle.failures][0]}`);
  const c = res.workloadCounts ?? {};
  const req = c.requests ?? 0;
  const built = c.builtByMoving ?? 0;
  const pct = (k: number) => (req > 0 ? (100 * k) / req : 0);
  const perBlock = (k: number) => (built > 0 ? k / built : 0);
  return {
    order,
    cpus,
    rmap: none ? '-' : rmap,
    method,
    requests: req,
    successPct: pct(req - (c.failed ?? 0)),
    freeListPct: pct(c.fromFreeLists ?? 0),
    builtPct: pct(built),
    compactedFreePct: pct(c.compactedFree ?? 0),
    reclaimPct: pct(c.fromReclaim ?? 0),
    failedPct: pct(c.failed ?? 0),
    p50us: res.opLatency?.p50 ?? 0,
    p99us: res.opLatency?.p99 ?? 0,
    blocksBuilt: built,
    movedPerBlock: perBlock(c.pagesMoved ?? 0),
    visitsPerBlock: perBlock(c.rmapWalkVisits ?? 0),
    compactUsPerBlock: perBlock((c.compactNs ?? 0) / 1000),
    hostSeconds: res.hostSeconds ?? 0,
  };
}

export async function highorder(s: HighorderSetup, orders = [3, 5], cpuList = [1, 2], log: (r: HighorderRow) => void = () => {}): Promise<HighorderRow[]> {
  const rows: HighorderRow[] = [];
  const add = (r: HighorderRow) => (rows.push(r), log(r));
  for (const order of orders) {
    for (const cpus of cpuList) {
      add(await one(s, order, cpus, 'scan', 'none'));
      for (const rmap of RMAP_SCHEMES) for (const method of MIGRATE_METHODS) add(await one(s, order, cpus, rmap, method));
    }
  }
  return rows;
}

export const HIGHORDER_HEAD =
  '| order | CPUs | rmap | method | requests | success | free lists | built by moving | compaction, free block | reclaim | failed | p50 µs | p99 µs | pages moved / block | rmap visits / block | compaction µs / block |';

export function highorderLine(r: HighorderRow): string {
  const f = (n: number, d = 1) => n.toFixed(d);
  const blk = (n: number, d = 1) => (r.blocksBuilt > 0 ? f(n, d) : '–');
  return `| ${r.order} | ${r.cpus} | ${r.rmap} | ${r.method} | ${r.requests} | ${f(r.successPct)}% | ${f(r.freeListPct)}% | ${f(r.builtPct)}% | ${f(r.compactedFreePct)}% | ${f(r.reclaimPct)}% | ${f(r.failedPct)}% | ${f(r.p50us, 2)} | ${f(r.p99us)} | ${blk(r.movedPerBlock)} | ${blk(r.visitsPerBlock, 0)} | ${blk(r.compactUsPerBlock)} |`;
}

export async function main(argv: string[]) {
  const a = benchArgs('highorder', argv, {
    ms: { kind: 'number', dflt: 200, min: 1 },
    swap: { kind: 'string', dflt: '16M' },
    pages: { kind: 'number', dflt: 2200, min: 16 },
    orders: { kind: 'list', dflt: ['3', '5'] },
    cpus: { kind: 'list', dflt: ['1', '2'] },
  });
  const ints = (name: string, xs: string[], lo: number, hi: number) =>
    xs.map((x) => {
      const v = Number(x);
      if (!Number.isInteger(v) || v < lo || v > hi) throw new BenchArgError(`bench/highorder: --${name} ${xs.join(',')}: expected integers ${lo}..${hi}`);
      return v;
    });
  const setup: HighorderSetup = { ms: a.ms, swap: a.swap, pages: a.pages };
  console.log(
    `highorder under the virtual clock, ${a.ms} virtual ms per run; 8M RAM, swap ${a.swap}, regions ${a.pages} pages in all; method none = compact=0 (free lists, then reclaim); host cores ${hostCores}`,
  );
  console.log(HIGHORDER_HEAD);
  console.log(HIGHORDER_HEAD.replace(/[^|]+/g, '---'));
  const rows = await highorder(setup, ints('orders', a.orders, 1, 10), ints('cpus', a.cpus, 1, 64), (r) => console.log(highorderLine(r)));
  writeResult('results/bench-highorder.json', { date: new Date().toISOString(), hostCores, clock: 'virtual', cost: 'skylake-2s-112', mem: '8M', ...setup, rows });
}

benchMain(import.meta.url, main);
