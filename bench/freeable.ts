/*
 * bench/freeable.ts — allocation latency under memory pressure with and
 * without the clock policy's freeable queue (issue 18 item 3,
 * reclaim/freeable.ts; seed 001, 2.4-rmap inactive_clean), the two
 * interleaved per point in one run.
 *
 * The pressure workload (1.5 x RAM working set) on the clock policy, kswapd
 * on, at 1 and 2 CPUs. An allocation that misses the pages_min fast path
 * (alloc.ts) is a slow one: alloc_slow counts them and alloc_slow_us adds
 * up their time; with the queue they may be served from it
 * (pgalloc_freeable) instead of by direct reclaim. Per run: allocations
 * (pgalloc_normal), slow ones and their share, mean slow-path latency,
 * slow-path time per allocation over all allocations, pages parked /
 * taken / rescued, direct-reclaim stalls, throughput (page touches/s).
 *
 * Run: npm run build && flock /tmp/bench.lock node dist/bench/freeable.js [--seconds S]
 * Writes results/bench-freeable.json and prints the tables.
 */
import { textTable } from '../src/report/table.js';
import { vmstatSum as vmsum } from '../src/sim/results.js';
import { writeResult, fmtRate, benchArgs, benchMain, hostCores } from './common.js';
import { pressurePoints, pressureRmap, PRESSURE_MEM } from './pressure_points.js';

const MiB = 1 << 20;
const MEM = PRESSURE_MEM;
const PATTERNS = ['uniform', 'zipf', 'looping'] as const;

interface Row {
  pattern: string;
  cpus: number;
  freeable: boolean;
  touchesPerSec: number;
  allocs: number;
  slow: number;
  slowUsMean: number;
  slowUsPerAlloc: number;
  allocstall: number;
  pgfreeable: number;
  pgallocFreeable: number;
  pgrescued: number;
}

export async function main(argv: string[]) {
  const { seconds, out } = benchArgs('freeable', argv, { seconds: { kind: 'number', dflt: 3, min: 0.1 }, out: { kind: 'string', dflt: 'results/bench-freeable.json' } });
  const rmap = pressureRmap();
  console.log(`allocation latency, clock with and without the freeable queue: pressure workload on ${MEM / MiB} MiB RAM (1.5 x RAM working set), ${rmap}, split locks, kswapd on, swap latency 20 us, ${seconds} s per run`);
  const rows: Row[] = await pressurePoints(
    PATTERNS,
    [false, true],
    seconds,
    (freeable) => ({ policy: 'clock', freeable }),
    (freeable) => `freeable ${freeable}`,
    ({ pattern, cpus, variant: freeable, r, touches }) => {
      const allocs = vmsum(r.m, 'pgalloc_normal');
      const slow = vmsum(r.m, 'alloc_slow');
      const slowUs = vmsum(r.m, 'alloc_slow_us');
      return {
        pattern,
        cpus,
        freeable,
        touchesPerSec: (touches / r.durationMs) * 1000,
        allocs,
        slow,
        slowUsMean: slow > 0 ? slowUs / slow : 0,
        slowUsPerAlloc: allocs > 0 ? slowUs / allocs : 0,
        allocstall: vmsum(r.m, 'allocstall_normal'),
        pgfreeable: vmsum(r.m, 'pgfreeable'),
        pgallocFreeable: vmsum(r.m, 'pgalloc_freeable'),
        pgrescued: vmsum(r.m, 'pgrescued'),
      };
    },
  );
  console.log(
    textTable(
      ['pattern', 'CPUs', 'freeable', 'touches/s', 'allocs', 'slow', 'slow %', 'slow us (mean)', 'slow us / alloc', 'allocstall', 'pgfreeable', 'pgalloc_freeable', 'pgrescued'],
      rows.map((r) => [
        r.pattern,
        r.cpus,
        r.freeable ? 'on' : 'off',
        fmtRate(r.touchesPerSec),
        r.allocs,
        r.slow,
        r.allocs > 0 ? ((100 * r.slow) / r.allocs).toFixed(1) : '-',
        r.slowUsMean.toFixed(0),
        r.slowUsPerAlloc.toFixed(1),
        r.allocstall,
        r.pgfreeable,
        r.pgallocFreeable,
        r.pgrescued,
      ]),
    ),
  );
  const ratios = PATTERNS.flatMap((pattern) =>
    [1, 2].map((cpus) => {
      const off = rows.find((r) => r.pattern === pattern && r.cpus === cpus && !r.freeable)!;
      const on = rows.find((r) => r.pattern === pattern && r.cpus === cpus && r.freeable)!;
      const q = (x: number, y: number) => (y > 0 ? x / y : NaN);
      return { pattern, cpus, slowUsMean: q(on.slowUsMean, off.slowUsMean), slowUsPerAlloc: q(on.slowUsPerAlloc, off.slowUsPerAlloc), throughput: q(on.touchesPerSec, off.touchesPerSec) };
    }),
  );
  console.log('\nwith / without the freeable queue, same run:');
  console.log(
    textTable(
      ['pattern', 'CPUs', 'slow us (mean)', 'slow us / alloc', 'touches/s'],
      ratios.map((x) => [x.pattern, x.cpus, `${x.slowUsMean.toFixed(2)}x`, `${x.slowUsPerAlloc.toFixed(2)}x`, `${x.throughput.toFixed(2)}x`]),
    ),
  );
  writeResult(out, { date: new Date().toISOString(), hostCores, memMiB: MEM / MiB, rmap, seconds, rows, ratios });
  console.log(`\nwrote ${out}`);
}

benchMain(import.meta.url, main);
