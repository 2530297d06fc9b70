/*
 * src/sync — locks over the shared buffer, the lock schemes, lock_stat, lockdep.
 *
 * THE LOCK ORDER (each deeper level is taken inside the one above; the
 * function that takes it in parentheses). Every scheme obeys it; under `bkl`
 * the whole tree collapses into kernel_flag.
 *
 *   kernel_flag                        (lock_kernel: bkl scheme, every entry)
 *     mm->mmap_sem                     (handle_mm_fault: read; do_mmap, do_munmap,
 *                                       mremap, fork, exit: write)
 *       PG_locked                      (lock_page: do_swap_page, shrink_list, migrate)
 *         mapping->i_mmap_lock         (vma_link, objrmap file walks)
 *         anon_vma->lock               (anon_vma_link, objrmap anon walks)
 *           mm->page_table_lock        (pte_alloc: pgd population; 2.4: every pte)
 *           ptlock_ptr(page)           (pte_offset_map_lock: split scheme)
 *             PG_chainlock             (page_add_rmap, page_remove_rmap)
 *               pagemap_lru_lock       (lru_cache_add, activate_page, shrink_list, refill_inactive;
 *                                       issue 18: the freeable queue, rotate_reclaimable_page)
 *               pagecache_lock / mapping->tree_lock (add_to_page_cache)
 *                 page-cache hash bucket bit lock (split only; innermost, no class:
 *                 a tree_lock and swapper's lock can guard chains in one bucket)
 *               swap_lock              (get_swap_page, swap_free; issue 18: the swap
 *                                       device's queue, swap_writepage / end_page_writeback)
 *                 zone->lock           (__alloc_pages, free_pages_bulk)
 *                 mmlist_lock, *_cachep (table allocators)
 *
 *   Two edges outside the tree, each taken in one direction only:
 *     mmlist_lock → mm->page_table_lock   (the `scan` rmap walk, 2.4 swap_out)
 *     PG_locked → mmlist_lock             (a reclaim walk holds the page lock)
 *
 * Reclaim walks physical → virtual (page lock → chain lock → pte lock),
 * against the fault path's pte lock → chain lock: it takes the pte lock with
 * a TRYLOCK and returns SWAP_AGAIN on failure (2.5 try_to_unmap_one,
 * REFERENCE.md §3.2). lockdep records no edge for trylocks, so a clean run
 * proves the blocking order above has no cycle.
 *
 * PG_locked is a sleeping lock; it is never taken while a spinning lock is
 * held (except by trylock), which lockdep also checks.
 */
export * from './classes.js';
export * from './spinlock.js';
export * from './rwsem.js';
export * from './pagelock.js';
export * from './scheme.js';
export * from './lockstat.js';
export * from './lockdep.js';
