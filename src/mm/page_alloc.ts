/*
 * page_alloc.ts — the buddy allocator and the per-CPU page lists.
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
 * Per-CPU page lists (2.6 "hot" pcp, used by the `split` lock scheme only):
 * a doubly-linked list of order-0 pages (PG_pcp) in the owning CPU's PC_PCP
 * line {count, head, high, batch, tail}. head/tail play the kernel's list_head
 * sentinel: the head page's prev and the tail page's next are NIL, so a push
 * or a pop touches only the page and its one neighbour, never the cold tail's
 * struct page (a cache miss per operation). Allocation pops the head (the most
 * recently freed, cache-hot page); an empty list is refilled with `batch`
 * pages under one zone->lock acquisition (rmqueue_bulk); a free pushes the
 * head, and when count reaches `high` the `batch` coldest pages (the tail) go
 * back to the buddy lists under one zone->lock acquisition (free_pages_bulk).
 * batch and high follow 2.6.16 zone_batchsize()/setup_pageset() [R]:
 * batch = clamp(zone pages / 1024, 512 KiB) / 4 rounded down to 2^n - 1,
 * high = 6 * batch. Under `2.4` and `bkl` every order-0 allocation and free
 * takes zone->lock (2.4 had no per-CPU lists).
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
 *   - a pcp list and its PC_PCP words: only the owning CPU touches them
 *     (plain stores). drain_all_pages drains other CPUs' lists and so may run
 *     only when those CPUs are parked (stop-the-world checkpoint) or on the
 *     main thread with no worker running.
 *   - PG_COUNT: Atomics (get_page / put_page_testzero).
 *   - a free page belongs to the allocator; nobody else may write its struct
 *     page. A scanner that finds a pfn without holding a reference must take
 *     one with get_page_unless_zero before touching the page.
 *   zone->lock is the innermost MM lock (src/sync/index.ts): nothing is taken
 *   inside it.
 *
 * Page ownership: put_page() / __free_pages() drop a reference and free the
 * block when the count reaches zero; they know nothing of the LRU or the page
 * cache. Callers whose page may still be on an LRU list (reclaim/, vm/) use
 * put_page_testzero() and, when it returns true, take the page off the LRU
 * first and then call __free_pages_ok(), which frees a block whose count is
 * already zero.
 *
 * Allocated page state: _count 1, _mapcount -1, flags 0 (PG_compound for the
 * frames of an order > 0 block), mapping/index/private 0, PG_RMAP NIL, LRU
 * links NIL, PG_HASH_NEXT NIL (page-table users set PG_PT_NR themselves),
 * PG_AGE 0, PG_ORDER = order. Tail frames of an order > 0 block: _count 0,
 * PG_compound, PG_PRIVATE = head pfn, PG_ORDER = order.
 * Reserved frames (pfn 0: a pte value of 0 means "none") are PG_reserved
 * with _count 1, never in the allocator; put_page on them does nothing (2.4).
 */
import { charge, vt_sync, COST, C_BUDDY_SPLIT, C_LIST_OP, C_PAGE_ALLOC, C_PAGE_FREE, C_PAGE_MISS } from '../timing/index.js';
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
  pageStruct,
  type Layout,
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
} from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { zone_lock, zone_unlock, usesPcp } from '../sync/scheme.js';
import { SITE } from '../sync/classes.js';

export { MAX_ORDER };
/** Watermark selectors for zone_wmark(). */
export const WMARK_MIN = Z_MIN;
export const WMARK_LOW = Z_LOW;
export const WMARK_HIGH = Z_HIGH;
/** Orders above this are "costly" (2.6 PAGE_ALLOC_COSTLY_ORDER). */
export const PAGE_ALLOC_COSTLY_ORDER = 3;

/** Flags a page must not carry when it is freed (2.6.16 free_pages_check). */
const PAGE_FLAGS_CHECK_AT_FREE =
  PG_locked | PG_lru | PG_active | PG_swapcache | PG_writeback | PG_reserved | PG_buddy | PG_pcp | PG_chainlock | PG_slab;

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

/** 2.6.16 zone_batchsize() [R]: pcp batch for a zone of `pages` frames. */
export function zone_batchsize(pages: number): number {
  let batch = Math.floor(pages / 1024);
  if (batch * PAGE_SIZE > 512 * 1024) batch = (512 * 1024) / PAGE_SIZE;
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  // clamp to 2^n - 1 (fls(x) - 1 = index of the top bit)
  return (1 << (31 - Math.clz32(batch + (batch >>> 1)))) - 1 || 1;
}

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
function __rmqueue(cpu: CpuBase, order: number): number {
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
function __free_one_page(cpu: CpuBase, pfn: number, order: number): void {
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

/* ------------------------------------------------------------------------ */
/* per-CPU lists (owning CPU only)                                           */
/* ------------------------------------------------------------------------ */

/** Push `pfn` at the head of the pcp list at `pcp` (list_add). */
function pcp_push_head(w: Int32Array, memMap: number, pcp: number, pfn: number): void {
  const p = memMap + pfn * PAGE_STRUCT_WORDS;
  const h = w[pcp + PCP_HEAD]!;
  w[p + PG_FLAGS] = PG_pcp;
  w[p + PG_LRU_PREV] = NIL;
  w[p + PG_LRU_NEXT] = h;
  if (h === NIL) w[pcp + PCP_TAIL] = pfn;
  else w[memMap + h * PAGE_STRUCT_WORDS + PG_LRU_PREV] = pfn;
  w[pcp + PCP_HEAD] = pfn;
  w[pcp + PCP_COUNT]!++;
}

/** Append `pfn` at the tail of the pcp list at `pcp` (list_add_tail). */
function pcp_push_tail(w: Int32Array, memMap: number, pcp: number, pfn: number): void {
  const p = memMap + pfn * PAGE_STRUCT_WORDS;
  const t = w[pcp + PCP_TAIL]!;
  w[p + PG_FLAGS] = PG_pcp;
  w[p + PG_LRU_NEXT] = NIL;
  w[p + PG_LRU_PREV] = t;
  if (t === NIL) w[pcp + PCP_HEAD] = pfn;
  else w[memMap + t * PAGE_STRUCT_WORDS + PG_LRU_NEXT] = pfn;
  w[pcp + PCP_TAIL] = pfn;
  w[pcp + PCP_COUNT]!++;
}

/** Unlink `pfn` from the pcp list at `pcp` (list_del). */
function pcp_unlink(w: Int32Array, memMap: number, pcp: number, pfn: number): void {
  const p = memMap + pfn * PAGE_STRUCT_WORDS;
  const next = w[p + PG_LRU_NEXT]!;
  const prev = w[p + PG_LRU_PREV]!;
  if (prev === NIL) w[pcp + PCP_HEAD] = next;
  else w[memMap + prev * PAGE_STRUCT_WORDS + PG_LRU_NEXT] = next;
  if (next === NIL) w[pcp + PCP_TAIL] = prev;
  else w[memMap + next * PAGE_STRUCT_WORDS + PG_LRU_PREV] = prev;
  w[p + PG_LRU_NEXT] = NIL;
  w[p + PG_LRU_PREV] = NIL;
  w[p + PG_FLAGS] = 0;
  w[pcp + PCP_COUNT]!--;
}

/**
 * rmqueue_bulk: move up to `batch` order-0 pages from the buddy lists to this
 * CPU's pcp list (appended at the tail, so they come out in address order)
 * under one zone->lock acquisition. Returns the number moved.
 */
function rmqueue_bulk(cpu: CpuBase, pcp: number): number {
  const w = cpu.w;
  const memMap = cpu.l.memMap;
  const batch = w[pcp + PCP_BATCH]!;
  let n = 0;
  zone_lock(cpu, SITE.rmqueue_bulk);
  for (; n < batch; n++) {
    const pfn = __rmqueue(cpu, 0);
    if (pfn === NIL) break;
    charge(COST[C_PAGE_MISS]!);
    pcp_push_tail(w, memMap, pcp, pfn);
  }
  zone_unlock(cpu);
  w[cpu.vm + VM.pcp_refill]++;
  return n;
}

/** Virtual clock: charge a free-list link/unlink and let a CPU with a lower clock go first (it is shared state). */
function list_op(): void {
  charge(COST[C_LIST_OP]!);
  vt_sync();
}

/** config.pcpPrepick: the pages a drain picked before taking zone->lock (this thread's CPU only) */
const PICKED = new Int32Array(1024);

/**
 * free_pages_bulk: give the `count` coldest pages (the tail) of the pcp list
 * at `pcp` back to the buddy lists under one zone->lock acquisition.
 */
function free_pages_bulk(cpu: CpuBase, pcp: number, count: number): void {
  const w = cpu.w;
  const memMap = cpu.l.memMap;
  if (cpu.m.cfg.pcpPrepick) {
    // Aaron Lu, 2018 (0a5f4e5b4562 "mm/free_pcppages_bulk: do not hold lock when picking pages
    // to free"): unlink the pages from the pcp list — touching their cold struct pages — first,
    // and hold zone->lock only to merge them into the buddy lists
    while (count > 0 && w[pcp + PCP_COUNT]! > 0) {
      let n = 0;
      for (; n < PICKED.length && count > 0 && w[pcp + PCP_COUNT]! > 0; count--) {
        const tail = w[pcp + PCP_TAIL]!;
        charge(COST[C_PAGE_MISS]!);
        pcp_unlink(w, memMap, pcp, tail);
        PICKED[n++] = tail;
      }
      zone_lock(cpu, SITE.free_pages_bulk);
      for (let i = 0; i < n; i++) __free_one_page(cpu, PICKED[i]!, 0);
      zone_unlock(cpu);
    }
    w[cpu.vm + VM.pcp_drain]++;
    return;
  }
  zone_lock(cpu, SITE.free_pages_bulk);
  while (count-- > 0 && w[pcp + PCP_COUNT]! > 0) {
    const tail = w[pcp + PCP_TAIL]!;
    charge(COST[C_PAGE_MISS]!);
    pcp_unlink(w, memMap, pcp, tail);
    __free_one_page(cpu, tail, 0);
  }
  zone_unlock(cpu);
  w[cpu.vm + VM.pcp_drain]++;
}

/** Drain this CPU's pcp list completely (compaction, checkpoints). */
export function drain_local_pages(cpu: CpuBase): void {
  const pcp = cpu.pc + PC_PCP;
  if (cpu.w[pcp + PCP_COUNT]! > 0) free_pages_bulk(cpu, pcp, cpu.w[pcp + PCP_COUNT]!);
}

/**
 * drain_all_pages: drain every CPU slot's pcp list (kswapd's too) into the
 * buddy lists. Only at a stop-the-world checkpoint (all other CPUs parked) or
 * on the main thread with no worker running: it writes other CPUs' lists.
 */
export function drain_all_pages(cpu: CpuBase): void {
  const l = cpu.l;
  for (let c = 0; c < l.nrCpuSlots; c++) {
    const pcp = percpuBase(l, c) + PC_PCP;
    const n = cpu.w[pcp + PCP_COUNT]!;
    if (n > 0) free_pages_bulk(cpu, pcp, n);
  }
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
 * __free_pages: drop the caller's reference to an allocated block and free it
 * if that was the last (2.6 __free_pages: put_page_testzero, then
 * __free_pages_ok). For blocks that cannot be on an LRU list or in a cache:
 * page tables, pages that lost an insert race, private buffers.
 */
export function __free_pages(cpu: CpuBase, pfn: number, order: number): void {
  if (put_page_testzero(cpu, pfn)) __free_pages_ok(cpu, pfn, order);
}

/** __free_page: __free_pages(cpu, pfn, 0). */
export function __free_page(cpu: CpuBase, pfn: number): void {
  if (put_page_testzero(cpu, pfn)) __free_pages_ok(cpu, pfn, 0);
}

/** get_page: take a reference (the caller already holds one, or a lock that pins the page). */
export function get_page(cpu: CpuBase, pfn: number): void {
  Atomics.add(cpu.w, ps(cpu, pfn) + PG_COUNT, 1);
}

/**
 * get_page_unless_zero: take a reference unless the page is free (count 0).
 * For scanners that find a pfn without holding a reference (mem_map clock,
 * compaction). Returns false if the page was free.
 */
export function get_page_unless_zero(cpu: CpuBase, pfn: number): boolean {
  const w = cpu.w;
  const off = ps(cpu, pfn) + PG_COUNT;
  for (let c = Atomics.load(w, off); c > 0; ) {
    const old = Atomics.compareExchange(w, off, c, c + 1);
    if (old === c) return true;
    c = old;
  }
  return false;
}

/** put_page_testzero: drop a reference; true if it was the last one (the caller must free). */
export function put_page_testzero(cpu: CpuBase, pfn: number): boolean {
  const off = ps(cpu, pfn) + PG_COUNT;
  const old = Atomics.sub(cpu.w, off, 1);
  if (old <= 0) {
    Atomics.add(cpu.w, off, 1);
    throw new Error(`cpu ${cpu.id}: put_page on free page ${pfn} (count ${old})`);
  }
  return old === 1;
}

/**
 * put_page: drop a reference and free the block (its allocation order) when
 * it was the last. Only for pages that cannot be on an LRU list or in a cache
 * when the count reaches 0 (page tables, private buffers); see the header.
 * Reserved pages are never freed and their count is not touched (2.4).
 */
export function put_page(cpu: CpuBase, pfn: number): void {
  const p = ps(cpu, pfn);
  if ((cpu.w[p + PG_FLAGS]! & PG_reserved) !== 0) return;
  if (put_page_testzero(cpu, pfn)) __free_pages_ok(cpu, pfn, cpu.w[p + PG_ORDER]!);
}

/** free_page: free an order-0 page the caller holds the only reference to (2.4 free_page). */
export function free_page(cpu: CpuBase, pfn: number): void {
  __free_page(cpu, pfn);
}

/** page_count: current _count (snapshot). */
export function page_count(cpu: CpuBase, pfn: number): number {
  return Atomics.load(cpu.w, ps(cpu, pfn) + PG_COUNT);
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

/** Free-map values written by check_free_lists. */
export const FREE_NONE = 0;
export const FREE_BUDDY = 1;
export const FREE_PCP = 2;

/**
 * Walk a free list of struct pages (NIL-terminated forwards through
 * PG_LRU_NEXT, PG_LRU_PREV naming the previous entry, the first's NIL) from
 * `first`, reporting bad links and cycles as `what`; `visit` checks each
 * entry (pfn, struct page offset). Returns the length and the last pfn.
 */
function walk_free_list(
  w: Int32Array,
  l: Layout,
  first: number,
  what: string,
  report: (s: string) => void,
  visit: (pfn: number, p: number) => void,
): { len: number; last: number } {
  const n = l.nrFrames;
  let len = 0;
  let prev = NIL;
  for (let pfn = first; pfn !== NIL; pfn = w[pageStruct(l, pfn) + PG_LRU_NEXT]!) {
    if (pfn < 0 || pfn >= n) {
      report(`${what}: link to bad pfn ${pfn}`);
      break;
    }
    if (++len > n) {
      report(`${what}: list does not end (cycle)`);
      break;
    }
    const p = pageStruct(l, pfn);
    if (w[p + PG_LRU_PREV] !== prev) report(`${what}: pfn ${pfn} prev ${w[p + PG_LRU_PREV]} != ${prev}`);
    prev = pfn;
    visit(pfn, p);
  }
  return { len, last: prev };
}

/**
 * check_free_lists: verify the allocator's structures; returns violations
 * (empty = consistent). Every free-list entry is a PG_buddy head of the list's
 * order, aligned, inside managed memory, with _count 0 and consistent links;
 * blocks do not overlap; list lengths match nr_free; Z_FREE = their sum; pcp
 * lists are well-formed head/tail lists of PG_pcp pages whose length is the
 * slot's count; no stray PG_buddy / PG_pcp flag elsewhere. If `freeMap`
 * (nrFrames entries) is given it receives FREE_BUDDY / FREE_PCP per free
 * frame and FREE_NONE elsewhere, for the invariant checker ("the free lists
 * hold exactly the free frames"). Call only when the machine is quiescent.
 */
export function check_free_lists(m: Machine, freeMap?: Uint8Array): string[] {
  const w = m.w;
  const l = m.layout;
  const n = l.nrFrames;
  const out: string[] = [];
  const report = (s: string) => {
    if (out.length < 100) out.push(s);
  };
  const map = freeMap ?? new Uint8Array(n);
  if (map.length < n) throw new Error('check_free_lists: freeMap too small');
  map.fill(FREE_NONE, 0, n);
  const z = globalLine(l, G_ZONE);
  const first = w[z + Z_FIRST_PFN]!;
  const heads = globalLine(l, G_ZONE_AREA);
  const nrFreeBase = globalLine(l, G_ZONE_AREA + 1);
  const pg = (pfn: number) => l.memMap + pfn * PAGE_STRUCT_WORDS;
  const isHead = new Uint8Array(n);
  let sum = 0;
  for (let o = 0; o < MAX_ORDER; o++) {
    const { len } = walk_free_list(w, l, w[heads + o]!, `free_area[${o}]`, report, (pfn, p) => {
      if ((w[p + PG_FLAGS]! & PG_buddy) === 0) report(`free_area[${o}]: pfn ${pfn} lacks PG_buddy`);
      if (w[p + PG_ORDER] !== o) report(`free_area[${o}]: pfn ${pfn} has order ${w[p + PG_ORDER]}`);
      if (w[p + PG_COUNT] !== 0) report(`free_area[${o}]: pfn ${pfn} has _count ${w[p + PG_COUNT]}`);
      if ((pfn & ((1 << o) - 1)) !== 0) report(`free_area[${o}]: pfn ${pfn} not aligned`);
      if (pfn < first || pfn + (1 << o) > n) report(`free_area[${o}]: block ${pfn} outside managed memory`);
      isHead[pfn] = 1;
      for (let i = pfn, e = Math.min(n, pfn + (1 << o)); i < e; i++) {
        if (map[i] !== FREE_NONE) report(`free_area[${o}]: block ${pfn} overlaps another free block at pfn ${i}`);
        map[i] = FREE_BUDDY;
      }
      sum += 1 << o;
    });
    if (w[nrFreeBase + o] !== len) report(`free_area[${o}]: nr_free ${w[nrFreeBase + o]} but ${len} blocks listed`);
  }
  if (w[z + Z_FREE] !== sum) report(`zone: Z_FREE ${w[z + Z_FREE]} but the lists hold ${sum} pages`);
  for (let c = 0; c < l.nrCpuSlots; c++) {
    const pcp = percpuBase(l, c) + PC_PCP;
    const count = w[pcp + PCP_COUNT]!;
    const { len, last } = walk_free_list(w, l, w[pcp + PCP_HEAD]!, `pcp[${c}]`, report, (pfn, p) => {
      if (w[p + PG_FLAGS] !== PG_pcp) report(`pcp[${c}]: pfn ${pfn} flags 0x${w[p + PG_FLAGS]!.toString(16)} (want PG_pcp only)`);
      if (w[p + PG_COUNT] !== 0) report(`pcp[${c}]: pfn ${pfn} has _count ${w[p + PG_COUNT]}`);
      if (pfn < first) report(`pcp[${c}]: pfn ${pfn} outside managed memory`);
      if (map[pfn] !== FREE_NONE) report(`pcp[${c}]: pfn ${pfn} is also free elsewhere`);
      map[pfn] = FREE_PCP;
    });
    if (w[pcp + PCP_TAIL] !== last) report(`pcp[${c}]: tail ${w[pcp + PCP_TAIL]} but the list ends at ${last}`);
    if (len !== count) report(`pcp[${c}]: count ${count} but ${len} pages listed`);
  }
  for (let pfn = 0; pfn < n; pfn++) {
    const f = w[pg(pfn) + PG_FLAGS]!;
    if ((f & PG_buddy) !== 0 && !isHead[pfn]) report(`pfn ${pfn}: PG_buddy but not on a free list`);
    if ((f & PG_pcp) !== 0 && map[pfn] !== FREE_PCP) report(`pfn ${pfn}: PG_pcp but not on a pcp list`);
  }
  return out;
}
