/*
 * mm/pcp.ts — the per-CPU page lists in front of the buddy allocator
 * (mm/page_alloc.ts). Source: 2.6.16 mm/page_alloc.c (rmqueue_bulk,
 * free_pages_bulk, drain_local_pages, zone_batchsize), REFERENCE.md §8.1.
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
 *
 * Locking: a pcp list and its PC_PCP words are touched only by the owning
 * CPU (plain stores); refills and drains take zone->lock once per batch.
 * drain_all_pages drains other CPUs' lists and so may run only when those
 * CPUs are parked (stop-the-world checkpoint) or on the main thread with no
 * worker running.
 */
import { charge, page_line_own, COST, C_PAGE_MISS } from '../timing/index.js';
import type { CpuBase } from '../machine/cpu.js';
import {
  NIL,
  PAGE_SIZE,
  PAGE_STRUCT_WORDS,
  PG_FLAGS,
  PG_LRU_NEXT,
  PG_LRU_PREV,
  PC_PCP,
  PCP_COUNT,
  PCP_HEAD,
  PCP_BATCH,
  PCP_TAIL,
  percpuBase,
} from '../machine/layout.js';
import { PG_pcp } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { zone_lock, zone_unlock } from '../sync/scheme.js';
import { SITE } from '../sync/classes.js';
import { __rmqueue, __free_one_page } from './page_alloc.js';

/** 2.6.16 zone_batchsize() [R]: pcp batch for a zone of `pages` frames. */
export function zone_batchsize(pages: number): number {
  let batch = Math.floor(pages / 1024);
  if (batch * PAGE_SIZE > 512 * 1024) batch = (512 * 1024) / PAGE_SIZE;
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  // clamp to 2^n - 1 (fls(x) - 1 = index of the top bit)
  return (1 << (31 - Math.clz32(batch + (batch >>> 1)))) - 1 || 1;
}


/* ------------------------------------------------------------------------ */
/* per-CPU lists (owning CPU only)                                           */
/* ------------------------------------------------------------------------ */

/** Push `pfn` at the head of the pcp list at `pcp` (list_add). */
export function pcp_push_head(w: Int32Array, memMap: number, pcp: number, pfn: number): void {
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
export function pcp_unlink(w: Int32Array, memMap: number, pcp: number, pfn: number): void {
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
export function rmqueue_bulk(cpu: CpuBase, pcp: number): number {
  const w = cpu.w;
  const memMap = cpu.l.memMap;
  const batch = w[pcp + PCP_BATCH]!;
  let n = 0;
  zone_lock(cpu, SITE.rmqueue_bulk);
  for (; n < batch; n++) {
    const pfn = __rmqueue(cpu, 0);
    if (pfn === NIL) break;
    charge(COST[C_PAGE_MISS]!);
    page_line_own(pfn);
    pcp_push_tail(w, memMap, pcp, pfn);
  }
  zone_unlock(cpu);
  w[cpu.vm + VM.pcp_refill]++;
  return n;
}

/** config.pcpPrepick: the pages a drain picked before taking zone->lock (this thread's CPU only) */
const PICKED = new Int32Array(1024);

/**
 * free_pages_bulk: give the `count` coldest pages (the tail) of the pcp list
 * at `pcp` back to the buddy lists under one zone->lock acquisition.
 */
export function free_pages_bulk(cpu: CpuBase, pcp: number, count: number): void {
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
        page_line_own(tail);
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
    page_line_own(tail);
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
