/*
 * mm/page_alloc.ts — the buddy allocator and its watermarks.
 *
 * One zone covers every frame. Its state is three global lines (layout.ts):
 *
 *   G_ZONE       zone->lock (words 0..3), Z_FREE (pages in the buddy lists),
 *                Z_MIN/Z_LOW/Z_HIGH watermarks, Z_MANAGED, Z_FIRST_PFN
 *   G_ZONE_AREA  free_area[order].free_list head, order 0..10 (words 0..10)
 *   G_ZONE_AREA+1  free_area[order].nr_free, order 0..10
 *
 * A free block of 2^order frames starting at `pfn` (pfn aligned to 2^order) is
 * on free_area[order]'s doubly-linked, NIL-terminated list threaded through
 * its head page's PG_LRU_NEXT / PG_LRU_PREV; the head has PG_buddy and
 * PG_ORDER = order, the other frames of the block have flags 0. Allocation
 * takes the smallest order with a block and splits it, putting upper halves
 * back on the lower lists (expand()). Freeing coalesces while the buddy
 * (buddy_pfn = pfn ^ (1 << order)) is a free block head of the same order
 * (__free_one_page). Source: 2.6.16 mm/page_alloc.c (__rmqueue, expand,
 * __free_one_page, zone_watermark_ok), REFERENCE.md §8.1.
 *
 *        free_area[2]: head -> [pfn 4, PG_buddy, order 2] <-> [pfn 12 ...] -> NIL
 *        free_area[3]: head -> NIL                    nr_free[2] = 2
 *
 * Per-CPU page lists: mm/pcp.ts. Reference counts and freeing by reference:
 * mm/page_ref.ts. The free-list check: mm/free_check.ts.
 *
 * Watermarks (REFERENCE.md §4.3): min_free_kbytes = sqrt(16 * lowmem KiB)
 * clamped to [128, 65536] (2.6 init_per_zone_pages_min), pages_min from it,
 * pages_low = 5/4 min, pages_high = 3/2 min.
 *
 * No reclaim happens here: __alloc_pages returns -1 when the request cannot
 * be met. Order-0 requests fail only when no page is left; order > 0
 * requests also fail when zone_watermark_ok(order, pages_min) says the zone
 * is too fragmented/low. The caller (vm/) checks zone_watermark_ok before
 * allocating, wakes kswapd below pages_low and reclaims directly below
 * pages_min.
 *
 * Locking:
 *   - free_area lists, nr_free, Z_FREE, and the PG_buddy / PG_ORDER /
 *     PG_LRU_* words of free pages: zone->lock (zone_lock(): a no-op under
 *     `bkl`, whose caller holds the big kernel lock). Plain loads/stores.
 *   - a free page belongs to the allocator; nobody else may write its struct
 *     page. A scanner that finds a pfn without holding a reference must take
 *     one with get_page_unless_zero before touching the page.
 *   zone->lock is the innermost MM lock (src/sync/index.ts): nothing is taken
 *   inside it.
 *
 * Allocated page state: _count 1, _mapcount -1, flags 0 (PG_compound for the
 * frames of an order > 0 block), mapping/index/private 0, PG_RMAP NIL, LRU
 * links NIL, PG_HASH_NEXT NIL (page-table users set PG_PT_NR themselves),
 * PG_AGE 0, PG_ORDER = order. Tail frames of an order > 0 block: _count 0,
 * PG_compound, PG_PRIVATE = head pfn, PG_ORDER = order.
 * Reserved frames (pfn 0: a pte value of 0 means "none") are PG_reserved
 * with _count 1, never in the allocator; put_page on them does nothing (2.4).
 */
import { charge, vt_sync, global_line_w, COST, C_BUDDY_SPLIT, C_LIST_OP, C_PAGE_ALLOC, C_PAGE_FREE } from '../timing/index.js';
import type { CpuBase } from '../machine/cpu.js';
import type { Machine } from '../machine/machine.js';
import {
  G_ZONE,
  G_ZONE_AREA,
  Z_FREE,
  Z_MIN,
  Z_LOW,
  Z_HIGH,
  Z_MANAGED,
  Z_FIRST_PFN,
  MAX_ORDER,
  NIL,
  PAGE_SIZE,
  PAGE_STRUCT_WORDS,
  PG_FLAGS,
  PG_COUNT,
  PG_MAPCOUNT,
  PG_MAPPING,
  PG_INDEX,
  PG_PRIVATE,
  PG_LRU_NEXT,
  PG_LRU_PREV,
  PG_RMAP,
  PG_ORDER,
  PG_HASH_NEXT,
  PG_AGE,
  PC_PCP,
  PCP_COUNT,
  PCP_HEAD,
  PCP_HIGH,
  PCP_BATCH,
  PCP_TAIL,
  globalLine,
  percpuBase,
} from '../machine/layout.js';
import {
  PG_buddy,
  PG_pcp,
  PG_reserved,
  PG_compound,
  PG_locked,
  PG_lru,
  PG_active,
  PG_swapcache,
  PG_writeback,
  PG_chainlock,
  PG_slab,
  PG_freeable,
} from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { zone_lock, zone_unlock, usesPcp, zone_assert_locked } from '../sync/scheme.js';
import { SITE } from '../sync/classes.js';
import {
  pcp_push_head,
  rmqueue_bulk,
  pcp_unlink,
  free_pages_bulk,
  zone_batchsize,
} from './pcp.js';
import { put_page_testzero } from './page_ref.js';

export { MAX_ORDER };
/** Watermark selectors for zone_wmark(). */
export const WMARK_MIN = Z_MIN;
export const WMARK_LOW = Z_LOW;
export const WMARK_HIGH = Z_HIGH;
/** Orders above this are "costly" (2.6 PAGE_ALLOC_COSTLY_ORDER). */
export const PAGE_ALLOC_COSTLY_ORDER = 3;

/**
 * Flags a page must not carry when it is freed (2.6.16 free_pages_check).
 * PG_freeable too: FQ_NR counts the pages that carry it, and only
 * TestClearPageFreeable moves the count (reclaim/freeable.ts), so a frame
 * that reached the allocator with it would leave FQ_NR counting a page
 * nobody parked.
 */
const PAGE_FLAGS_CHECK_AT_FREE =
  PG_locked | PG_lru | PG_active | PG_swapcache | PG_writeback | PG_reserved | PG_buddy | PG_pcp | PG_chainlock | PG_slab | PG_freeable;

/* ---- word offsets (pure arithmetic on the layout) ---- */
const zoneLine = (cpu: CpuBase) => globalLine(cpu.l, G_ZONE);
const areaHeads = (cpu: CpuBase) => globalLine(cpu.l, G_ZONE_AREA);
const areaNrFree = (cpu: CpuBase) => globalLine(cpu.l, G_ZONE_AREA + 1);
const ps = (cpu: CpuBase, pfn: number) => cpu.l.memMap + pfn * PAGE_STRUCT_WORDS;

/* ------------------------------------------------------------------------ */
/* boot                                                                      */
/* ------------------------------------------------------------------------ */

/** int_sqrt as the kernel's (floor). */
const intSqrt = (x: number) => Math.floor(Math.sqrt(x));

/**
 * mem_init: hand every frame except pfn 0 to the buddy allocator and set the
 * watermarks and every CPU slot's pcp list. Called once on a fresh machine,
 * before any CPU runs (main thread; no locks).
 */
export function mem_init(m: Machine): void {
  const w = m.w;
  const l = m.layout;
  const z = globalLine(l, G_ZONE);
  if (w[z + Z_MANAGED] !== 0) throw new Error('mem_init: already initialised');
  const heads = globalLine(l, G_ZONE_AREA);
  const nrFree = globalLine(l, G_ZONE_AREA + 1);
  for (let o = 0; o < MAX_ORDER; o++) {
    w[heads + o] = NIL;
    w[nrFree + o] = 0;
  }
  // pfn 0 is reserved: a pte (or any pfn word) of 0 never names a real page
  const p0 = l.memMap;
  w[p0 + PG_FLAGS] = PG_reserved;
  w[p0 + PG_COUNT] = 1;
  const first = 1;
  const end = l.nrFrames;
  // carve [first, end) into maximal aligned blocks, then push them in
  // descending address order so each list's head is its lowest block
  const blocks: number[] = [];
  for (let pfn = first; pfn < end; ) {
    let o = MAX_ORDER - 1;
    while (o > 0 && ((pfn & ((1 << o) - 1)) !== 0 || pfn + (1 << o) > end)) o--;
    blocks.push(pfn, o);
    pfn += 1 << o;
  }
  for (let i = blocks.length - 2; i >= 0; i -= 2) {
    const pfn = blocks[i]!;
    const o = blocks[i + 1]!;
    const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
    const h = w[heads + o]!;
    w[p + PG_FLAGS] = PG_buddy;
    w[p + PG_COUNT] = 0;
    w[p + PG_ORDER] = o;
    w[p + PG_LRU_PREV] = NIL;
    w[p + PG_LRU_NEXT] = h;
    if (h !== NIL) w[l.memMap + h * PAGE_STRUCT_WORDS + PG_LRU_PREV] = pfn;
    w[heads + o] = pfn;
    w[nrFree + o]!++;
  }
  const managed = end - first;
  w[z + Z_FREE] = managed;
  w[z + Z_MANAGED] = managed;
  w[z + Z_FIRST_PFN] = first;
  // init_per_zone_pages_min + setup_per_zone_pages_min (one zone = all lowmem)
  const lowmemKb = managed * (PAGE_SIZE >>> 10);
  const minFreeKb = Math.min(65536, Math.max(128, intSqrt(lowmemKb * 16)));
  const pagesMin = Math.min(minFreeKb >>> 2, managed >>> 2);
  w[z + Z_MIN] = pagesMin;
  w[z + Z_LOW] = pagesMin + (pagesMin >>> 2);
  w[z + Z_HIGH] = pagesMin + (pagesMin >>> 1);
  const batch = zone_batchsize(managed);
  for (let c = 0; c < l.nrCpuSlots; c++) {
    const pcp = percpuBase(l, c) + PC_PCP;
    w[pcp + PCP_COUNT] = 0;
    w[pcp + PCP_HEAD] = NIL;
    w[pcp + PCP_TAIL] = NIL;
    w[pcp + PCP_HIGH] = 6 * batch;
    w[pcp + PCP_BATCH] = batch;
  }
}

/* ------------------------------------------------------------------------ */
/* buddy core: called with zone->lock held                                   */
/* ------------------------------------------------------------------------ */

/** Unlink free block head `pfn` from free_area[order]. Zone lock held. */
function del_from_free_area(cpu: CpuBase, pfn: number, order: number): void {
  const w = cpu.w;
  list_op(); // virtual clock: a shared-list access is a synchronisation point
  const p = ps(cpu, pfn);
  const next = w[p + PG_LRU_NEXT]!;
  const prev = w[p + PG_LRU_PREV]!;
  if (prev === NIL) w[areaHeads(cpu) + order] = next;
  else w[ps(cpu, prev) + PG_LRU_NEXT] = next;
  if (next !== NIL) w[ps(cpu, next) + PG_LRU_PREV] = prev;
  w[p + PG_LRU_NEXT] = NIL;
  w[p + PG_LRU_PREV] = NIL;
  w[p + PG_FLAGS] = 0;
  w[areaNrFree(cpu) + order]!--;
}

/** Push free block head `pfn` on free_area[order]. Zone lock held. */
function add_to_free_area(cpu: CpuBase, pfn: number, order: number): void {
  const w = cpu.w;
  list_op(); // virtual clock: a shared-list access is a synchronisation point
  const heads = areaHeads(cpu);
  const p = ps(cpu, pfn);
  const h = w[heads + order]!;
  w[p + PG_FLAGS] = PG_buddy;
  w[p + PG_ORDER] = order;
  w[p + PG_LRU_PREV] = NIL;
  w[p + PG_LRU_NEXT] = h;
  if (h !== NIL) w[ps(cpu, h) + PG_LRU_PREV] = pfn;
  w[heads + order] = pfn;
  w[areaNrFree(cpu) + order]!++;
}

/**
 * __rmqueue: take a block of 2^order frames off the free lists, splitting a
 * larger one if needed (expand: the upper halves go back, the low half is
 * kept). Returns its pfn or NIL. Zone lock held; the page is not prepared.
 */
export function __rmqueue(cpu: CpuBase, order: number): number {
  zone_assert_locked(cpu);
  const w = cpu.w;
  const heads = areaHeads(cpu);
  for (let o = order; o < MAX_ORDER; o++) {
    const pfn = w[heads + o]!;
    if (pfn === NIL) continue;
    del_from_free_area(cpu, pfn, o);
    while (o > order) {
      charge(COST[C_BUDDY_SPLIT]!);
      o--;
      add_to_free_area(cpu, pfn + (1 << o), o);
    }
    w[zoneLine(cpu) + Z_FREE]! -= 1 << order;
    return pfn;
  }
  return NIL;
}

/**
 * __free_one_page: put the block [pfn, pfn + 2^order) back, merging with its
 * buddy while the buddy is a free block head of the same order. Zone lock held.
 */
export function __free_one_page(cpu: CpuBase, pfn: number, order: number): void {
  zone_assert_locked(cpu);
  const w = cpu.w;
  const nrFrames = cpu.l.nrFrames;
  w[zoneLine(cpu) + Z_FREE]! += 1 << order;
  while (order < MAX_ORDER - 1) {
    const buddy = pfn ^ (1 << order);
    if (buddy >= nrFrames) break;
    const bp = ps(cpu, buddy);
    if ((w[bp + PG_FLAGS]! & PG_buddy) === 0 || w[bp + PG_ORDER] !== order) break;
    del_from_free_area(cpu, buddy, order);
    charge(COST[C_BUDDY_SPLIT]!);
    pfn &= ~(1 << order);
    order++;
  }
  add_to_free_area(cpu, pfn, order);
}

/* ------------------------------------------------------------------------ */
/* page state                                                                */
/* ------------------------------------------------------------------------ */

/**
 * prep_new_page: the state of a freshly allocated block (header comment).
 * Exported for frames a caller already owns and hands on as new: migration's
 * old frame, compaction's assembled block.
 */
export function prep_new_page(cpu: CpuBase, pfn: number, order: number): void {
  const w = cpu.w;
  const p = ps(cpu, pfn);
  w[p + PG_FLAGS] = order === 0 ? 0 : PG_compound;
  w[p + PG_COUNT] = 1;
  w[p + PG_MAPCOUNT] = -1;
  w[p + PG_MAPPING] = 0;
  w[p + PG_INDEX] = 0;
  w[p + PG_PRIVATE] = 0;
  w[p + PG_LRU_NEXT] = NIL;
  w[p + PG_LRU_PREV] = NIL;
  w[p + PG_RMAP] = NIL;
  w[p + PG_ORDER] = order;
  w[p + PG_HASH_NEXT] = NIL;
  w[p + PG_AGE] = 0;
  for (let i = 1, n = 1 << order; i < n; i++) {
    const t = p + i * PAGE_STRUCT_WORDS;
    w[t + PG_FLAGS] = PG_compound;
    w[t + PG_COUNT] = 0;
    w[t + PG_MAPCOUNT] = -1;
    w[t + PG_MAPPING] = 0;
    w[t + PG_PRIVATE] = pfn;
    w[t + PG_ORDER] = order;
  }
}

/** bad_page: a page freed in a state that says someone still uses it. */
function free_pages_check(cpu: CpuBase, pfn: number, order: number): void {
  const w = cpu.w;
  const p = ps(cpu, pfn);
  const flags = w[p + PG_FLAGS]!;
  const why =
    pfn <= 0 || pfn + (1 << order) > cpu.l.nrFrames || (pfn & ((1 << order) - 1)) !== 0
      ? 'bad pfn/alignment'
      : w[p + PG_COUNT] !== 0
        ? `_count ${w[p + PG_COUNT]}`
        : w[p + PG_MAPCOUNT] !== -1
          ? `_mapcount ${w[p + PG_MAPCOUNT]}`
          : w[p + PG_MAPPING]! > 0
            ? `still in the page cache (mapping ${w[p + PG_MAPPING]})`
            : (flags & PAGE_FLAGS_CHECK_AT_FREE) !== 0
              ? `flags 0x${flags.toString(16)}`
              : order > 0 && w[p + PG_ORDER] !== order
                ? `freed as order ${order}, allocated as order ${w[p + PG_ORDER]}`
                : '';
  if (why) throw new Error(`cpu ${cpu.id}: bad page state freeing pfn ${pfn} order ${order}: ${why}`);
}

/** Clear what a freed page must not carry into the allocator. */
function clear_freed_page(cpu: CpuBase, pfn: number, order: number): void {
  const w = cpu.w;
  const p = ps(cpu, pfn);
  w[p + PG_MAPPING] = 0; // anon pages keep their anon mapping until here (2.6 free_hot_cold_page)
  w[p + PG_FLAGS] = 0;
  for (let i = 1, n = 1 << order; i < n; i++) {
    const t = p + i * PAGE_STRUCT_WORDS;
    w[t + PG_FLAGS] = 0;
    w[t + PG_PRIVATE] = 0;
  }
}

/**
 * Virtual clock: charge a free-list link/unlink — with the free_area heads'
 * and nr_free's lines (timing/coherence.ts; adjacent, fetched together: the
 * slower counts; the blocks' own struct pages are the cold misses the pcp
 * bulk walks charge) — and let a CPU with a lower
 * clock go first (it is shared state).
 */
function list_op(): void {
  charge(COST[C_LIST_OP]! + Math.max(global_line_w(G_ZONE_AREA), global_line_w(G_ZONE_AREA + 1)));
  vt_sync();
}

/* ------------------------------------------------------------------------ */
/* the API                                                                   */
/* ------------------------------------------------------------------------ */

/** Watermark value (pages) for WMARK_MIN / WMARK_LOW / WMARK_HIGH. */
export function zone_wmark(cpu: CpuBase, which: number): number {
  return cpu.w[zoneLine(cpu) + which]!;
}

/**
 * zone_watermark_ok: would the zone stay above `mark` free pages after an
 * allocation of 2^order, counting for order > 0 only blocks big enough
 * (2.6 zone_watermark_ok; REFERENCE.md §8.1). Lock-free snapshot read:
 * callers treat the answer as a hint, as the kernel does. Pcp pages do not
 * count as free.
 */
export function zone_watermark_ok(cpu: CpuBase, order: number, mark: number): boolean {
  const w = cpu.w;
  let free = w[zoneLine(cpu) + Z_FREE]! - (1 << order) + 1;
  let min = mark;
  if (free <= min) return false;
  const nrFree = areaNrFree(cpu);
  for (let o = 0; o < order; o++) {
    free -= w[nrFree + o]! << o;
    min >>= 1;
    if (free <= min) return false;
  }
  return true;
}

/**
 * __alloc_pages: allocate 2^order contiguous frames; returns the first pfn or
 * -1. Order 0 under `split` comes from this CPU's pcp list (refilled in
 * batches); otherwise zone->lock is taken (at `site`) for this one request.
 * Order > 0 fails below the min watermark (zone_watermark_ok). No reclaim.
 */
export function __alloc_pages(cpu: CpuBase, order: number, site: number): number {
  const w = cpu.w;
  let pfn: number;
  if (order === 0) {
    if (usesPcp(cpu)) {
      const pcp = cpu.pc + PC_PCP;
      if (w[pcp + PCP_COUNT] === 0 && rmqueue_bulk(cpu, pcp) === 0) return -1;
      pfn = w[pcp + PCP_HEAD]!;
      pcp_unlink(w, cpu.l.memMap, pcp, pfn);
    } else {
      zone_lock(cpu, site);
      pfn = __rmqueue(cpu, 0);
      zone_unlock(cpu);
      if (pfn === NIL) return -1;
    }
  } else {
    if (order >= MAX_ORDER || order < 0) throw new Error(`__alloc_pages: bad order ${order}`);
    zone_lock(cpu, site);
    pfn = zone_watermark_ok(cpu, order, w[zoneLine(cpu) + Z_MIN]!) ? __rmqueue(cpu, order) : NIL;
    zone_unlock(cpu);
    if (pfn === NIL) return -1;
    w[cpu.vm + VM.pgalloc_high_order]++;
  }
  prep_new_page(cpu, pfn, order);
  charge(COST[C_PAGE_ALLOC]!);
  w[cpu.vm + VM.pgalloc_normal] += 1 << order;
  return pfn;
}

/** alloc_page: one order-0 page (see __alloc_pages). */
export function alloc_page(cpu: CpuBase, site: number): number {
  return __alloc_pages(cpu, 0, site);
}

/**
 * __free_pages_ok: return the block [pfn, pfn + 2^order) to the allocator.
 * The caller owns it outright: its _count already reached 0
 * (put_page_testzero) and it is off the LRU, out of the page and swap
 * caches, unmapped and unlocked. In debug builds the state is checked
 * (bad_page). Order 0 under `split` goes to this CPU's pcp list
 * (free_hot_page), everything else to the buddy lists under zone->lock.
 */
export function __free_pages_ok(cpu: CpuBase, pfn: number, order: number): void {
  const w = cpu.w;
  if (cpu.debug) free_pages_check(cpu, pfn, order);
  clear_freed_page(cpu, pfn, order);
  charge(COST[C_PAGE_FREE]!);
  w[cpu.vm + VM.pgfree] += 1 << order;
  if (order === 0 && usesPcp(cpu)) {
    const pcp = cpu.pc + PC_PCP;
    pcp_push_head(w, cpu.l.memMap, pcp, pfn);
    if (w[pcp + PCP_COUNT]! >= w[pcp + PCP_HIGH]!) free_pages_bulk(cpu, pcp, w[pcp + PCP_BATCH]!);
    return;
  }
  zone_lock(cpu, SITE.free_pages_bulk);
  __free_one_page(cpu, pfn, order);
  zone_unlock(cpu);
}

/**
 * steal_specific_page: allocate the particular aligned block
 * [pfn, pfn + 2^order) if it is free in the buddy lists, splitting the free
 * block that contains it (REFERENCE.md §8.1; Linus/LaHaise's
 * steal_specific_page, the first step of migration and compaction). Returns
 * false if any frame of it is allocated or sits on a pcp list (drain first:
 * drain_local_pages / drain_all_pages). The block comes back prepared as from
 * __alloc_pages. Takes zone->lock at `site`.
 */
export function steal_specific_page(cpu: CpuBase, pfn: number, order: number, site: number): boolean {
  if (order < 0 || order >= MAX_ORDER || (pfn & ((1 << order) - 1)) !== 0) {
    throw new Error(`steal_specific_page: pfn ${pfn} not aligned to order ${order}`);
  }
  if (pfn <= 0 || pfn + (1 << order) > cpu.l.nrFrames) return false;
  const w = cpu.w;
  zone_lock(cpu, site);
  let head = NIL;
  let o = order;
  for (; o < MAX_ORDER; o++) {
    const h = pfn & ~((1 << o) - 1);
    const p = ps(cpu, h);
    if ((w[p + PG_FLAGS]! & PG_buddy) !== 0 && w[p + PG_ORDER] === o) {
      head = h;
      break;
    }
  }
  if (head === NIL) {
    zone_unlock(cpu);
    return false;
  }
  del_from_free_area(cpu, head, o);
  // split down towards pfn, giving back the half that does not contain it
  while (o > order) {
    o--;
    const half = 1 << o;
    if ((pfn & half) !== 0) {
      add_to_free_area(cpu, head, o);
      head += half;
    } else {
      add_to_free_area(cpu, head + half, o);
    }
  }
  w[zoneLine(cpu) + Z_FREE]! -= 1 << order;
  zone_unlock(cpu);
  prep_new_page(cpu, pfn, order);
  w[cpu.vm + VM.pgalloc_normal] += 1 << order;
  if (order > 0) w[cpu.vm + VM.pgalloc_high_order]++;
  return true;
}

/* ------------------------------------------------------------------------ */
/* observation (any thread; exact only when the machine is quiescent)        */
/* ------------------------------------------------------------------------ */

/** nr_free_pages: buddy free pages + every CPU slot's pcp pages. */
export function nr_free_pages(m: Machine): number {
  const w = m.w;
  const l = m.layout;
  let n = w[globalLine(l, G_ZONE) + Z_FREE]!;
  for (let c = 0; c < l.nrCpuSlots; c++) n += w[percpuBase(l, c) + PC_PCP + PCP_COUNT]!;
  return n;
}

/** nr_free per order (a copy), for reports and tests. */
export function free_area_counts(m: Machine): number[] {
  const base = globalLine(m.layout, G_ZONE_AREA + 1);
  return Array.from(m.w.subarray(base, base + MAX_ORDER));
}

/** The zone line's words, for reports and tests. */
export function zone_info(m: Machine): { free: number; min: number; low: number; high: number; managed: number; firstPfn: number } {
  const w = m.w;
  const z = globalLine(m.layout, G_ZONE);
  return {
    free: w[z + Z_FREE]!,
    min: w[z + Z_MIN]!,
    low: w[z + Z_LOW]!,
    high: w[z + Z_HIGH]!,
    managed: w[z + Z_MANAGED]!,
    firstPfn: w[z + Z_FIRST_PFN]!,
  };
}
