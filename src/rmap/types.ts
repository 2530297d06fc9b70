/*
 * types.ts — the RmapScheme interface: how to find every pte that maps a
 * physical page (DESIGN.md §3; seeds 000, 001, 003, 004; REFERENCE.md §3).
 *
 * The generic page_add_rmap / page_remove_rmap (rmap/index.ts) keep
 * _mapcount and call the scheme's hooks; a scheme adds whatever reverse
 * pointers it keeps. Walks write (mm, address, pte address) triples into a
 * caller-provided Int32Array (CPU scratch), so nothing is allocated.
 *
 * Locking contract for every scheme: add/remove are called with the pte lock
 * of `pteAddr` held (the scheme takes its own chain/object lock inside);
 * walk is called either at a quiescent point (checker) or by reclaim with the
 * page lock held, and then takes its locks in the order of src/sync/index.ts.
 * page_referenced / try_to_unmap are called with NO spinlock held (they take
 * the per-page chain lock, kernel_flag under `bkl`, or an object lock, and
 * the mm's page_table_lock).
 *
 * The schemes (one file each, each with its design essay):
 *   scan        no reverse map; walk every mm's page tables (2.4 baseline)
 *   ptechain    LaHaise 1997: order-1 page tables, a next-pte word per pte
 *   vmnode      Hemment 1997: pagable_node + doubly-linked vm_nodes
 *   ptechain25  2.5 rmap: pte_chain blocks of NRPTE, PG_direct, chain bit-lock
 *   hint        Linus 1998: one pointer per page to one of its users
 *   objrmap     object-based: i_mmap for file pages, anon_vma for anonymous
 *   anonmm      object-based: i_mmap for file pages, one object per fork family
 *               of mms for anonymous pages, the virtual address as index
 */
import type { CpuBase } from '../machine/cpu.js';

export const SWAP_SUCCESS = 0;
export const SWAP_AGAIN = 1;
export const SWAP_FAIL = 2;

export interface RmapScheme {
  readonly name: string;
  /** order of pte-table allocations (1 when a chain page sits beside each table) */
  readonly ptOrder: number;
  /** record that the pte at pteAddr (in mm at addr, inside vma) now maps pfn */
  add(cpu: CpuBase, pfn: number, pteAddr: number, vma: number, addr: number): void;
  /** forget that mapping (vma may be -1 when the caller does not know it) */
  remove(cpu: CpuBase, pfn: number, pteAddr: number, vma: number, addr: number): void;
  /** remove() for a caller that already holds the scheme's per-page lock (reclaim walks) */
  removeLocked(cpu: CpuBase, pfn: number, pteAddr: number, mm: number, addr: number): void;
  /**
   * page_referenced: test-and-clear the young bit in every mapping of pfn;
   * returns how many were young (a mapping whose pte lock is busy counts).
   * Caller holds the page lock or a reference, and no spinlock.
   */
  page_referenced(cpu: CpuBase, pfn: number): number;
  /**
   * try_to_unmap: clear every mapping of pfn, leaving `entry` (a swap entry,
   * anon pages) or nothing (file pages) in the ptes. Caller holds the page
   * lock and a reference, and no spinlock. SWAP_SUCCESS: no mapping is left
   * (checked on _mapcount at the end, as 2.6 did); SWAP_AGAIN: a lock was
   * busy or a mapping appeared meanwhile, try later; SWAP_FAIL: cannot be
   * unmapped (the swap entry is not in use). TLB flushing is done inside
   * (once, after the last pte).
   */
  try_to_unmap(cpu: CpuBase, pfn: number, entry: number): number;
  /**
   * Every mapping of pfn as (mm, addr, pteAddr) triples in out; returns the
   * number of triples, or -1 if it could not walk without blocking (SWAP_AGAIN).
   */
  walk(cpu: CpuBase, pfn: number, out: Int32Array): number;
  /** bytes of reverse-map metadata the scheme uses right now (beyond struct page and vm_area_struct words) */
  metadataBytes(cpu: CpuBase): number;
  /**
   * pte_chain_alloc (2.5): make sure this CPU holds one free rmap object
   * (pte_chain block, vm_node) for the next add(). Called before taking the
   * pte lock by every path that adds a mapping (fault, fork per pte, mremap
   * per pte, swap-in); an add() that does not need it leaves it cached (the
   * one-deep per-CPU cache). false = the pool is exhausted: the caller fails
   * with VM_FAULT_OOM / ENOMEM before changing anything. Schemes without a
   * pool return true.
   */
  prealloc(cpu: CpuBase): boolean;
  /**
   * anon_vma_prepare (objrmap): give `vma` an anon object before the first
   * anonymous page is mapped into it (before taking the pte lock). false =
   * out of anon objects (VM_FAULT_OOM). Other schemes return true.
   */
  anon_vma_prepare(cpu: CpuBase, vma: number): boolean;
  /**
   * dup_rmap (anonmm, vm/fork.ts): the child mm joins the parent's anonymous
   * object before fork copies a pte. Parent's mmap_sem write held. Schemes
   * whose objects hang off VMAs (anon_vma_link) or pages leave it out.
   */
  dup_rmap?(cpu: CpuBase, child: number, parent: number): void;
  /** exit_rmap (anonmm, exit_mmap): mm leaves its anonymous object after its last pte is gone. */
  exit_rmap?(cpu: CpuBase, mm: number): void;
  /**
   * true when an anonymous page is found at one virtual address for every
   * mm that maps it (anonmm): mremap must then move only pages no other pte
   * maps or may map again, and copy the rest (vm/mmap.ts).
   */
  readonly addressTracksPage?: boolean;
}

/** prealloc of a scheme without an rmap pool: nothing to allocate before the pte lock. */
export const no_prealloc = (): boolean => true;
/** anon_vma_prepare of a scheme without anonymous objects. */
export const no_anon_vma_prepare = (): boolean => true;
