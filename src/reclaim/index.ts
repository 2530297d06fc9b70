/*
 * reclaim/index.ts — page reclaim and the swap cache, wired into the VM.
 *
 *   lru.ts        active / inactive lists, pagevecs, mark_page_accessed,
 *                 put_page
 *   policy.ts     the ReplacementPolicy interface and registry
 *   twoq.ts       `2q`: 2.6 refill_inactive + shrink_list
 *   clock.ts      `clock`: LaHaise's page-centric clock over mem_map
 *   swapout.ts    `swapout`: 2.4's virtual scan (swap_out)
 *   vmscan.ts     shrink_page, try_to_free_pages, kswapd_balance
 *   writeback.ts  asynchronous clustered swap write-out: the device queue,
 *                 its completions, wait_on_page_writeback (issue 18)
 *   freeable.ts   the clock policy's freeable queue (inactive_clean):
 *                 park, take, rescue (issue 18)
 *   kswapd.ts     the kswapd thread's loop
 *   alloc.ts      allocation with kswapd wake-ups, direct reclaim, OOM
 *   oom.ts        the OOM killer; SIGBUS for a lost swap slot
 *   swapfile.ts   the swap area: clustered slot allocation, swap_free
 *   swap_state.ts the swap cache, read-ahead, free_swap_and_cache
 *   page_io.ts    swap (and file) I/O with simulated latency and errors
 *   swap_fault.ts do_swap_page
 *   swapoff.ts    try_to_unuse
 *   shmem_swap.ts shared anonymous pages to swap and back through their
 *                 inode (shmem_writepage / shmem_getpage, issue 18)
 *   checks.ts     LRU / swap_map / swap-cache invariants for the checker
 *   nonresident.ts  the nr_bucket table of recently evicted pages (issue 7)
 *   workingset.ts refault detection: remember on eviction, look up on
 *                 insertion, swap-slot invalidation, /proc/refaults
 *   clockpro.ts   `clockpro`: CLOCK-Pro, two-list resident clock (PZ)
 *   clockpro_approx.ts `clockpro-approx`: the LinuxMM wiki approximation
 *   stats.ts      nr_free_pages, LRU sizes, swap usage for results
 *
 * vm/ calls into reclaim directly (fault.ts → swap_fault.ts do_swap_page,
 * lru.ts lru_cache_add_anon / put_page; allocation → alloc.ts
 * alloc_page_vma; zap → swap_state.ts free_pages_and_swap_cache; fork's
 * swap_duplicate is mm/swap_map.ts's). installReclaim() sets mm/'s upcalls
 * (the page cache's release, the page-table allocator, shmem teardown); vm/cpu.ts's makeCpu
 * calls it. sim/checker.ts calls reclaim_quiesce / reclaim_checks itself.
 * Importing this module loads every replacement policy (they register with
 * policy.ts by name).
 *
 * LOCK ORDER used here (a subtree of src/sync/index.ts):
 *
 *   mmap_sem (fault, read)                 [direct reclaim enters here]
 *     PG_locked (trylock in reclaim; lock_page in do_swap_page, swapoff)
 *       mmlist_lock → mm->page_table_lock   (scan rmap, SIGBUS walk, swap_out's pick)
 *       mm->mmap_sem (TRYLOCK only: swap_out, swapoff)
 *       pte lock (trylock from the rmap; swap_out, do_swap_page, unuse: lock)
 *         PG_chainlock
 *         pagemap_lru_lock                  (lru.ts)
 *         swapper_space lock / tree_lock    (swap_state.ts, remove_mapping)
 *         swap_lock                         (swapfile.ts)
 *           zone->lock
 */
import type { CpuBase } from '../machine/cpu.js';
import { pagecache_hooks } from '../mm/filemap.js';
import { pgtable_hooks } from '../mm/pgtable.js';
import { shmem_hooks } from '../mm/shmem.js';
import { shmem_truncate } from './shmem_swap.js';
import type { ReclaimCpu } from './context.js';
import { put_page } from './lru.js';
import { policyOf } from './policy.js';
import { alloc_pages_reclaim } from './alloc.js';
import { swapin_alloc } from './swap_state.js';
import { reclaim_quiesce, check_lru_membership, check_swap } from './checks.js';
import './twoq.js';
import './clock.js';
import './swapout.js';
import './clockpro.js';
import './clockpro_approx.js';
import { workingset_check } from './workingset.js';
import { writeback_check } from './writeback.js';
import { freeable_check } from './freeable.js';

let installed = false;

/**
 * installReclaim: point mm/'s upcalls at reclaim — the page-table allocator
 * (mm/pgtable.ts) allocates with direct reclaim, the page cache
 * (mm/filemap.ts) releases through the LRU-aware put_page — and swap-in at
 * alloc_pages_reclaim. mm/ sits below reclaim/ and cannot import it; these
 * are its only upcalls. vm/ calls reclaim directly. Idempotent; makeCpu
 * (vm/cpu.ts) calls it, so every thread that runs MM code has it done before
 * its first fault.
 */
export function installReclaim(): void {
  if (installed) return;
  installed = true;
  const alloc = (cpu: CpuBase, order: number, site: number, mm: number) => alloc_pages_reclaim(cpu as ReclaimCpu, order, site, mm);
  swapin_alloc.alloc = alloc;
  pgtable_hooks.alloc = alloc;
  pagecache_hooks.release = put_page;
  shmem_hooks.truncate = shmem_truncate;
}

/**
 * The checker's extra invariants (sim/checker.ts runs them): LRU membership, swap_map counts, swap-cache membership.
 */
export function reclaim_checks(cpu: ReclaimCpu, out: string[], ctx: { mapped: Int32Array; cached: Uint8Array }): void {
  check_lru_membership(cpu.m, ctx.mapped, ctx.cached, out);
  check_swap(cpu.m, ctx.cached, out);
  workingset_check(cpu.m, out); // issue 7: hot-page count, hands, no cookie for a free swap slot
  writeback_check(cpu.m, out); // issue 18: PG_writeback pages and the swap device's queue agree
  freeable_check(cpu.m, out); // issue 18: PG_freeable pages and the freeable queue agree
}
export { reclaim_quiesce };

export { lru_cache_add, lru_add_drain, lru_add_drain_all, mark_page_accessed, put_page, lru_sizes } from './lru.js';
export { registerPolicy, policyOf, policyByName, registeredPolicies, type ReplacementPolicy } from './policy.js';
export { try_to_free_pages, shrink_all_memory, kswapd_balance, wakeup_kswapd, shrink_page } from './vmscan.js';
export { kswapd_run } from './kswapd.js';
export { alloc_pages_reclaim } from './alloc.js';
export { mm_killed, mm_kill, kill_swap_users, out_of_memory, SIGBUS, SIGKILL } from './oom.js';
export { get_swap_page, swap_free, swap_count, swap_info, swap_inject_error, valid_swaphandles, page_cluster, SWAPFILE_CLUSTER } from './swapfile.js';
export { add_to_swap, lookup_swap_cache, read_swap_cache_async } from './swap_state.js';
export { sys_swapoff, sys_swapon, try_to_unuse } from './swapoff.js';
export { reclaim_stats, type ReclaimStats } from './stats.js';
export { SWAP_CLUSTER_MAX, type ReclaimCpu } from './context.js';
