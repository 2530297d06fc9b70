/*
 * files.ts — inodes and the simulated disk behind them.
 *
 * An inode is a slot of the inode table (INODE_WORDS words, layout.ts I_*);
 * its id is what page->mapping encodes (mappingOfInode, page.ts) and what
 * every API here calls `ino`. Slots come from a free list in the G_FILES line
 * (slab.ts: FL_HEAD / FL_NR_USED / FL_NEXT_ID under the line's lock, class
 * inode_lock); a slot in use has I_INO = its id, a free one NIL.
 *
 * I_GEN is the slot's generation (the kernel's i_generation, for the same
 * reason NFS has one: an inode number alone names a slot, not a file). Every
 * inode_alloc bumps it, so (ino, I_GEN) names one file for the machine's
 * lifetime: the nonresident table folds it into a page-cache page's cookie
 * (workingset.ts nr_file_key), and a cookie left by a deleted file cannot
 * match a page of the next file created in the same slot. It starts at 0
 * (never allocated) and wraps after 2^32 allocations of one slot.
 *
 * File contents are a pure function of (ino, index, word): file_word(), a
 * murmur3-fmix hash, so any reader can check what it read without keeping a
 * copy. Only the first STAMP_WORDS words of a page can change: the content
 * oracle stamps them, and writeback_page() stores them in the file store
 * (region fileStore, FS_WORDS per (ino, page)):
 *
 *     fileStore[(ino * filePages + index) * FS_WORDS]
 *       [0]                written-back flag (0: the page still has its
 *                          pristine contents)
 *       [1..STAMP_WORDS]   the stamp words last written back
 *
 * read_file_page_into() (the simulated read I/O) fills a frame with the
 * pattern and overlays the stored stamp words when the flag is set. A slot's
 * store is cleared when the slot is allocated: a new file is pristine.
 *
 * Locking: the inode free list: the G_FILES line lock (kmem_cache_alloc).
 * An inode's I_* words belong to whoever holds a reference (I_USERS, managed
 * by vm/); I_NRPAGES is changed under the inode's page-cache lock
 * (filemap.ts). A file-store entry is written by writeback_page with the
 * page locked (or otherwise exclusive: one CPU writes a given file page back
 * at a time); its flag is stored with Atomics after the stamp words, and read
 * with Atomics before them, so a concurrent reader sees a whole stamp.
 */
import type { CpuBase } from '../machine/cpu.js';
import {
  G_FILES,
  AC_INODE,
  INODE_WORDS,
  I_INO,
  I_SIZE,
  I_NRPAGES,
  I_MMAP,
  I_FLAGS,
  I_USERS,
  I_FREE_NEXT,
  I_GEN,
  I_TREE_LOCK,
  I_MMAP_LOCK,
  LOCK_WORDS,
  NIL,
  PAGE_WORDS,
  FS_WORDS,
  STAMP_WORDS,
  frameBase,
  inodeBase,
} from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { C_INODE, SITE } from '../sync/classes.js';
import { kmem_cache_alloc, kmem_cache_free, slabCache, type SlabCache } from './slab.js';
import { truncate_inode_pages } from './filemap.js';

/** I_FLAGS: a shmem inode (MAP_SHARED|MAP_ANONYMOUS memory): zero-filled, no file store. */
export const I_SHMEM = 1;

/** The inode table as a slab cache (slab.ts). */
export function inodeCache(cpu: CpuBase): SlabCache {
  const l = cpu.l;
  return slabCache(l, G_FILES, C_INODE, SITE.inode_alloc, l.inodes, INODE_WORDS, I_FREE_NEXT, l.maxFiles, AC_INODE);
}

/** Word offset of the file-store entry of (ino, index). */
export const fileStoreEntry = (l: CpuBase['l'], ino: number, index: number) =>
  l.fileStore + (ino * l.filePages + index) * FS_WORDS;

/**
 * inode_alloc: a fresh inode of `sizePages` pages (at most config.filePages)
 * with I_FLAGS = flags, I_USERS 0, no pages, no mappers, pristine contents,
 * and the slot's next generation (I_GEN + 1). Returns its id, or NIL when the
 * table is full. Takes the inode_lock.
 */
export function inode_alloc(cpu: CpuBase, sizePages: number, flags: number): number {
  const l = cpu.l;
  if (sizePages < 0 || sizePages > l.filePages) {
    throw new Error(`inode_alloc: size ${sizePages} pages outside 0..${l.filePages} (config.filePages)`);
  }
  const ino = kmem_cache_alloc(cpu, inodeCache(cpu));
  if (ino < 0) return NIL;
  const w = cpu.w;
  const ib = inodeBase(l, ino);
  w[ib + I_SIZE] = sizePages;
  w[ib + I_NRPAGES] = 0;
  w[ib + I_MMAP] = NIL;
  w[ib + I_FLAGS] = flags;
  w[ib + I_USERS] = 0;
  w[ib + I_GEN] = (w[ib + I_GEN]! + 1) | 0; // the slot is ours: nobody reads I_GEN of a free inode
  w.fill(0, ib + I_TREE_LOCK, ib + I_TREE_LOCK + LOCK_WORDS);
  w.fill(0, ib + I_MMAP_LOCK, ib + I_MMAP_LOCK + LOCK_WORDS);
  const fs = fileStoreEntry(l, ino, 0);
  w.fill(0, fs, fs + sizePages * FS_WORDS);
  Atomics.store(w, ib + I_INO, ino);
  return ino;
}

/**
 * inode_free: delete the file: drop its page cache (truncate_inode_pages,
 * discarding dirty data) and return the slot. Nobody may map it any more
 * (I_MMAP empty). Takes the page-cache lock, then the inode_lock.
 */
export function inode_free(cpu: CpuBase, ino: number): void {
  const w = cpu.w;
  const ib = inodeBase(cpu.l, ino);
  if (w[ib + I_INO] !== ino) throw new Error(`inode_free: inode ${ino} is not allocated`);
  if (w[ib + I_MMAP] !== NIL) throw new Error(`inode_free: inode ${ino} is still mapped (i_mmap not empty)`);
  truncate_inode_pages(cpu, ino);
  if (w[ib + I_NRPAGES] !== 0) throw new Error(`inode_free: inode ${ino} still caches ${w[ib + I_NRPAGES]} pages past its size`);
  Atomics.store(w, ib + I_INO, NIL);
  kmem_cache_free(cpu, inodeCache(cpu), ino);
}

/** The generation of inode slot `ino` (read by holders of a reference, or of one of its pages). */
export const inode_generation = (cpu: CpuBase, ino: number) => cpu.w[inodeBase(cpu.l, ino) + I_GEN]!;

/** Is inode slot `ino` allocated? */
export const inode_in_use = (cpu: CpuBase, ino: number) => Atomics.load(cpu.w, inodeBase(cpu.l, ino) + I_INO) === ino;

/* ---- file contents ---- */

/** murmur3 fmix32: a cheap bijective 32-bit mixer. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Per-page seed of the pattern. */
const fileSeed = (ino: number, index: number) => fmix32(Math.imul(ino + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x7feb352d) ^ 0x46494c45);

/**
 * file_word: word `k` (0..1023) of page `index` of inode `ino` as it is on
 * disk before anything was written back — the deterministic pattern.
 */
export function file_word(ino: number, index: number, k: number): number {
  return fmix32((fileSeed(ino, index) + Math.imul(k, 0x61c88647)) | 0);
}

/**
 * file_store_word: word `k` of (ino, index) as the disk holds it now: the
 * written-back stamp for k < STAMP_WORDS once the page was written back, the
 * pattern otherwise.
 */
export function file_store_word(cpu: CpuBase, ino: number, index: number, k: number): number {
  if (k < STAMP_WORDS) {
    const fs = fileStoreEntry(cpu.l, ino, index);
    if (Atomics.load(cpu.w, fs) !== 0) return cpu.w[fs + 1 + k]!;
  }
  return file_word(ino, index, k);
}

/** Has (ino, index) ever been written back? */
export const file_page_written = (cpu: CpuBase, ino: number, index: number) =>
  Atomics.load(cpu.w, fileStoreEntry(cpu.l, ino, index)) !== 0;

function checkIndex(cpu: CpuBase, ino: number, index: number, what: string): void {
  if (index < 0 || index >= cpu.l.filePages || ino < 0 || ino >= cpu.l.maxFiles) {
    throw new Error(`${what}: page ${index} of inode ${ino} outside the file store`);
  }
}

/**
 * read_file_page_into: the simulated read I/O — fill frame `pfn` with page
 * `index` of inode `ino` as the disk holds it now. The caller owns the frame
 * (freshly allocated, not yet visible in the page cache, or locked).
 */
export function read_file_page_into(cpu: CpuBase, ino: number, index: number, pfn: number): void {
  checkIndex(cpu, ino, index, 'read_file_page_into');
  const w = cpu.w;
  const f = frameBase(cpu.l, pfn);
  const seed = fileSeed(ino, index);
  for (let k = 0, x = seed; k < PAGE_WORDS; k++, x = (x + 0x61c88647) | 0) w[f + k] = fmix32(x);
  const fs = fileStoreEntry(cpu.l, ino, index);
  if (Atomics.load(w, fs) !== 0) for (let k = 0; k < STAMP_WORDS; k++) w[f + k] = w[fs + 1 + k]!;
  w[cpu.vm + VM.pgpgin]++;
}

/**
 * writeback_page: store the stamp words of frame `pfn` as page `index` of
 * inode `ino` on disk (writepage). Called with the page locked or otherwise
 * exclusive; the caller clears PG_dirty.
 */
export function writeback_page(cpu: CpuBase, ino: number, index: number, pfn: number): void {
  checkIndex(cpu, ino, index, 'writeback_page');
  const w = cpu.w;
  const f = frameBase(cpu.l, pfn);
  const fs = fileStoreEntry(cpu.l, ino, index);
  for (let k = 0; k < STAMP_WORDS; k++) w[fs + 1 + k] = w[f + k]!;
  Atomics.store(w, fs, 1);
  w[cpu.vm + VM.page_writeback]++;
  w[cpu.vm + VM.pgpgout]++;
}

/** Create n regular files of the configured size (config.filePages) on the given CPU's context: a workload's files. */
export function createFiles(cpu: CpuBase, n: number): number[] {
  const files: number[] = [];
  for (let i = 0; i < n; i++) {
    const ino = inode_alloc(cpu, cpu.m.cfg.filePages, 0);
    if (ino < 0) throw new Error(`createFiles: inode table full after ${i} files (maxFiles ${cpu.m.cfg.maxFiles})`);
    files.push(ino);
  }
  return files;
}
