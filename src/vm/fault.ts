/*
 * fault.ts — the page-fault handler: handle_mm_fault and its cases.
 *
 *   handle_mm_fault   mmap_sem(read) → find_vma → access check → pte_alloc
 *                     → pte lock → dispatch on the pte:
 *     none, anonymous private   do_anonymous_page (ZERO_PAGE on read,
 *                               a zeroed page on write)
 *     none, file / shared anon  do_no_page (page cache; major if read from
 *                               the file store), COW at once on a private write
 *     present, write, !RW       do_wp_page (copy-on-write; reuse the page when
 *                               this pte is its only user — can_share_swap_page)
 *     swap entry                do_swap_page (reclaim/swap.ts)
 * Sources: 2.4 mm/memory.c (handle_mm_fault, do_anonymous_page, do_no_page,
 * do_wp_page), REFERENCE.md §7.1: any step that allocates or does I/O drops
 * the pte lock, then retakes it and re-checks the pte (pte_same) before
 * installing; the loser of a race frees what it prepared.
 *
 * Locking: mmap_sem read around the whole fault; the pte lock (scheme) while
 * reading/installing the pte; page_add_rmap/page_remove_rmap inside it.
 * Hot path (anonymous write fault) allocates nothing.
 */
import { charge, page_line_w, mm_line_w, COST, C_FAULT, C_FAULT_WALK } from '../timing/index.js';
import {
  NIL,
  PG_FLAGS,
  PG_MAPPING,
  PG_INDEX,
  PG_COUNT,
  PG_MAPCOUNT,
  PG_PT_NR,
  MM_RSS,
  VMA_FLAGS,
  VMA_FILE,
  VMA_START,
  mmBase,
  pageStruct,
  vmaBase,
} from '../machine/layout.js';
import { PG_swapcache, PG_anon, PG_reserved } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { mmap_read_lock, mmap_read_unlock, pte_lock, pte_unlock, pte_assert_locked, mmap_assert_locked } from '../sync/scheme.js';
import { pte_alloc, pteOff } from '../mm/pgtable.js';
import {
  _PAGE_PRESENT,
  _PAGE_RW,
  _PAGE_USER,
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  mk_pte,
  pte_pfn,
  pte_index,
  pteAddrOf,
  is_swap_pte,
} from '../mm/pte.js';
import { find_vma, vma_pgoff_of, VM_READ, VM_WRITE, VM_SHARED } from '../mm/vma.js';
import { flush_tlb_mm } from '../mm/tlb.js';
import { clear_page, copy_page } from '../mm/clear_page.js';
import { page_add_rmap, page_remove_rmap } from '../rmap/index.js';
import { get_page, ZERO_PFN } from '../mm/page_ref.js';
import { put_page, lru_cache_add_anon } from '../reclaim/lru.js';
import { alloc_page_vma } from '../reclaim/alloc.js';
import { do_swap_page } from '../reclaim/swap_fault.js';
import { filemap_nopage } from './filemap_fault.js';
import type { Cpu } from './cpu.js';
import { trace_event, TR_FAULT_BEGIN, TR_FAULT_END } from '../machine/trace.js';

export const VM_FAULT_MINOR = 1;
export const VM_FAULT_MAJOR = 2;
export const VM_FAULT_SIGSEGV = -1;
export const VM_FAULT_OOM = -2;
export const VM_FAULT_SIGBUS = -3;
export const VM_FAULT_RETRY = 0;

const A_D = _PAGE_ACCESSED | _PAGE_DIRTY;
/** pte_same, ignoring the accessed/dirty bits the MMU may set meanwhile */
const pte_same = (a: number, b: number) => ((a ^ b) & ~A_D) === 0;

/** Install pte for pfn in an empty slot; caller holds the pte lock. */
function set_pte_new(cpu: Cpu, ptPfn: number, slot: number, pfn: number, prot: number, mm: number): void {
  pte_assert_locked(cpu, mm, ptPfn);
  const w = cpu.w;
  Atomics.store(w, cpu.l.frames + pteAddrOf(ptPfn, slot), mk_pte(pfn, prot));
  w[pageStruct(cpu.l, ptPfn) + PG_PT_NR]!++;
  Atomics.add(w, mmBase(cpu.l, mm) + MM_RSS, 1);
  // the table's struct page and the mm's rss line: a thread's sibling on another CPU wrote them last (a locked add: one after the other)
  charge(page_line_w(ptPfn) + mm_line_w(mm));
}

/**
 * do_anonymous_page: first touch of a private anonymous page. A read maps the
 * shared ZERO_PAGE read-only (2.4); a write gets a freshly zeroed page.
 */
function do_anonymous_page(cpu: Cpu, mm: number, vma: number, addr: number, ptPfn: number, write: boolean): number {
  const w = cpu.w;
  const slot = pte_index(addr);
  const ptep = cpu.l.frames + pteAddrOf(ptPfn, slot);
  if (!write) {
    const ptl = pte_lock(cpu, mm, ptPfn, SITE.do_anonymous_page);
    if (w[ptep] === 0) {
      Atomics.store(w, ptep, mk_pte(ZERO_PFN, _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED));
      w[pageStruct(cpu.l, ptPfn) + PG_PT_NR]!++;
      charge(page_line_w(ptPfn));
    }
    pte_unlock(cpu, ptl);
    return VM_FAULT_MINOR;
  }
  // pte_chain_alloc + anon_vma_prepare, before the pte lock (rmap/types.ts)
  if (!cpu.rmap.prealloc(cpu) || !cpu.rmap.anon_vma_prepare(cpu, vma)) return VM_FAULT_OOM;
  const pfn = alloc_page_vma(cpu, mm, SITE.do_anonymous_page);
  if (pfn < 0) return VM_FAULT_OOM;
  clear_page(cpu, pfn, 0); // clear_user_highpage: the real 4 KiB zeroing
  cpu.w[cpu.vm + VM.zero_fill]!++;
  const p = pageStruct(cpu.l, pfn);
  Atomics.or(w, p + PG_FLAGS, PG_anon);
  w[p + PG_INDEX] = vma_pgoff_of(w, cpu.l, vma, addr);
  const ptl = pte_lock(cpu, mm, ptPfn, SITE.do_anonymous_page);
  if (w[ptep] !== 0) {
    pte_unlock(cpu, ptl);
    put_page(cpu, pfn);
    return VM_FAULT_MINOR;
  }
  set_pte_new(cpu, ptPfn, slot, pfn, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | A_D, mm);
  page_add_rmap(cpu, cpu.rmap, pfn, pteAddrOf(ptPfn, slot), vma, addr);
  pte_unlock(cpu, ptl);
  lru_cache_add_anon(cpu, pfn);
  return VM_FAULT_MINOR;
}

/**
 * do_wp_page: write to a present read-only pte of a writable VMA. Called with
 * the pte lock held (`ptl`); drops it. Reuses the page when it is a private
 * anonymous page mapped only here (_count == 1, mapcount == 1); otherwise
 * copies it (the ZERO_PAGE copies as zeros).
 */
function do_wp_page(cpu: Cpu, mm: number, vma: number, addr: number, ptPfn: number, pte: number, ptl: number): number {
  pte_assert_locked(cpu, mm, ptPfn);
  const w = cpu.w;
  const l = cpu.l;
  const slot = pte_index(addr);
  const pteAddr = pteAddrOf(ptPfn, slot);
  const ptep = l.frames + pteAddr;
  const old = pte_pfn(pte);
  const op = pageStruct(l, old);
  const oflags = Atomics.load(w, op + PG_FLAGS);
  cpu.w[cpu.vm + VM.cow_fault]!++;
  if (
    (oflags & (PG_reserved | PG_swapcache)) === 0 &&
    w[op + PG_MAPPING]! <= 0 &&
    Atomics.load(w, op + PG_COUNT) === 1 &&
    Atomics.load(w, op + PG_MAPCOUNT) === 0
  ) {
    Atomics.or(w, ptep, _PAGE_RW | A_D);
    pte_unlock(cpu, ptl);
    cpu.w[cpu.vm + VM.cow_reuse]!++;
    return VM_FAULT_MINOR;
  }
  const reserved = (oflags & PG_reserved) !== 0;
  if (!reserved) get_page(cpu, old);
  pte_unlock(cpu, ptl);
  if (!cpu.rmap.prealloc(cpu) || !cpu.rmap.anon_vma_prepare(cpu, vma)) {
    if (!reserved) put_page(cpu, old);
    return VM_FAULT_OOM;
  }
  const pfn = alloc_page_vma(cpu, mm, SITE.do_wp_page);
  if (pfn < 0) {
    if (!reserved) put_page(cpu, old);
    return VM_FAULT_OOM;
  }
  if (reserved) clear_page(cpu, pfn, 0);
  else copy_page(cpu, pfn, old);
  const np = pageStruct(l, pfn);
  Atomics.or(w, np + PG_FLAGS, PG_anon);
  w[np + PG_INDEX] = vma_pgoff_of(w, l, vma, addr);
  const ptl2 = pte_lock(cpu, mm, ptPfn, SITE.do_wp_page);
  const cur = Atomics.load(w, ptep);
  if (!pte_same(cur, pte)) {
    pte_unlock(cpu, ptl2);
    put_page(cpu, pfn);
    if (!reserved) put_page(cpu, old);
    return VM_FAULT_MINOR;
  }
  if (!reserved) page_remove_rmap(cpu, cpu.rmap, old, pteAddr, vma, addr);
  Atomics.store(w, ptep, mk_pte(pfn, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | A_D));
  page_add_rmap(cpu, cpu.rmap, pfn, pteAddr, vma, addr);
  pte_unlock(cpu, ptl2);
  // another CPU of this mm may still be reading the old page through the old pte
  flush_tlb_mm(cpu, mm);
  lru_cache_add_anon(cpu, pfn);
  if (!reserved) {
    put_page(cpu, old); // the mapping's reference
    put_page(cpu, old); // our pin
  }
  return VM_FAULT_MINOR;
}

/**
 * do_no_page: first touch of a file-backed (or shared anonymous) page.
 * filemap_nopage returns the page-cache page with a reference held for us;
 * a private write fault copies it at once.
 */
function do_no_page(cpu: Cpu, mm: number, vma: number, addr: number, ptPfn: number, write: boolean): number {
  const w = cpu.w;
  const l = cpu.l;
  const vb = vmaBase(l, vma);
  const flags = w[vb + VMA_FLAGS]!;
  const ino = w[vb + VMA_FILE]!;
  const index = vma_pgoff_of(w, l, vma, addr);
  const cow = write && (flags & VM_SHARED) === 0;
  if (!cpu.rmap.prealloc(cpu) || (cow && !cpu.rmap.anon_vma_prepare(cpu, vma))) return VM_FAULT_OOM;
  let major = false;
  let pfn = filemap_nopage(cpu, ino, index, mm);
  if (pfn === VM_FAULT_SIGBUS || pfn === VM_FAULT_OOM) return pfn;
  if (pfn < -10) {
    pfn = -pfn - 16; // filemap_nopage encodes "read from the file store" as -(pfn+16)
    major = true;
  }
  const shared = (flags & VM_SHARED) !== 0;
  let prot = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
  const cowCopy = write && !shared;
  if (cowCopy) {
    // private write: break COW now (do_no_page's "copy if write_access && !VM_SHARED")
    const np = alloc_page_vma(cpu, mm, SITE.do_file_page);
    if (np < 0) {
      put_page(cpu, pfn);
      return VM_FAULT_OOM;
    }
    copy_page(cpu, np, pfn);
    const npp = pageStruct(l, np);
    Atomics.or(w, npp + PG_FLAGS, PG_anon);
    w[npp + PG_INDEX] = vma_pgoff_of(w, l, vma, addr);
    put_page(cpu, pfn);
    pfn = np;
    prot |= _PAGE_RW | _PAGE_DIRTY;
  } else if (shared && (flags & VM_WRITE) !== 0) {
    prot |= _PAGE_RW;
    if (write) prot |= _PAGE_DIRTY;
  }
  const slot = pte_index(addr);
  const ptl = pte_lock(cpu, mm, ptPfn, SITE.do_file_page);
  if (w[l.frames + pteAddrOf(ptPfn, slot)] !== 0) {
    pte_unlock(cpu, ptl);
    put_page(cpu, pfn);
    return VM_FAULT_MINOR;
  }
  set_pte_new(cpu, ptPfn, slot, pfn, prot, mm);
  page_add_rmap(cpu, cpu.rmap, pfn, pteAddrOf(ptPfn, slot), vma, addr);
  pte_unlock(cpu, ptl);
  // only our own COW copy is new to the LRU (a page-cache page went on it when it was read in).
  // Decided from what we did, never by re-reading the page after the unlock: by then the pte may
  // be gone and a page-cache page migrated or reclaimed, its frame freed with ->mapping cleared.
  if (cowCopy) lru_cache_add_anon(cpu, pfn);
  cpu.w[cpu.vm + VM.file_fault]!++;
  if (major) {
    cpu.w[cpu.vm + VM.pgmajfault]!++;
    return VM_FAULT_MAJOR;
  }
  return VM_FAULT_MINOR;
}

/**
 * handle_mm_fault: resolve a fault at addr in mm. Returns VM_FAULT_MINOR /
 * MAJOR, or a negative VM_FAULT_* error (the caller delivers SIGSEGV/SIGBUS or
 * runs the OOM path).
 */
export function handle_mm_fault(cpu: Cpu, mm: number, addr: number, write: boolean): number {
  cpu.w[cpu.vm + VM.pgfault]!++;
  charge(COST[C_FAULT]!);
  if (cpu.l.traceRing !== 0) trace_event(cpu, TR_FAULT_BEGIN, addr >>> 0, write ? 1 : 0);
  mmap_read_lock(cpu, mm, SITE.handle_mm_fault);
  const r = __handle_mm_fault(cpu, mm, addr >>> 0, write);
  mmap_read_unlock(cpu, mm);
  if (cpu.l.traceRing !== 0) trace_event(cpu, TR_FAULT_END, r, 0);
  return r;
}

/**
 * The fault proper; caller holds mmap_sem for reading. As 2.6's
 * handle_pte_fault, the pte is first read without the lock: an empty or swap
 * pte goes to the handlers, which take the pte lock once, to install, and
 * re-check the slot there; a present pte is re-read under the lock (pte_same)
 * before do_wp_page.
 */
export function __handle_mm_fault(cpu: Cpu, mm: number, addr: number, write: boolean): number {
  mmap_assert_locked(cpu, mm);
  // virtual clock: the walk and bookkeeping are done under mmap_sem (kernel_flag under bkl)
  charge(COST[C_FAULT_WALK]!);
  const w = cpu.w;
  const l = cpu.l;
  const vma = find_vma(cpu, mm, addr);
  if (vma === NIL) return VM_FAULT_SIGSEGV;
  const vb = vmaBase(l, vma);
  if (w[vb + VMA_START]! >>> 0 > addr) return VM_FAULT_SIGSEGV;
  const flags = w[vb + VMA_FLAGS]!;
  if (write ? (flags & VM_WRITE) === 0 : (flags & VM_READ) === 0) return VM_FAULT_SIGSEGV;
  const ptPfn = pte_alloc(cpu, mm, addr, cpu.rmap.ptOrder);
  if (ptPfn < 0) return VM_FAULT_OOM;
  const ptep = pteOff(cpu, pteAddrOf(ptPfn, pte_index(addr)));
  const entry = w[ptep]!; // lock-free, plain (tear-free): every use re-checks it under the pte lock
  if (entry === 0) {
    if (w[vb + VMA_FILE]! < 0) return do_anonymous_page(cpu, mm, vma, addr, ptPfn, write);
    return do_no_page(cpu, mm, vma, addr, ptPfn, write);
  }
  if (is_swap_pte(entry)) return do_swap_page(cpu, mm, vma, addr, ptPfn, entry, write);
  const ptl = pte_lock(cpu, mm, ptPfn, SITE.handle_mm_fault);
  const pte = Atomics.load(w, ptep);
  if (!pte_same(pte, entry)) {
    pte_unlock(cpu, ptl); // changed under us: let the access retry
    return VM_FAULT_MINOR;
  }
  if (write && (pte & _PAGE_RW) === 0) return do_wp_page(cpu, mm, vma, addr, ptPfn, pte, ptl);
  // the translation is fine now (raced with another CPU's fault): just mark it young
  Atomics.or(w, ptep, write ? A_D : _PAGE_ACCESSED);
  pte_unlock(cpu, ptl);
  return VM_FAULT_MINOR;
}

export { NIL };
