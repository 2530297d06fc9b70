/*
 * bench/writeout.ts — synchronous single-page swap write-out against the
 * clustered asynchronous one (issue 18 item 2, reclaim/writeback.ts), on
 * the pressure workload's patterns at 1 and 2 CPUs, kswapd on, ratios
 * measured in one run (the two modes interleaved per point).
 *
 * The device is the same for both: a request costs LATENCY_US + 4 KiB per
 * page at BANDWIDTH MB/s. sync writes one page per request and its writer
 * sleeps through it holding the page lock (swapIoUs = latency + one page's
 * transfer; every CPU's sleeps overlap, as if the device served them all
 * at once — generous to sync); async queues clusters of consecutive slots
 * (up to 2^pageCluster pages) on the one device, FIFO, and moves on.
 *
 * Per run: pages written (pswpout), reclaim time (reclaim_us: time inside
 * try_to_free_pages and kswapd_balance, sync write sleeps included) and
 * reclaim CPU time (reclaim_us - writeout_wait_us: without those sleeps),
 * pages written per second of each, major faults, throughput (page touches
 * per second), pages per device request (async).
 *
 * Run: npm run build && flock /tmp/bench.lock node dist/bench/writeout.js [--seconds S]
 * Writes results/bench-writeout.json and prints the tables.
 */
import { PRESSURE_PATTERNS } from '../src/workload/pressure.js';
import { textTable } from '../src/report/table.js';
import { vmstatSum as vmsum } from '../src/sim/results.js';
import { writeResult, fmtRate, benchArgs, benchMain, hostCores } from './common.js';
import { pressurePoints, pressureRmap, PRESSURE_MEM } from './pressure_points.js';

const MiB = 1 << 20;
const MEM = PRESSURE_MEM;
const LATENCY_US = 100;
const BANDWIDTH = 400; // MB/s
const PAGE_US = 4096 / BANDWIDTH; // one page's transfer, µs
const MODES = ['sync', 'async'] as const;
/** sequential is left out: its use-once stream unmaps what it touched, so nothing is written to swap */
const PATTERNS = PRESSURE_PATTERNS.filter((p) => p !== 'sequential');

interface Row {
  pattern: string;
  cpus: number;
  mode: (typeof MODES)[number];
  ms: number;
  touches: number;
  touchesPerSec: number;
  pswpout: number;
  reclaimMs: number;
  reclaimCpuMs: number;
  writtenPerReclaimSec: number;
  writtenPerReclaimCpuSec: number;
  pgmajfault: number;
  requests: number;
  pagesPerRequest: number;
  oomKill: number;
}

export async function main(argv: string[]) {
  const { seconds, out } = benchArgs('writeout', argv, { seconds: { kind: 'number', dflt: 3, min: 0.1 }, out: { kind: 'string', dflt: 'results/bench-writeout.json' } });
  const rmap = pressureRmap();
  console.log(
    `swap write-out, sync vs async: pressure workload on ${MEM / MiB} MiB RAM (1.5 x RAM working set), 2q + ${rmap}, split locks, kswapd on, ${seconds} s per run; ` +
      `device ${LATENCY_US} us + ${PAGE_US.toFixed(2)} us/page (${BANDWIDTH} MB/s); sync sleeps ${(LATENCY_US + PAGE_US).toFixed(2)} us per page`,
  );
  const rows: Row[] = await pressurePoints(
    PATTERNS,
    MODES,
    seconds,
    (mode) => ({ policy: '2q', swapWriteout: mode, swapIoUs: LATENCY_US + PAGE_US, swapLatencyUs: LATENCY_US, swapBandwidth: BANDWIDTH }),
    (mode) => mode,
    ({ pattern, cpus, variant: mode, r, touches }) => {
      const pswpout = vmsum(r.m, 'pswpout');
      const reclaimUs = vmsum(r.m, 'reclaim_us');
      const cpuUs = reclaimUs - vmsum(r.m, 'writeout_wait_us');
      const requests = mode === 'async' ? vmsum(r.m, 'swap_wb_req') : pswpout;
      return {
        pattern,
        cpus,
        mode,
        ms: r.durationMs,
        touches,
        touchesPerSec: (touches / r.durationMs) * 1000,
        pswpout,
        reclaimMs: reclaimUs / 1000,
        reclaimCpuMs: cpuUs / 1000,
        writtenPerReclaimSec: reclaimUs > 0 ? (pswpout / reclaimUs) * 1e6 : 0,
        writtenPerReclaimCpuSec: cpuUs > 0 ? (pswpout / cpuUs) * 1e6 : 0,
        pgmajfault: vmsum(r.m, 'pgmajfault'),
        requests,
        pagesPerRequest: requests > 0 ? pswpout / requests : 0,
        oomKill: vmsum(r.m, 'oom_kill'),
      };
    },
  );
  console.log(
    textTable(
      ['pattern', 'CPUs', 'write-out', 'touches/s', 'pswpout', 'reclaim ms', 'reclaim CPU ms', 'written/reclaim s', 'written/reclaim CPU s', 'pgmajfault', 'pages/request', 'oom kills'],
      rows.map((r) => [
        r.pattern,
        r.cpus,
        r.mode,
        fmtRate(r.touchesPerSec),
        r.pswpout,
        r.reclaimMs.toFixed(0),
        r.reclaimCpuMs.toFixed(0),
        fmtRate(r.writtenPerReclaimSec),
        fmtRate(r.writtenPerReclaimCpuSec),
        r.pgmajfault,
        r.pagesPerRequest.toFixed(2),
        r.oomKill,
      ]),
    ),
  );
  const ratios = PATTERNS.flatMap((pattern) =>
    [1, 2].map((cpus) => {
      const s = rows.find((r) => r.pattern === pattern && r.cpus === cpus && r.mode === 'sync')!;
      const a = rows.find((r) => r.pattern === pattern && r.cpus === cpus && r.mode === 'async')!;
      const q = (x: number, y: number) => (y > 0 ? x / y : NaN);
      return {
        pattern,
        cpus,
        writtenPerReclaimSec: q(a.writtenPerReclaimSec, s.writtenPerReclaimSec),
        writtenPerReclaimCpuSec: q(a.writtenPerReclaimCpuSec, s.writtenPerReclaimCpuSec),
        pgmajfault: q(a.pgmajfault, s.pgmajfault),
        throughput: q(a.touchesPerSec, s.touchesPerSec),
      };
    }),
  );
  console.log('\nasync / sync, same run:');
  console.log(
    textTable(
      ['pattern', 'CPUs', 'written/reclaim s', 'written/reclaim CPU s', 'pgmajfault', 'touches/s'],
      ratios.map((x) => [x.pattern, x.cpus, `${x.writtenPerReclaimSec.toFixed(2)}x`, `${x.writtenPerReclaimCpuSec.toFixed(2)}x`, `${x.pgmajfault.toFixed(2)}x`, `${x.throughput.toFixed(2)}x`]),
    ),
  );
  writeResult(out, { date: new Date().toISOString(), hostCores, memMiB: MEM / MiB, rmap, seconds, device: { latencyUs: LATENCY_US, bandwidthMBs: BANDWIDTH }, rows, ratios });
  console.log(`\nwrote ${out}`);
}

benchMain(import.meta.url, main);
