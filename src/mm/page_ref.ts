/*
 * mm/page_ref.ts — page reference counts (_count) and freeing by reference,
 * and the ZERO_PAGE. Source: 2.6 include/linux/mm.h (get_page,
 * put_page_testzero, page_count), 2.6.16 mm/page_alloc.c (__free_pages).
 *
 * __free_pages() / __free_page() drop a reference and free the
 * block when the count reaches zero; they know nothing of the LRU or the page
 * cache. Callers whose page may still be on an LRU list (reclaim/, vm/) use
 * put_page_testzero() and, when it returns true, take the page off the LRU
 * first and then call __free_pages_ok(), which frees a block whose count is
 * already zero.
 *
 * The one put_page, for user pages that may sit on an LRU list or in a cache,
 * is reclaim/lru.ts's: it takes the page off its list before freeing.
 *
 * ZERO_PAGE is pfn 0, reserved by mem_init and never freed (__free_pages and
 * put_page ignore reserved pages): read faults on anonymous memory map it
 * read-only (2.4 do_anonymous_page), so a pte value of 0 still means "none".
 *
 * Virtual clock: each count change writes the page's line (timing/coherence.ts).
 *
 * Locking: PG_COUNT only through Atomics. A page whose count is 0 belongs to
 * the allocator; a scanner that finds a pfn without holding a reference takes
 * one with get_page_unless_zero before touching the page.
 */
import type { CpuBase } from '../machine/cpu.js';
import { PAGE_STRUCT_WORDS, PG_FLAGS, PG_COUNT } from '../machine/layout.js';
import { PG_reserved } from '../machine/page.js';
import { __free_pages_ok } from './page_alloc.js';
import { charge, page_line_w } from '../timing/index.js';
import { atomic_add_above } from './atomic.js';

const ps = (cpu: CpuBase, pfn: number) => cpu.l.memMap + pfn * PAGE_STRUCT_WORDS;

export const ZERO_PFN = 0;

/**
 * __free_pages: drop the caller's reference to an allocated block and free it
 * if that was the last (2.6 __free_pages: put_page_testzero, then
 * __free_pages_ok). For blocks that cannot be on an LRU list or in a cache:
 * page tables, pages that lost an insert race, private buffers. Reserved
 * pages are never freed and their count is not touched (2.4 __free_pages).
 */
export function __free_pages(cpu: CpuBase, pfn: number, order: number): void {
  if ((cpu.w[ps(cpu, pfn) + PG_FLAGS]! & PG_reserved) !== 0) return;
  if (put_page_testzero(cpu, pfn)) __free_pages_ok(cpu, pfn, order);
}

/** __free_page: __free_pages(cpu, pfn, 0). */
export function __free_page(cpu: CpuBase, pfn: number): void {
  __free_pages(cpu, pfn, 0);
}

/** get_page: take a reference (the caller already holds one, or a lock that pins the page). */
export function get_page(cpu: CpuBase, pfn: number): void {
  charge(page_line_w(pfn));
  Atomics.add(cpu.w, ps(cpu, pfn) + PG_COUNT, 1);
}

/**
 * get_page_unless_zero: take a reference unless the page is free (count 0).
 * For scanners that find a pfn without holding a reference (mem_map clock,
 * compaction). Returns false if the page was free.
 */
export function get_page_unless_zero(cpu: CpuBase, pfn: number): boolean {
  charge(page_line_w(pfn));
  return atomic_add_above(cpu.w, ps(cpu, pfn) + PG_COUNT, 1, 0);
}

/** put_page_testzero: drop a reference; true if it was the last one (the caller must free). */
export function put_page_testzero(cpu: CpuBase, pfn: number): boolean {
  const off = ps(cpu, pfn) + PG_COUNT;
  charge(page_line_w(pfn));
  const old = Atomics.sub(cpu.w, off, 1);
  if (old <= 0) {
    Atomics.add(cpu.w, off, 1);
    throw new Error(`cpu ${cpu.id}: put_page on free page ${pfn} (count ${old})`);
  }
  return old === 1;
}

/** free_page: free an order-0 page the caller holds the only reference to (2.4 free_page). */
export function free_page(cpu: CpuBase, pfn: number): void {
  __free_page(cpu, pfn);
}

/** page_count: current _count (snapshot). */
export function page_count(cpu: CpuBase, pfn: number): number {
  return Atomics.load(cpu.w, ps(cpu, pfn) + PG_COUNT);
}
