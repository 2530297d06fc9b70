/*
 * bench/tlb_flush.ts — will-it-scale's tlb_flush1/2/3 at 1 and 2 CPUs,
 * _processes against _threads, with the per-CPU TLBs of mm/tlb.ts: flush
 * IPIs sent (nr_tlb_remote_flush) and taken (nr_tlb_remote_flush_received)
 * per 1000 unmaps — each operation is one page: write, madvise(DONTNEED)
 * (the unmap: zap + flush), read back — and what waiting for their
 * acknowledgement cost (lock_stat's tlb_shootdown_ack: shootdowns that
 * found the target inside a user access, and the mean wait, µs as lock_stat
 * gives them), plus operations per second; one run each. In _processes
 * each CPU's mm is its own (its cpumask holds only itself: a local flush,
 * no IPI); in _threads the other CPU is in the shared mm's cpumask, so
 * every unmap sends it a flush and may wait for it.
 *
 * Under the host clock a wait is for the other worker thread to finish
 * its access: a cache-line hand-over when both run at once, a host
 * time slice when the other was descheduled. So each 2-CPU row carries the
 * host's cache-line round trip measured just before it (sim/hostprobe.ts,
 * as `smpvm scale` and bench/scale.ts do). `--clock virtual` runs the same
 * rows under the virtual clock: the waits are then the simulated machine's
 * (cost table skylake-2s-112), independent of the host.
 *
 * Run (compiled, under the bench lock):
 *   npm run build && flock /tmp/bench.lock node dist/bench/tlb_flush.js [--seconds 2] [--clock host|virtual]
 * Writes results/bench-tlb-flush.json (results/bench-tlb-flush-virtual.json).
 */
import { runMachine } from '../src/sim/run.js';
import { buildResults } from '../src/sim/results.js';
import { lineRoundTripNs } from '../src/sim/hostprobe.js';
import { writeResult, benchArgs, benchMain, BenchArgError, hostCores, fmtRate } from './common.js';

export interface TlbFlushRow {
  test: string;
  cpus: number;
  mode: string;
  ops: number;
  opsPerSec: number;
  ipisPer1000: number;
  receivedPer1000: number;
  localFlushesPer1000: number;
  ackWaitsPer1000: number;
  ackWaitAvgUs: number;
  ackWaitUsPerOp: number;
  /** host cache-line round trip measured just before a 2-CPU host-clock row (null otherwise) */
  hostRoundTripNs: number | null;
}

export async function tlbFlush(seconds: number, clock: 'host' | 'virtual'): Promise<TlbFlushRow[]> {
  const rows: TlbFlushRow[] = [];
  for (const test of ['tlb_flush1', 'tlb_flush2', 'tlb_flush3']) {
    for (const cpus of [1, 2]) {
      for (const mode of ['processes', 'threads']) {
        const spec = { name: `${test}_${mode}`, regionBytes: test === 'tlb_flush2' ? 1 << 20 : 8 << 20 };
        const rtt = cpus > 1 && clock === 'host' ? await lineRoundTripNs() : null;
        const r = await runMachine({ config: { mem: '64M', swap: 0, cpus, locks: 'split', populate: true, seed: 1, clock }, spec, durationMs: seconds * 1000, kswapd: false });
        const res = buildResults(r, { spec, durationMs: seconds * 1000 });
        if (res.error || !res.checker.ok || !res.oracle.ok) throw new Error(`${spec.name}: ${res.error?.message ?? [...res.checker.violations, ...res.oracle.failures][0]}`);
        const sum = (k: string) => res.perCpu.reduce((s, c) => s + ((c.vmstat as Record<string, number>)[k] ?? 0), 0);
        const ack = res.lockStat.find((l) => l.class === 'tlb_shootdown_ack');
        const per1000 = (n: number) => (1000 * n) / res.ops;
        rows.push({
          test,
          cpus,
          mode,
          ops: res.ops,
          opsPerSec: res.opsPerSec,
          ipisPer1000: per1000(sum('nr_tlb_remote_flush')),
          receivedPer1000: per1000(sum('nr_tlb_remote_flush_received')),
          localFlushesPer1000: per1000(sum('nr_tlb_local_flush_all') + sum('nr_tlb_local_flush_one')),
          ackWaitsPer1000: per1000(ack?.contentions ?? 0),
          ackWaitAvgUs: ack && ack.contentions > 0 ? ack['waittime-total'] / ack.contentions : 0, // lock_stat rows are in µs
          ackWaitUsPerOp: ack ? ack['waittime-total'] / res.ops : 0,
          hostRoundTripNs: rtt,
        });
      }
    }
  }
  return rows;
}

/** The run's rows as the README's table. */
export function tlbFlushTable(rows: TlbFlushRow[]): string {
  const head = '| test | CPUs | mode | ops/s | IPIs sent | IPIs taken | local flushes | acks waited | mean wait µs | wait µs / op | host line round trip ns |';
  const lines = rows.map(
    (r) =>
      `| ${r.test} | ${r.cpus} | ${r.mode} | ${fmtRate(r.opsPerSec)} | ${r.ipisPer1000.toFixed(0)} | ${r.receivedPer1000.toFixed(0)} | ${r.localFlushesPer1000.toFixed(0)} | ${r.ackWaitsPer1000.toFixed(1)} | ${r.ackWaitsPer1000 > 0 ? r.ackWaitAvgUs.toFixed(2) : '–'} | ${r.ackWaitUsPerOp.toFixed(3)} | ${r.hostRoundTripNs === null ? '–' : r.hostRoundTripNs.toFixed(0)} |`,
  );
  return [head, head.replace(/[^|]+/g, '---'), ...lines].join('\n');
}

export async function main(argv: string[]) {
  const a = benchArgs('tlb_flush', argv, { seconds: { kind: 'number', dflt: 2, min: 0.01 }, clock: { kind: 'string', dflt: 'host' } }, ['seconds']);
  if (a.clock !== 'host' && a.clock !== 'virtual') throw new BenchArgError(`bench/tlb_flush: --clock ${a.clock}: expected host or virtual`);
  const clock = a.clock;
  const rows = await tlbFlush(a.seconds, clock);
  console.log(
    `tlb_flush at 1 and 2 simulated CPUs, ${clock} clock, ${a.seconds} ${clock === 'virtual' ? 'virtual ' : ''}s per run (host cores ${hostCores}); per 1000 unmaps (operations)`,
  );
  console.log(tlbFlushTable(rows));
  writeResult(clock === 'virtual' ? 'results/bench-tlb-flush-virtual.json' : 'results/bench-tlb-flush.json', { date: new Date().toISOString(), hostCores, clock, seconds: a.seconds, rows });
}

benchMain(import.meta.url, main);
