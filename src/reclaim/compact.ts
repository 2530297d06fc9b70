/*
 * compact.ts — making a high-order block out of a fragmented zone: pick an
 * aligned block of 2^order frames whose frames are all free or movable user
 * pages, take its free frames with steal_specific_page, move its used ones
 * elsewhere with migrate_page, and hand the whole block to the allocator's
 * caller.
 *
 * Sources: seed 004 (Linus / Kevin Wrohrer, Jan 1998, "2.1.76 ... memory
 * fragmentation": rather than freeing pages at random until a free area
 * grows, pick the area and move what is in it; this needs the reverse map),
 * LaHaise's steal_specific_page, 2.6.16 migrate_pages (migrate.ts), and the
 * shape of Mel Gorman's 2.6.35 compaction (REFERENCE.md §8.3): a cursor that
 * walks the zone, a bounded number of blocks per attempt, free pages kept
 * for the request. Simplified: one scanner over whole aligned blocks (no
 * separate free scanner: targets come from the ordinary allocator, and the
 * block's own free frames are taken first so no target lands in it), no
 * pageblock mobility types, no deferral.
 *
 * A frame's suitability is read without locks (a hint, as the kernel's
 * scanners read page flags): free (in the buddy lists: _count 0, not on a
 * pcp list), or a movable user page (on an LRU list). Every step after
 * that re-checks under the proper lock and may fail; then everything taken
 * so far is given back and the next block is tried. Pages already moved
 * stay moved (still correct, just elsewhere).
 *
 * Locking: no lock held on entry (the allocating CPU's mmap_sem at most, as
 * for direct reclaim); zone->lock inside steal_specific_page, migrate.ts's
 * order inside migrate_page; kernel_flag held throughout under `bkl`.
 */
import { G_ZONE, Z_FREE, Z_MIN, Z_COMPACT_CURSOR, PG_FLAGS, PG_COUNT, MAX_ORDER, globalLine, pageStruct } from '../machine/layout.js';
import { PG_lru, PG_pcp, PG_reserved, PG_compound } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { __alloc_pages, steal_specific_page, prep_new_page } from '../mm/page_alloc.js';
import { __free_pages } from '../mm/page_ref.js';
import { drain_local_pages } from '../mm/pcp.js';
import { bkl_enter, bkl_exit, type ReclaimCpu } from './context.js';
import { lru_add_drain } from './lru.js';
import { migrate_page, MIGRATE_OK } from './migrate.js';

/** Suitable blocks a compaction attempt tries to empty before giving up (it may look at every block). */
export const COMPACT_MAX_TRIES = 16;

/** Frames of the block being assembled (per thread). */
const owned = new Int32Array(1 << (MAX_ORDER - 1));

const FREE = 1;
const MOVABLE = 2;

/** What frame `pfn` looks like now (lock-free hint): FREE, MOVABLE or 0. */
function frame_kind(w: Int32Array, p: number): number {
  const flags = Atomics.load(w, p + PG_FLAGS);
  if ((flags & (PG_reserved | PG_compound | PG_pcp)) !== 0) return 0;
  const count = Atomics.load(w, p + PG_COUNT);
  if (count === 0) return FREE;
  return (flags & PG_lru) !== 0 ? MOVABLE : 0;
}

/** Give back the first n frames of `owned` (each an order-0 allocation). */
function release_owned(cpu: ReclaimCpu, n: number): void {
  for (let i = 0; i < n; i++) __free_pages(cpu, owned[i]!, 0);
}

const STOLEN = 1; // the block was free: taken whole
const ASSEMBLED = 2; // its pages were moved out and its frames put together

/** How many frames of the block at `head` hold movable pages, or -1 if one is neither free nor movable (a hint). */
function block_movable(w: Int32Array, l: ReclaimCpu['l'], head: number, n: number): number {
  let movable = 0;
  for (let i = 0; i < n; i++) {
    const k = frame_kind(w, pageStruct(l, head + i));
    if (k === 0) return -1;
    if (k === MOVABLE) movable++;
  }
  return movable;
}

/**
 * Try to empty the block at `head` (it looked suitable: `movable` frames in
 * use) and take it: STOLEN or ASSEMBLED with every frame owned and the block
 * prepared as an order-`order` allocation, or 0 with nothing taken.
 */
function compact_block(cpu: ReclaimCpu, head: number, order: number, movable: number): number {
  const w = cpu.w;
  const l = cpu.l;
  const n = 1 << order;
  if (movable === 0) return steal_specific_page(cpu, head, order, SITE.migrate_pages) ? STOLEN : 0;
  // first the free frames, so that no migration target is allocated inside the block
  let got = 0;
  for (let i = 0; i < n; i++) {
    const pfn = head + i;
    if (Atomics.load(w, pageStruct(l, pfn) + PG_COUNT) !== 0) continue;
    if (!steal_specific_page(cpu, pfn, 0, SITE.migrate_pages)) {
      release_owned(cpu, got);
      return 0;
    }
    owned[got++] = pfn;
  }
  // then the used ones (owned[0..free) is ascending: walk it alongside)
  const free = got;
  for (let i = 0, j = 0; i < n; i++) {
    const pfn = head + i;
    if (j < free && owned[j] === pfn) {
      j++;
      continue;
    }
    const to = __alloc_pages(cpu, 0, SITE.migrate_pages);
    if (to < 0 || migrate_page(cpu, pfn, to) !== MIGRATE_OK) {
      if (to >= 0) __free_pages(cpu, to, 0);
      release_owned(cpu, got);
      return 0;
    }
    owned[got++] = pfn;
  }
  prep_new_page(cpu, head, order); // 2^order owned frames become one block
  return ASSEMBLED;
}

/**
 * compact_pages (try_to_compact_pages): find or make a free aligned block of
 * 2^order frames and return it allocated (the caller's, as from
 * __alloc_pages), or -1. Walks the zone's blocks from its compaction
 * cursor on (the flag check is cheap) and tries to empty at most
 * COMPACT_MAX_TRIES of the suitable ones. Refuses when the zone has not the free pages
 * to move a block's worth of pages into (compaction_suitable: free ≥ min +
 * 2^(order+1)).
 */
export function compact_pages(cpu: ReclaimCpu, order: number): number {
  const w = cpu.w;
  const l = cpu.l;
  const z = globalLine(l, G_ZONE);
  if (order <= 0 || order >= MAX_ORDER) return -1;
  if (Atomics.load(w, z + Z_FREE) < w[z + Z_MIN]! + (2 << order)) return -1;
  w[cpu.vm + VM.compact_stall]!++;
  bkl_enter(cpu, SITE.migrate_pages);
  lru_add_drain(cpu); // our pagevec's pages are not on a list yet
  drain_local_pages(cpu); // nor are our pcp pages in the buddy lists
  const nBlocks = l.nrFrames >>> order;
  let pfn = -1;
  for (let seen = 0, tries = 0; seen < nBlocks && tries < COMPACT_MAX_TRIES; seen++) {
    // the cursor is a hint shared by every CPU: a racing update only repeats or skips a block
    const b = (Atomics.add(w, z + Z_COMPACT_CURSOR, 1) >>> 0) % nBlocks;
    if (b === 0) continue; // pfn 0 is reserved
    const movable = block_movable(w, l, b << order, 1 << order);
    if (movable < 0) continue;
    tries++;
    const r = compact_block(cpu, b << order, order, movable);
    if (r !== 0) {
      pfn = b << order;
      if (r === ASSEMBLED) w[cpu.vm + VM.pgalloc_high_order]!++;
      break;
    }
  }
  bkl_exit(cpu);
  w[cpu.vm + (pfn >= 0 ? VM.compact_success : VM.compact_fail)]!++;
  return pfn;
}
