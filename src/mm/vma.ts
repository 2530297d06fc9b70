/*
 * vma.ts — vm_area_structs: the per-mm sorted VMA list, find_vma, split,
 * merge, and the file's i_mmap list.
 *
 * Each mm keeps its VMAs in one address-sorted doubly-linked list (2.4's
 * mm->mmap; the AVL/rb tree only speeds up large lists) with a one-entry
 * mmap_cache hint. A file-backed VMA is also on its inode's i_mmap list, which
 * objrmap walks to find a file page's mappings.
 *
 * Locking: the list and every field of a VMA are changed only with the mm's
 * mmap_sem held for writing; find_vma runs with it held for reading, and so
 * do reclaim's virtual scans (swap_out takes it with down_read_trylock).
 * i_mmap links: the inode's I_MMAP_LOCK (i_mmap_lock), inside mmap_sem; a
 * VMA is off i_mmap while its bounds change. A VMA on an anon_vma list
 * (objrmap) is walked under anon_vma->lock without mmap_sem, so split_vma
 * links the new half and shrinks the old one in one hold of that lock
 * (2.6.7 vma_adjust): a walker never sees both halves cover a page.
 */
import { charge, mm_line_r, mm_line_w } from '../timing/index.js';
import type { CpuBase } from '../machine/cpu.js';
import {
  NIL,
  VMA_WORDS,
  VMA_START,
  VMA_END,
  VMA_FLAGS,
  VMA_MM,
  VMA_FILE,
  VMA_PGOFF,
  VMA_ANON,
  VMA_NEXT,
  VMA_PREV,
  VMA_I_MMAP_NEXT,
  VMA_I_MMAP_PREV,
  VMA_ANON_NEXT,
  VMA_ANON_PREV,
  VMA_FREE_NEXT,
  MM_MMAP,
  MM_MMAP_CACHE,
  MM_MAP_COUNT,
  MM_TOTAL_VM,
  I_MMAP,
  I_MMAP_LOCK,
  G_VMALLOC,
  AC_VMA,
  PAGE_SHIFT,
  vmaBase,
  mmBase,
  inodeBase,
} from '../machine/layout.js';
import { C_VMA_ALLOC, C_I_MMAP, SITE } from '../sync/classes.js';
import { scheme_spin_lock, scheme_spin_unlock, mmap_assert_write_locked, mmap_assert_locked } from '../sync/scheme.js';
import { kmem_cache_alloc, kmem_cache_free, slabCache, type SlabCache } from './slab.js';
import { inode_get, inode_put } from './shmem.js';

export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYWRITE = 0x20;
export const VM_LOCKED = 0x2000;
export const VM_ANON_SHARED = 0x10000; // MAP_SHARED|MAP_ANONYMOUS (backed by a shmem inode)

export function vmaCache(cpu: CpuBase): SlabCache {
  const l = cpu.l;
  return slabCache(l, G_VMALLOC, C_VMA_ALLOC, SITE.vma_alloc, l.vmaTable, VMA_WORDS, VMA_FREE_NEXT, l.maxVma, AC_VMA);
}

export function vm_area_alloc(cpu: CpuBase, cache: SlabCache, mm: number): number {
  const v = kmem_cache_alloc(cpu, cache);
  if (v < 0) return NIL;
  const w = cpu.w;
  const b = vmaBase(cpu.l, v);
  w.fill(NIL, b, b + VMA_WORDS);
  w[b + VMA_MM] = mm;
  w[b + VMA_FLAGS] = 0;
  w[b + VMA_PGOFF] = 0;
  return v;
}

export function vm_area_free(cpu: CpuBase, cache: SlabCache, v: number): void {
  if (cpu.w[vmaBase(cpu.l, v) + VMA_ANON]! >= 0) anon_vma_hooks.unlink(cpu, v);
  cpu.w[vmaBase(cpu.l, v) + VMA_MM] = NIL;
  kmem_cache_free(cpu, cache, v);
}

/*
 * anon_vma hooks. A VMA whose VMA_ANON is set (only the objrmap scheme sets
 * it) must be on that anon_vma's list for as long as it exists, so the
 * object-based walk finds every VMA that may map the anon_vma's pages:
 * anon_vma_link when a VMA is made as a copy of one (fork and mremap in
 * vm/), split when split_vma cuts one in two, the unlink in vm_area_free.
 * mm/ knows nothing of rmap/, so rmap/objrmap.ts installs the list
 * operations when it loads; for every other scheme VMA_ANON stays NIL and
 * they are never called.
 */
export interface AnonVmaHooks {
  link(cpu: CpuBase, v: number): void;
  unlink(cpu: CpuBase, v: number): void;
  /** split_vma's vma_adjust: link n (v's upper half from addr) and end v at addr under one anon_vma->lock hold. */
  split(cpu: CpuBase, v: number, n: number, addr: number): void;
}
function noAnonVma(): never {
  throw new Error('VMA_ANON is set but no anon_vma implementation is loaded');
}
export const anon_vma_hooks: AnonVmaHooks = { link: noAnonVma, unlink: noAnonVma, split: noAnonVma };
export function installAnonVmaHooks(h: AnonVmaHooks): void {
  Object.assign(anon_vma_hooks, h);
}
/**
 * anon_vma_link: v was made as a copy of a VMA with an anon_vma: put it on that list. Caller holds mmap_sem write,
 * or v's mm is one nobody else can reach yet (fork's child), so not asserted.
 */
export function anon_vma_link(cpu: CpuBase, v: number): void {
  if (cpu.w[vmaBase(cpu.l, v) + VMA_ANON]! >= 0) anon_vma_hooks.link(cpu, v);
}

/** Field accessors (unsigned addresses). */
export const vma_start = (w: Int32Array, l: CpuBase['l'], v: number) => w[vmaBase(l, v) + VMA_START]! >>> 0;
export const vma_end = (w: Int32Array, l: CpuBase['l'], v: number) => w[vmaBase(l, v) + VMA_END]! >>> 0;

/**
 * find_vma: the first VMA with end > addr, or NIL. Caller holds mmap_sem.
 * The mmap_cache hint is a racy word (threads share it): it is only trusted
 * after checking that the VMA it names still covers addr.
 */
export function find_vma(cpu: CpuBase, mm: number, addr: number): number {
  mmap_assert_locked(cpu, mm);
  const w = cpu.w;
  const l = cpu.l;
  const mb = mmBase(l, mm);
  charge(mm_line_r(mm)); // mmap_cache, mmap: the line a sibling thread's fault wrote last (MM_RSS)
  const hint = w[mb + MM_MMAP_CACHE]!;
  if (hint >= 0) {
    const b = vmaBase(l, hint);
    if (w[b + VMA_MM] === mm && w[b + VMA_START]! >>> 0 <= addr && w[b + VMA_END]! >>> 0 > addr) return hint;
  }
  let v = w[mb + MM_MMAP]!;
  while (v >= 0) {
    const b = vmaBase(l, v);
    if (w[b + VMA_END]! >>> 0 > addr) {
      if (w[b + VMA_START]! >>> 0 <= addr) {
        w[mb + MM_MMAP_CACHE] = v;
        charge(mm_line_w(mm));
      }
      return v;
    }
    v = w[b + VMA_NEXT]!;
  }
  return NIL;
}

/* ---- i_mmap ---- */
function i_mmap_lock(cpu: CpuBase, ino: number): void {
  scheme_spin_lock(cpu, inodeBase(cpu.l, ino) + I_MMAP_LOCK, C_I_MMAP, SITE.i_mmap);
}
function i_mmap_unlock(cpu: CpuBase, ino: number): void {
  scheme_spin_unlock(cpu, inodeBase(cpu.l, ino) + I_MMAP_LOCK, C_I_MMAP);
}

function __vma_link_file(cpu: CpuBase, v: number): void {
  const w = cpu.w;
  const b = vmaBase(cpu.l, v);
  const ino = w[b + VMA_FILE]!;
  if (ino < 0) return;
  const ib = inodeBase(cpu.l, ino);
  i_mmap_lock(cpu, ino);
  const first = w[ib + I_MMAP]!;
  w[b + VMA_I_MMAP_NEXT] = first;
  w[b + VMA_I_MMAP_PREV] = NIL;
  if (first >= 0) w[vmaBase(cpu.l, first) + VMA_I_MMAP_PREV] = v;
  w[ib + I_MMAP] = v;
  i_mmap_unlock(cpu, ino);
}

function __vma_unlink_file(cpu: CpuBase, v: number): void {
  const w = cpu.w;
  const b = vmaBase(cpu.l, v);
  const ino = w[b + VMA_FILE]!;
  if (ino < 0) return;
  i_mmap_lock(cpu, ino);
  const next = w[b + VMA_I_MMAP_NEXT]!;
  const prev = w[b + VMA_I_MMAP_PREV]!;
  if (prev >= 0) w[vmaBase(cpu.l, prev) + VMA_I_MMAP_NEXT] = next;
  else w[inodeBase(cpu.l, ino) + I_MMAP] = next;
  if (next >= 0) w[vmaBase(cpu.l, next) + VMA_I_MMAP_PREV] = prev;
  w[b + VMA_I_MMAP_NEXT] = NIL;
  w[b + VMA_I_MMAP_PREV] = NIL;
  i_mmap_unlock(cpu, ino);
}

/**
 * vma_link: insert v (fields set) into mm's sorted list and its file's i_mmap. Caller holds mmap_sem write, or mm
 * is fork's child, not yet reachable (2.6 dup_mmap: "not linked in yet"), so not asserted here.
 */
export function vma_link(cpu: CpuBase, mm: number, v: number): void {
  const w = cpu.w;
  const l = cpu.l;
  const mb = mmBase(l, mm);
  const b = vmaBase(l, v);
  const start = w[b + VMA_START]! >>> 0;
  let prev = NIL;
  let cur = w[mb + MM_MMAP]!;
  while (cur >= 0 && w[vmaBase(l, cur) + VMA_START]! >>> 0 < start) {
    prev = cur;
    cur = w[vmaBase(l, cur) + VMA_NEXT]!;
  }
  w[b + VMA_PREV] = prev;
  w[b + VMA_NEXT] = cur;
  if (prev >= 0) w[vmaBase(l, prev) + VMA_NEXT] = v;
  else w[mb + MM_MMAP] = v;
  if (cur >= 0) w[vmaBase(l, cur) + VMA_PREV] = v;
  w[mb + MM_MAP_COUNT]!++;
  w[mb + MM_TOTAL_VM]! += ((w[b + VMA_END]! >>> 0) - start) >>> PAGE_SHIFT;
  __vma_link_file(cpu, v);
}

/**
 * vma_unlink: remove v from mm's list and its file's i_mmap. Caller holds mmap_sem write, or mm is exiting
 * (exit_mmap: its last user is gone), so not asserted here.
 */
export function vma_unlink(cpu: CpuBase, mm: number, v: number): void {
  const w = cpu.w;
  const l = cpu.l;
  const mb = mmBase(l, mm);
  const b = vmaBase(l, v);
  const prev = w[b + VMA_PREV]!;
  const next = w[b + VMA_NEXT]!;
  if (prev >= 0) w[vmaBase(l, prev) + VMA_NEXT] = next;
  else w[mb + MM_MMAP] = next;
  if (next >= 0) w[vmaBase(l, next) + VMA_PREV] = prev;
  if (w[mb + MM_MMAP_CACHE] === v) w[mb + MM_MMAP_CACHE] = NIL;
  w[mb + MM_MAP_COUNT]!--;
  w[mb + MM_TOTAL_VM]! -= ((w[b + VMA_END]! >>> 0) - (w[b + VMA_START]! >>> 0)) >>> PAGE_SHIFT;
  __vma_unlink_file(cpu, v);
}

/** Page offset (in file pages) that addr maps to within v. */
export function vma_pgoff_of(w: Int32Array, l: CpuBase['l'], v: number, addr: number): number {
  const b = vmaBase(l, v);
  return w[b + VMA_PGOFF]! + (((addr >>> 0) - (w[b + VMA_START]! >>> 0)) >>> PAGE_SHIFT);
}

/**
 * split_vma: cut v at addr (page aligned, strictly inside); v keeps the lower
 * part, a new VMA (returned) the upper part. NIL when out of VMAs.
 * Caller holds mmap_sem write.
 */
export function split_vma(cpu: CpuBase, cache: SlabCache, mm: number, v: number, addr: number): number {
  mmap_assert_write_locked(cpu, mm);
  const w = cpu.w;
  const l = cpu.l;
  const b = vmaBase(l, v);
  const n = vm_area_alloc(cpu, cache, mm);
  if (n < 0) return NIL;
  const nb = vmaBase(l, n);
  const start = w[b + VMA_START]! >>> 0;
  vma_unlink(cpu, mm, v);
  w[nb + VMA_START] = addr;
  w[nb + VMA_END] = w[b + VMA_END]!;
  w[nb + VMA_FLAGS] = w[b + VMA_FLAGS]!;
  w[nb + VMA_FILE] = w[b + VMA_FILE]!;
  w[nb + VMA_PGOFF] = w[b + VMA_PGOFF]! + ((addr - start) >>> PAGE_SHIFT);
  w[nb + VMA_ANON] = w[b + VMA_ANON]!;
  if (w[nb + VMA_FILE]! >= 0) inode_get(cpu, w[nb + VMA_FILE]!); // get_file: both halves map it
  // n goes on the anon_vma list as v stops covering the upper half, both
  // under anon_vma->lock: a walk in between would find each pte there twice
  if (w[b + VMA_ANON]! >= 0) anon_vma_hooks.split(cpu, v, n, addr);
  else w[b + VMA_END] = addr;
  vma_link(cpu, mm, v);
  vma_link(cpu, mm, n);
  return n;
}

/** Can `next` be merged onto the end of `prev` (vma_merge's can_vma_merge_after)? */
export function can_vma_merge(w: Int32Array, l: CpuBase['l'], prev: number, next: number): boolean {
  const a = vmaBase(l, prev);
  const b = vmaBase(l, next);
  if (w[a + VMA_END] !== w[b + VMA_START]) return false;
  if (w[a + VMA_FLAGS] !== w[b + VMA_FLAGS] || w[a + VMA_FILE] !== w[b + VMA_FILE]) return false;
  if (w[a + VMA_ANON] !== w[b + VMA_ANON]) return false;
  const pages = ((w[a + VMA_END]! >>> 0) - (w[a + VMA_START]! >>> 0)) >>> PAGE_SHIFT;
  return w[a + VMA_PGOFF]! + pages === w[b + VMA_PGOFF];
}

/** vma_merge: absorb `next` into `prev` (caller checked can_vma_merge); frees next and its file reference. */
export function vma_merge(cpu: CpuBase, cache: SlabCache, mm: number, prev: number, next: number): void {
  const w = cpu.w;
  const l = cpu.l;
  const end = w[vmaBase(l, next) + VMA_END]!;
  vma_unlink(cpu, mm, next);
  vma_unlink(cpu, mm, prev);
  w[vmaBase(l, prev) + VMA_END] = end;
  vma_link(cpu, mm, prev);
  const ino = w[vmaBase(l, next) + VMA_FILE]!;
  vm_area_free(cpu, cache, next);
  if (ino >= 0) inode_put(cpu, ino);
}

export { VMA_START, VMA_END, VMA_FLAGS, VMA_MM, VMA_FILE, VMA_PGOFF, VMA_ANON, VMA_NEXT, VMA_PREV, VMA_ANON_NEXT, VMA_ANON_PREV };
