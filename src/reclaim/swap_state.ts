/*
 * swap_state.ts — the swap cache (Stephen Tweedie, seed 003: "All swapping
 * goes through the swap cache"; 2.4/2.6 mm/swap_state.c, REFERENCE.md §5).
 *
 * The swap cache is the page cache under one mapping, swapper_space
 * (SWAPPER_SPACE), keyed by swap entry: a page in it has PG_swapcache and
 * page->private = entry (mm/filemap.ts), holds one page reference and one
 * swap_map count for its slot, and keeps its anonymous identity
 * (mapping/index) for the rmap. Every swap-out and every swap-in goes
 * through it:
 *
 *   swap-out   add_to_swap (slot + cache) → try_to_unmap (each pte gets the
 *              entry, one count each) → swap_writepage → remove the page
 *              from the cache → free. A page shared by N ptes is written
 *              once and all N ptes name the same slot.
 *   swap-in    lookup_swap_cache; on a miss read_swap_cache_async allocates
 *              a page, inserts it locked, reads the slot, unlocks. Every
 *              CPU faulting the same entry meanwhile finds that page and
 *              waits on its lock; do_swap_page maps it and drops its pte's
 *              count; the page leaves the cache when its last count is the
 *              cache's own (remove_exclusive_swap_page, free_swap_and_cache).
 *
 * Read-ahead (swapin_readahead): on a miss the whole 2^page_cluster window
 * of slots around the entry (valid_swaphandles) is read into the cache;
 * read-ahead pages carry PG_readahead until a fault finds them (swap_ra,
 * swap_ra_hit).
 *
 * Locking: add / remove under the swapper_space lock (cache_lock) inside the
 * page lock; the caller of anything that changes a page's cache membership
 * holds the page lock, except insertion of a fresh page (locked here before
 * it becomes visible). swap_map counts per swapfile.ts. free_swap_and_cache
 * runs under zap's pte lock and only trylocks the page.
 */
import {
  PG_FLAGS,
  PG_COUNT,
  PG_MAPCOUNT,
  PG_PRIVATE,
  G_ZONE,
  Z_FREE,
  Z_LOW,
  globalLine,
  pageStruct,
  PAGEVEC_SIZE,
} from '../machine/layout.js';
import { PG_swapcache, PG_uptodate, PG_dirty, PG_readahead, PG_writeback, SWAPPER_SPACE } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import type { CpuBase } from '../machine/cpu.js';
import { SITE } from '../sync/classes.js';
import { trylock_page, unlock_page, assertPageLocked } from '../sync/pagelock.js';
import { __alloc_pages } from '../mm/page_alloc.js';
import { page_count } from '../mm/page_ref.js';
import { find_get_page, add_to_page_cache, cache_lock, cache_unlock, __remove_from_page_cache } from '../mm/filemap.js';
import { swap_duplicate } from '../mm/swap_map.js';
import { SWP_ENTRY, SWP_OFFSET } from '../mm/pte.js';
import { get_swap_page, swap_free, swap_count, valid_swaphandles } from './swapfile.js';
import { swap_readpage } from './page_io.js';
import { lru_cache_add, put_page, release_pages } from './lru.js';
import { kill_swap_users } from './oom.js';
import { workingset_swapin } from './workingset.js';

/**
 * Allocation used for a swap-in (set by index.ts to the reclaiming
 * allocator: read_swap_cache_async may reclaim like any fault).
 */
export const swapin_alloc: { alloc: (cpu: CpuBase, order: number, site: number, mm: number) => number } = {
  alloc: (cpu, order, site) => __alloc_pages(cpu, order, site),
};

const ps = (cpu: CpuBase, pfn: number) => pageStruct(cpu.l, pfn);
const pageFlags = (cpu: CpuBase, pfn: number) => Atomics.load(cpu.w, ps(cpu, pfn) + PG_FLAGS);

/** Is pfn the swap-cache page of entry right now? */
export function in_swap_cache(cpu: CpuBase, pfn: number, entry: number): boolean {
  return (pageFlags(cpu, pfn) & PG_swapcache) !== 0 && cpu.w[ps(cpu, pfn) + PG_PRIVATE] === entry;
}

/**
 * add_to_swap: give a locked anonymous page a swap slot and put it in the
 * swap cache (2.6 mm/swap_state.c). The page becomes PG_swapcache, dirty
 * (its contents are not on disk yet) and uptodate. False when swap is full.
 */
export function add_to_swap(cpu: CpuBase, pfn: number): boolean {
  for (;;) {
    const entry = get_swap_page(cpu);
    if (entry === 0) return false;
    if (add_to_page_cache(cpu, pfn, SWAPPER_SPACE, entry)) break;
    // -EEXIST, 2.6's "Raced with 'speculative' read_swap_cache_async": swapin_readahead cached a page
    // under the slot between get_swap_page and here (the slot was in use, its count ours). That copy
    // keeps the slot; give ours back and take another
    swap_free(cpu, entry);
  }
  Atomics.or(cpu.w, ps(cpu, pfn) + PG_FLAGS, PG_uptodate | PG_dirty);
  return true;
}

/**
 * delete_from_swap_cache: take a locked swap-cache page out of the cache,
 * release the cache's slot count and its page reference. The caller holds
 * another reference, so the page is not freed here.
 */
export function delete_from_swap_cache(cpu: CpuBase, pfn: number): void {
  assertPageLocked(cpu, pfn);
  // 2.6 __delete_from_swap_cache's BUG_ON(PageWriteback(page)): the device still writes it to its slot
  if ((pageFlags(cpu, pfn) & PG_writeback) !== 0) throw new Error(`delete_from_swap_cache: page ${pfn} is under write-back`);
  const entry = cpu.w[ps(cpu, pfn) + PG_PRIVATE]!;
  cache_lock(cpu, SWAPPER_SPACE, SITE.remove_from_page_cache);
  __remove_from_page_cache(cpu, pfn);
  cache_unlock(cpu, SWAPPER_SPACE);
  swap_free(cpu, entry);
  if (Atomics.sub(cpu.w, ps(cpu, pfn) + PG_COUNT, 1) <= 1) throw new Error(`delete_from_swap_cache: page ${pfn} lost its last reference`);
  Atomics.and(cpu.w, ps(cpu, pfn) + PG_FLAGS, ~PG_readahead);
}

/**
 * exclusive_swap_page: is the caller the page's only user besides the swap
 * cache — slot count 1 (the cache's), page count 2 (cache + caller), no pte?
 * Page locked by the caller. Nothing can add a user meanwhile: a new pte
 * needs the page lock (do_swap_page, unuse) or a pte already holding the
 * entry (fork's swap_duplicate), which the slot count would show.
 */
export function exclusive_swap_page(cpu: CpuBase, pfn: number): boolean {
  assertPageLocked(cpu, pfn);
  const p = ps(cpu, pfn);
  return (
    swap_count(cpu, cpu.w[p + PG_PRIVATE]!) === 1 &&
    page_count(cpu, pfn) === 2 &&
    Atomics.load(cpu.w, p + PG_MAPCOUNT) < 0
  );
}

/**
 * remove_exclusive_swap_page: if the caller is the page's only user, drop the
 * page from the swap cache and free its slot; the page becomes dirty (it is
 * the only copy now). Page locked. True if removed. Not while the page is
 * under write-back (2.6: its slot must stay until the write ends; the
 * fault then maps it read-only and a write copies it).
 */
export function remove_exclusive_swap_page(cpu: CpuBase, pfn: number): boolean {
  if ((pageFlags(cpu, pfn) & (PG_swapcache | PG_writeback)) !== PG_swapcache || !exclusive_swap_page(cpu, pfn)) return false;
  delete_from_swap_cache(cpu, pfn);
  Atomics.or(cpu.w, ps(cpu, pfn) + PG_FLAGS, PG_dirty);
  return true;
}

/**
 * lookup_swap_cache: the swap-cache page of entry with a reference, or -1.
 * A hit on a read-ahead page counts as swap_ra_hit.
 */
export function lookup_swap_cache(cpu: CpuBase, entry: number): number {
  const pfn = find_get_page(cpu, SWAPPER_SPACE, entry);
  if (pfn >= 0 && (pageFlags(cpu, pfn) & PG_readahead) !== 0) {
    if ((Atomics.and(cpu.w, ps(cpu, pfn) + PG_FLAGS, ~PG_readahead) & PG_readahead) !== 0) cpu.w[cpu.vm + VM.swap_ra_hit]!++;
  }
  return pfn;
}

/** read_swap_cache_async results besides a pfn */
export const RSC_GONE = -1; // the slot was freed meanwhile (nobody needs it)
export const RSC_NOMEM = -2; // no page could be allocated

/** True if the last read_swap_cache_async on this thread did the read itself (not a cache hit). */
export let rsc_did_read = false;

/**
 * read_swap_cache_async: the swap-cache page for entry, reading it in if it
 * is not cached (2.6 mm/swap_state.c). Returns the pfn with a reference
 * held for the caller, RSC_GONE or RSC_NOMEM. The new page is inserted
 * locked and unlocked after the read, so concurrent callers get the same
 * page and wait for the data on its lock. `readahead`: a speculative read
 * (no reclaim for it: only from free memory above the low watermark; the
 * page is marked PG_readahead and goes on the inactive list). `mm`: whose
 * fault this is (the OOM killer's "current").
 *
 * A read error (page_io.ts) takes the page out of the cache again and
 * SIGBUSes every process holding the entry (oom.ts kill_swap_users); the
 * caller gets the page back !PG_uptodate and must not map it.
 */
export function read_swap_cache_async(cpu: CpuBase, entry: number, mm: number, readahead: boolean): number {
  const w = cpu.w;
  rsc_did_read = false;
  for (;;) {
    const found = find_get_page(cpu, SWAPPER_SPACE, entry);
    if (found >= 0) return found;
    if (Atomics.load(w, cpu.l.swapMap + SWP_OFFSET(entry)) === 0) return RSC_GONE;
    let pfn: number;
    if (readahead) {
      const z = globalLine(cpu.l, G_ZONE);
      if (Atomics.load(w, z + Z_FREE) <= w[z + Z_LOW]!) return RSC_NOMEM;
      pfn = __alloc_pages(cpu, 0, SITE.do_swap_page);
    } else {
      pfn = swapin_alloc.alloc(cpu, 0, SITE.do_swap_page, mm);
    }
    if (pfn < 0) return RSC_NOMEM;
    // the slot must stay allocated while we read it: the cache's count, taken first
    if (!swap_duplicate(cpu, entry)) {
      put_page(cpu, pfn);
      return RSC_GONE;
    }
    trylock_page(cpu, pfn, SITE.do_swap_page); // fresh, invisible: always succeeds
    if (!add_to_page_cache(cpu, pfn, SWAPPER_SPACE, entry)) {
      // another CPU inserted it first: use theirs
      swap_free(cpu, entry);
      unlock_page(cpu, pfn);
      put_page(cpu, pfn);
      continue;
    }
    if (readahead) Atomics.or(w, ps(cpu, pfn) + PG_FLAGS, PG_readahead);
    lru_cache_add(cpu, pfn, workingset_swapin(cpu, pfn, entry, mm, readahead)); // issue 7: refault lookup; the policy picks the list
    rsc_did_read = true;
    if (!swap_readpage(cpu, pfn, entry)) {
      delete_from_swap_cache(cpu, pfn);
      unlock_page(cpu, pfn);
      kill_swap_users(cpu, entry);
      return pfn;
    }
    unlock_page(cpu, pfn);
    return pfn;
  }
}

/**
 * swapin_readahead: read the read-ahead window of entry (other than entry
 * itself, which the caller reads) into the swap cache (swap_ra counts pages
 * read). Called with no lock held.
 */
export function swapin_readahead(cpu: CpuBase, entry: number, mm: number, scratch: Int32Array): void {
  const n = valid_swaphandles(cpu, entry, scratch);
  const target = SWP_OFFSET(entry);
  for (let i = 0; i < n; i++) {
    const off = scratch[i]!;
    if (off === target) continue;
    const pfn = read_swap_cache_async(cpu, SWP_ENTRY(0, off), mm, true);
    if (pfn === RSC_NOMEM) break;
    if (pfn < 0) continue;
    if (rsc_did_read) cpu.w[cpu.vm + VM.swap_ra]!++;
    put_page(cpu, pfn);
  }
}

/**
 * free_swap_and_cache (2.6 mm/swapfile.c): zap dropped a swap pte. Release
 * its count; if only the swap cache still holds the slot, drop the cached
 * page too (if its lock can be had without waiting). Called under the pte
 * lock of the zapped pte: cache lock, trylock of the page lock, lru lock and
 * zone lock all nest inside it.
 */
export function free_swap_and_cache(cpu: CpuBase, entry: number): void {
  if (swap_free(cpu, entry) !== 1) return;
  const pfn = find_get_page(cpu, SWAPPER_SPACE, entry);
  if (pfn < 0) return;
  if (trylock_page(cpu, pfn, SITE.zap_pte_range)) {
    // 2.6: && !PageWriteback(page) — a page being written stays; reclaim frees it once the write ends
    if (in_swap_cache(cpu, pfn, entry) && (pageFlags(cpu, pfn) & PG_writeback) === 0 && exclusive_swap_page(cpu, pfn)) delete_from_swap_cache(cpu, pfn);
    unlock_page(cpu, pfn);
  }
  put_page(cpu, pfn);
}

/** free_swap_cache: if pfn is in the swap cache and only its users hold it, take it out (page lock by trylock). */
function free_swap_cache(cpu: CpuBase, pfn: number): void {
  // a plain read of the flags is the hint (tear-free); under the page lock remove_exclusive_swap_page re-checks
  if ((cpu.w[ps(cpu, pfn) + PG_FLAGS]! & PG_swapcache) !== 0 && trylock_page(cpu, pfn, SITE.zap_pte_range)) {
    remove_exclusive_swap_page(cpu, pfn);
    unlock_page(cpu, pfn);
  }
}

/**
 * free_pages_and_swap_cache (2.6 mm/swap_state.c): zap's release of its
 * gathered pages (tlb_finish_mmu) after the TLB flush, PAGEVEC_SIZE at a time: a page in
 * the swap cache whose last user's reference this is leaves the cache first
 * (no orphan swap-cache pages after exit), then release_pages drops the references with one
 * lru-lock hold per batch. Reuses pages[] (see release_pages).
 */
export function free_pages_and_swap_cache(cpu: CpuBase, pages: Int32Array, nr: number): void {
  for (let i = 0; i < nr; i += PAGEVEC_SIZE) {
    const todo = Math.min(PAGEVEC_SIZE, nr - i);
    for (let j = i; j < i + todo; j++) free_swap_cache(cpu, pages[j]!);
    release_pages(cpu, pages, i, todo);
  }
}
