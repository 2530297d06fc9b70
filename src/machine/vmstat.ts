/*
 * vmstat.ts — the per-CPU event counters, with the kernel's /proc/vmstat names.
 *
 * Each CPU bumps its own copy in its own padded per-CPU area with a plain
 * store (only that CPU writes it, as the kernel's __count_vm_event); they are
 * summed after the run stops (all workers joined), so no Atomics are needed.
 * Source: include/linux/vm_event_item.h (2.6 era names), REFERENCE.md §4, §6.
 * Not a kernel counter: reclaim_us, microseconds spent inside
 * try_to_free_pages and kswapd_balance (synchronous I/O sleeps included;
 * virtual microseconds under the virtual clock), and writeout_wait_us, the
 * part of it spent sleeping in synchronous write-out (swap_writepage,
 * file_writepage) — bench/writeout.ts's reclaim time and reclaim CPU time;
 * alloc_slow / alloc_slow_us, allocations that missed the pages_min fast
 * path and the microseconds they took (bench/freeable.ts). pgfreeable,
 * pgalloc_freeable, pgrescued are 2.4-rmap's inactive_clean events in the
 * kernel's style: pages parked, taken by the allocator, looked up again;
 * pgmigrate_freeable, parked pages compaction moved (parked when moved).
 * rmap_walk_visit (issue 19): what reverse-map walks visited to find a
 * page's mappings — a chain entry (ptechain, ptechain25 slots, vmnode), a
 * hint, a VMA or mm of an object list (objrmap, anonmm), or, for a scan
 * (scan, hint's fallback), every pte of every page table of every mm: the
 * walk's cost, per scheme in one unit.
 */
export const VMSTAT_NAMES = [
  'pgfault',
  'pgmajfault',
  'pgalloc_normal',
  'pgfree',
  'pgalloc_high_order',
  'pcp_refill',
  'pcp_drain',
  'cow_fault',
  'cow_reuse',
  'zero_fill',
  'file_fault',
  'shared_anon_fault',
  'segv',
  'sigbus',
  'nr_tlb_remote_flush',
  'nr_tlb_local_flush_all',
  'pgscan_kswapd',
  'pgscan_direct',
  'pgsteal_kswapd',
  'pgsteal_direct',
  'pgactivate',
  'pgdeactivate',
  'pgrefill',
  'pgrotated',
  'pswpin',
  'pswpout',
  'swap_ra',
  'swap_ra_hit',
  'allocstall_normal',
  'oom_kill',
  'kswapd_wake',
  'workingset_refault_anon',
  'workingset_refault_file',
  'workingset_activate_anon',
  'workingset_activate_file',
  'workingset_nodes_recycled',
  'nr_unmap_fail',
  'swap_read_error',
  'swap_write_error',
  'pgmigrate_success',
  'pgmigrate_fail',
  'compact_stall',
  'fork',
  'exit',
  'exec',
  'mmap',
  'munmap',
  'mremap',
  'pte_chain_alloc',
  'rmap_walk',
  'rmap_walk_pte',
  'page_writeback',
  'pgpgin',
  'pgpgout',
  'touch',
  'oracle_fail',
  'rmap_hint_fallback',
  'rmap_walk_vma',
  'pageoutrun',
  'pgscan_pte',
  'swapoff_pages',
  'oom_wait',
  'compact_success',
  'compact_fail',
  'shmem_swapout',
  'shmem_swapout_raced', // shmem_writepage found its fresh slot cached by a speculative read (swapin_readahead): slot given back, page kept
  'shmem_swapin',
  'swap_wb_req',
  'swap_wb_wait',
  'swap_wb_fault',
  'reclaim_us',
  'writeout_wait_us',
  'pgfreeable',
  'pgalloc_freeable',
  'pgrescued',
  'pgmigrate_freeable',
  'alloc_slow',
  'alloc_slow_us',
  'mremap_cow', // anonmm: pages mremap copied because another pte of the family maps them (Hugh's "mremap moved %d cows")
  'nr_tlb_remote_flush_received',
  'nr_tlb_local_flush_one',
  'rmap_walk_visit',
] as const;

export type VmstatName = (typeof VMSTAT_NAMES)[number];

/** Index of a counter in a CPU's vmstat block (constant-folded at call sites). */
export const VM: { readonly [K in VmstatName]: number } = Object.fromEntries(
  VMSTAT_NAMES.map((n, i) => [n, i]),
) as { [K in VmstatName]: number };

export const NR_VMSTAT = VMSTAT_NAMES.length;
