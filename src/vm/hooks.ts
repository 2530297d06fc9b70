/*
 * hooks.ts — where the fault path meets reclaim.
 *
 * The VM layer calls these at the points where the kernel calls into the LRU
 * and swap code: a new anonymous page goes on the LRU (lru_cache_add_active),
 * a swap pte is faulted in through the swap cache (do_swap_page), fork
 * duplicates a swap entry (swap_duplicate), zap frees one (free_swap_and_cache).
 * The machine is built with no swap device and no LRU until reclaim/ installs
 * its functions (installReclaimHooks, once, before any CPU runs); until then a
 * swap pte cannot exist, which `noSwap` asserts. The same goes for page
 * allocation (allocPages: the bare buddy allocator until reclaim wraps it
 * with kswapd wake-ups, direct reclaim and the OOM killer) and page release
 * (releasePage / zapPages: put_page until pages can sit on LRU lists and in
 * the swap cache).
 */
import type { CpuBase } from '../machine/cpu.js';
import { __alloc_pages, put_page } from '../mm/page_alloc.js';
import type { Cpu } from './cpu.js';

export interface FaultHooks {
  newAnonPage(cpu: CpuBase, pfn: number): void;
  newFilePage(cpu: CpuBase, pfn: number): void;
  doSwapPage(cpu: Cpu, mm: number, vma: number, addr: number, ptPfn: number, pte: number, write: boolean): number;
  swapDuplicate(cpu: CpuBase, entry: number): void;
  freeSwapEntry(cpu: CpuBase, entry: number): void;
  /** allocate 2^order frames for a fault in mm (reclaim/: wake kswapd, direct reclaim, OOM); -1 = none */
  allocPages(cpu: Cpu, order: number, site: number, mm: number): number;
  /** put_page for a page that may be on an LRU list (reclaim/: page_cache_release) */
  releasePage(cpu: CpuBase, pfn: number): void;
  /** zap's release of the pages it gathered, pages[0..nr) (reclaim/: free_pages_and_swap_cache); may reuse pages[] */
  zapPages(cpu: CpuBase, pages: Int32Array, nr: number): void;
  /** a page-cache hit in a fault (reclaim/: mark_page_accessed) */
  pageAccessed(cpu: CpuBase, pfn: number): void;
}

function noSwap(): never {
  throw new Error('swap pte found but no swap device is configured');
}

export const fault_hooks: FaultHooks = {
  newAnonPage() {},
  newFilePage() {},
  doSwapPage: noSwap,
  swapDuplicate: noSwap,
  freeSwapEntry: noSwap,
  allocPages: (cpu, order, site) => __alloc_pages(cpu, order, site),
  releasePage: put_page,
  zapPages: (cpu, pages, nr) => {
    for (let i = 0; i < nr; i++) fault_hooks.releasePage(cpu, pages[i]!);
  },
  pageAccessed() {},
};

/** alloc_page_vma: one page for a fault (or swap-in) in mm, through the allocation hook. */
export function alloc_page_vma(cpu: Cpu, mm: number, site: number): number {
  return fault_hooks.allocPages(cpu, 0, site, mm);
}

export function installFaultHooks(h: Partial<FaultHooks>): void {
  Object.assign(fault_hooks, h);
}
