/*
 * bench/migrate.ts — what moving a page costs per reverse-mapping design
 * (seed 004: "it's only when you want a _specific_ physical page that the
 * lack of reverse mapping is painful"), ratios measured in one run.
 *
 *   1. migrate  N anonymous pages written by one process, shared by K
 *               processes (K - 1 forks); every page is moved once
 *               (migrate_page: through the swap cache, try_to_unmap over
 *               the rmap). µs per page moved, per rmap scheme and K, and
 *               the ratio to `scan` — which must look at every pte of
 *               every process to find a page's K mappers.
 *   2. compact  a zone where every free frame's buddy holds a user page
 *               (plenty free, no free order-1 block); compact_pages(1)
 *               until it fails: µs per order-1 block made.
 *
 * One simulated CPU on the main thread, `split` locks, no lockdep/debug,
 * swap I/O latency 0 (migration does no I/O). Medians of 3 runs.
 *
 * Run: npm run build && node dist/bench/migrate.js [--quick]
 * Writes results/bench-migrate.json.
 */
import { bootMachine } from '../src/sim/boot.js';
import { makeCpu, type Cpu } from '../src/vm/cpu.js';
import { mm_alloc } from '../src/mm/mm_struct.js';
import { do_mmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../src/vm/mmap.js';
import { do_fork, mmput } from '../src/vm/fork.js';
import { user_write_word } from '../src/vm/access.js';
import { pte_table } from '../src/mm/pgtable.js';
import { PAGE_WORDS } from '../src/machine/layout.js';
import { pte_pfn, pte_index } from '../src/mm/pte.js';
import { __alloc_pages } from '../src/mm/page_alloc.js';
import { __free_pages } from '../src/mm/page_ref.js';
import { drain_all_pages } from '../src/mm/pcp.js';
import { SITE } from '../src/sync/classes.js';
import type { RmapSchemeName } from '../src/config.js';
import { lru_add_drain } from '../src/reclaim/index.js';
import { migrate_page, MIGRATE_OK } from '../src/reclaim/migrate.js';
import { compact_pages } from '../src/reclaim/compact.js';
import { textTable } from '../src/report/table.js';
import { writeResult, benchArgs, benchMain, median } from './common.js';
import { vmstatSum as vmsum } from '../src/sim/results.js';
import { registeredRmapSchemes as registeredRmaps } from '../src/rmap/index.js';

const MiB = 1 << 20;
const T = SITE.test;

function pfnAt(cpu: Cpu, mm: number, addr: number): number {
  const pt = pte_table(cpu, mm, addr);
  return pt < 0 ? -1 : pte_pfn(Atomics.load(cpu.w, cpu.l.frames + pt * PAGE_WORDS + pte_index(addr)));
}

export interface MigrateRow {
  rmap: string;
  K: number;
  moved: number;
  usPerPage: number;
}

/** N pages shared by K processes, each moved once; µs per page moved. */
function migrateShared(rmap: RmapSchemeName, K: number, N: number): MigrateRow {
  const m = bootMachine({ mem: `${Math.max(8, (4 * N * 4096) / MiB)}M`, swap: `${Math.max(8, (2 * N * 4096) / MiB)}M`, cpus: 1, rmap, swapIoUs: 0, maxMm: 64, rmapPool: 2 * N * (K + 4), populate: true });
  const cpu = makeCpu(m, 0);
  const parent = mm_alloc(cpu, cpu.mmCache);
  const a = do_mmap(cpu, parent, 0, N * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let i = 0; i < N; i++) user_write_word(cpu, parent, a + i * 4096, i + 1);
  const mms = [parent];
  for (let k = 1; k < K; k++) mms.push(do_fork(cpu, parent));
  lru_add_drain(cpu);
  const pfns = Int32Array.from({ length: N }, (_, i) => pfnAt(cpu, parent, a + i * 4096));
  let moved = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const to = __alloc_pages(cpu, 0, T);
    if (migrate_page(cpu, pfns[i]!, to) === MIGRATE_OK) {
      __free_pages(cpu, pfns[i]!, 0);
      moved++;
    } else __free_pages(cpu, to, 0);
  }
  const ms = performance.now() - t0;
  for (const mm of mms) mmput(cpu, mm);
  if (moved < N) throw new Error(`migrate ${rmap} K=${K}: moved only ${moved} of ${N}`);
  return { rmap, K, moved, usPerPage: (ms * 1000) / moved };
}

export interface CompactRow {
  rmap: string;
  blocks: number;
  migrated: number;
  usPerBlock: number;
}

/** A fragmented zone (every free frame's buddy a user page); compact order-1 blocks until none can be made. */
function compactFragmented(rmap: RmapSchemeName, N: number): CompactRow {
  const m = bootMachine({ mem: `${(8 * N * 4096) / MiB}M`, swap: `${(4 * N * 4096) / MiB}M`, cpus: 1, rmap, swapIoUs: 0, populate: true });
  const cpu = makeCpu(m, 0);
  const mm = mm_alloc(cpu, cpu.mmCache);
  const a = do_mmap(cpu, mm, 0, N * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  user_write_word(cpu, mm, a, 1);
  drain_all_pages(cpu);
  const held: number[] = [];
  for (let p = __alloc_pages(cpu, 0, T); p >= 0; p = __alloc_pages(cpu, 0, T)) held.push(p);
  for (const p of held) if ((p & 1) === 1) __free_pages(cpu, p, 0);
  for (let i = 1; i < N; i++) user_write_word(cpu, mm, a + i * 4096, i + 1);
  lru_add_drain(cpu);
  const user = new Set<number>();
  for (let i = 1; i < N; i++) user.add(pfnAt(cpu, mm, a + i * 4096));
  const kept: number[] = [];
  for (const p of held) if ((p & 1) === 0) (user.has(p ^ 1) ? __free_pages(cpu, p, 0) : kept.push(p));
  drain_all_pages(cpu);
  const mig0 = vmsum(m, 'pgmigrate_success');
  const blocks: number[] = [];
  const t0 = performance.now();
  for (let b = compact_pages(cpu, 1); b >= 0; b = compact_pages(cpu, 1)) blocks.push(b);
  const ms = performance.now() - t0;
  const migrated = vmsum(m, 'pgmigrate_success') - mig0;
  for (const b of blocks) __free_pages(cpu, b, 1);
  for (const p of kept) __free_pages(cpu, p, 0);
  mmput(cpu, mm);
  return { rmap, blocks: blocks.length, migrated, usPerBlock: blocks.length ? (ms * 1000) / blocks.length : NaN };
}

export async function main(argv = process.argv.slice(2)) {
  const { quick } = benchArgs('migrate', argv, { quick: { kind: 'flag' } });
  const N = quick ? 256 : 1024;
  const Ks = quick ? [1, 4] : [1, 4, 16];
  const rmaps = registeredRmaps();
  for (const rmap of rmaps) {
    migrateShared(rmap, 2, 128); // warm the JIT on every path first
    compactFragmented(rmap, 128);
  }
  const rows: MigrateRow[] = [];
  for (const K of Ks) {
    for (const rmap of rmaps) {
      const runs = [0, 1, 2].map(() => migrateShared(rmap, K, N));
      rows.push({ ...runs[0]!, usPerPage: median(runs.map((r) => r.usPerPage)) });
    }
  }
  console.log(`migrate_page: ${N} anonymous pages shared by K processes, each moved once; µs per page (x scan)`);
  const table = rmaps.map((rmap) => [
    rmap,
    ...Ks.map((K) => {
      const r = rows.find((x) => x.rmap === rmap && x.K === K)!;
      const s = rows.find((x) => x.rmap === 'scan' && x.K === K)!;
      return `${r.usPerPage.toFixed(1)} (${(r.usPerPage / s.usPerPage).toFixed(2)}x)`;
    }),
  ]);
  console.log(textTable(['rmap', ...Ks.map((K) => `K=${K}`)], table));
  const compact: CompactRow[] = rmaps.map((rmap) => {
    const runs = [0, 1, 2].map(() => compactFragmented(rmap, N));
    return { ...runs[0]!, usPerBlock: median(runs.map((r) => r.usPerBlock)) };
  });
  console.log(`\ncompact_pages(order 1) on a fragmented zone (${N} user pages, every free frame's buddy in use):`);
  console.log(textTable(['rmap', 'blocks', 'pages moved', 'µs per block'], compact.map((c) => [c.rmap, c.blocks, c.migrated, c.usPerBlock.toFixed(1)])));
  writeResult('results/bench-migrate.json', { date: new Date().toISOString(), N, Ks, migrate: rows, compact });
}

benchMain(import.meta.url, main);
