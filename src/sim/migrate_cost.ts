/*
 * sim/migrate_cost.ts — what moving a specific page costs per reverse-map
 * design and migrate method (seed 004: "it's only when you want a
 * _specific_ physical page that the lack of reverse mapping is painful"):
 * the measurements behind `smpvm migrate-cost` and bench/migrate.ts.
 *
 *   1. migrate  N anonymous pages written by one process, shared by K
 *               processes (K - 1 forks); every page is moved once with
 *               migrate_page (flip: the ptes rewritten in place, on a
 *               machine with no swap; swap: through the swap cache, on one
 *               with swap): pages moved (flip reports a page mapped
 *               through more than FLIP_MAX_PTL pte locks busy), µs per
 *               page moved and what the rmap walks
 *               visited per page (vmstat rmap_walk_visit: chain entries,
 *               VMAs, or every pte of every process for `scan`, which must
 *               look at all of them to find a page's K mappers).
 *   2. compact  a zone where every free frame's buddy holds a user page
 *               (plenty free, no free order-1 block); compact_pages(1)
 *               until it fails: blocks made, pages moved, µs and walk
 *               visits per block made.
 *
 * One simulated CPU on the main thread, `split` locks, no lockdep/debug,
 * swap I/O latency 0 (migration does no I/O). Host time (performance.now):
 * compare rows of one run, as ratios.
 *
 * Locking: each machine is private to the measurement that built it (one
 * CPU, no workers); the simulated kernel's own rules apply inside.
 */
import { bootMachine } from './boot.js';
import { vmstatSum } from './results.js';
import { makeCpu, type Cpu } from '../vm/cpu.js';
import { mm_alloc } from '../mm/mm_struct.js';
import { do_mmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../vm/mmap.js';
import { do_fork, mmput } from '../vm/fork.js';
import { user_write_word } from '../vm/access.js';
import { pte_table } from '../mm/pgtable.js';
import { PAGE_WORDS } from '../machine/layout.js';
import { pte_pfn, pte_index } from '../mm/pte.js';
import { __alloc_pages } from '../mm/page_alloc.js';
import { __free_pages } from '../mm/page_ref.js';
import { drain_all_pages } from '../mm/pcp.js';
import { SITE } from '../sync/classes.js';
import type { RmapSchemeName, MIGRATE_METHODS } from '../config.js';

type MigrateMethod = (typeof MIGRATE_METHODS)[number];
import { lru_add_drain } from '../reclaim/index.js';
import { migrate_page, MIGRATE_OK } from '../reclaim/migrate.js';
import { compact_pages } from '../reclaim/compact.js';

const MiB = 1 << 20;
const T = SITE.test;

function pfnAt(cpu: Cpu, mm: number, addr: number): number {
  const pt = pte_table(cpu, mm, addr);
  return pt < 0 ? -1 : pte_pfn(Atomics.load(cpu.w, cpu.l.frames + pt * PAGE_WORDS + pte_index(addr)));
}

/** flip needs no swap (and is measured without any); swap needs room for every page moved. */
const swapFor = (method: MigrateMethod, pages: number) => (method === 'flip' ? 0 : `${Math.max(8, (2 * pages * 4096) / MiB)}M`);

export interface MigrateRow {
  rmap: string;
  method: string;
  K: number;
  moved: number;
  /** per page moved; null when none moved (flip: a page behind more than FLIP_MAX_PTL pte locks is busy) */
  usPerPage: number | null;
  visitsPerPage: number | null;
}

/** N pages shared by K processes, each moved once. */
export function migrateShared(rmap: RmapSchemeName, method: MigrateMethod, K: number, N: number): MigrateRow {
  const m = bootMachine({ mem: `${Math.max(8, (4 * N * 4096) / MiB)}M`, swap: swapFor(method, N), cpus: 1, rmap, migrateMethod: method, swapIoUs: 0, maxMm: 64, rmapPool: 2 * N * (K + 4), populate: true });
  const cpu = makeCpu(m, 0);
  const parent = mm_alloc(cpu, cpu.mmCache);
  const a = do_mmap(cpu, parent, 0, N * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let i = 0; i < N; i++) user_write_word(cpu, parent, a + i * 4096, i + 1);
  const mms = [parent];
  for (let k = 1; k < K; k++) mms.push(do_fork(cpu, parent));
  lru_add_drain(cpu);
  const pfns = Int32Array.from({ length: N }, (_, i) => pfnAt(cpu, parent, a + i * 4096));
  const visits0 = vmstatSum(m, 'rmap_walk_visit');
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
  const visits = vmstatSum(m, 'rmap_walk_visit') - visits0;
  for (const mm of mms) mmput(cpu, mm);
  return { rmap, method, K, moved, usPerPage: moved ? (ms * 1000) / moved : null, visitsPerPage: moved ? visits / moved : null };
}

export interface CompactRow {
  rmap: string;
  method: string;
  blocks: number;
  migrated: number;
  usPerBlock: number;
  visitsPerBlock: number;
}

/** A fragmented zone (every free frame's buddy a user page); compact order-1 blocks until none can be made. */
export function compactFragmented(rmap: RmapSchemeName, method: MigrateMethod, N: number): CompactRow {
  const m = bootMachine({ mem: `${Math.max(2, (8 * N * 4096) / MiB)}M`, swap: swapFor(method, 2 * N), cpus: 1, rmap, migrateMethod: method, swapIoUs: 0, populate: true });
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
  const mig0 = vmstatSum(m, 'pgmigrate_success');
  const visits0 = vmstatSum(m, 'rmap_walk_visit');
  const blocks: number[] = [];
  const t0 = performance.now();
  for (let b = compact_pages(cpu, 1); b >= 0; b = compact_pages(cpu, 1)) blocks.push(b);
  const ms = performance.now() - t0;
  const migrated = vmstatSum(m, 'pgmigrate_success') - mig0;
  const visits = vmstatSum(m, 'rmap_walk_visit') - visits0;
  for (const b of blocks) __free_pages(cpu, b, 1);
  for (const p of kept) __free_pages(cpu, p, 0);
  mmput(cpu, mm);
  const per = (x: number) => (blocks.length ? x / blocks.length : 0);
  return { rmap, method, blocks: blocks.length, migrated, usPerBlock: per(ms * 1000), visitsPerBlock: per(visits) };
}
