/*
 * objrmap.ts — object-based reverse mapping: no per-pte metadata at all.
 *
 * File pages (Dave McCracken's objrmap, 2003; Andrea Arcangeli's
 * objrmap-core, 2004; REFERENCE.md §3.4): a file page knows (mapping, index).
 * Every VMA that maps the file is on the inode's i_mmap list, so the page's
 * mappers are found by walking it:
 *
 *   addr = vm_start + ((index - vm_pgoff) << PAGE_SHIFT)   if vm_start <= addr < vm_end
 *
 * then that mm's page table at addr, checking the pte's pfn (the VMA may map
 * a different page there: a COW copy, nothing yet, a swap entry).
 *
 * Anonymous pages: anon_vma (Andrea Arcangeli; Hugh Dickins, "[PATCH] rmap 39
 * add anon_vma rmap", May 2004; merged in 2.6.7). Seed 003's idea — Ben
 * LaHaise's "one inode per mm_struct, with the virtual address providing the
 * offset" — answered by Stephen Tweedie with "one inode per mm might have
 * problems if we ever change the virtual address of a physical page (and
 * mremap() does exactly that)"; anonmm (Hugh, one object per fork tree of
 * mms) had the same hole. anon_vma fixes both by keeping the object per
 * *VMA family* and the offset *linear*:
 *
 *   struct page: PG_MAPPING = mappingOfAnon(anon_vma)  PG_INDEX = linear page index
 *   anon VMA:    vm_pgoff = its original start >> PAGE_SHIFT, carried along by
 *                mremap (vm/mmap.ts), so an old page's index still lands on it
 *   anon_vma:    { lock, head } — a list of every VMA related by fork or split
 *                (VMA_ANON, VMA_ANON_NEXT/PREV in the vm_area_struct)
 *
 *      anon_vma A ── head ──> vma(child2) <─> vma(child1) <─> vma(parent, moved by mremap)
 *      page: mapping = A, index = 0x40123    each VMA: addr = start + ((index - pgoff) << 12)
 *
 * Lifecycle: anon_vma_prepare at the first anonymous fault of a VMA (before
 * the pte lock: it allocates); fork links each child VMA into its parent's
 * anon_vma before copying ptes (dup_mmap's anon_vma_link); split_vma and
 * mremap link the new VMA before it holds any page; vm_area_free unlinks
 * (munmap, exit, merge) and frees the anon_vma with its last VMA. The page
 * keeps PG_MAPPING until it is freed; anon_vma objects are type-stable in
 * the pool (SLAB_DESTROY_BY_RCU), so a walker that read a stale mapping
 * locks a (possibly reused) anon_vma and finds no pte of this pfn. The cost
 * (REFERENCE.md §3.4, Rik van Riel 2010): a page's walk visits every VMA of
 * its anon_vma — 1000 children each COW-faulting their own pages leave every
 * page in one anon_vma with 1001 VMAs, O(N²) for reclaim (bench/rmap.ts).
 *
 * Locking (the object-rmap order, REFERENCE.md §3.5): the walk takes the
 * object lock — mapping->i_mmap_lock or anon_vma->lock — then, per VMA,
 * mm->page_table_lock, which pins that mm's tables (free_pte_table clears the
 * pgd entry under it), then trylocks the pte lock under `split` (under `2.4`
 * the page_table_lock is the pte lock). A VMA is on its lists from before it
 * maps a page until after it is zapped (vm_area_free runs after the zap),
 * and mm_free runs after every VMA is freed, so the VMA and its mm are alive
 * while the walker holds the object lock. A listed VMA's bounds shrink only
 * under its anon_vma->lock (split_vma; mremap's in-place growth covers no
 * page yet), so a walk finds each pte of a page once. add/remove take no
 * lock at all: page_add_rmap only records (anon_vma, index) the first time
 * an anonymous page is mapped (page_add_anon_rmap). anon_vma_prepare takes
 * anon_vma->lock → mm->page_table_lock, the same order.
 *
 *   i_mmap_lock | anon_vma->lock → mm->page_table_lock → (trylock) pte lock
 */
import type { CpuBase } from '../machine/cpu.js';
import {
  NIL,
  PAGE_STRUCT_WORDS,
  PG_FLAGS,
  PG_MAPPING,
  PG_INDEX,
  VMA_MM,
  VMA_END,
  VMA_ANON,
  VMA_ANON_NEXT,
  VMA_ANON_PREV,
  vmaBase,
  pageStruct,
  type Layout,
} from '../machine/layout.js';
import { PG_anon, mappingOfAnon } from '../machine/page.js';
import { SITE } from '../sync/classes.js';
import { mm_ptl_lock, mm_ptl_unlock, mmap_assert_locked } from '../sync/scheme.js';
import { kmem_cache_alloc, kmem_cache_free } from '../mm/slab.js';
import { installAnonVmaHooks, vma_pgoff_of } from '../mm/vma.js';
import { no_prealloc, type RmapScheme } from './types.js';
import { walkMethods } from './unmap.js';
import { poolObj, poolInUse } from './pool.js';
import { obj_walk, ANON_VMA_LIST } from './obj_walk.js';
import { AO_HEAD, AO_NR, AO_WORDS, anonObjCache, anon_obj_lock, anon_obj_unlock, anon_obj_add, anon_obj_del, anon_obj_check, type AnonMembers } from './anon_obj.js';

/* struct anon_vma: the pool's anonymous object (anon_obj.ts), its members the VMAs of the family */
export { AO_HEAD as AV_HEAD, AO_NR as AV_NR } from './anon_obj.js';
export const ANON_VMA_WORDS = AO_WORDS;
const VMAS: AnonMembers = { base: vmaBase, next: VMA_ANON_NEXT, prev: VMA_ANON_PREV };

/**
 * anon_vma_link (fork, split_vma, mremap): v copied VMA_ANON from a VMA on the list. mmap_sem write held, except
 * for fork's child, which nobody else can reach yet (see mm/vma.ts anon_vma_link), so not asserted.
 */
function anon_vma_link(cpu: CpuBase, v: number): void {
  const av = cpu.w[vmaBase(cpu.l, v) + VMA_ANON]!;
  anon_obj_lock(cpu, av, SITE.anon_vma);
  anon_obj_add(cpu, av, v, VMAS);
  anon_obj_unlock(cpu, av);
}

/**
 * split_vma's part of 2.6.7 vma_adjust: n, a copy of v from addr up, goes on
 * v's anon_vma list and v ends at addr, in one hold of anon_vma->lock. A
 * walk sees both VMAs before it or both after it, never v still covering
 * n's range beside n (each pte there found twice: flip.ts would rewrite one
 * pte twice and leave another mapping the old frame). mmap_sem write held.
 */
function anon_vma_split(cpu: CpuBase, v: number, n: number, addr: number): void {
  const w = cpu.w;
  const av = w[vmaBase(cpu.l, n) + VMA_ANON]!;
  anon_obj_lock(cpu, av, SITE.anon_vma);
  anon_obj_add(cpu, av, n, VMAS);
  w[vmaBase(cpu.l, v) + VMA_END] = addr;
  anon_obj_unlock(cpu, av);
}

/** anon_vma_unlink (vm_area_free): take v off its list; free the anon_vma with its last VMA. */
function anon_vma_unlink(cpu: CpuBase, v: number): void {
  const w = cpu.w;
  const vb = vmaBase(cpu.l, v);
  const av = w[vb + VMA_ANON]!;
  anon_obj_lock(cpu, av, SITE.anon_vma);
  const empty = anon_obj_del(cpu, av, v, VMAS);
  anon_obj_unlock(cpu, av);
  w[vb + VMA_ANON] = NIL;
  w[vb + VMA_ANON_NEXT] = NIL;
  w[vb + VMA_ANON_PREV] = NIL;
  // nobody can link to an empty anon_vma: a link copies VMA_ANON from a VMA still on the list
  if (empty) kmem_cache_free(cpu, anonObjCache(cpu), av);
}

/**
 * anon_vma_prepare (2.6.7 mm/rmap.c): give vma an anon_vma before its first
 * anonymous page. The new object is locked while it is linked, so a walker
 * that holds a stale pointer to this (recycled) slot sees a whole list;
 * mm->page_table_lock settles a race between two threads of the mm.
 * Caller holds mmap_sem for reading and no spinlock.
 */
function anon_vma_prepare(cpu: CpuBase, vma: number): boolean {
  mmap_assert_locked(cpu, cpu.w[vmaBase(cpu.l, vma) + VMA_MM]!);
  const w = cpu.w;
  const vb = vmaBase(cpu.l, vma);
  if (w[vb + VMA_ANON]! >= 0) return true;
  const c = anonObjCache(cpu);
  const av = kmem_cache_alloc(cpu, c);
  if (av < 0) return false;
  const ab = poolObj(cpu.l, av);
  const mm = w[vb + VMA_MM]!;
  anon_obj_lock(cpu, av, SITE.anon_vma);
  w[ab + AO_HEAD] = NIL;
  w[ab + AO_NR] = 0;
  mm_ptl_lock(cpu, mm, SITE.anon_vma);
  const won = Atomics.load(w, vb + VMA_ANON) < 0;
  if (won) {
    anon_obj_add(cpu, av, vma, VMAS);
    Atomics.store(w, vb + VMA_ANON, av);
  }
  mm_ptl_unlock(cpu, mm);
  anon_obj_unlock(cpu, av);
  if (!won) kmem_cache_free(cpu, c, av);
  return true;
}

export const objrmapScheme: RmapScheme = {
  name: 'objrmap',
  ptOrder: 0,
  /** page_add_anon_rmap: the first mapping of an anonymous page records (anon_vma, linear index). */
  add(cpu, pfn, _pteAddr, vma, addr) {
    const w = cpu.w;
    const p = pageStruct(cpu.l, pfn);
    if ((Atomics.load(w, p + PG_FLAGS) & PG_anon) === 0 || w[p + PG_MAPPING] !== 0) return;
    const av = w[vmaBase(cpu.l, vma) + VMA_ANON]!;
    if (av < 0) throw new Error(`cpu ${cpu.id}: objrmap: anonymous page ${pfn} mapped into vma ${vma} without anon_vma_prepare`);
    w[p + PG_INDEX] = vma_pgoff_of(w, cpu.l, vma, addr);
    w[p + PG_MAPPING] = mappingOfAnon(av);
  },
  remove() {},
  removeLocked() {},
  ...walkMethods((cpu, pfn, act, out, entry) => obj_walk(cpu, objrmapScheme, ANON_VMA_LIST, pfn, act, out, entry)),
  /** anon_vma objects (32 bytes each); the per-VMA links are in vm_area_struct, file pages cost nothing */
  metadataBytes(cpu) {
    return poolInUse(cpu.w, cpu.l) * AO_WORDS * 4;
  },
  prealloc: no_prealloc,
  anon_vma_prepare(cpu, vma) {
    return anon_vma_prepare(cpu, vma);
  },
};

installAnonVmaHooks({ link: anon_vma_link, unlink: anon_vma_unlink, split: anon_vma_split });

/**
 * Checker extra (quiescent): every live VMA with an anon_vma is on that
 * list, every list holds only live VMAs that name it and AV_NR of them, the
 * anon_vmas in use are exactly those some VMA names, and every mapped
 * anonymous page records an anon_vma.
 */
export function objrmap_check(w: Int32Array, l: Layout, out: string[], mapped: Int32Array): void {
  const add = (s: string) => {
    if (out.length < 50) out.push(`objrmap: ${s}`);
  };
  const named = new Int32Array(l.rmapEntries);
  for (let v = 0; v < l.maxVma; v++) {
    const vb = vmaBase(l, v);
    if (w[vb + VMA_MM] === NIL) continue;
    const av = w[vb + VMA_ANON]!;
    if (av < 0) continue;
    if (av >= l.rmapEntries) add(`vma ${v} names anon_vma ${av} beyond the pool`);
    else named[av]!++;
  }
  anon_obj_check(w, l, add, 'anon_vma', named, VMAS, (v, av) => {
    const vb = vmaBase(l, v);
    return w[vb + VMA_MM] === NIL || w[vb + VMA_ANON] !== av ? `vma ${v} (mm ${w[vb + VMA_MM]}, anon ${w[vb + VMA_ANON]})` : null;
  });
  for (let pfn = 1; pfn < l.nrFrames; pfn++) {
    if (mapped[pfn] === 0) continue;
    const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
    if ((w[p + PG_FLAGS]! & PG_anon) !== 0 && w[p + PG_MAPPING]! >= 0) add(`mapped anonymous page ${pfn} has no anon_vma (mapping ${w[p + PG_MAPPING]})`);
  }
}

