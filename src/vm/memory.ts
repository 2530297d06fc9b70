/*
 * memory.ts — tearing mappings down: zap_page_range and free_pgtables.
 *
 * zap_pte_range clears every pte of a range with ptep_get_and_clear under the
 * pte lock, moves the pte's dirty bit to the page (set_page_dirty), drops the
 * reverse mapping and gathers the pages; only after flush_tlb_mm (no CPU
 * still uses a stale translation) are the gathered references dropped — the
 * mmu_gather order of 2.4/2.6 mm/memory.c. Swap ptes release their swap entry
 * (free_swap_and_cache, via hooks). free_pgtables frees pte tables that no VMA
 * covers any more.
 *
 * Locking: caller holds mmap_sem for writing (munmap, mremap, madvise, exit;
 * asserted under config.debug); the pte
 * lock of each table while clearing it.
 */
import { NIL, PAGE_SHIFT, PG_FLAGS, PG_PT_NR, MM_RSS, VMA_START, VMA_END, VMA_NEXT, MM_MMAP, mmBase, pageStruct, vmaBase } from '../machine/layout.js';
import { PG_dirty } from '../machine/page.js';
import { SITE } from '../sync/classes.js';
import { pte_lock, pte_unlock, mmap_assert_write_locked } from '../sync/scheme.js';
import { pte_table, free_pte_table } from '../mm/pgtable.js';
import { pte_present, pte_pfn, pte_dirty, is_swap_pte, PMD_SIZE, pteAddrOf, pte_index } from '../mm/pte.js';
import { flush_tlb_mm } from '../mm/tlb.js';
import { page_remove_rmap } from '../rmap/index.js';
import { ZERO_PFN } from '../mm/page_ref.js';
import { free_swap_and_cache, free_pages_and_swap_cache } from '../reclaim/swap_state.js';
import { charge, page_line_w, mm_line_w } from '../timing/index.js';
import type { Cpu } from './cpu.js';

/** Clear the ptes of [start, end) inside one pte table (end within the same 4 MiB). */
function zap_pte_range(cpu: Cpu, mm: number, vma: number, ptPfn: number, start: number, end: number): void {
  const w = cpu.w;
  const l = cpu.l;
  const gather = cpu.scratch2;
  let nr = 0;
  let rss = 0;
  let present = 0;
  let cleared = 0;
  const ptl = pte_lock(cpu, mm, ptPfn, SITE.zap_pte_range);
  for (let addr = start; addr < end; addr = (addr + 4096) >>> 0) {
    const slot = pte_index(addr);
    const pteAddr = pteAddrOf(ptPfn, slot);
    const ptep = l.frames + pteAddr;
    if (w[ptep] === 0) continue;
    const pte = Atomics.exchange(w, ptep, 0); // ptep_get_and_clear
    w[pageStruct(l, ptPfn) + PG_PT_NR]!--;
    cleared++;
    if (pte_present(pte)) {
      const pfn = pte_pfn(pte);
      present++; // a TLB may cache it, the ZERO_PAGE's too
      if (pfn === ZERO_PFN) continue;
      if (pte_dirty(pte)) Atomics.or(w, pageStruct(l, pfn) + PG_FLAGS, PG_dirty);
      page_remove_rmap(cpu, cpu.rmap, pfn, pteAddr, vma, addr);
      gather[nr++] = pfn;
      rss++;
    } else if (is_swap_pte(pte)) {
      free_swap_and_cache(cpu, pte);
    }
  }
  if (cleared !== 0) charge(page_line_w(ptPfn)); // PG_PT_NR, this table's struct page
  pte_unlock(cpu, ptl);
  if (rss) {
    Atomics.sub(w, mmBase(l, mm) + MM_RSS, rss);
    charge(mm_line_w(mm));
  }
  if (present === 0) return;
  flush_tlb_mm(cpu, mm); // tlb_finish_mmu: nobody can still use these pages
  if (nr !== 0) free_pages_and_swap_cache(cpu, gather, nr);
}

/** zap_page_range: unmap every page of [start, end) in vma. */
export function zap_page_range(cpu: Cpu, mm: number, vma: number, start: number, end: number): void {
  mmap_assert_write_locked(cpu, mm);
  let addr = start >>> 0;
  end = end >>> 0;
  while (addr < end) {
    const next = Math.min(((addr & ~(PMD_SIZE - 1)) >>> 0) + PMD_SIZE, end);
    const pt = pte_table(cpu, mm, addr);
    if (pt !== NIL) zap_pte_range(cpu, mm, vma, pt, addr, next);
    addr = next;
  }
}

/** Does any VMA of mm overlap [lo, hi)? */
function range_has_vma(cpu: Cpu, mm: number, lo: number, hi: number): boolean {
  const w = cpu.w;
  const l = cpu.l;
  for (let v = w[mmBase(l, mm) + MM_MMAP]!; v >= 0; v = w[vmaBase(l, v) + VMA_NEXT]!) {
    const s = w[vmaBase(l, v) + VMA_START]! >>> 0;
    const e = w[vmaBase(l, v) + VMA_END]! >>> 0;
    if (s < hi && e > lo) return true;
    if (s >= hi) return false;
  }
  return false;
}

/** free_pgtables: free the pte tables of [start, end) that no VMA needs any more. */
export function free_pgtables(cpu: Cpu, mm: number, start: number, end: number): void {
  mmap_assert_write_locked(cpu, mm);
  let slot = (start >>> 0) & ~(PMD_SIZE - 1);
  end = end >>> 0;
  while (slot >>> 0 < end) {
    const lo = slot >>> 0;
    const hi = lo + PMD_SIZE;
    if (pte_table(cpu, mm, lo) !== NIL && !range_has_vma(cpu, mm, lo, hi)) {
      free_pte_table(cpu, mm, lo, cpu.rmap.ptOrder);
    }
    slot = hi;
    if (hi >= 0x100000000) break;
  }
}

export const pagesOf = (start: number, end: number) => ((end >>> 0) - (start >>> 0)) >>> PAGE_SHIFT;
