/*
 * pgtable.ts — the two-level i386 page tables: pgd → (folded pmd) → pte.
 *
 * Page tables are frames from the buddy allocator. A pte table is order 0, or
 * order 1 when the rmap scheme keeps a chain page beside it (LaHaise's
 * ptechain, seed 001: "all page tables are now allocated with an order of 1").
 * A page-table page records, in its own struct page, the mm it belongs to
 * (PG_MAPPING) and the virtual base it maps (PG_INDEX) — Rik van Riel's 2001
 * idea that gives pte_getpmd/pmd_getpgd/pgd_getmm — and how many of its
 * entries are non-none (PG_PT_NR), so an empty table can be freed.
 *
 * Locking: pgd entries are populated and cleared under mm->page_table_lock
 * (mm_ptl_lock); pte entries under the scheme's pte lock (pte_lock). The MMU
 * (vm/access.ts) reads entries without locks and sets accessed/dirty bits
 * with Atomics.or, so every read-modify-write of a present pte by the kernel
 * uses an atomic exchange/and (ptep_get_and_clear, ptep_test_and_clear_young).
 */
import type { CpuBase } from '../machine/cpu.js';
import {
  NIL,
  PAGE_WORDS,
  PG_FLAGS,
  PG_MAPPING,
  PG_INDEX,
  PG_PT_NR,
  PG_PTL,
  LOCK_WORDS,
  MM_PGD,
  MM_NR_PTES,
  mmBase,
  pageStruct,
} from '../machine/layout.js';
import { PG_pgtable } from '../machine/page.js';
import { mm_ptl_lock, mm_ptl_unlock, mmap_assert_write_locked } from '../sync/scheme.js';
import { SITE } from '../sync/classes.js';
import { __alloc_pages } from './page_alloc.js';
import { __free_pages } from './page_ref.js';
import { clear_page } from './clear_page.js';
import { tlb_sync_walkers } from './tlb.js';
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, pgd_index, PMD_SIZE } from './pte.js';

/** Word offset of the pgd entry for addr. */
export const pgdEntryOff = (cpu: CpuBase, pgdPfn: number, addr: number) =>
  cpu.l.frames + pgdPfn * PAGE_WORDS + pgd_index(addr);

/** Word offset of pte address `pteAddr` (ptPfn << 10 | slot). */
export const pteOff = (cpu: CpuBase, pteAddr: number) => cpu.l.frames + pteAddr;

/** The pte table mapping addr in mm, or NIL (pmd_none). Lock-free read. */
export function pte_table(cpu: CpuBase, mm: number, addr: number): number {
  const pgd = cpu.w[mmBase(cpu.l, mm) + MM_PGD]!;
  const e = Atomics.load(cpu.w, pgdEntryOff(cpu, pgd, addr));
  return e === 0 ? NIL : e >>> 12;
}

/** Mark a freshly allocated frame as a page table of mm mapping from `base`. */
function pgtable_page_ctor(cpu: CpuBase, pfn: number, mm: number, base: number): void {
  const w = cpu.w;
  const p = pageStruct(cpu.l, pfn);
  Atomics.or(w, p + PG_FLAGS, PG_pgtable);
  w[p + PG_MAPPING] = mm; // pgd_getmm()
  w[p + PG_INDEX] = base; // the virtual base this table maps
  w[p + PG_PT_NR] = 0;
  w.fill(0, p + PG_PTL, p + PG_PTL + LOCK_WORDS); // split ptl: unlocked
}

function pgtable_page_dtor(cpu: CpuBase, pfn: number): void {
  const w = cpu.w;
  const p = pageStruct(cpu.l, pfn);
  Atomics.and(w, p + PG_FLAGS, ~PG_pgtable);
  w[p + PG_MAPPING] = 0;
  w[p + PG_INDEX] = 0;
  w[p + PG_PT_NR] = 0;
  w.fill(0, p + PG_PTL, p + PG_PTL + LOCK_WORDS);
}

/**
 * How page tables are allocated: the bare buddy allocator until reclaim/'s
 * installReclaim (run by vm/cpu.ts's makeCpu) sets its reclaiming allocator
 * (mm/ cannot call up into reclaim). `mm`
 * is the address space the table is for, NIL for a new mm's pgd.
 */
export const pgtable_hooks: { alloc: (cpu: CpuBase, order: number, site: number, mm: number) => number } = {
  alloc: (cpu, order, site) => __alloc_pages(cpu, order, site),
};

/** pgd_alloc: a zeroed pgd frame for a new mm, or NIL. */
export function pgd_alloc(cpu: CpuBase, mm: number): number {
  const pfn = pgtable_hooks.alloc(cpu, 0, SITE.mm_alloc, NIL);
  if (pfn < 0) return NIL;
  clear_page(cpu, pfn, 0);
  pgtable_page_ctor(cpu, pfn, mm, 0);
  return pfn;
}

export function pgd_free(cpu: CpuBase, pgdPfn: number): void {
  pgtable_page_dtor(cpu, pgdPfn);
  __free_pages(cpu, pgdPfn, 0);
}

/**
 * pte_alloc: the pte table for addr, allocating and installing one if the
 * pgd slot is empty. The frame is allocated and zeroed before taking
 * page_table_lock; a CPU that loses the race frees its copy (__pte_alloc).
 * `order` is the rmap scheme's pte-table order. Returns NIL on OOM.
 */
export function pte_alloc(cpu: CpuBase, mm: number, addr: number, order: number): number {
  const w = cpu.w;
  const pgd = w[mmBase(cpu.l, mm) + MM_PGD]!;
  const eOff = pgdEntryOff(cpu, pgd, addr);
  const e = w[eOff]!; // lock-free, plain (tear-free): a populated pgd entry only changes under mmap_sem(W)
  if (e !== 0) return e >>> 12;
  const pfn = pgtable_hooks.alloc(cpu, order, SITE.pte_alloc, mm);
  if (pfn < 0) return NIL;
  clear_page(cpu, pfn, order);
  pgtable_page_ctor(cpu, pfn, mm, (addr & ~(PMD_SIZE - 1)) | 0);
  mm_ptl_lock(cpu, mm, SITE.pte_alloc);
  const now = Atomics.load(w, eOff);
  if (now === 0) {
    Atomics.store(w, eOff, (pfn << 12) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER);
    w[mmBase(cpu.l, mm) + MM_NR_PTES]!++;
  }
  mm_ptl_unlock(cpu, mm);
  if (now !== 0) {
    pgtable_page_dtor(cpu, pfn);
    __free_pages(cpu, pfn, order);
    return now >>> 12;
  }
  return pfn;
}

/**
 * free_pte_table: clear the pgd entry for the 4 MiB slot containing addr and
 * free its (empty) table. Caller holds mmap_sem for writing and has checked
 * that no VMA covers any part of the slot; takes page_table_lock so scanners
 * walking the pgd under it never see a freed table, and waits out the
 * other CPUs' user accesses in flight (tlb_sync_walkers), whose lockless
 * walks take no lock.
 */
export function free_pte_table(cpu: CpuBase, mm: number, addr: number, order: number): void {
  mmap_assert_write_locked(cpu, mm);
  const w = cpu.w;
  const pgd = w[mmBase(cpu.l, mm) + MM_PGD]!;
  const eOff = pgdEntryOff(cpu, pgd, addr);
  mm_ptl_lock(cpu, mm, SITE.do_munmap);
  const e = w[eOff]!;
  Atomics.store(w, eOff, 0);
  if (e !== 0) w[mmBase(cpu.l, mm) + MM_NR_PTES]!--;
  mm_ptl_unlock(cpu, mm);
  if (e === 0) return;
  const pfn = e >>> 12;
  const nr = w[pageStruct(cpu.l, pfn) + PG_PT_NR]!;
  if (nr !== 0) throw new Error(`free_pte_table: table ${pfn} of mm ${mm} still has ${nr} entries`);
  tlb_sync_walkers(cpu, mm); // a walk that read the entry before it was cleared is over before the table goes
  pgtable_page_dtor(cpu, pfn);
  __free_pages(cpu, pfn, order);
}

/* ---- LaHaise's back-pointers (seed 001): from a pte to its mm and address ---- */
/** pte_getpmd + pmd_getpgd + pgd_getmm: the mm owning the table of a pte address. */
export const ptep_to_mm = (cpu: CpuBase, pteAddr: number) => cpu.w[pageStruct(cpu.l, pteAddr >>> 10) + PG_MAPPING]!;
/** The virtual address a pte address maps. */
export const ptep_to_address = (cpu: CpuBase, pteAddr: number) =>
  (cpu.w[pageStruct(cpu.l, pteAddr >>> 10) + PG_INDEX]! + ((pteAddr & 0x3ff) << 12)) >>> 0;
