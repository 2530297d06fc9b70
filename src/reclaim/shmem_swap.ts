/*
 * shmem_swap.ts — swapping shared anonymous memory (Stephen Tweedie's "swap
 * shared pages", seed 003; 2.4.17 mm/shmem.c shmem_writepage /
 * shmem_getpage / shmem_unuse / shmem_truncate, 2.6.10 move_to_swap_cache /
 * move_from_swap_cache; REFERENCE.md §5).
 *
 * A MAP_SHARED|MAP_ANONYMOUS region is a shmem inode (mm/shmem.ts); its
 * pages live in the inode's page cache and every mapper's pte points at the
 * cached page. When reclaim picks one, the ptes are not given a swap entry
 * (as a private page's are): they are cleared through the rmap, like a file
 * page's, and the swap entry goes into the inode's own index — 2.4's
 * shmem_swp entries, here the shmemSwp region, one word per (inode slot,
 * page index). A later fault on any mapper finds the entry through the inode
 * (shmem_getpage) and all mappers see the one page again.
 *
 *   shmem_writepage    the page is locked, unmapped, in the inode's cache;
 *                      take a slot (count 1: the swap cache's), then under
 *                      both cache locks move it from the inode's cache to
 *                      the swap cache, record the entry in the index and
 *                      take the index's count (swap_map 2). The caller
 *                      writes it (swap_writepage) and frees it like any
 *                      swap-cache page; the index's count remains. If a
 *                      speculative read (swapin_readahead) cached a page
 *                      under the fresh slot first, the page stays in its
 *                      inode and the slot goes back (SHMEM_BUSY).
 *   shmem_getpage      the fault side (filemap_nopage for a shmem inode):
 *                      the inode's cache; else the index; an entry is looked
 *                      up in the swap cache, or read (with read-ahead, a
 *                      major fault); the page is locked and, the entry still
 *                      recorded, moved back into the inode's cache, dirty
 *                      (the only copy): both slot counts released. No entry:
 *                      a fresh zeroed page.
 *   shmem_unuse_all    swapoff: every recorded entry is brought back that way.
 *   shmem_truncate     the inode's last mapper went: drop its pages and its
 *                      entries (free_swap_and_cache).
 *
 * Invariant: a page index holds a page in the inode's cache or an entry in
 * the index, never both; a moving page is in exactly one cache. Each change
 * of either is made under the inode's cache lock (2.4's info->lock role), and
 * a move between the caches holds the swapper_space lock too, taken first
 * (2.6 move_to_swap_cache's order: swapper_space.tree_lock → mapping's).
 * Under 2.4 both are the one pagecache_lock and under bkl kernel_flag, taken
 * once. So a fault that finds neither page nor entry under the inode lock
 * knows there is no copy anywhere, and one that finds an entry finds its page
 * in the swap cache until the write is done and the page freed.
 *
 * Locking: page lock (writepage: held by reclaim; getpage: lock_page_sleep) →
 * swapper_space lock → inode cache lock → bucket lock; swap_lock and
 * zone->lock after unlocking. Index words are read and written under the
 * inode's cache lock (plain; a lock-free peek is only a hint, re-checked
 * under it).
 */
import { NIL, I_SIZE, I_FLAGS, I_INO, PG_FLAGS, PG_COUNT, PG_INDEX, PG_MAPPING, PG_MAPCOUNT, inodeBase, pageStruct, shmemSwpEntry } from '../machine/layout.js';
import { PG_dirty, PG_uptodate, PG_readahead, PG_referenced, SWAPPER_SPACE, mappingOfInode, inodeOfMapping } from '../machine/page.js';
import { LS_BKL, LS_24, type CpuBase } from '../machine/cpu.js';
import { VM } from '../machine/vmstat.js';
import { INJECTIONS } from '../config.js';
import { SITE } from '../sync/classes.js';
import { unlock_page } from '../sync/pagelock.js';
import { cache_lock, cache_unlock, __find_page, __add_to_page_cache, __remove_from_page_cache, page_cache_mapping } from '../mm/filemap.js';
import { I_SHMEM } from '../mm/files.js';
import { clear_page } from '../mm/clear_page.js';
import { page_count } from '../mm/page_ref.js';
import { swap_duplicate } from '../mm/swap_map.js';
import { lock_page_sleep, type ReclaimCpu } from './context.js';
import { put_page, mark_page_accessed, lru_cache_add_file } from './lru.js';
import { get_swap_page, swap_free } from './swapfile.js';
import { lookup_swap_cache, read_swap_cache_async, swapin_readahead, free_swap_and_cache, in_swap_cache, RSC_NOMEM } from './swap_state.js';
import { alloc_page_vma } from './alloc.js';
import { wait_on_page_writeback } from './writeback.js';

const INJECT_NO_SHMEM_SWP = INJECTIONS.indexOf('no_shmem_swp');

/* the values of vm/fault.ts (reclaim/ does not import vm/) */
const VM_FAULT_OOM = -2;
const VM_FAULT_SIGBUS = -3;

/** Is `mapping` (a file mapping) a shmem inode's? */
export function is_shmem_mapping(cpu: CpuBase, mapping: number): boolean {
  return (cpu.w[inodeBase(cpu.l, inodeOfMapping(mapping)) + I_FLAGS]! & I_SHMEM) !== 0;
}

/** Take swapper_space's cache lock, then the inode's (the same lock under 2.4 and bkl: once). */
function lock_both(cpu: CpuBase, mapping: number, site: number): void {
  cache_lock(cpu, SWAPPER_SPACE, site);
  if (cpu.lockScheme !== LS_24 && cpu.lockScheme !== LS_BKL) cache_lock(cpu, mapping, site);
}

function unlock_both(cpu: CpuBase, mapping: number): void {
  if (cpu.lockScheme !== LS_24 && cpu.lockScheme !== LS_BKL) cache_unlock(cpu, mapping);
  cache_unlock(cpu, SWAPPER_SPACE);
}

/** shmem_writepage results */
export const SHMEM_MOVED = 0;
/** no swap slot (full, absent, swapoff): activate */
export const SHMEM_NOSWAP = 1;
/** somebody else holds or maps the page now, or it left the cache: keep */
export const SHMEM_BUSY = 2;

/**
 * shmem_writepage: move locked, unmapped shmem page pfn (the caller holds a
 * reference; the cache the other) from its inode's cache to the swap cache
 * and record the entry in the inode's index (see the header). On
 * SHMEM_MOVED the page is a dirty swap-cache page for the caller to write.
 */
export function shmem_writepage(cpu: ReclaimCpu, pfn: number): number {
  const w = cpu.w;
  const l = cpu.l;
  const p = pageStruct(l, pfn);
  const mapping = w[p + PG_MAPPING]!;
  const entry = get_swap_page(cpu);
  if (entry === 0) return SHMEM_NOSWAP;
  lock_both(cpu, mapping, SITE.shmem_writepage);
  // a fault takes its reference under the inode lock: count 2 (cache + ours) means nobody else has it
  if (page_cache_mapping(cpu, pfn) !== mapping || Atomics.load(w, p + PG_MAPCOUNT) >= 0 || page_count(cpu, pfn) !== 2) {
    unlock_both(cpu, mapping);
    swap_free(cpu, entry);
    return SHMEM_BUSY;
  }
  if (__find_page(cpu, SWAPPER_SPACE, entry) !== NIL) {
    // a speculative read got there first: swapin_readahead reads the neighbours of a faulting slot,
    // and a slot get_swap_page has just handed out is in use (its count is ours) though nothing is
    // cached under it yet. 2.6 shmem_writepage's move_to_swap_cache fails with -EEXIST too and keeps
    // the page in its inode (redirtied, activated: WRITEPAGE_ACTIVATE); here it is kept on its list
    // (SHMEM_BUSY) and written out on a later pass. The slot goes back; the readahead copy, stale,
    // holds its own count and is freed with it. (Both cache locks are held: the lookup stands.)
    unlock_both(cpu, mapping);
    swap_free(cpu, entry);
    w[cpu.vm + VM.shmem_swapout_raced]!++;
    return SHMEM_BUSY;
  }
  const index = w[p + PG_INDEX]!;
  const ino = inodeOfMapping(mapping);
  __remove_from_page_cache(cpu, pfn);
  if (!__add_to_page_cache(cpu, pfn, SWAPPER_SPACE, entry)) throw new Error(`shmem_writepage: fresh swap entry 0x${(entry >>> 0).toString(16)} already cached`);
  if (cpu.inject !== INJECT_NO_SHMEM_SWP) {
    // the index's count, then the entry: a fault reading the entry under this lock finds the slot held
    swap_duplicate(cpu, entry);
    w[shmemSwpEntry(l, ino, index)] = entry;
  }
  unlock_both(cpu, mapping);
  Atomics.sub(w, p + PG_COUNT, 1); // the inode cache's reference became the swap cache's (which took its own)
  Atomics.or(w, p + PG_FLAGS, PG_uptodate | PG_dirty);
  w[cpu.vm + VM.shmem_swapout]!++;
  return SHMEM_MOVED;
}

/**
 * Move locked page pfn, in the swap cache under `entry`, back into inode
 * ino's cache at `index` if the index still records entry. Both slot counts
 * (the swap cache's and the index's) are released. False if the index or
 * the page changed meanwhile (the caller retries).
 */
function shmem_swapin_move(cpu: ReclaimCpu, ino: number, index: number, entry: number, pfn: number): boolean {
  const w = cpu.w;
  const l = cpu.l;
  const mapping = mappingOfInode(ino);
  const slot = shmemSwpEntry(l, ino, index);
  lock_both(cpu, mapping, SITE.shmem_getpage);
  if (w[slot] !== entry || !in_swap_cache(cpu, pfn, entry)) {
    unlock_both(cpu, mapping);
    return false;
  }
  __remove_from_page_cache(cpu, pfn);
  if (!__add_to_page_cache(cpu, pfn, mapping, index)) throw new Error(`shmem_getpage: inode ${ino} page ${index} cached beside swap entry 0x${(entry >>> 0).toString(16)}`);
  w[slot] = 0;
  unlock_both(cpu, mapping);
  Atomics.sub(w, pageStruct(l, pfn) + PG_COUNT, 1); // the swap cache's reference became the inode cache's
  Atomics.and(w, pageStruct(l, pfn) + PG_FLAGS, ~PG_readahead);
  Atomics.or(w, pageStruct(l, pfn) + PG_FLAGS, PG_dirty); // the only copy now
  swap_free(cpu, entry); // the swap cache's count
  swap_free(cpu, entry); // the index's count: the slot is free
  w[cpu.vm + VM.shmem_swapin]!++;
  return true;
}

/**
 * shmem_swapin: bring the page recorded under `entry` at (ino, index) back
 * into the inode's cache. Returns the pfn with a reference (major: it was
 * read from swap, `rsc` tells), 0 to retry (the index changed), or
 * VM_FAULT_OOM / VM_FAULT_SIGBUS.
 */
function shmem_swapin(cpu: ReclaimCpu, ino: number, index: number, entry: number, mm: number, readahead: boolean): number {
  const w = cpu.w;
  let pfn = lookup_swap_cache(cpu, entry);
  let major = false;
  if (pfn < 0) {
    if (readahead) swapin_readahead(cpu, entry, mm, cpu.scratch2);
    pfn = read_swap_cache_async(cpu, entry, mm, false);
    if (pfn < 0) return pfn === RSC_NOMEM ? VM_FAULT_OOM : 0; // gone: the index changed under us
    major = true;
  }
  lock_page_sleep(cpu, pfn, SITE.shmem_getpage);
  if ((Atomics.load(w, pageStruct(cpu.l, pfn) + PG_FLAGS) & PG_uptodate) === 0) {
    // a read error: no pte holds a shmem entry, so kill_swap_users found nobody; this fault gets SIGBUS,
    // the entry stays recorded and the next fault reads the slot again
    unlock_page(cpu, pfn);
    put_page(cpu, pfn);
    return w[shmemSwpEntry(cpu.l, ino, index)] === entry ? VM_FAULT_SIGBUS : 0;
  }
  // 2.6 shmem_getpage: a page still being written (asynchronous write-out) leaves the swap cache only
  // when its write is done, or the completion would find it in the inode's cache (and truncate free it)
  wait_on_page_writeback(cpu, pfn);
  const moved = shmem_swapin_move(cpu, ino, index, entry, pfn);
  unlock_page(cpu, pfn);
  if (!moved) {
    put_page(cpu, pfn);
    return 0;
  }
  if (major) w[cpu.vm + VM.pgmajfault]!++;
  return major ? -(pfn + 16) : pfn;
}

/**
 * shmem_getpage: page `index` of shmem inode `ino` for a fault in mm, with a
 * reference (filemap_nopage's contract: pfn, or -(pfn + 16) when it was read
 * from swap — a major fault; VM_FAULT_OOM / VM_FAULT_SIGBUS). Called with no
 * lock held (the fault's mmap_sem).
 */
export function shmem_getpage(cpu: ReclaimCpu, ino: number, index: number, mm: number): number {
  const w = cpu.w;
  const l = cpu.l;
  const mapping = mappingOfInode(ino);
  const slot = shmemSwpEntry(l, ino, index);
  let fresh = NIL;
  for (;;) {
    cache_lock(cpu, mapping, SITE.find_get_page);
    const pfn = __find_page(cpu, mapping, index);
    if (pfn !== NIL) {
      Atomics.add(w, pageStruct(l, pfn) + PG_COUNT, 1);
      cache_unlock(cpu, mapping);
      if (fresh !== NIL) put_page(cpu, fresh);
      mark_page_accessed(cpu, pfn); // a page-cache hit
      return pfn;
    }
    const entry = w[slot]!;
    if (entry === 0 && fresh !== NIL) {
      // neither page nor entry, under the lock: ours is the only copy
      __add_to_page_cache(cpu, fresh, mapping, index);
      cache_unlock(cpu, mapping);
      lru_cache_add_file(cpu, fresh);
      return fresh;
    }
    cache_unlock(cpu, mapping);
    if (entry !== 0) {
      if (fresh !== NIL) {
        put_page(cpu, fresh);
        fresh = NIL;
      }
      const r = shmem_swapin(cpu, ino, index, entry, mm, true);
      if (r !== 0) return r;
      continue;
    }
    fresh = alloc_page_vma(cpu, mm, SITE.do_file_page);
    if (fresh < 0) return VM_FAULT_OOM;
    clear_page(cpu, fresh, 0);
  }
}

/**
 * shmem_unuse_all (swapoff): bring every page recorded in a shmem index back
 * into its inode's cache. Returns 0, or VM_FAULT_OOM when a page could not
 * be read in (swapoff then fails with ENOMEM; what was not moved stays in
 * swap). Inodes are not pinned: a move re-checks the index under the inode
 * lock, and teardown clears entries under it, so a dying inode's entry is
 * either moved before or gone.
 */
export function shmem_unuse_all(cpu: ReclaimCpu): number {
  const w = cpu.w;
  const l = cpu.l;
  for (let ino = 0; ino < l.maxFiles; ino++) {
    const ib = inodeBase(l, ino);
    if (Atomics.load(w, ib + I_INO) !== ino || (w[ib + I_FLAGS]! & I_SHMEM) === 0) continue;
    const size = Math.min(w[ib + I_SIZE]!, l.filePages);
    for (let index = 0; index < size; index++) {
      for (let entry = w[shmemSwpEntry(l, ino, index)]!; entry !== 0; entry = w[shmemSwpEntry(l, ino, index)]!) {
        const r = shmem_swapin(cpu, ino, index, entry, NIL, false);
        if (r === VM_FAULT_OOM) return r;
        if (r === 0) continue;
        const pfn = r < -10 ? -r - 16 : r;
        if (r !== VM_FAULT_SIGBUS) {
          Atomics.and(w, pageStruct(l, pfn) + PG_FLAGS, ~PG_referenced);
          put_page(cpu, pfn);
          w[cpu.vm + VM.swapoff_pages]!++;
        }
        break;
      }
    }
  }
  return 0;
}

/**
 * shmem_truncate: the inode's last mapper is gone: drop every cached page
 * and release every recorded entry (free_swap_and_cache drops an unmapped
 * swap-cache copy too). Called before the inode is freed, with no lock held.
 */
export function shmem_truncate(cpu: CpuBase, ino: number): void {
  const w = cpu.w;
  const l = cpu.l;
  const mapping = mappingOfInode(ino);
  const size = Math.min(w[inodeBase(l, ino) + I_SIZE]!, l.filePages);
  for (let index = 0; index < size; index++) {
    const slot = shmemSwpEntry(l, ino, index);
    cache_lock(cpu, mapping, SITE.remove_from_page_cache);
    const entry = w[slot]!;
    w[slot] = 0;
    cache_unlock(cpu, mapping);
    if (entry !== 0) free_swap_and_cache(cpu, entry);
  }
}
