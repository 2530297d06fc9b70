/*
 * obj_walk.ts — the walk the two object-based schemes share (objrmap.ts,
 * anonmm.ts): from a page's (mapping, index) to its object's list, and along
 * that list to each member's mm and the address at which it may map the
 * page, then rmap_vaddr_one there. Sources: objrmap's page_referenced_file /
 * page_referenced_anon and try_to_unmap_file / try_to_unmap_anon (2.6.7
 * mm/rmap.c; REFERENCE.md §3.4); anonmm's family walk (Hugh Dickins'
 * "rmap 10", 2.6.5-mm) differs only in its list (WalkList).
 *
 * Locking (the object-rmap order, REFERENCE.md §3.5): the object lock —
 * mapping->i_mmap_lock, or the anonymous object's lock (anon_vma->lock, the
 * anonmm family lock) — is held for the whole list; rmap_vaddr_one takes
 * mm->page_table_lock per member and trylocks the pte lock. PG_MAPPING and
 * PG_INDEX are read without a lock: anonymous objects are type-stable in the
 * pool, so a stale mapping locks a (possibly reused) object and finds no pte
 * of this pfn (try_to_unmap's final _mapcount check sorts it out).
 *
 *   i_mmap_lock | anon object lock → mm->page_table_lock → (trylock) pte lock
 */
import type { CpuBase } from '../machine/cpu.js';
import { NIL, PG_MAPPING, PG_INDEX, PG_MAPCOUNT, VMA_START, VMA_END, VMA_MM, VMA_PGOFF, VMA_ANON_NEXT, VMA_I_MMAP_NEXT, I_MMAP, I_MMAP_LOCK, PAGE_SHIFT, vmaBase, inodeBase, pageStruct, type Layout } from '../machine/layout.js';
import { isFileMapping, inodeOfMapping, anonOfMapping } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { C_I_MMAP, SITE } from '../sync/classes.js';
import { scheme_spin_lock, scheme_spin_unlock } from '../sync/scheme.js';
import { SWAP_SUCCESS, SWAP_FAIL, type RmapScheme } from './types.js';
import { rmap_vaddr_one, swap_merge, ACT_COLLECT, ACT_REFERENCED, ACT_UNMAP } from './unmap.js';
import { poolObj } from './pool.js';
import { AO_HEAD, anon_obj_lock, anon_obj_unlock } from './anon_obj.js';

/**
 * The members of an object's list as a walk sees them: the next member, the
 * mm of a member, and the address at which a member may map linear page
 * `index` (-1: it does not cover it).
 */
export interface WalkList {
  next(w: Int32Array, l: Layout, el: number): number;
  mm(w: Int32Array, l: Layout, el: number): number;
  addr(w: Int32Array, l: Layout, el: number, index: number): number;
}

/** VMAs of i_mmap (nextWord VMA_I_MMAP_NEXT) or of an anon_vma: addr = vm_start + ((index - vm_pgoff) << 12). */
const vmaList = (nextWord: number): WalkList => ({
  next: (w, l, v) => w[vmaBase(l, v) + nextWord]!,
  mm: (w, l, v) => w[vmaBase(l, v) + VMA_MM]!,
  addr(w, l, v, index) {
    const vb = vmaBase(l, v);
    const start = w[vb + VMA_START]! >>> 0;
    const off = index - w[vb + VMA_PGOFF]!;
    if (off < 0 || off >= ((w[vb + VMA_END]! >>> 0) - start) >>> PAGE_SHIFT) return -1;
    return (start + off * (1 << PAGE_SHIFT)) >>> 0;
  },
});
const I_MMAP_LIST = vmaList(VMA_I_MMAP_NEXT);
export const ANON_VMA_LIST = vmaList(VMA_ANON_NEXT);

/**
 * Visit every member of a list (i_mmap, anon_vma, anonmm family), with its
 * lock held, that may map linear page `index`: rmap_vaddr_one at the
 * address it maps there. ACT_REFERENCED / ACT_COLLECT stop once `mapcount`
 * mappings were found (2.6.9 page_referenced_anon), ACT_UNMAP once the page
 * is unmapped. vmstat rmap_walk_vma counts the members visited.
 */
function walk_list(
  cpu: CpuBase,
  r: RmapScheme,
  first: number,
  list: WalkList,
  pfn: number,
  index: number,
  act: number,
  out: Int32Array,
  entry: number,
): number {
  const w = cpu.w;
  const l = cpu.l;
  const mcOff = pageStruct(l, pfn) + PG_MAPCOUNT;
  let left = Atomics.load(w, mcOff) + 1;
  let acc = act === ACT_UNMAP ? SWAP_SUCCESS : 0;
  let visited = 0;
  for (let el = first; el !== NIL && left > 0; el = list.next(w, l, el)) {
    const addr = list.addr(w, l, el, index);
    if (addr < 0) continue;
    const mm = list.mm(w, l, el);
    visited++;
    if (act === ACT_COLLECT) {
      const n = rmap_vaddr_one(cpu, r, act, pfn, mm, addr, out, acc, 0);
      if (n > acc) left--;
      acc = n;
    } else if (act === ACT_REFERENCED) {
      const k = rmap_vaddr_one(cpu, r, act, pfn, mm, addr, out, 0, 0);
      if (k >= 0) left--;
      if (k > 0) acc++;
    } else {
      acc = swap_merge(acc, rmap_vaddr_one(cpu, r, act, pfn, mm, addr, out, 0, entry));
      if (acc === SWAP_FAIL) break;
      left = Atomics.load(w, mcOff) + 1;
    }
  }
  w[cpu.vm + VM.rmap_walk_vma]! += visited;
  w[cpu.vm + VM.rmap_walk_visit]! += visited;
  return acc;
}

/**
 * The walk of a file page (mapping > 0 names its inode) over the inode's
 * i_mmap list, i_mmap_lock held (objrmap's and anonmm's: a shared anonymous
 * region's pages are the per-VMA shmem inode's).
 */
function i_mmap_walk(cpu: CpuBase, r: RmapScheme, mapping: number, pfn: number, index: number, act: number, out: Int32Array, entry: number): number {
  const ib = inodeBase(cpu.l, inodeOfMapping(mapping));
  scheme_spin_lock(cpu, ib + I_MMAP_LOCK, C_I_MMAP, act === ACT_UNMAP ? SITE.try_to_unmap : SITE.page_referenced);
  const ret = walk_list(cpu, r, cpu.w[ib + I_MMAP]!, I_MMAP_LIST, pfn, index, act, out, entry);
  scheme_spin_unlock(cpu, ib + I_MMAP_LOCK, C_I_MMAP);
  return ret;
}

/**
 * The object walk of page pfn for scheme r: its file's i_mmap, or the list
 * `anon` (anon_vma's VMAs, anonmm's family of mms) of its anonymous object
 * under that object's lock. A page with no object (a truncated file page
 * still mapped, mm/filemap.ts; not mapped yet) or _mapcount -1 has nothing
 * to walk.
 */
export function obj_walk(cpu: CpuBase, r: RmapScheme, anon: WalkList, pfn: number, act: number, out: Int32Array, entry: number): number {
  const w = cpu.w;
  const l = cpu.l;
  const p = pageStruct(l, pfn);
  const none = act === ACT_UNMAP ? SWAP_SUCCESS : 0;
  if (Atomics.load(w, p + PG_MAPCOUNT) < 0) return none;
  const mapping = w[p + PG_MAPPING]!;
  const index = w[p + PG_INDEX]!;
  if (isFileMapping(mapping)) return i_mmap_walk(cpu, r, mapping, pfn, index, act, out, entry);
  if (mapping >= 0) return none;
  const ao = anonOfMapping(mapping);
  if (ao < 0 || ao >= l.rmapEntries) return none;
  anon_obj_lock(cpu, ao, act === ACT_UNMAP ? SITE.try_to_unmap : SITE.page_referenced);
  const ret = walk_list(cpu, r, w[poolObj(l, ao) + AO_HEAD]!, anon, pfn, index, act, out, entry);
  anon_obj_unlock(cpu, ao);
  return ret;
}
