/*
 * bench/reclaim.ts — what page reclaim costs (issue 6), ratios measured in
 * one run:
 *
 *   1. sharing   N anonymous pages written by one process, then shared by K
 *                processes (K - 1 forks: every page mapped K times); reclaim
 *                frees half of them. Per policy × rmap scheme and K = 1..16:
 *                wall time per page freed, pages looked at per page freed
 *                (pgscan) and ptes looked at per page freed (swap_out's
 *                virtual scan: pgscan_pte). Seed 001's claim: the
 *                page-centric clock with pte chains frees pages much faster
 *                than the virtual scan when pages are shared — it meets a
 *                shared page once, where swap_out must meet it in all K
 *                address spaces before it can go.
 *   2. faults    will-it-scale page_fault1 under memory pressure (the CPUs
 *                together touch 1.5 × RAM per loop; swap takes the rest),
 *                kswapd running in its own worker, at 1 and 2 CPUs, per
 *                lock scheme: faults/s and the 2-CPU / 1-CPU ratio.
 *
 * Part 1 runs on the main thread (one simulated CPU, `split` locks, no
 * lockdep/debug, swap I/O latency 0: the CPU cost of reclaim, not the disk);
 * each time is the median of 3 runs. pte/pg counts the ptes swap_out's
 * virtual scan looks at; the page-centric policies reach a page's K ptes
 * through the rmap instead (K per page with a chain scheme; every pte of
 * every process per page with `scan`, and with `hint` once a page is
 * shared), which the time column shows.
 * Part 2 runs real workers (compiled JavaScript) with the default simulated
 * swap latency.
 *
 * Run: npm run build && node dist/bench/reclaim.js [--quick]
 * Writes results/bench-reclaim.json and prints the tables.
 */
import { bootMachine } from '../src/sim/boot.js';
import { makeCpu, type Cpu } from '../src/vm/cpu.js';
import { runMachine, createRunPool } from '../src/sim/run.js';
import { mm_alloc } from '../src/mm/mm_struct.js';
import { do_mmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../src/vm/mmap.js';
import { do_fork, mmput } from '../src/vm/fork.js';
import { user_write_word } from '../src/vm/access.js';
import { LOCK_SCHEMES, type RmapSchemeName } from '../src/config.js';
import { try_to_free_pages } from '../src/reclaim/index.js';
import { textTable } from '../src/report/table.js';
import { writeResult, fmtRate, benchArgs, benchMain, hostCores, timeSliceWarning } from './common.js';
import { vmstatSum as vmsum } from '../src/sim/results.js';
import { registeredRmapSchemes as registeredRmaps } from '../src/rmap/index.js';

const POLICIES = ['swapout', 'clock', '2q'] as const;
const MiB = 1 << 20;

interface SharingRow {
  policy: string;
  rmap: string;
  K: number;
  freed: number;
  ms: number;
  usPerFreed: number;
  scannedPerFreed: number;
  ptesPerFreed: number;
}

/** One sharing measurement: N pages shared by K processes; free N/2 of them. */
function sharing(policy: string, rmap: RmapSchemeName, K: number, N: number): SharingRow {
  // rmap pools sized for N × K mappings (vm_nodes, pte_chain blocks)
  const m = bootMachine({ mem: `${(2 * N * 4096) / MiB}M`, swap: `${(4 * N * 4096) / MiB}M`, cpus: 1, policy, rmap, swapIoUs: 0, maxMm: 64, rmapPool: 2 * N * (K + 4), populate: true });
  const cpu: Cpu = makeCpu(m, 0);
  const parent = mm_alloc(cpu, cpu.mmCache);
  const a = do_mmap(cpu, parent, 0, N * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let i = 0; i < N; i++) user_write_word(cpu, parent, a + i * 4096, i + 1);
  const mms = [parent];
  for (let k = 1; k < K; k++) {
    const child = do_fork(cpu, parent);
    if (child < 0) throw new Error(`sharing ${policy}/${rmap} K=${K}: fork ${k} failed`);
    mms.push(child);
  }
  const scan0 = vmsum(m, 'pgscan_direct');
  const pte0 = vmsum(m, 'pgscan_pte');
  const target = N >> 1;
  let freed = 0;
  let rounds = 0;
  const t0 = performance.now();
  // direct-reclaim rounds until half the pages are free: the virtual scan may
  // need many rounds that free nothing (a shared page goes only once its
  // last pte is unmapped), so be patient
  while (freed < target && rounds++ < 5000) freed += try_to_free_pages(cpu);
  const ms = performance.now() - t0;
  const scanned = vmsum(m, 'pgscan_direct') - scan0;
  const ptes = vmsum(m, 'pgscan_pte') - pte0;
  for (const mm of mms) mmput(cpu, mm);
  const f = Math.max(1, freed);
  if (freed < target) throw new Error(`sharing ${policy}/${rmap} K=${K}: freed only ${freed} of ${target} pages`);
  return { policy, rmap, K, freed, ms, usPerFreed: (ms * 1000) / f, scannedPerFreed: scanned / f, ptesPerFreed: ptes / f };
}

interface FaultRow {
  locks: string;
  cpus: number;
  faults: number;
  ms: number;
  faultsPerSec: number;
  pswpout: number;
  pgstealKswapd: number;
  pgstealDirect: number;
  kswapdWake: number;
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const { quick } = benchArgs('reclaim', argv, { quick: { kind: 'flag' } });
  const rmaps = registeredRmaps();
  const N = quick ? 512 : 4096;
  const Ks = quick ? [1, 4, 16] : [1, 2, 4, 8, 16];

  // ---- 1. reclaim cost against sharing ----
  console.log(`1. reclaim cost against sharing: ${N} anonymous pages (${(N * 4) / 1024} MiB) shared by K processes, free ${N / 2}`);
  const rows: SharingRow[] = [];
  for (const policy of POLICIES) {
    for (const rmap of rmaps) {
      for (const K of Ks) {
        sharing(policy, rmap, K, N >> 2); // warm the JIT on a smaller instance
        const reps = [sharing(policy, rmap, K, N), sharing(policy, rmap, K, N), sharing(policy, rmap, K, N)];
        reps.sort((x, y) => x.ms - y.ms);
        rows.push(reps[1]!); // the median time (the counts are the same every time)
      }
    }
  }
  const fmt = (x: number, d = 1) => (x >= 100 ? x.toFixed(0) : x.toFixed(d));
  const table: (string | number)[][] = [];
  for (const policy of POLICIES) {
    for (const rmap of rmaps) {
      const cells = Ks.flatMap((K) => {
        const r = rows.find((x) => x.policy === policy && x.rmap === rmap && x.K === K)!;
        return [fmt(r.usPerFreed), fmt(r.scannedPerFreed), fmt(r.ptesPerFreed)];
      });
      table.push([policy, rmap, ...cells]);
    }
  }
  console.log(textTable(['policy', 'rmap', ...Ks.flatMap((k) => [`K=${k} us/pg`, 'scan/pg', 'pte/pg'])], table));
  const at = (policy: string, rmap: string, K: number) => rows.find((x) => x.policy === policy && x.rmap === rmap && x.K === K)!;
  const Kmax = Ks[Ks.length - 1]!;
  const chain = rmaps.includes('ptechain') ? 'ptechain' : rmaps[0]!;
  const seedClaim = Ks.map((K) => ({ K, swapoutOverClock: at('swapout', chain, K).usPerFreed / at('clock', chain, K).usPerFreed }));
  console.log(`time per freed page, swapout / clock (${chain}): ${seedClaim.map((s) => `K=${s.K} ${s.swapoutOverClock.toFixed(2)}x`).join(', ')}`);
  const growth = POLICIES.flatMap((p) => rmaps.map((r) => ({ policy: p, rmap: r, kmaxOverK1: at(p, r, Kmax).usPerFreed / at(p, r, 1).usPerFreed })));
  console.log(`time per freed page, K=${Kmax} / K=1: ${growth.map((g) => `${g.policy}/${g.rmap} ${g.kmaxOverK1.toFixed(1)}x`).join(', ')}`);

  // ---- 2. page_fault1 under pressure, 1 and 2 CPUs, per lock scheme ----
  const mem = 16 * MiB;
  const seconds = quick ? 1 : 3;
  const rmap = chain;
  console.log(`\n2. page_fault1 under pressure: ${mem / MiB} MiB RAM, the CPUs together touch 1.5 x RAM per loop, swap ${(4 * mem) / MiB} MiB, kswapd on, 2q + ${rmap}, ${seconds} s per run`);
  const warn = timeSliceWarning(3);
  if (warn) console.log(`${warn} (2 CPUs + kswapd)`);
  const faults: FaultRow[] = [];
  const pool = createRunPool(3);
  try {
    for (const locks of LOCK_SCHEMES) {
      for (const cpus of [1, 2]) {
        const region = Math.floor((1.5 * mem) / cpus / 4096) * 4096;
        const r = await runMachine({
          config: { mem, swap: 4 * mem, cpus, locks, policy: '2q', rmap, seed: 7, populate: true },
          spec: { name: 'page_fault1_processes', regionBytes: region },
          durationMs: seconds * 1000,
          pool,
        });
        if (r.error) throw new Error(`page_fault1 ${locks} ${cpus} CPUs: ${r.error.message}`);
        const n = r.perCpu.reduce((a, c) => a + c.units, 0);
        faults.push({
          locks,
          cpus,
          faults: n,
          ms: r.durationMs,
          faultsPerSec: (n / r.durationMs) * 1000,
          pswpout: vmsum(r.m, 'pswpout'),
          pgstealKswapd: vmsum(r.m, 'pgsteal_kswapd'),
          pgstealDirect: vmsum(r.m, 'pgsteal_direct'),
          kswapdWake: vmsum(r.m, 'kswapd_wake'),
        });
      }
    }
  } finally {
    await pool.destroy();
  }
  console.log(
    textTable(
      ['locks', 'CPUs', 'faults/s', 'pswpout', 'steal(kswapd)', 'steal(direct)', 'kswapd wakes'],
      faults.map((f) => [f.locks, f.cpus, fmtRate(f.faultsPerSec), f.pswpout, f.pgstealKswapd, f.pgstealDirect, f.kswapdWake]),
    ),
  );
  const scaling = LOCK_SCHEMES.map((locks) => {
    const one = faults.find((f) => f.locks === locks && f.cpus === 1)!;
    const two = faults.find((f) => f.locks === locks && f.cpus === 2)!;
    return { locks, twoOverOne: two.faultsPerSec / one.faultsPerSec };
  });
  console.log(`2-CPU / 1-CPU: ${scaling.map((s) => `${s.locks} ${s.twoOverOne.toFixed(2)}x`).join(', ')} (${hostCores} host cores)`);

  writeResult('results/bench-reclaim.json', {
    date: new Date().toISOString(),
    hostCores,
    sharing: { pages: N, freedTarget: N / 2, rows, seedClaim: { rmap: chain, ratios: seedClaim }, growth },
    pageFault1: { memMiB: mem / MiB, rmap, policy: '2q', seconds, rows: faults, scaling },
  });
  console.log('\nwrote results/bench-reclaim.json');
}

benchMain(import.meta.url, main);
