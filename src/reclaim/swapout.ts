/*
 * swapout.ts — the `swapout` policy: 2.4's virtual scan (Andrea Arcangeli's
 * 2.4.10+ VM, read in 2.4.17 mm/vmscan.c: shrink_caches, refill_inactive,
 * shrink_cache, swap_out, swap_out_mm, try_to_swap_out; REFERENCE.md §4.2).
 *
 * No reverse map is used: pages are found from the processes' side.
 *
 *   shrink_caches(priority)
 *     refill_inactive(nr · nr_active / ((nr_inactive + 1) · 2))
 *         active tail: PG_referenced (test-and-clear) → back to the active
 *         head; else → inactive, with PG_referenced set
 *     shrink_cache(nr, priority)        max_scan = nr_inactive / priority
 *         inactive tail: an unmapped page is freed if it can be (clean file
 *         page dropped, dirty written, swap-cache page written + removed);
 *         a mapped one cannot be (no rmap): it goes back to the head and
 *         counts against max_mapped = min(nr << (10 - priority), max_scan/10).
 *         When max_mapped runs out: "Alert! We've found too many mapped
 *         pages on the inactive list, so we start swapping out now!" →
 *
 *   swap_out: visit the mms on the mmlist from the cursor (K_SWAP_MM),
 *   each from its own resume address (MM_SWAP_ADDRESS), VMA by VMA, pte by
 *   pte, until SWAP_CLUSTER_MAX ptes have been unmapped:
 *
 *   try_to_swap_out(pte):   young → clear it, mark_page_accessed, keep
 *                           the page is active → keep
 *                           trylock the page, clear the pte, flush the TLB
 *                           swap-cache page → swap_duplicate, swap pte
 *                           file page       → pte none (it stays cached)
 *                           anonymous       → get_swap_page +
 *                              add_to_swap_cache (dirty), swap pte
 *
 * The page itself is only freed later, by shrink_cache, once its last pte is
 * gone. A page mapped by N processes must be met N times, in N address
 * spaces, before it can go — the cost LaHaise's page-centric clock
 * (clock.ts) was written to avoid. Works with every rmap scheme (it only
 * keeps the scheme's records right, through page_remove_rmap).
 *
 * Locking: mmlist_lock to choose an mm; that mm's mmap_sem is TRYlocked for
 * reading (2.4 relied on page_table_lock guarding the VMA list; here VMAs
 * change under mmap_sem only) so the VMAs and page tables stay put; then
 * each pte table's lock; the page lock is trylocked inside it (no edge);
 * swap_lock, the swapper_space lock, the chain lock and the lru lock nest
 * inside the pte lock as in the fault path (src/sync/index.ts).
 */
import {
  G_KSWAPD,
  G_LRU,
  K_SWAP_MM,
  L_NR_ACTIVE,
  L_NR_INACTIVE,
  MM_MMLIST_NEXT,
  MM_SWAP_ADDRESS,
  MM_USERS,
  MM_RSS,
  MM_PGD,
  NIL,
  PG_FLAGS,
  PG_MAPPING,
  PG_MAPCOUNT,
  PG_PRIVATE,
  PG_PT_NR,
  VMA_START,
  VMA_END,
  VMA_FLAGS,
  VMA_NEXT,
  globalLine,
  mmBase,
  pageStruct,
  vmaBase,
} from '../machine/layout.js';
import { PG_reserved, PG_active, PG_referenced, PG_swapcache, PG_dirty, PG_uptodate, SWAPPER_SPACE, isFileMapping } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { mmlist_lock, mmlist_unlock, pte_lock, pte_unlock, mmap_assert_locked, pte_assert_locked } from '../sync/scheme.js';
import { trylock_page, unlock_page } from '../sync/pagelock.js';
import { mmlist_first } from '../mm/mm_struct.js';
import { pte_table } from '../mm/pgtable.js';
import { pte_present, pte_pfn, pte_dirty, pte_index, pteAddrOf, _PAGE_ACCESSED, PMD_SIZE, TASK_SIZE } from '../mm/pte.js';
import { find_vma, VM_LOCKED } from '../mm/vma.js';
import { add_to_page_cache } from '../mm/filemap.js';
import { swap_duplicate } from '../mm/swap_map.js';
import { flush_tlb_mm } from '../mm/tlb.js';
import { page_remove_rmap } from '../rmap/index.js';
import { ISOLATE_BATCH, SWAP_CLUSTER_MAX, mmap_read_trylock, mmap_read_unlock, type ReclaimCpu, type ScanControl } from './context.js';
import { isolate_lru_pages, putback_lru_pages, lru_scanned, mark_page_accessed, put_page, test_clear_referenced } from './lru.js';
import { shrink_page, count_scanned, PAGE_FREED, PAGE_ACTIVATE } from './vmscan.js';
import { get_swap_page, swap_free } from './swapfile.js';
import { registerPolicy, type ReplacementPolicy } from './policy.js';

const DEF_PRIORITY = 6;

/* ---- the virtual scan ---- */

/** Scratch result of swap_out_pmd: the address it stopped at. */
let lastAddr = 0;

/**
 * try_to_swap_out: unmap one present pte (see the header). Called with the
 * pte table's lock held. Returns 1 if the pte was unmapped, 0 if kept.
 */
function try_to_swap_out(cpu: ReclaimCpu, mm: number, vma: number, addr: number, pt: number, ptep: number, pfn: number): number {
  pte_assert_locked(cpu, mm, pt);
  const w = cpu.w;
  const p = pageStruct(cpu.l, pfn);
  const flags = Atomics.load(w, p + PG_FLAGS);
  if ((flags & PG_reserved) !== 0) return 0;
  if ((Atomics.and(w, ptep, ~_PAGE_ACCESSED) & _PAGE_ACCESSED) !== 0) {
    mark_page_accessed(cpu, pfn);
    return 0;
  }
  if ((flags & PG_active) !== 0) return 0;
  if (!trylock_page(cpu, pfn, SITE.swap_out)) return 0;
  let entry = 0;
  if ((Atomics.load(w, p + PG_FLAGS) & PG_swapcache) !== 0) {
    entry = w[p + PG_PRIVATE]!;
    if (!swap_duplicate(cpu, entry)) {
      unlock_page(cpu, pfn);
      return 0;
    }
  } else if (!isFileMapping(w[p + PG_MAPPING]!)) {
    entry = get_swap_page(cpu);
    if (entry === 0) {
      unlock_page(cpu, pfn);
      return 0;
    }
    if (!add_to_page_cache(cpu, pfn, SWAPPER_SPACE, entry)) {
      swap_free(cpu, entry);
      unlock_page(cpu, pfn);
      return 0;
    }
    Atomics.or(w, p + PG_FLAGS, PG_uptodate | PG_dirty);
    swap_duplicate(cpu, entry); // the pte's count (the cache has the first)
  }
  const pte = Atomics.exchange(w, ptep, entry); // ptep_get_and_clear + set_pte(swp_entry_to_pte)
  if (entry === 0) w[pageStruct(cpu.l, pt) + PG_PT_NR]!--;
  flush_tlb_mm(cpu, mm); // flush_tlb_page: no CPU writes through the old translation any more
  if (pte_dirty(pte)) Atomics.or(w, p + PG_FLAGS, PG_dirty);
  page_remove_rmap(cpu, cpu.rmap, pfn, pteAddrOf(pt, pte_index(addr)), vma, addr);
  Atomics.sub(w, mmBase(cpu.l, mm) + MM_RSS, 1);
  unlock_page(cpu, pfn);
  put_page(cpu, pfn); // the pte's reference (a cache still holds the page)
  return 1;
}

/** swap_out_pmd: the ptes of [start, end) in table pt; returns the count left, sets lastAddr. */
function swap_out_pmd(cpu: ReclaimCpu, mm: number, vma: number, pt: number, start: number, end: number, count: number): number {
  const w = cpu.w;
  const frames = cpu.l.frames;
  let scanned = 0;
  let a = start;
  const ptl = pte_lock(cpu, mm, pt, SITE.swap_out);
  for (; a < end; a = (a + 4096) >>> 0) {
    const ptep = frames + pteAddrOf(pt, pte_index(a));
    const pte = Atomics.load(w, ptep);
    scanned++;
    if (!pte_present(pte)) continue;
    count -= try_to_swap_out(cpu, mm, vma, a, pt, ptep, pte_pfn(pte));
    if (count === 0) {
      a = (a + 4096) >>> 0;
      break;
    }
  }
  pte_unlock(cpu, ptl);
  w[cpu.vm + VM.pgscan_pte]! += scanned;
  lastAddr = a;
  return count;
}

/**
 * swap_out_mm: continue mm's scan from its swap_address until `count` ptes
 * were unmapped or the address space ends (swap_address = TASK_SIZE: the
 * next visit starts over). Caller holds mm's mmap_sem for reading.
 */
function swap_out_mm(cpu: ReclaimCpu, mm: number, count: number): number {
  mmap_assert_locked(cpu, mm);
  const w = cpu.w;
  const l = cpu.l;
  const mb = mmBase(l, mm);
  let addr = w[mb + MM_SWAP_ADDRESS]! >>> 0;
  for (let v = find_vma(cpu, mm, addr); v >= 0; v = w[vmaBase(l, v) + VMA_NEXT]!) {
    const vb = vmaBase(l, v);
    const end = w[vb + VMA_END]! >>> 0;
    let a = Math.max(addr, w[vb + VMA_START]! >>> 0);
    if ((w[vb + VMA_FLAGS]! & VM_LOCKED) !== 0) continue;
    while (a < end) {
      const tableEnd = Math.min(((a & ~(PMD_SIZE - 1)) >>> 0) + PMD_SIZE, end);
      const pt = pte_table(cpu, mm, a);
      if (pt === NIL) {
        a = tableEnd;
        continue;
      }
      count = swap_out_pmd(cpu, mm, v, pt, a, tableEnd, count);
      a = lastAddr;
      if (count === 0) {
        w[mb + MM_SWAP_ADDRESS] = a;
        return 0;
      }
    }
    addr = end;
  }
  w[mb + MM_SWAP_ADDRESS] = TASK_SIZE;
  return count;
}

const mmNext = (cpu: ReclaimCpu, mm: number) => {
  const n = cpu.w[mmBase(cpu.l, mm) + MM_MMLIST_NEXT]!;
  return n >= 0 ? n : mmlist_first(cpu);
};

/**
 * swap_out (2.4.17): unmap up to SWAP_CLUSTER_MAX ptes, visiting at most as
 * many mms as are on the mmlist. An mm whose mmap_sem is busy (a writer, or
 * a fork/munmap in progress) is passed over this time.
 */
function swap_out(cpu: ReclaimCpu): void {
  const w = cpu.w;
  const l = cpu.l;
  const cursorOff = globalLine(l, G_KSWAPD) + K_SWAP_MM;
  let nr = SWAP_CLUSTER_MAX;
  mmlist_lock(cpu, SITE.swap_out);
  let counter = 0;
  for (let mm = mmlist_first(cpu); mm >= 0; mm = w[mmBase(l, mm) + MM_MMLIST_NEXT]!) counter++;
  mmlist_unlock(cpu);
  while (counter-- > 0 && nr > 0) {
    mmlist_lock(cpu, SITE.swap_out);
    const first = mmlist_first(cpu);
    if (first < 0) {
      mmlist_unlock(cpu);
      return;
    }
    let mm = w[cursorOff]! - 1;
    if (mm < 0 || mm >= l.maxMm || w[mmBase(l, mm) + MM_PGD] === NIL) mm = first;
    const start = mm;
    let empty = false;
    while ((w[mmBase(l, mm) + MM_SWAP_ADDRESS]! >>> 0) >= TASK_SIZE) {
      w[mmBase(l, mm) + MM_SWAP_ADDRESS] = 0;
      mm = mmNext(cpu, mm);
      if (mm === start) {
        empty = true;
        break;
      }
    }
    if (empty) {
      w[cursorOff] = mm + 1;
      mmlist_unlock(cpu);
      return;
    }
    let pinned = mmap_read_trylock(cpu, mm, SITE.swap_out);
    if (pinned && Atomics.load(w, mmBase(l, mm) + MM_USERS) <= 0) {
      mmap_read_unlock(cpu, mm);
      pinned = false;
    }
    // the next visit starts with the following mm unless this one has more to give
    w[cursorOff] = (pinned ? mm : mmNext(cpu, mm)) + 1;
    mmlist_unlock(cpu);
    if (!pinned) continue;
    nr = swap_out_mm(cpu, mm, nr);
    mmap_read_unlock(cpu, mm);
  }
}

/* ---- the LRU half ---- */

/** 2.4.17 refill_inactive: age nrPages from the active tail. */
function refill_inactive_24(cpu: ReclaimCpu, nrPages: number, sc: ScanControl): void {
  const w = cpu.w;
  while (nrPages > 0) {
    const n = isolate_lru_pages(cpu, true, Math.min(nrPages, ISOLATE_BATCH), sc.batch, ISOLATE_BATCH, SITE.refill_inactive);
    w[cpu.vm + VM.pgrefill]! += lru_scanned;
    if (n === 0) return;
    nrPages -= lru_scanned;
    let deact = 0;
    for (let i = 0; i < n; i++) {
      const pfn = sc.batch[i]!;
      if (test_clear_referenced(cpu, pfn)) continue; // stays active
      const f = pageStruct(cpu.l, pfn) + PG_FLAGS;
      Atomics.and(w, f, ~PG_active);
      Atomics.or(w, f, PG_referenced); // one more reference brings it back (mark_page_accessed)
      deact++;
    }
    w[cpu.vm + VM.pgdeactivate]! += deact;
    putback_lru_pages(cpu, sc.batch, n);
  }
}

/** 2.4.17 shrink_cache: free unmapped inactive pages; too many mapped ones start swap_out. */
function shrink_cache_24(cpu: ReclaimCpu, sc: ScanControl): void {
  const w = cpu.w;
  const g = globalLine(cpu.l, G_LRU);
  const prio = Math.max(1, sc.priority);
  let maxScan = Math.floor(w[g + L_NR_INACTIVE]! / prio);
  const want = sc.nrToReclaim - sc.nrReclaimed;
  let maxMapped = Math.min(want << (10 - Math.min(10, prio)), Math.floor(maxScan / 10));
  while (maxScan > 0 && sc.nrReclaimed < sc.nrToReclaim) {
    const n = isolate_lru_pages(cpu, false, Math.min(maxScan, ISOLATE_BATCH), sc.batch, ISOLATE_BATCH, SITE.shrink_list);
    if (n === 0) break;
    maxScan -= lru_scanned;
    count_scanned(cpu, sc, lru_scanned);
    let k = 0;
    let alert = false;
    for (let i = 0; i < n; i++) {
      const pfn = sc.batch[i]!;
      const p = pageStruct(cpu.l, pfn);
      if (alert || Atomics.load(w, p + PG_MAPCOUNT) >= 0) {
        if (!alert && --maxMapped < 0) alert = true;
        sc.keep[k++] = pfn;
        continue;
      }
      const r = shrink_page(cpu, pfn, sc, 0);
      if (r === PAGE_FREED) continue;
      if (r === PAGE_ACTIVATE) {
        Atomics.or(w, p + PG_FLAGS, PG_active);
        w[cpu.vm + VM.pgactivate]!++;
      }
      sc.keep[k++] = pfn;
    }
    putback_lru_pages(cpu, sc.keep, k);
    if (alert) {
      swap_out(cpu);
      return;
    }
  }
}

export const swapoutPolicy: ReplacementPolicy = {
  name: 'swapout',
  usesRmap: false,
  defPriority: DEF_PRIORITY,
  newPageActive() {
    return false;
  },
  shrink(cpu, sc) {
    const g = globalLine(cpu.l, G_LRU);
    const nrActive = cpu.w[g + L_NR_ACTIVE]!;
    const nrInactive = cpu.w[g + L_NR_INACTIVE]!;
    const want = sc.nrToReclaim - sc.nrReclaimed;
    refill_inactive_24(cpu, Math.floor((want * nrActive) / ((nrInactive + 1) * 2)), sc);
    shrink_cache_24(cpu, sc);
    // nothing mapped left on the inactive list to trigger it, but memory is short: scan anyway
    if (sc.nrReclaimed < sc.nrToReclaim && sc.priority <= 1) swap_out(cpu);
  },
};

registerPolicy(swapoutPolicy);
