/*
 * swapoff.ts — sys_swapoff / try_to_unuse: bring every swapped page back
 * into memory and empty the swap area (2.4.17 / 2.6 mm/swapfile.c;
 * REFERENCE.md §5).
 *
 *   swapoff: refused with ENOMEM up front when the pages in swap cannot fit
 *   in memory (2.6 sys_swapoff's vm_enough_memory: free pages above
 *   pages_min plus clean page-cache pages of regular files, against the
 *   slots in use not already in the swap cache); else no new slots
 *   (SWP_OFF), then try_to_unuse; on failure (no memory for everything
 *   after all) the area is switched back on and nothing is lost: what was
 *   not brought in stays in swap. One swapoff or swapon at a time
 *   (swapon_sem: SW_SWAPON_SEM, claimed with a compare-and-swap; a second
 *   caller gets EBUSY).
 *
 *   try_to_unuse: each pass first brings back every page recorded in a
 *   shmem inode's index (shmem_swap.ts shmem_unuse_all: those are named by
 *   no pte); then for every slot still in use, read it into the swap cache
 *   (read_swap_cache_async) and lock the page; walk every mm on the mmlist
 *   and replace each pte holding the entry with a read-only pte to the page
 *   (unuse_pte: rmap, rss, the pte's slot count released); once only the
 *   swap cache holds the slot, the page leaves the cache, dirty — it is the
 *   only copy now. A slot some pte still names (a fork copied the entry
 *   meanwhile, or the page left the swap cache while its lock was dropped)
 *   is retried in the next pass. This is the notorious O(slots × mms × ptes)
 *   swapoff of 2.4.
 *
 * Locking: the page lock is held while an mm is searched, and mmap_sem comes
 * before it in the lock order. As 2.6's unuse_mm and try_to_unuse do: each
 * mm is pinned under mmlist_lock by a user reference (mmget_not_zero: an mm
 * already exiting is skipped, exit_mmap frees its entries), so it cannot go
 * away once mmlist_lock is dropped; its mmap_sem is trylocked for reading;
 * if that fails (a writer holds it or waits for it), the page is activated
 * (reclaim is then unlikely to unmap it meanwhile), unlocked, mmap_sem is
 * taken with a sleeping down_read, and the page locked again and re-checked
 * (still entry's uptodate swap-cache page, no write-back under way) before
 * the search; if it is not, the slot waits for the next pass. So a CPU that
 * keeps mmap_sem busy only delays swapoff: skipping a busy mm instead, as
 * this file did, failed with EBUSY after MAX_PASSES when every pass met it
 * busy. The pin is dropped after the search; if the task exited
 * meanwhile, swapoff holds the last user and tears the mm down itself
 * (mmput → exit_mmap, which takes mmap_sem: after unlocking the page). Page
 * lock → pte lock → chain lock inside. Under bkl, kernel_flag throughout
 * (mmap_sem is kernel_flag: the trylock never fails).
 */
import {
  NIL,
  G_SWAP,
  G_ZONE,
  SW_INUSE,
  SW_SWAPON_SEM,
  Z_FREE,
  Z_MIN,
  I_INO,
  I_FLAGS,
  I_NRPAGES,
  PG_COUNT,
  globalLine,
  inodeBase,
  MM_PGD,
  MM_GEN,
  MM_RSS,
  MM_MMLIST_NEXT,
  PG_FLAGS,
  PG_INDEX,
  VMA_START,
  VMA_END,
  VMA_NEXT,
  MM_MMAP,
  mmBase,
  pageStruct,
  vmaBase,
} from '../machine/layout.js';
import { PG_anon, PG_uptodate, PG_dirty, PG_swapcache } from '../machine/page.js';
import { I_SHMEM } from '../mm/files.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { mmlist_lock, mmlist_unlock, mmap_read_lock, pte_lock, pte_unlock, mmap_assert_locked } from '../sync/scheme.js';
import { unlock_page } from '../sync/pagelock.js';
import { get_page } from '../mm/page_ref.js';
import { mmlist_first, mmget_not_zero, mmput, mmput_not_last } from '../mm/mm_struct.js';
import { pte_table } from '../mm/pgtable.js';
import { vma_pgoff_of } from '../mm/vma.js';
import {
  is_swap_pte,
  SWP_ENTRY,
  SWP_OFFSET,
  PMD_SIZE,
  _PAGE_PRESENT,
  _PAGE_USER,
  _PAGE_ACCESSED,
  mk_pte,
  pte_index,
  pteAddrOf,
} from '../mm/pte.js';
import { page_add_rmap } from '../rmap/index.js';
import { bkl_enter, bkl_exit, lock_page_sleep, mmap_read_trylock, mmap_read_unlock, type ReclaimCpu } from './context.js';
import { put_page, activate_page, mark_page_accessed } from './lru.js';
import { policyOf } from './policy.js';
import { swap_free, swap_count, swap_set_writeok } from './swapfile.js';
import { wait_on_page_writeback } from './writeback.js';
import { read_swap_cache_async, delete_from_swap_cache, in_swap_cache, RSC_GONE, RSC_NOMEM } from './swap_state.js';
import { workingset_swapoff } from './workingset.js';
import { shmem_unuse_all } from './shmem_swap.js';

export const ENOMEM = -12;
export const EBUSY = -16;
/** passes over the swap map before swapoff gives up (slots a fork keeps copying, pages that keep leaving the swap cache) */
const MAX_PASSES = 64;

/** Find the next pte in [a, end) of table pt holding swap offset `off` (lock-free look); -1 if none. */
function find_swap_pte(cpu: ReclaimCpu, pt: number, a: number, end: number, off: number): number {
  const w = cpu.w;
  for (; a < end; a = (a + 4096) >>> 0) {
    const pte = Atomics.load(w, cpu.l.frames + pteAddrOf(pt, pte_index(a)));
    if (is_swap_pte(pte) && SWP_OFFSET(pte) === off) return a;
  }
  return -1;
}

/**
 * unuse_vmas (2.6 unuse_vma, for every VMA): replace every pte of mm holding
 * `entry` with one mapping the (locked, uptodate, swap-cached) page pfn.
 * Caller holds mm's mmap_sem for reading. Returns how many ptes were replaced.
 */
function unuse_vmas(cpu: ReclaimCpu, mm: number, entry: number, pfn: number): number {
  mmap_assert_locked(cpu, mm);
  const w = cpu.w;
  const l = cpu.l;
  const off = SWP_OFFSET(entry);
  const p = pageStruct(l, pfn);
  let n = 0;
  for (let v = w[mmBase(l, mm) + MM_MMAP]!; v >= 0; v = w[vmaBase(l, v) + VMA_NEXT]!) {
    const end = w[vmaBase(l, v) + VMA_END]! >>> 0;
    for (let a = w[vmaBase(l, v) + VMA_START]! >>> 0; a < end; ) {
      const tableEnd = Math.min(((a & ~(PMD_SIZE - 1)) >>> 0) + PMD_SIZE, end);
      const pt = pte_table(cpu, mm, a);
      if (pt === NIL) {
        a = tableEnd;
        continue;
      }
      for (let hit = find_swap_pte(cpu, pt, a, tableEnd, off); hit >= 0; hit = find_swap_pte(cpu, pt, hit + 4096, tableEnd, off)) {
        if (!cpu.rmap.prealloc(cpu) || !cpu.rmap.anon_vma_prepare(cpu, v)) return n;
        const pteAddr = pteAddrOf(pt, pte_index(hit));
        const ptep = l.frames + pteAddr;
        const ptl = pte_lock(cpu, mm, pt, SITE.try_to_unuse);
        const pte = Atomics.load(w, ptep);
        if (is_swap_pte(pte) && SWP_OFFSET(pte) === off) {
          if ((Atomics.load(w, p + PG_FLAGS) & PG_anon) === 0) {
            Atomics.or(w, p + PG_FLAGS, PG_anon);
            w[p + PG_INDEX] = vma_pgoff_of(w, l, v, hit);
          }
          get_page(cpu, pfn);
          Atomics.store(w, ptep, mk_pte(pfn, _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED));
          Atomics.add(w, mmBase(l, mm) + MM_RSS, 1);
          page_add_rmap(cpu, cpu.rmap, pfn, pteAddr, v, hit);
          swap_free(cpu, entry); // the cache still holds the slot: never the last count
          n++;
        }
        pte_unlock(cpu, ptl);
      }
      a = tableEnd;
    }
  }
  return n;
}

/**
 * Lock page pfn (we hold a reference), wait for its write-back, and say
 * whether it is still entry's uptodate swap-cache page — what a search for
 * entry's ptes needs. The page is locked on return either way.
 */
function lock_swap_page(cpu: ReclaimCpu, pfn: number, entry: number): boolean {
  lock_page_sleep(cpu, pfn, SITE.try_to_unuse);
  wait_on_page_writeback(cpu, pfn); // issue 18: the slot is written until the device is done
  return (Atomics.load(cpu.w, pageStruct(cpu.l, pfn) + PG_FLAGS) & PG_uptodate) !== 0 && in_swap_cache(cpu, pfn, entry);
}

/**
 * unuse_mm (2.6 mm/swapfile.c): search pinned mm for entry's ptes with its
 * mmap_sem held for reading; page pfn locked. mmap_sem comes first in the
 * lock order, so only a trylock under the page lock; when it fails, 2.6's
 * way round: activate the page ("so shrink_cache is unlikely to unmap its
 * ptes while lock is dropped, so swapoff can make progress"), unlock it,
 * sleep on mmap_sem, lock the page again. False if the page is no longer
 * entry's uptodate swap-cache page then (not searched); locked again on
 * return either way.
 */
function unuse_mm(cpu: ReclaimCpu, mm: number, entry: number, pfn: number): boolean {
  if (!mmap_read_trylock(cpu, mm, SITE.try_to_unuse)) {
    // CLOCK-Pro's PG_active is its hot state, the policy's to give: there a reference is what counts
    if (policyOf(cpu).hitSetsReferenced === true) mark_page_accessed(cpu, pfn);
    else activate_page(cpu, pfn);
    unlock_page(cpu, pfn);
    mmap_read_lock(cpu, mm, SITE.try_to_unuse);
    if (!lock_swap_page(cpu, pfn, entry)) {
      mmap_read_unlock(cpu, mm);
      return false;
    }
  }
  unuse_vmas(cpu, mm, entry, pfn);
  mmap_read_unlock(cpu, mm);
  return true;
}

/**
 * unuse every mm's ptes of entry (page pfn locked, uptodate, entry's
 * swap-cache page). False if the page had to be unlocked and is no longer
 * that, or an mm was torn down here: the slot waits for the next pass. The
 * page is locked on return either way.
 */
function unuse_all(cpu: ReclaimCpu, entry: number, pfn: number): boolean {
  const w = cpu.w;
  const l = cpu.l;
  const list = cpu.scratch2;
  let nmm = 0;
  mmlist_lock(cpu, SITE.try_to_unuse);
  for (let mm = mmlist_first(cpu); mm >= 0 && 2 * nmm + 1 < list.length; mm = w[mmBase(l, mm) + MM_MMLIST_NEXT]!) {
    list[2 * nmm] = mm;
    list[2 * nmm + 1] = w[mmBase(l, mm) + MM_GEN]!;
    nmm++;
  }
  mmlist_unlock(cpu);
  for (let i = 0; i < nmm && swap_count(cpu, entry) > 1; i++) {
    const mm = list[2 * i]!;
    const b = mmBase(l, mm);
    // the pin (2.6: atomic_inc(&mm->mm_users) under mmlist_lock): the slot still holds the mm listed, not yet exiting
    mmlist_lock(cpu, SITE.try_to_unuse);
    const pinned = w[b + MM_PGD] !== NIL && w[b + MM_GEN] === list[2 * i + 1] && mmget_not_zero(cpu, mm);
    mmlist_unlock(cpu);
    if (!pinned) continue; // exiting: exit_mmap releases its entries
    const searched = unuse_mm(cpu, mm, entry, pfn);
    if (mmput_not_last(cpu, mm)) {
      if (!searched) return false;
      continue;
    }
    // the task exited while pinned: the last user is ours, and so is the
    // teardown — mmput's exit_mmap takes mmap_sem, above the page lock.
    // Its zap_page_range gathers in cpu.scratch2, this walk's list: stop
    // here, the next pass lists the mms again.
    unlock_page(cpu, pfn);
    mmput(cpu, mm);
    lock_swap_page(cpu, pfn, entry);
    return false;
  }
  return true;
}

/**
 * try_to_unuse: empty the swap area (see the header). Returns 0, ENOMEM
 * (no page to read a slot into) or EBUSY (slots still in use after
 * MAX_PASSES passes).
 */
export function try_to_unuse(cpu: ReclaimCpu): number {
  const w = cpu.w;
  const l = cpu.l;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    if (shmem_unuse_all(cpu) < 0) return ENOMEM;
    let left = 0;
    for (let off = 1; off < l.nrSwap; off++) {
      if (Atomics.load(w, l.swapMap + off) === 0) continue;
      left++;
      const entry = SWP_ENTRY(0, off);
      const pfn = read_swap_cache_async(cpu, entry, NIL, false);
      if (pfn === RSC_GONE) continue;
      if (pfn === RSC_NOMEM) return ENOMEM;
      if (lock_swap_page(cpu, pfn, entry) && unuse_all(cpu, entry, pfn)) {
        if (swap_count(cpu, entry) === 1) {
          Atomics.or(w, pageStruct(l, pfn) + PG_FLAGS, PG_dirty); // the only copy from now on
          delete_from_swap_cache(cpu, pfn);
          w[cpu.vm + VM.swapoff_pages]!++;
        }
      }
      unlock_page(cpu, pfn);
      put_page(cpu, pfn);
    }
    if (left === 0) return 0;
  }
  return EBUSY;
}

/**
 * vm_enough_memory (2.6 mm/mmap.c __vm_enough_memory, OVERCOMMIT_GUESS, as
 * sys_swapoff asks it): can `pages` more pages be had without this swap
 * area — free pages above pages_min plus the clean page cache of regular
 * files (droppable)? A lock-free estimate, as in the kernel.
 */
function vm_enough_memory(cpu: ReclaimCpu, pages: number): boolean {
  const w = cpu.w;
  const l = cpu.l;
  const z = globalLine(l, G_ZONE);
  let free = Atomics.load(w, z + Z_FREE) - w[z + Z_MIN]!;
  for (let ino = 0; ino < l.maxFiles; ino++) {
    const ib = inodeBase(l, ino);
    if (Atomics.load(w, ib + I_INO) === ino && (w[ib + I_FLAGS]! & I_SHMEM) === 0) free += w[ib + I_NRPAGES]!;
  }
  return free > pages;
}

/** Slots in use whose page is not in memory already (the swap cache's pages need no new frame). */
function swapped_out_pages(cpu: ReclaimCpu): number {
  const w = cpu.w;
  const l = cpu.l;
  let cached = 0;
  for (let pfn = 1; pfn < l.nrFrames; pfn++) {
    const p = pageStruct(l, pfn);
    if ((Atomics.load(w, p + PG_FLAGS) & PG_swapcache) !== 0 && Atomics.load(w, p + PG_COUNT) > 0) cached++;
  }
  return Math.max(0, Atomics.load(w, globalLine(l, G_SWAP) + SW_INUSE) - cached);
}

const swapon_sem = (cpu: ReclaimCpu) => globalLine(cpu.l, G_SWAP) + SW_SWAPON_SEM;

/**
 * sys_swapoff: stop allocating slots and bring everything back. Returns 0;
 * ENOMEM (refused up front, or no page for a slot: the area is switched
 * back on, nothing lost); EBUSY (slots still in use after MAX_PASSES, or
 * another swapoff / swapon running).
 */
export function sys_swapoff(cpu: ReclaimCpu): number {
  if (Atomics.compareExchange(cpu.w, swapon_sem(cpu), 0, 1) !== 0) return EBUSY;
  let r = ENOMEM;
  if (vm_enough_memory(cpu, swapped_out_pages(cpu))) {
    bkl_enter(cpu, SITE.try_to_unuse);
    swap_set_writeok(cpu, false);
    r = try_to_unuse(cpu);
    if (r < 0) swap_set_writeok(cpu, true);
    else workingset_swapoff(cpu); // issue 7: no nonresident cookie outlives the area (seed wiki)
    bkl_exit(cpu);
  }
  Atomics.store(cpu.w, swapon_sem(cpu), 0);
  return r;
}

/** sys_swapon: let reclaim use the area again. 0, or EBUSY while a swapoff runs. */
export function sys_swapon(cpu: ReclaimCpu): number {
  if (Atomics.compareExchange(cpu.w, swapon_sem(cpu), 0, 1) !== 0) return EBUSY;
  swap_set_writeok(cpu, true);
  Atomics.store(cpu.w, swapon_sem(cpu), 0);
  return 0;
}
