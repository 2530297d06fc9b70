/*
 * vmscan.ts — freeing one page, and the two ways reclaim is entered:
 * kswapd's balance pass and the allocating CPU's try_to_free_pages
 * (2.6 mm/vmscan.c shrink_list / pageout / remove_mapping /
 * try_to_free_pages / balance_pgdat; 2.4.17 shrink_cache; REFERENCE.md §4).
 *
 * SHRINK_PAGE: the policy has isolated a page (off its list, with a
 * reference) and decided it is a candidate. In order:
 *
 *   trylock the page (never sleep on it: reclaim runs inside faults too)
 *   under write-back already?                        → keep
 *   [SP_REFCHECK] PG_referenced, or young ptes via page_referenced → activate
 *   anonymous, not in the swap cache:
 *     unmapped and we hold the last reference        → free it
 *     mapped, no swap / swap full                    → activate
 *     add_to_swap: slot + swap cache (dirty)
 *   mapped: [SP_RMAP] try_to_unmap with the entry (anon) or none (file,
 *     shmem); FAIL → activate, AGAIN → keep. Without SP_RMAP (2.4's
 *     swap_out policy) a mapped page is left for the virtual scan      → keep
 *   shmem page: shmem_writepage moves it to the swap cache, its entry
 *     recorded in the inode's index (shmem_swap.ts); no slot → activate,
 *     busy → keep; from here on it is a swap-cache page
 *   dirty: swap-cache page → swap_writepage (sleeps holding the page lock;
 *     write error → activate, the page stays dirty), or with
 *     swapWriteout async swap_writepage_async (writeback.ts: the write is
 *     started in a cluster, the page kept and freed on a later pass once it
 *     completed)                                                    → keep;
 *     file page → writepage
 *   [SP_FREEABLE] clean, unmapped, count 2: parked on the freeable queue
 *     (freeable.ts) while it is short                               → keep
 *   remove_mapping: under the cache lock, if only the cache and we hold it
 *     (count 2), clean and unmapped, take it out (releasing the slot)
 *   unlock, drop our reference: the page is free                    → freed
 *
 * Clean file pages are thus simply dropped; dirty ones written back first;
 * anonymous pages always leave through the swap cache.
 *
 * Locking: entered with no lock held. Page lock (trylock) → rmap locks →
 * pte locks (trylock, in the rmap) ; page lock → cache lock / swap_lock ; the
 * page lock is held across the simulated I/O. kswapd and direct reclaim hold
 * kernel_flag throughout under `bkl` (context.ts).
 */
import { sleep_on, clock_ms } from '../timing/conductor.js';
import {
  G_ZONE,
  Z_FREE,
  Z_LOW,
  Z_HIGH,
  G_KSWAPD,
  K_WAKE,
  PG_FLAGS,
  PG_MAPPING,
  PG_MAPCOUNT,
  PG_PRIVATE,
  PG_COUNT,
  globalLine,
  pageStruct,
} from '../machine/layout.js';
import { PG_writeback, PG_swapcache, PG_dirty, PG_active, PG_referenced, SWAPPER_SPACE, isFileMapping } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import type { CpuBase } from '../machine/cpu.js';
import { SITE } from '../sync/classes.js';
import { trylock_page, unlock_page } from '../sync/pagelock.js';
import { __free_pages_ok } from '../mm/page_alloc.js';
import { put_page_testzero, page_count } from '../mm/page_ref.js';
import { drain_local_pages } from '../mm/pcp.js';
import { cache_lock, cache_unlock, __remove_from_page_cache, page_cache_mapping } from '../mm/filemap.js';
import { SWAP_AGAIN, SWAP_FAIL } from '../rmap/types.js';
import { SWAP_CLUSTER_MAX, bkl_enter, bkl_exit, scanControl, type ReclaimCpu, type ScanControl } from './context.js';
import { lru_add_drain, test_clear_referenced } from './lru.js';
import { swap_free, swap_writeok } from './swapfile.js';
import { add_to_swap } from './swap_state.js';
import { swap_writepage, file_writepage } from './page_io.js';
import { writeout_async, swap_writepage_async, wb_submit, wb_complete } from './writeback.js';
import { freeable_park } from './freeable.js';
import { INJECTIONS } from '../config.js';
import { policyOf } from './policy.js';
import { workingset_eviction } from './workingset.js';
import { is_shmem_mapping, shmem_writepage, SHMEM_MOVED, SHMEM_NOSWAP } from './shmem_swap.js';

export const PAGE_FREED = 0;
export const PAGE_KEEP = 1;
export const PAGE_ACTIVATE = 2;

/** shrink_page mode: may unmap through the rmap (clock, 2q) */
export const SP_RMAP = 1;
/** shrink_page mode: a referenced mapped page is activated (2.6 shrink_list) */
export const SP_REFCHECK = 2;
/** shrink_page mode: park a page ready to be freed on the freeable queue instead (clock + config.freeable, freeable.ts) */
export const SP_FREEABLE = 4;

/** planted bug (config.inject): reclaim ignores PG_writeback and frees a page whose write is in flight */
const INJECT_FREE_UNDER_WRITEBACK = INJECTIONS.indexOf('free_under_writeback');

const mapped = (w: Int32Array, p: number) => Atomics.load(w, p + PG_MAPCOUNT) >= 0;

/**
 * remove_mapping (2.6 mm/vmscan.c): take a locked, clean, unmapped page out
 * of its page or swap cache if the cache and the caller are its only users
 * (count 2). Returns false (page untouched) otherwise. On success the
 * cache's reference is dropped (the caller's remains) and a swap slot's
 * cache count released.
 */
export function remove_mapping(cpu: CpuBase, pfn: number, swap: boolean): boolean {
  const w = cpu.w;
  const p = pageStruct(cpu.l, pfn);
  const mapping = swap ? SWAPPER_SPACE : w[p + PG_MAPPING]!;
  if (!swap && !isFileMapping(mapping)) return false;
  cache_lock(cpu, mapping, SITE.remove_from_page_cache);
  if (
    page_cache_mapping(cpu, pfn) !== mapping ||
    page_count(cpu, pfn) !== 2 ||
    (Atomics.load(w, p + PG_FLAGS) & PG_dirty) !== 0 ||
    ((Atomics.load(w, p + PG_FLAGS) & PG_writeback) !== 0 && cpu.inject !== INJECT_FREE_UNDER_WRITEBACK) ||
    mapped(w, p)
  ) {
    cache_unlock(cpu, mapping);
    return false;
  }
  const entry = swap ? w[p + PG_PRIVATE]! : 0;
  // the planted bug goes the whole way: the page leaves the cache and is freed as if its write were done
  if (cpu.inject === INJECT_FREE_UNDER_WRITEBACK) Atomics.and(w, p + PG_FLAGS, ~PG_writeback);
  workingset_eviction(cpu, pfn, entry); // issue 7: remember_page, before the key is cleared
  __remove_from_page_cache(cpu, pfn);
  cache_unlock(cpu, mapping);
  if (swap) swap_free(cpu, entry);
  Atomics.sub(w, p + PG_COUNT, 1); // the cache's reference
  return true;
}

/** The body of shrink_page with the page locked; see the header. PAGE_FREED leaves it locked. */
function shrink_locked(cpu: ReclaimCpu, pfn: number, mode: number): number {
  const w = cpu.w;
  const l = cpu.l;
  const p = pageStruct(l, pfn);
  let flags = Atomics.load(w, p + PG_FLAGS);
  if ((flags & PG_writeback) !== 0 && cpu.inject !== INJECT_FREE_UNDER_WRITEBACK) return PAGE_KEEP;
  const mapping = w[p + PG_MAPPING]!;
  let swapcache = (flags & PG_swapcache) !== 0;
  const file = !swapcache && isFileMapping(mapping);
  const useRmap = (mode & SP_RMAP) !== 0;
  if ((mode & SP_REFCHECK) !== 0) {
    let ref = test_clear_referenced(cpu, pfn) ? 1 : 0;
    if (mapped(w, p)) {
      if (useRmap) ref += cpu.rmap.page_referenced(cpu, pfn);
      if (ref > 0) return PAGE_ACTIVATE;
    }
  }
  if (!swapcache && !file) {
    if (!mapped(w, p)) return page_count(cpu, pfn) === 1 ? PAGE_FREED : PAGE_KEEP;
    if (!useRmap) return PAGE_KEEP;
    if (!swap_writeok(cpu) || !add_to_swap(cpu, pfn)) return PAGE_ACTIVATE;
    swapcache = true;
  }
  if (mapped(w, p)) {
    if (!useRmap) return PAGE_KEEP;
    const r = cpu.rmap.try_to_unmap(cpu, pfn, swapcache ? w[p + PG_PRIVATE]! : 0);
    if (r === SWAP_FAIL) {
      w[cpu.vm + VM.nr_unmap_fail]!++;
      return PAGE_ACTIVATE;
    }
    if (r === SWAP_AGAIN) return PAGE_KEEP;
  }
  if (file && is_shmem_mapping(cpu, mapping)) {
    const r = shmem_writepage(cpu, pfn);
    if (r !== SHMEM_MOVED) return r === SHMEM_NOSWAP ? PAGE_ACTIVATE : PAGE_KEEP;
    swapcache = true;
  }
  flags = Atomics.load(w, p + PG_FLAGS);
  if ((flags & PG_dirty) !== 0) {
    if (swapcache) {
      if (writeout_async(cpu)) {
        swap_writepage_async(cpu, pfn);
        return PAGE_KEEP;
      }
      if (!swap_writepage(cpu, pfn)) return PAGE_ACTIVATE;
    } else {
      file_writepage(cpu, pfn);
    }
  }
  if ((mode & SP_FREEABLE) !== 0 && freeable_park(cpu, pfn)) return PAGE_KEEP;
  return remove_mapping(cpu, pfn, swapcache) ? PAGE_FREED : PAGE_KEEP;
}

/**
 * shrink_page: try to free an isolated page (the caller holds a reference
 * and no lock). PAGE_FREED: the page is gone (sc.nrReclaimed and pgsteal
 * counted); otherwise the caller puts it back — to the active list for
 * PAGE_ACTIVATE (the caller sets PG_active).
 */
export function shrink_page(cpu: ReclaimCpu, pfn: number, sc: ScanControl, mode: number): number {
  if (!trylock_page(cpu, pfn, SITE.shrink_list)) return PAGE_KEEP;
  const r = shrink_locked(cpu, pfn, mode);
  unlock_page(cpu, pfn);
  if (r !== PAGE_FREED) return r;
  const w = cpu.w;
  Atomics.and(w, pageStruct(cpu.l, pfn) + PG_FLAGS, ~(PG_active | PG_referenced));
  if (put_page_testzero(cpu, pfn)) __free_pages_ok(cpu, pfn, 0);
  sc.nrReclaimed++;
  w[cpu.vm + (sc.kswapd ? VM.pgsteal_kswapd : VM.pgsteal_direct)]!++;
  return PAGE_FREED;
}

/** Count pages looked at by a pass (pgscan_kswapd / pgscan_direct). */
export function count_scanned(cpu: CpuBase, sc: ScanControl, n: number): void {
  sc.nrScanned += n;
  cpu.w[cpu.vm + (sc.kswapd ? VM.pgscan_kswapd : VM.pgscan_direct)]! += n;
}

/* ------------------------------------------------------------------------ */
/* entry points                                                              */
/* ------------------------------------------------------------------------ */

/**
 * try_to_free_pages (direct reclaim): called by an allocating CPU below the
 * min watermark (alloc.ts). Drains its own pagevec, then runs the policy at
 * falling priority until SWAP_CLUSTER_MAX pages are freed or priority 0 is
 * done. Returns the pages freed. Called with no spinlock held (maybe the
 * caller's mmap_sem; kernel_flag under bkl, taken here if not held).
 */
export function try_to_free_pages(cpu: ReclaimCpu): number {
  const policy = policyOf(cpu);
  const sc = scanControl(cpu);
  const t0 = clock_ms();
  bkl_enter(cpu, SITE.shrink_list);
  lru_add_drain(cpu);
  wb_complete(cpu); // the swap device's completions, taken on this CPU
  sc.kswapd = false;
  let total = 0;
  for (let prio = policy.defPriority; prio >= 0 && total < SWAP_CLUSTER_MAX; prio--) {
    sc.priority = prio;
    sc.nrToReclaim = SWAP_CLUSTER_MAX - total;
    sc.nrReclaimed = 0;
    sc.nrScanned = 0;
    policy.shrink(cpu, sc);
    wb_submit(cpu); // no cluster stays open past a pass
    total += sc.nrReclaimed;
  }
  bkl_exit(cpu);
  cpu.w[cpu.vm + VM.reclaim_us]! += Math.round((clock_ms() - t0) * 1000);
  return total;
}

/**
 * shrink_all_memory (2.6, for suspend; here for tests and benchmarks): free
 * up to nr pages, as hard as the policy can. Returns the pages freed.
 */
export function shrink_all_memory(cpu: ReclaimCpu, nr: number): number {
  let total = 0;
  for (let idle = 0; total < nr && idle < 2; ) {
    const got = try_to_free_pages(cpu);
    total += got;
    idle = got === 0 ? idle + 1 : 0;
  }
  return total;
}

const zoneWord = (cpu: CpuBase, k: number) => globalLine(cpu.l, G_ZONE) + k;

/** Free pages in the buddy lists (Z_FREE: what the watermarks are compared with). */
export const zone_free = (cpu: CpuBase) => Atomics.load(cpu.w, zoneWord(cpu, Z_FREE));

/**
 * wakeup_kswapd: an allocation saw free pages below the low watermark.
 * Wakes kswapd if it is asleep (kswapd_wake counts actual wake-ups).
 */
export function wakeup_kswapd(cpu: CpuBase): void {
  const w = cpu.w;
  const off = globalLine(cpu.l, G_KSWAPD) + K_WAKE;
  if (Atomics.load(w, off) === 0 && Atomics.compareExchange(w, off, 0, 1) === 0) {
    Atomics.notify(w, off);
    w[cpu.vm + VM.kswapd_wake]!++;
  }
}

/**
 * kswapd_sleep: kswapd has balanced the zone: clear its wake word and sleep
 * on it up to `ms` (Atomics.wait; a waker's notify ends it early). A wake-up
 * cannot be lost: the word is cleared before the watermark is re-read, and a
 * waker sets it back to 1 before notifying. Returns true if there is work.
 */
export function kswapd_sleep(cpu: CpuBase, ms: number): boolean {
  const w = cpu.w;
  const off = globalLine(cpu.l, G_KSWAPD) + K_WAKE;
  Atomics.store(w, off, 0);
  if (zone_free(cpu) < w[zoneWord(cpu, Z_LOW)]!) return true;
  sleep_on(w, off, 0, ms);
  return Atomics.load(w, off) !== 0 || zone_free(cpu) < w[zoneWord(cpu, Z_LOW)]!;
}

/**
 * kswapd_balance (one round of balance_pgdat): while free pages are below
 * the high watermark, run the policy from DEF_PRIORITY down until a batch of
 * SWAP_CLUSTER_MAX pages is freed; kswapd's freed pages leave its per-CPU
 * list at once so that the watermark sees them. Returns pages freed, or -1
 * when the zone is already above high. The caller loops (checking the
 * stop-the-world flag between rounds) and sleeps when nothing could be freed.
 */
export function kswapd_balance(cpu: ReclaimCpu): number {
  const w = cpu.w;
  const high = w[zoneWord(cpu, Z_HIGH)]!;
  if (zone_free(cpu) >= high) return -1;
  const policy = policyOf(cpu);
  const sc = scanControl(cpu);
  const t0 = clock_ms();
  bkl_enter(cpu, SITE.kswapd);
  wb_complete(cpu);
  sc.kswapd = true;
  let total = 0;
  for (let prio = policy.defPriority; prio >= 0 && total < SWAP_CLUSTER_MAX && zone_free(cpu) < high; prio--) {
    sc.priority = prio;
    sc.nrToReclaim = SWAP_CLUSTER_MAX - total;
    sc.nrReclaimed = 0;
    sc.nrScanned = 0;
    policy.shrink(cpu, sc);
    wb_submit(cpu);
    drain_local_pages(cpu);
    total += sc.nrReclaimed;
  }
  bkl_exit(cpu);
  w[cpu.vm + VM.pageoutrun]!++;
  w[cpu.vm + VM.reclaim_us]! += Math.round((clock_ms() - t0) * 1000);
  return total;
}
