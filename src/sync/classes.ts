/*
 * classes.ts — lock classes and call sites (lock_stat / lockdep identities).
 *
 * A lock *class* is a kind of lock (every mm's mmap_sem is one class); a
 * *site* is a place in the MM code that acquires one (lock_stat's
 * "contention points"). Both are small ints fixed here, in one list, so every
 * worker agrees on them without registration at run time.
 *
 * A class's kind decides lockdep's sleep-in-spin check (Spin vs the sleeping
 * kinds) and lock_stat's rows (RW classes get -W / -R rows). The test_*
 * classes exist for test/sync and bench/locks.ts only; MM code never takes
 * them. Not shared memory; no locking.
 */
import { MAX_LOCK_CLASSES, MAX_LOCK_SITES } from '../machine/layout.js';

export const enum LockKind {
  /** a spinlock of the configured implementation (--lock-impl: under futex it sleeps) */
  Spin = 0,
  Sleep = 1,
  RW = 2,
  /** a bit spinlock (bit_spin_lock on a flags word): it spins whatever --lock-impl says */
  BitSpin = 3,
}

export const LOCK_CLASSES = [
  { name: 'kernel_flag', kind: LockKind.Spin }, // the BKL
  { name: '&mm->mmap_sem', kind: LockKind.RW },
  { name: '&mm->page_table_lock', kind: LockKind.Spin },
  { name: 'ptlock_ptr(page)', kind: LockKind.Spin },
  { name: 'PG_locked', kind: LockKind.Sleep },
  { name: 'PG_chainlock', kind: LockKind.BitSpin },
  { name: 'pagemap_lru_lock', kind: LockKind.Spin },
  { name: '&zone->lock', kind: LockKind.Spin },
  { name: 'pagecache_lock', kind: LockKind.Spin },
  { name: '&mapping->tree_lock', kind: LockKind.Spin },
  { name: 'swap_lock', kind: LockKind.Spin },
  { name: 'mmlist_lock', kind: LockKind.Spin },
  { name: 'mm_cachep', kind: LockKind.Spin },
  { name: 'vm_area_cachep', kind: LockKind.Spin },
  { name: 'rmap_cachep', kind: LockKind.Spin },
  { name: '&mapping->i_mmap_lock', kind: LockKind.Spin },
  { name: '&anon_vma->lock', kind: LockKind.Spin },
  { name: 'inode_lock', kind: LockKind.Spin },
  { name: 'test_lock_a', kind: LockKind.Spin },
  { name: 'test_lock_b', kind: LockKind.Spin },
  { name: 'test_mutex', kind: LockKind.Sleep },
  { name: 'test_rwsem', kind: LockKind.RW },
  { name: 'tlb_shootdown_ack', kind: LockKind.Spin }, // not a lock: the wait for other CPUs to take a flush IPI (mm/tlb.ts)
] as const;

export const C_BKL = 0;
export const C_MMAP_SEM = 1;
export const C_PAGE_TABLE_LOCK = 2;
export const C_PTL = 3;
export const C_PAGE_LOCK = 4;
export const C_CHAIN_LOCK = 5;
export const C_LRU_LOCK = 6;
export const C_ZONE_LOCK = 7;
export const C_PAGECACHE_LOCK = 8;
export const C_TREE_LOCK = 9;
export const C_SWAP_LOCK = 10;
export const C_MMLIST_LOCK = 11;
export const C_MM_ALLOC = 12;
export const C_VMA_ALLOC = 13;
export const C_RMAP_ALLOC = 14;
export const C_I_MMAP = 15;
export const C_ANON_VMA = 16;
export const C_INODE = 17;
export const C_TEST_A = 18;
export const C_TEST_B = 19;
export const C_TEST_MUTEX = 20;
export const C_TEST_RWSEM = 21;
export const C_TLB_ACK = 22;
export const NR_LOCK_CLASSES = LOCK_CLASSES.length;

/** Kind per class as a typed array: the lockdep hot path reads it monomorphically. */
export const CLASS_KIND: Int8Array = Int8Array.from(LOCK_CLASSES, (c) => c.kind);
/** Does a waiter for this class spin (a spinlock of any implementation but futex's, or a bit spinlock)? */
export const classSpins = (cls: number, futexImpl: boolean) => CLASS_KIND[cls] === LockKind.BitSpin || (CLASS_KIND[cls] === LockKind.Spin && !futexImpl);
/** Is it a spinlock by kind, whatever its implementation (lockdep: no sleeping under it)? */
export const isSpinClass = (cls: number) => CLASS_KIND[cls] === LockKind.Spin || CLASS_KIND[cls] === LockKind.BitSpin;

/** Call sites (lock_stat contention points). Add new ones at the end. */
export const LOCK_SITES = [
  'unknown',
  'handle_mm_fault',
  'do_anonymous_page',
  'do_wp_page',
  'do_file_page',
  'do_swap_page',
  'do_mmap',
  'do_munmap',
  'zap_pte_range',
  'copy_page_range',
  'exit_mmap',
  'mremap',
  '__alloc_pages',
  'free_pages_bulk',
  'rmqueue_bulk',
  'lru_cache_add',
  'pagevec_lru_add',
  'find_get_page',
  'add_to_page_cache',
  'remove_from_page_cache',
  'pte_alloc',
  'page_add_rmap',
  'page_remove_rmap',
  'try_to_unmap',
  'page_referenced',
  'shrink_list',
  'refill_inactive',
  'swap_out',
  'get_swap_page',
  'swap_free',
  'lookup_swap_cache',
  'kswapd',
  'vma_alloc',
  'mm_alloc',
  'rmap_alloc',
  'mmlist',
  'lock_page',
  'i_mmap',
  'anon_vma',
  'test',
  'try_to_unuse',
  'migrate_pages',
  'inode_alloc',
  'release_pages',
  '__page_cache_release',
  'sys_brk',
  'madvise',
  'activate_page',
  'shmem_writepage',
  'shmem_getpage',
  'swap_writepage',
  'end_page_writeback',
  'flush_tlb_mm',
  'flush_tlb_others',
] as const;

export type LockSiteName = (typeof LOCK_SITES)[number];
export const SITE: { readonly [K in LockSiteName]: number } = Object.fromEntries(
  LOCK_SITES.map((n, i) => [n, i]),
) as { [K in LockSiteName]: number };

if (LOCK_CLASSES.length > MAX_LOCK_CLASSES) throw new Error(`classes.ts: ${LOCK_CLASSES.length} lock classes > MAX_LOCK_CLASSES`);
if (LOCK_SITES.length > MAX_LOCK_SITES) throw new Error(`classes.ts: ${LOCK_SITES.length} lock sites > MAX_LOCK_SITES`);
