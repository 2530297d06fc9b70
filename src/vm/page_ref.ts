/*
 * page_ref.ts — the VM layer's view of page references and the ZERO_PAGE.
 *
 * A page's _count is its number of holders: one per mapping pte, one for the
 * page (or swap) cache, one per transient pin (a fault between dropping and
 * retaking the pte lock). get_page is the allocator's (mm/page_alloc.ts);
 * put_page goes through vm/hooks.ts (reclaim takes the page off its LRU list
 * before the allocator gets it back) and frees the page when the last holder
 * goes.
 *
 * ZERO_PAGE is pfn 0, reserved by mem_init and never freed (put_page ignores
 * reserved pages): read faults on anonymous memory map it read-only (2.4
 * do_anonymous_page), so a pte value of 0 still means "none".
 */
import type { CpuBase } from '../machine/cpu.js';
import { fault_hooks } from './hooks.js';

export { get_page, page_count } from '../mm/page_alloc.js';

/** put_page: drop a reference; the last one frees the page (off its LRU list once reclaim is installed). */
export const put_page = (cpu: CpuBase, pfn: number): void => fault_hooks.releasePage(cpu, pfn);

/** Zap's release of its gathered pages[0..nr) (tlb_finish_mmu): batched, one lru-lock hold per pagevec. */
export const free_pages_and_swap_cache = (cpu: CpuBase, pages: Int32Array, nr: number): void => fault_hooks.zapPages(cpu, pages, nr);
export const ZERO_PFN = 0;
