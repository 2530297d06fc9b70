/*
 * anonmm.ts — Hugh Dickins' anonmm (2004; "rmap 10"/"rmap 11" in
 * 2.6.5-mm, merged briefly in -mm before anon_vma replaced it; REFERENCE.md
 * §3.4), the design seed 003 proposed as Ben LaHaise's "one inode per
 * mm_struct, with the virtual address providing the offset".
 *
 * Anonymous pages: one object per *fork family* of mms (an mm and every mm
 * forked from it, transitively; exec starts a new family), and the page's
 * index is its virtual page number:
 *
 *   struct page: PG_MAPPING = mappingOfAnon(family)  PG_INDEX = vaddr >> PAGE_SHIFT
 *   mm_struct:   MM_ANONMM = family + 1, MM_ANON_NEXT/PREV = the family's list
 *   anonmm:      { lock, head mm, nr } (8 words in the rmap pool)
 *
 *      anonmm F ── head ──> mm(child2) <─> mm(child1) <─> mm(parent)
 *      page: mapping = F, index = 0x40123    each mm: look at 0x40123000
 *
 * The walk visits every mm of the family at that one address — no VMA is
 * looked at: rmap_vaddr_one reads that mm's pgd entry and pte under its
 * page_table_lock and checks the pfn. It tracks mms, not VMAs, so it costs
 * one visit per mm of the family, however the mms' VMAs are split, and it
 * costs no word in any VMA. File pages (and shared anonymous regions, each
 * with the shmem inode of its VMA: Tweedie's "one inode per new vma") are
 * found through i_mmap exactly as objrmap does (obj_walk.ts, the walk both share).
 *
 * The price, as Andrea Arcangeli said of it: an anonymous page has one
 * address for its whole family, so mremap cannot simply move a page that
 * another mm of the family still maps (or may map again from the swap
 * cache). vm/mmap.ts does what Hugh's "rmap 11 mremap moves" did: a page
 * only this pte maps (exclusive: _mapcount 0, and no swap pte elsewhere
 * can bring it back, swap_count 1) gets its new index; any other page is
 * copied at once ("early C-O-W", Linus's suggestion), leaving the original
 * at the old address for the others. A swap pte whose entry others share
 * is swapped in first and treated the same (Hugh's earlier version did
 * that; his later one copied at swap-in instead). add() checks the rule
 * it rests on: a page already mapped is only ever mapped again at its
 * family's address.
 *
 * Lifecycle: the family is made at the first anonymous fault of an mm that
 * has none (anon_vma_prepare, before the pte lock: it allocates), joined by
 * fork before any pte is copied (dup_rmap, under the parent's mmap_sem
 * write), left by exit_mmap after the last pte is gone (exit_rmap), and
 * freed with its last mm. The first mapping of an anonymous page records
 * (family, vaddr); later mappings (fork, or a swap-in at the same address)
 * keep them. Pages keep PG_MAPPING until freed; family objects are
 * type-stable in the pool, so a walker that read a stale mapping locks a
 * (possibly reused) family and finds no pte of this pfn (try_to_unmap's
 * final _mapcount check sorts it out).
 *
 * Locking: the family lock (class anon_vma: it takes anon_vma's place in
 * the object-rmap order, REFERENCE.md §3.5) guards the mm list and
 * MM_ANON_NEXT/PREV of its mms; MM_ANONMM is written once under the family
 * lock and mm->page_table_lock (prepare; two threads of one mm race there)
 * or before the mm is visible (fork). The walk holds the family lock, so
 * every listed mm is alive (exit_rmap unlinks before mm_free), then each
 * mm's page_table_lock, then trylocks the pte lock. add()'s first mapping
 * of a page runs with the page lock held or on a page nobody else can see
 * (new anonymous page, COW copy), so PG_MAPPING/PG_INDEX are written by one
 * CPU at a time; remove() does nothing.
 *
 *   anonmm->lock | i_mmap_lock → mm->page_table_lock → (trylock) pte lock
 */
import type { CpuBase } from '../machine/cpu.js';
import {
  NIL,
  PG_FLAGS,
  PG_MAPPING,
  PG_INDEX,
  PG_MAPCOUNT,
  PAGE_STRUCT_WORDS,
  PAGE_SHIFT,
  MM_ANONMM,
  MM_ANON_NEXT,
  MM_ANON_PREV,
  MM_PGD,
  VMA_MM,
  mmBase,
  vmaBase,
  pageStruct,
  type Layout,
} from '../machine/layout.js';
import { PG_anon, anonOfMapping, mappingOfAnon } from '../machine/page.js';
import { SITE } from '../sync/classes.js';
import { mm_ptl_lock, mm_ptl_unlock, mmap_assert_locked } from '../sync/scheme.js';
import { kmem_cache_alloc, kmem_cache_free } from '../mm/slab.js';
import { no_prealloc, type RmapScheme } from './types.js';
import { walkMethods } from './unmap.js';
import { poolObj, poolInUse } from './pool.js';
import { AO_HEAD, AO_NR, AO_WORDS, anonObjCache, anon_obj_lock, anon_obj_unlock, anon_obj_add, anon_obj_del, anon_obj_check, type AnonMembers } from './anon_obj.js';
import { obj_walk, type WalkList } from './obj_walk.js';

/* struct anonmm: the pool's anonymous object (anon_obj.ts), its members the mms of the family */
const MMS: AnonMembers = { base: mmBase, next: MM_ANON_NEXT, prev: MM_ANON_PREV };

/** The family of mm, or NIL. */
export const anonmm_of = (w: Int32Array, l: Layout, mm: number) => w[mmBase(l, mm) + MM_ANONMM]! - 1;

/** Put mm into family f and name it there. f's lock held. */
function __anonmm_link(cpu: CpuBase, f: number, mm: number): void {
  anon_obj_add(cpu, f, mm, MMS);
  cpu.w[mmBase(cpu.l, mm) + MM_ANONMM] = f + 1;
}

/**
 * anon_vma_prepare's place (Hugh's anonmm was made with the mm; here at its
 * first anonymous page): give vma's mm a family. Caller holds mmap_sem
 * (read) and no spinlock. false: the pool is exhausted (VM_FAULT_OOM).
 */
function anonmm_prepare(cpu: CpuBase, vma: number): boolean {
  const w = cpu.w;
  const mm = w[vmaBase(cpu.l, vma) + VMA_MM]!;
  mmap_assert_locked(cpu, mm);
  const b = mmBase(cpu.l, mm);
  if (Atomics.load(w, b + MM_ANONMM) !== 0) return true;
  const c = anonObjCache(cpu);
  const f = kmem_cache_alloc(cpu, c);
  if (f < 0) return false;
  const fb = poolObj(cpu.l, f);
  anon_obj_lock(cpu, f, SITE.anon_vma);
  w[fb + AO_HEAD] = NIL;
  w[fb + AO_NR] = 0;
  mm_ptl_lock(cpu, mm, SITE.anon_vma);
  const won = Atomics.load(w, b + MM_ANONMM) === 0;
  if (won) __anonmm_link(cpu, f, mm);
  mm_ptl_unlock(cpu, mm);
  anon_obj_unlock(cpu, f);
  if (!won) kmem_cache_free(cpu, c, f);
  return true;
}

/** dup_rmap (fork): the child joins the parent's family before any pte is copied. Parent's mmap_sem write held. */
function anonmm_dup(cpu: CpuBase, child: number, parent: number): void {
  const f = anonmm_of(cpu.w, cpu.l, parent);
  if (f === NIL) return; // the parent never had an anonymous page: nothing to share
  anon_obj_lock(cpu, f, SITE.anon_vma);
  __anonmm_link(cpu, f, child);
  anon_obj_unlock(cpu, f);
}

/** exit_rmap (exit_mmap, after the last pte is zapped): leave the family; the last mm frees it. */
function anonmm_exit(cpu: CpuBase, mm: number): void {
  const f = anonmm_of(cpu.w, cpu.l, mm);
  if (f === NIL) return;
  anon_obj_lock(cpu, f, SITE.anon_vma);
  const empty = anon_obj_del(cpu, f, mm, MMS);
  cpu.w[mmBase(cpu.l, mm) + MM_ANONMM] = 0;
  anon_obj_unlock(cpu, f);
  // nobody can join an empty family: fork copies MM_ANONMM from a member
  if (empty) kmem_cache_free(cpu, anonObjCache(cpu), f);
}

/** The mms of a family, each looked at the page's one address (index << PAGE_SHIFT). */
const FAMILY_LIST: WalkList = {
  next: (w, l, mm) => w[mmBase(l, mm) + MM_ANON_NEXT]!,
  mm: (_w, _l, mm) => mm,
  addr: (_w, _l, _mm, index) => (index << PAGE_SHIFT) >>> 0,
};

export const anonmmScheme: RmapScheme = {
  name: 'anonmm',
  ptOrder: 0,
  /**
   * page_add_anon_rmap: the first mapping of an anonymous page records
   * (family, vaddr); any later one must be at that address in that family
   * (fork, swap-in) — mremap and its early COW keep it so (vm/mmap.ts).
   */
  add(cpu, pfn, _pteAddr, vma, addr) {
    const w = cpu.w;
    const l = cpu.l;
    const p = pageStruct(l, pfn);
    if ((Atomics.load(w, p + PG_FLAGS) & PG_anon) === 0) return;
    const f = anonmm_of(w, l, w[vmaBase(l, vma) + VMA_MM]!);
    if (f === NIL) throw new Error(`cpu ${cpu.id}: anonmm: anonymous page ${pfn} mapped into vma ${vma} without anon_vma_prepare`);
    const index = addr >>> PAGE_SHIFT;
    if (Atomics.load(w, p + PG_MAPCOUNT) === 0) {
      // the first mapping (page_add_rmap counted it already)
      w[p + PG_INDEX] = index;
      w[p + PG_MAPPING] = mappingOfAnon(f);
    } else if (w[p + PG_MAPPING] !== mappingOfAnon(f) || w[p + PG_INDEX] !== index) {
      throw new Error(`cpu ${cpu.id}: anonmm: page ${pfn} (family ${anonOfMapping(w[p + PG_MAPPING]!)} at 0x${((w[p + PG_INDEX]! << PAGE_SHIFT) >>> 0).toString(16)}) mapped again by family ${f} at 0x${(addr >>> 0).toString(16)}`);
    }
  },
  remove() {},
  removeLocked() {},
  ...walkMethods((cpu, pfn, act, out, entry) => obj_walk(cpu, anonmmScheme, FAMILY_LIST, pfn, act, out, entry)),
  /** anonmm objects (32 bytes each, one per family); the per-mm links are in mm_struct, file pages cost nothing */
  metadataBytes(cpu) {
    return poolInUse(cpu.w, cpu.l) * AO_WORDS * 4;
  },
  prealloc: no_prealloc,
  anon_vma_prepare(cpu, vma) {
    return anonmm_prepare(cpu, vma);
  },
  dup_rmap(cpu, child, parent) {
    anonmm_dup(cpu, child, parent);
  },
  exit_rmap(cpu, mm) {
    anonmm_exit(cpu, mm);
  },
  addressTracksPage: true,
};

/**
 * Checker extra (quiescent): every live mm with a family is on that
 * family's list, each list holds only live mms that name it, nr of them,
 * linked both ways; the families in use are exactly those some mm names;
 * every mapped anonymous page records a family.
 */
export function anonmm_check(w: Int32Array, l: Layout, out: string[], mapped: Int32Array): void {
  const add = (s: string) => {
    if (out.length < 50) out.push(`anonmm: ${s}`);
  };
  const named = new Int32Array(l.rmapEntries);
  for (let mm = 0; mm < l.maxMm; mm++) {
    if (w[mmBase(l, mm) + MM_PGD] === NIL) continue;
    const f = anonmm_of(w, l, mm);
    if (f === NIL) continue;
    if (f >= l.rmapEntries) add(`mm ${mm} names family ${f} beyond the pool`);
    else named[f]!++;
  }
  anon_obj_check(w, l, add, 'family', named, MMS, (mm, f) =>
    w[mmBase(l, mm) + MM_PGD] === NIL || anonmm_of(w, l, mm) !== f ? `mm ${mm} (pgd ${w[mmBase(l, mm) + MM_PGD]}, family ${anonmm_of(w, l, mm)})` : null,
  );
  for (let pfn = 1; pfn < l.nrFrames; pfn++) {
    if (mapped[pfn] === 0) continue;
    const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
    if ((w[p + PG_FLAGS]! & PG_anon) !== 0 && w[p + PG_MAPPING]! >= 0) add(`mapped anonymous page ${pfn} has no family (mapping ${w[p + PG_MAPPING]})`);
  }
}
