/*
 * fork.ts — fork (dup_mmap + copy_page_range) and the task-level entry points
 * exit and exec that tear an mm down (exit_mmap) or replace it.
 *
 * copy_page_range: every VMA is duplicated; every present pte is copied. A
 * private writable page is write-protected in parent and child (copy on
 * write); the page gains a reference and a reverse mapping for the child's
 * pte. A swap pte is copied and its swap entry duplicated (swap_duplicate,
 * via hooks) — the step reclaim's planted-bug test removes. Shared mappings
 * keep their write permission.
 *
 * Locking: the parent's mmap_sem for writing (2.4 dup_mmap); the child is not
 * visible to anybody yet. Per table: the parent's pte lock, then the child's
 * (same class, always parent → child, never the reverse). After the copy,
 * flush_tlb_mm: other threads of the parent must not keep writing through
 * translations that are now read-only.
 */
import {
  NIL,
  PAGE_WORDS,
  PG_PT_NR,
  MM_MMAP,
  MM_RSS,
  MM_START_BRK,
  MM_BRK,
  VMA_START,
  VMA_END,
  VMA_FLAGS,
  VMA_FILE,
  VMA_PGOFF,
  VMA_ANON,
  VMA_NEXT,
  mmBase,
  vmaBase,
  pageStruct,
} from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { mmap_write_lock, mmap_write_unlock, pte_lock, pte_unlock } from '../sync/scheme.js';
import { mm_alloc, mm_free, mmget, mmput as mm_mmput } from '../mm/mm_struct.js';
import { pte_alloc, pte_table } from '../mm/pgtable.js';
import { pte_present, pte_pfn, is_swap_pte, _PAGE_RW, PMD_SIZE, pteAddrOf, pte_index } from '../mm/pte.js';
import { flush_tlb_mm } from '../mm/tlb.js';
import { vm_area_alloc, vma_link, vma_unlink, vm_area_free, anon_vma_link, VM_SHARED, VM_WRITE } from '../mm/vma.js';
import { page_add_rmap } from '../rmap/index.js';
import { get_page, ZERO_PFN } from '../mm/page_ref.js';
import { zap_page_range, free_pgtables } from './memory.js';
import { inode_get, inode_put } from '../mm/shmem.js';
import { swap_duplicate } from '../mm/swap_map.js';
import { INJECTIONS } from '../config.js';
import type { CpuBase } from '../machine/cpu.js';
import { ENOMEM } from './mmap.js';
import type { Cpu } from './cpu.js';

const INJECT_NO_SWAP_DUP = INJECTIONS.indexOf('no_swap_dup');
/** CPUs that already skipped their one swap_duplicate (the planted bug) */
const skippedDup = new WeakSet<CpuBase>();

/** fork's swap_duplicate for a copied swap pte (with the planted bug of config.inject = no_swap_dup). */
function fork_swap_duplicate(cpu: CpuBase, entry: number): void {
  if (cpu.inject === INJECT_NO_SWAP_DUP && !skippedDup.has(cpu)) {
    skippedDup.add(cpu); // planted bug: the child's pte is not counted
    return;
  }
  if (!swap_duplicate(cpu, entry)) throw new Error(`fork: swap_duplicate of free entry 0x${(entry >>> 0).toString(16)}`);
}

/** Copy the ptes of [start, end) (one table's worth) from parent to child. */
function copy_pte_range(
  cpu: Cpu,
  dst: number,
  src: number,
  dvma: number,
  svma: number,
  start: number,
  end: number,
  cow: boolean,
): number {
  const w = cpu.w;
  const l = cpu.l;
  const spt = pte_table(cpu, src, start);
  if (spt === NIL) return 0;
  const dpt = pte_alloc(cpu, dst, start, cpu.rmap.ptOrder);
  if (dpt === NIL) return ENOMEM;
  let rss = 0;
  let err = 0;
  const sptl = pte_lock(cpu, src, spt, SITE.copy_page_range);
  const dptl = pte_lock(cpu, dst, dpt, SITE.copy_page_range);
  for (let addr = start; addr < end; addr = (addr + 4096) >>> 0) {
    const slot = pte_index(addr);
    const sOff = l.frames + pteAddrOf(spt, slot);
    let pte = w[sOff]!;
    if (pte === 0) continue;
    if (is_swap_pte(pte)) {
      fork_swap_duplicate(cpu, pte);
    } else if (pte_present(pte)) {
      const pfn = pte_pfn(pte);
      // pte_chain_alloc per pte (2.5 tried GFP_ATOMIC under the locks; the rmap pool lock is a leaf)
      if (pfn !== ZERO_PFN && !cpu.rmap.prealloc(cpu)) {
        err = ENOMEM;
        break;
      }
      if (cow && (pte & _PAGE_RW) !== 0) {
        Atomics.and(w, sOff, ~_PAGE_RW); // ptep_set_wrprotect (keeps A/D set meanwhile)
        pte = w[sOff]!;
      }
      if (pfn !== ZERO_PFN) {
        get_page(cpu, pfn);
        rss++;
        // page_dup_rmap before set_pte (2.6 copy_one_pte): a concurrent try_to_unmap never sees
        // _mapcount below the ptes that map the page (the child's pte lock keeps its walk out)
        page_add_rmap(cpu, cpu.rmap, pfn, pteAddrOf(dpt, slot), dvma, addr);
      }
      Atomics.store(w, l.frames + pteAddrOf(dpt, slot), pte);
      w[pageStruct(l, dpt) + PG_PT_NR]!++;
      continue;
    }
    Atomics.store(w, l.frames + pteAddrOf(dpt, slot), pte);
    w[pageStruct(l, dpt) + PG_PT_NR]!++;
  }
  pte_unlock(cpu, dptl);
  pte_unlock(cpu, sptl);
  if (rss) Atomics.add(w, mmBase(l, dst) + MM_RSS, rss);
  return err;
}

/** copy_mm for fork: a new mm duplicating parent's VMAs and ptes, or NIL on OOM. */
export function do_fork(cpu: Cpu, parent: number): number {
  const w = cpu.w;
  const l = cpu.l;
  cpu.w[cpu.vm + VM.fork]!++;
  const child = mm_alloc(cpu, cpu.mmCache);
  if (child === NIL) return NIL;
  mmap_write_lock(cpu, parent, SITE.copy_page_range);
  cpu.rmap.dup_rmap?.(cpu, child, parent); // anonmm: the child joins the parent's family before a pte is copied
  // the mm fields dup_mmap copies with the struct: the heap (vm/brk.ts)
  w[mmBase(l, child) + MM_START_BRK] = w[mmBase(l, parent) + MM_START_BRK]!;
  w[mmBase(l, child) + MM_BRK] = w[mmBase(l, parent) + MM_BRK]!;
  let ok = true;
  for (let v = w[mmBase(l, parent) + MM_MMAP]!; v >= 0 && ok; v = w[vmaBase(l, v) + VMA_NEXT]!) {
    const b = vmaBase(l, v);
    const n = vm_area_alloc(cpu, cpu.vmaCache, child);
    if (n === NIL) {
      ok = false;
      break;
    }
    const nb = vmaBase(l, n);
    for (const f of [VMA_START, VMA_END, VMA_FLAGS, VMA_FILE, VMA_PGOFF, VMA_ANON]) w[nb + f] = w[b + f]!;
    const ino = w[b + VMA_FILE]!;
    if (ino >= 0) inode_get(cpu, ino);
    vma_link(cpu, child, n);
    anon_vma_link(cpu, n); // dup_mmap: the child VMA joins its parent's anon_vma before it maps a page
    const flags = w[b + VMA_FLAGS]!;
    const cow = (flags & (VM_SHARED | VM_WRITE)) === VM_WRITE;
    const start = w[b + VMA_START]! >>> 0;
    const end = w[b + VMA_END]! >>> 0;
    for (let a = start; a < end && ok; ) {
      const next = Math.min(((a & ~(PMD_SIZE - 1)) >>> 0) + PMD_SIZE, end);
      if (copy_pte_range(cpu, child, parent, n, v, a, next, cow) < 0) ok = false;
      a = next;
    }
  }
  mmap_write_unlock(cpu, parent);
  flush_tlb_mm(cpu, parent);
  if (!ok) {
    exit_mmap(cpu, child);
    return NIL;
  }
  return child;
}

/** exit_mmap: unmap everything, free the tables and the mm. */
export function exit_mmap(cpu: Cpu, mm: number): void {
  const w = cpu.w;
  const l = cpu.l;
  mmap_write_lock(cpu, mm, SITE.exit_mmap);
  for (let v = w[mmBase(l, mm) + MM_MMAP]!; v >= 0; v = w[mmBase(l, mm) + MM_MMAP]!) {
    const b = vmaBase(l, v);
    const start = w[b + VMA_START]!;
    const end = w[b + VMA_END]!;
    const ino = w[b + VMA_FILE]!;
    zap_page_range(cpu, mm, v, start, end);
    vma_unlink(cpu, mm, v);
    vm_area_free(cpu, cpu.vmaCache, v);
    if (ino >= 0) inode_put(cpu, ino);
    free_pgtables(cpu, mm, start, end);
  }
  mmap_write_unlock(cpu, mm);
  cpu.rmap.exit_rmap?.(cpu, mm); // anonmm: leave the family (no pte of mm is left)
  mm_free(cpu, cpu.mmCache, mm);
}

/**
 * mmput for a task exiting (vmstat exit): mm/mm_struct.ts's mmput, whose
 * last user — this task, or swapoff if it held a pin meanwhile — tears the
 * mm down with exit_mmap.
 */
export function mmput(cpu: Cpu, mm: number): void {
  cpu.w[cpu.vm + VM.exit]!++;
  mm_mmput(cpu, mm);
}

/** exec: a fresh, empty mm replaces the old one (exec_mmap); returns it or NIL. */
export function do_exec(cpu: Cpu, old: number): number {
  cpu.w[cpu.vm + VM.exec]!++;
  const mm = mm_alloc(cpu, cpu.mmCache);
  if (mm === NIL) return NIL;
  mmput(cpu, old);
  return mm;
}

export { PAGE_WORDS, mm_free, mmget };
