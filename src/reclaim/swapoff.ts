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
 *   only copy now. A slot some pte still names (its mm's mmap_sem was busy,
 *   or a fork copied the entry meanwhile) is retried in the next pass. This
 *   is the notorious O(slots × mms × ptes) swapoff of 2.4.
 *
 * Locking: the page lock is held while an mm is searched; mmap_sem is only
 * trylocked (under mmlist_lock, which also keeps the mm from being freed
 * meanwhile) — taking it blocking under a page lock would invert the lock
 * order; a busy mm is left for the next pass. Page lock → pte lock → chain
 * lock inside. Under bkl, kernel_flag throughout.
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
  MM_USERS,
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
import { mmlist_lock, mmlist_unlock, pte_lock, pte_unlock, mmap_assert_locked } from '../sync/scheme.js';
import { unlock_page } from '../sync/pagelock.js';
import { get_page } from '../mm/page_ref.js';
import { mmlist_first } from '../mm/mm_struct.js';
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
import { put_page } from './lru.js';
import { swap_free, swap_count, swap_set_writeok } from './swapfile.js';
import { wait_on_page_writeback } from './writeback.js';
import { read_swap_cache_async, delete_from_swap_cache, in_swap_cache, RSC_GONE, RSC_NOMEM } from './swap_state.js';
import { workingset_swapoff } from './workingset.js';
import { shmem_unuse_all } from './shmem_swap.js';

export const ENOMEM = -12;
export const EBUSY = -16;
/** passes over the swap map before swapoff gives up (busy mms) */
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
 * unuse_mm: replace every pte of mm holding `entry` with one mapping the
 * (locked, uptodate, swap-cached) page pfn. Caller holds mm's mmap_sem for
 * reading. Returns how many ptes were replaced.
 */
function unuse_mm(cpu: ReclaimCpu, mm: number, entry: number, pfn: number): number {
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

/** unuse every mm's ptes of entry (page pfn locked). */
function unuse_all(cpu: ReclaimCpu, entry: number, pfn: number): void {
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
    mmlist_lock(cpu, SITE.try_to_unuse);
    let pinned = w[b + MM_PGD] !== NIL && w[b + MM_GEN] === list[2 * i + 1] && mmap_read_trylock(cpu, mm, SITE.try_to_unuse);
    if (pinned && Atomics.load(w, b + MM_USERS) <= 0) {
      mmap_read_unlock(cpu, mm);
      pinned = false;
    }
    mmlist_unlock(cpu);
    if (!pinned) continue;
    unuse_mm(cpu, mm, entry, pfn);
    mmap_read_unlock(cpu, mm);
  }
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
      lock_page_sleep(cpu, pfn, SITE.try_to_unuse);
      wait_on_page_writeback(cpu, pfn); // issue 18: the slot is written until the device is done
      if ((Atomics.load(w, pageStruct(l, pfn) + PG_FLAGS) & PG_uptodate) !== 0 && in_swap_cache(cpu, pfn, entry)) {
        unuse_all(cpu, entry, pfn);
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
