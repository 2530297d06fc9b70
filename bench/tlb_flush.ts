/*
 * bench/tlb_flush.ts — will-it-scale's tlb_flush1/2/3 at 2 CPUs, _processes
 * against _threads: TLB shootdowns that reach another CPU
 * (nr_tlb_remote_flush) per operation (one page: write, madvise(DONTNEED),
 * read back), and operations per second, from one run each. In _processes
 * each CPU's mm is its own (its cpumask holds only itself: a local flush);
 * in _threads the other CPU is in the shared mm's cpumask, so every
 * madvise, and every munmap, waits for it (mm/tlb.ts).
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
    for (const mode of ['processes', 'threads']) {
      const spec = { name: `${test}_${mode}`, regionBytes: test === 'tlb_flush2' ? 1 << 20 : 8 << 20 };
      const r = await runMachine({ config: { mem: '64M', swap: 0, cpus: 2, locks: 'split', populate: true, seed: 1 }, spec, durationMs: seconds * 1000, kswapd: false });
      const res = buildResults(r, { spec, durationMs: seconds * 1000 });
      if (res.error || !res.checker.ok || !res.oracle.ok) throw new Error(`${spec.name}: ${res.error?.message ?? [...res.checker.violations, ...res.oracle.failures][0]}`);
      const remote = res.perCpu.reduce((s, c) => s + (c.vmstat.nr_tlb_remote_flush ?? 0), 0);
      const local = res.perCpu.reduce((s, c) => s + (c.vmstat.nr_tlb_local_flush_all ?? 0), 0);
      rows.push({ test, mode, ops: res.ops, opsPerSec: res.opsPerSec, remoteFlushes: remote, localFlushes: local, remotePerOp: remote / res.ops, localPerOp: local / res.ops });
    }
  }
  return rows;
}

if (isMain(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 2);
  const rows = await tlbFlush(seconds);
  console.log(`tlb_flush at 2 simulated CPUs (host cores ${hostCores}), ${seconds} s per run`);
  console.log('test        mode        ops/s    remote flushes/op   local flushes/op');
  for (const r of rows)
    console.log(`${r.test.padEnd(11)} ${r.mode.padEnd(10)} ${fmtRate(r.opsPerSec).padStart(8)}   ${r.remotePerOp.toFixed(3).padStart(8)}            ${r.localPerOp.toFixed(3).padStart(8)}`);
  writeResult('results/bench-tlb-flush.json', { date: new Date().toISOString(), hostCores, seconds, rows });
}
