/*
 * bench/tlb_flush.ts — will-it-scale's tlb_flush1/2/3 at 1 and 2 CPUs,
 * _processes against _threads, with the per-CPU TLBs of mm/tlb.ts: flush
 * IPIs sent (nr_tlb_remote_flush) and taken (nr_tlb_remote_flush_received)
 * per 1000 unmaps — each operation is one page: write, madvise(DONTNEED)
 * (the unmap: zap + flush), read back — and what waiting for their
 * acknowledgement cost (lock_stat's tlb_shootdown_ack: shootdowns that
 * found the target inside a user access, and the mean wait), plus
 * operations per second; one run each. In _processes each CPU's mm is its
 * own (its cpumask holds only itself: a local flush, no IPI); in _threads
 * the other CPU is in the shared mm's cpumask, so every unmap sends it a
 * flush and may wait for it.
 *
 * Run (compiled, under the bench lock):
 *   npm run build && flock /tmp/bench.lock node dist/bench/tlb_flush.js [seconds]
 * Writes results/bench-tlb-flush.json.
 */
import { runMachine } from '../src/sim/run.js';
import { buildResults } from '../src/sim/results.js';
import { writeResult, isMain, hostCores, fmtRate } from './common.js';

export async function tlbFlush(seconds: number) {
  const rows = [];
  for (const test of ['tlb_flush1', 'tlb_flush2', 'tlb_flush3']) {
    for (const cpus of [1, 2]) {
      for (const mode of ['processes', 'threads']) {
        const spec = { name: `${test}_${mode}`, regionBytes: test === 'tlb_flush2' ? 1 << 20 : 8 << 20 };
        const r = await runMachine({ config: { mem: '64M', swap: 0, cpus, locks: 'split', populate: true, seed: 1 }, spec, durationMs: seconds * 1000, kswapd: false });
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
        });
      }
    }
  }
  return rows;
}

if (isMain(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 2);
  const rows = await tlbFlush(seconds);
  console.log(`tlb_flush at 1 and 2 simulated CPUs (host cores ${hostCores}), ${seconds} s per run; per 1000 unmaps (operations)`);
  console.log('test        cpus mode        ops/s   IPIs sent  IPIs taken  local flushes  acks waited  wait avg µs  wait µs/op');
  for (const r of rows)
    console.log(
      `${r.test.padEnd(11)} ${String(r.cpus).padStart(4)} ${r.mode.padEnd(10)} ${fmtRate(r.opsPerSec).padStart(7)} ${r.ipisPer1000.toFixed(0).padStart(10)} ${r.receivedPer1000.toFixed(0).padStart(11)} ${r.localFlushesPer1000.toFixed(0).padStart(14)} ${r.ackWaitsPer1000.toFixed(1).padStart(12)} ${r.ackWaitAvgUs.toFixed(2).padStart(12)} ${r.ackWaitUsPerOp.toFixed(3).padStart(11)}`,
    );
  writeResult('results/bench-tlb-flush.json', { date: new Date().toISOString(), hostCores, seconds, rows });
}
