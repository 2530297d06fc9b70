/*
 * reclaim/index.ts — page reclaim and the swap cache, wired into the VM.
 *
 *   lru.ts        active / inactive lists, pagevecs, mark_page_accessed,
 *                 page_cache_release
 *   policy.ts     the ReplacementPolicy interface and registry
 *   twoq.ts       `2q`: 2.6 refill_inactive + shrink_list
 *   clock.ts      `clock`: LaHaise's page-centric clock over mem_map
 *   swapout.ts    `swapout`: 2.4's virtual scan (swap_out)
 *   vmscan.ts     shrink_page, try_to_free_pages, kswapd_balance
 *   kswapd.ts     the kswapd thread's loop
 *   alloc.ts      allocation with kswapd wake-ups, direct reclaim, OOM
 *   oom.ts        the OOM killer; SIGBUS for a lost swap slot
 *   swapfile.ts   the swap area: clustered slot allocation, swap_free
 *   swap_state.ts the swap cache, read-ahead, free_swap_and_cache
 *   page_io.ts    swap (and file) I/O with simulated latency and errors
 *   swap_fault.ts do_swap_page
 *   swapoff.ts    try_to_unuse
 *   checks.ts     LRU / swap_map / swap-cache invariants for the checker
 *   nonresident.ts  the nr_bucket table of recently evicted pages (issue 7)
 *   workingset.ts refault detection: remember on eviction, look up on
 *                 insertion, swap-slot invalidation, /proc/refaults
 *   clockpro.ts   `clockpro`: CLOCK-Pro, two-list resident clock (PZ)
 *   clockpro_approx.ts `clockpro-approx`: the LinuxMM wiki approximation
 *   stats.ts      nr_free_pages, LRU sizes, swap usage for results
 *
 * installReclaim() plugs it all into the VM's hooks (vm/hooks.ts, the page
 * cache's release, the page-table allocator); it runs once per thread when
 * this module is imported (sim/register.ts imports it in the orchestrator
 * and in every worker, and hands reclaim_quiesce / reclaim_checks to the
 * invariant checker), before any CPU runs.
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
import { fault_hooks, installFaultHooks } from '../vm/hooks.js';
import type { CpuBase } from '../machine/cpu.js';
import { INJECTIONS } from '../config.js';
import { pagecache_hooks } from '../mm/filemap.js';
import { pgtable_hooks } from '../mm/pgtable.js';
import { swap_duplicate } from '../mm/swap_map.js';
import type { ReclaimCpu } from './context.js';
import { lru_cache_add, page_cache_release, mark_page_accessed } from './lru.js';
import { policyOf } from './policy.js';
import { alloc_pages_reclaim } from './alloc.js';
import { do_swap_page } from './swap_fault.js';
import { free_swap_and_cache, free_pages_and_swap_cache, swapin_alloc } from './swap_state.js';
import { reclaim_quiesce, check_lru_membership, check_swap } from './checks.js';
import './twoq.js';
import './clock.js';
import './swapout.js';
import './clockpro.js';
import './clockpro_approx.js';
import { workingset_new_anon_page, workingset_file_insert, workingset_check } from './workingset.js';

const INJECT_NO_SWAP_DUP = INJECTIONS.indexOf('no_swap_dup');
/** CPUs that already skipped their one swap_duplicate (the planted bug) */
const skippedDup = new WeakSet<CpuBase>();

/** fork's swap_duplicate for a copied swap pte (with the planted bug of config.inject = no_swap_dup). */
function fork_swap_duplicate(cpu: CpuBase, entry: number): void {
  if (cpu.inject === INJECT_NO_SWAP_DUP && !skippedDup.has(cpu)) {
    skippedDup.add(cpu); // planted bug: the child's pte is not counted
    return;
  }
  if (!swap_duplicate(cpu, entry)) throw new Error(`fork: swap_duplicate of free entry 0x${(entry >>> 0).toString(16)}`);
}

let installed = false;

/** Wire reclaim into the VM (idempotent). */
export function installReclaim(): void {
  if (installed) return;
  installed = true;
  const alloc = (cpu: CpuBase, order: number, site: number, mm: number) => alloc_pages_reclaim(cpu as ReclaimCpu, order, site, mm);
  installFaultHooks({
    // issue 7: the policy places new pages; a page-cache insertion after a miss is a refault lookup (workingset.ts)
    newAnonPage: (cpu, pfn) => lru_cache_add(cpu, pfn, workingset_new_anon_page(cpu, pfn)),
    newFilePage: (cpu, pfn) => lru_cache_add(cpu, pfn, workingset_file_insert(cpu, pfn)),
    doSwapPage: do_swap_page,
    swapDuplicate: fork_swap_duplicate,
    freeSwapEntry: free_swap_and_cache,
    allocPages: alloc,
    releasePage: page_cache_release,
    zapPages: free_pages_and_swap_cache,
    pageAccessed: mark_page_accessed,
  });
  swapin_alloc.alloc = alloc;
  pgtable_hooks.alloc = alloc;
  pagecache_hooks.release = page_cache_release;
}

/**
 * The checker's extra invariants (sim/register.ts registers them with
 * sim/checker.ts): LRU membership, swap_map counts, swap-cache membership.
 */
export function reclaim_checks(cpu: ReclaimCpu, out: string[], ctx: { mapped: Int32Array; cached: Uint8Array }): void {
  check_lru_membership(cpu.m, ctx.mapped, ctx.cached, out);
  check_swap(cpu.m, ctx.cached, out);
  workingset_check(cpu.m, out); // issue 7: hot-page count, hands, no cookie for a free swap slot
}
export { reclaim_quiesce };

installReclaim();

export { fault_hooks };
export { lru_cache_add, lru_add_drain, lru_add_drain_all, mark_page_accessed, page_cache_release, lru_sizes } from './lru.js';
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
