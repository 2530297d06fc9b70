/*
 * page.ts — struct page: flag bits and the `mapping` encoding.
 *
 * One 16-word (64-byte, one cache line) struct per frame in mem_map; field
 * offsets are in layout.ts (PG_*). Flag bits follow include/linux/page-flags.h
 * of 2.4/2.5 where a kernel name exists; PG_chainlock / PG_direct are the 2.5
 * rmap bits (REFERENCE.md §3.2).
 *
 * Locking: PG_FLAGS is read-modify-written only with Atomics.or/and (several
 * CPUs flip different bits: PG_referenced from page_referenced, PG_locked...
 * bit locks live in the same word). PG_COUNT is Atomics.add'ed. _mapcount is
 * changed under the pte lock of the mapping pte *and* with Atomics (2.6
 * atomic_t), because two ptes of one page can be under two different split
 * ptls. LRU links: the lru lock. Buddy links/order: the zone lock (or the
 * owning CPU for a pcp list).
 */
export const PG_locked = 1 << 0;
export const PG_error = 1 << 1;
export const PG_referenced = 1 << 2;
export const PG_uptodate = 1 << 3;
export const PG_dirty = 1 << 4;
export const PG_lru = 1 << 5;
export const PG_active = 1 << 6;
export const PG_slab = 1 << 7;
export const PG_reserved = 1 << 8;
export const PG_writeback = 1 << 9;
export const PG_swapcache = 1 << 10;
export const PG_buddy = 1 << 11; // free block head in the buddy lists
export const PG_pcp = 1 << 12; // on a per-CPU free list
export const PG_pgtable = 1 << 13; // a page-table page (pgd or pte)
export const PG_anon = 1 << 14;
export const PG_chainlock = 1 << 15; // 2.5 pte_chain_lock bit spinlock
export const PG_direct = 1 << 16; // 2.5: PG_RMAP holds a single pte address
export const PG_hot = 1 << 17; // CLOCK-Pro hot
export const PG_test = 1 << 18; // CLOCK-Pro in test period
export const PG_waiters = 1 << 19;
export const PG_compound = 1 << 20; // part of a high-order allocation
export const PG_freeable = 1 << 21; // clock + config.freeable: parked on the freeable queue (reclaim/freeable.ts)
export const PG_inactive = 1 << 22;
export const PG_readahead = 1 << 23; // swap cache: read ahead, not yet faulted on (swap_ra_hit)

/*
 * page->mapping encoding (an int, not a pointer):
 *   0           no mapping (anonymous page before objrmap / free)
 *   > 0         file page: inode id + 1
 *   < 0         anonymous object (objrmap anon_vma / per-mm anon inode): -(id + 2)
 * The swap cache is keyed by (SWAPPER_SPACE, swap entry); a swap-cache page
 * keeps its anon mapping and has PG_swapcache + page->private = entry (2.6).
 */
export const SWAPPER_SPACE = 0x7fffffff; // key-only mapping id for the swap cache hash
export const mappingOfInode = (ino: number) => ino + 1;
export const inodeOfMapping = (mapping: number) => mapping - 1;
export const mappingOfAnon = (id: number) => -(id + 2);
export const anonOfMapping = (mapping: number) => -mapping - 2;
export const isFileMapping = (mapping: number) => mapping > 0 && mapping !== SWAPPER_SPACE;
