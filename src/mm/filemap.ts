/*
 * filemap.ts — the page cache (2.4 style): one hash table on (mapping, index).
 *
 * The table is the pcHash region (pcHashMask + 1 bucket heads, NIL = empty);
 * a bucket's pages are chained through PG_HASH_NEXT (2.4 page->next_hash).
 * The key of a page in the cache is
 *   - file page:        (page->mapping = mappingOfInode(ino), page->index)
 *   - swap-cache page:  (SWAPPER_SPACE, swap entry): the page keeps its anon
 *                       mapping and index (objrmap needs them), carries
 *                       PG_swapcache and holds the entry in PG_PRIVATE (2.6).
 *                       add_to_page_cache(cpu, pfn, SWAPPER_SPACE, entry)
 *                       sets both; removal clears both.
 * The cache holds one reference (_count) on each of its pages, and an inode
 * counts its cached pages in I_NRPAGES (swapper_space has no inode: no count).
 *
 * Locking (cache_lock / cache_unlock pick the lock from the mapping):
 *   scheme  file mapping                          SWAPPER_SPACE
 *   bkl     kernel_flag (recursive lock_kernel)   kernel_flag
 *   2.4     global pagecache_lock (G_PAGECACHE)   the same pagecache_lock
 *   split   the inode's tree_lock (I_TREE_LOCK)   swapper_space.tree_lock: the
 *                                                 G_PAGECACHE line, class
 *                                                 &mapping->tree_lock
 * Under `split` two mappings' pages can share a bucket while being guarded
 * by two different tree_locks (2.6 gave each mapping its own radix tree; we
 * keep 2.4's one hash), so every bucket also has a bit-lock in its head
 * word, taken inside the cache lock around each walk or update of the
 * chain. It is the innermost lock of all, held for a few loads, with no
 * lock_stat class (an artefact of sharing one table, not a kernel lock).
 * Encoding: a head word v >= -1 is unlocked (pfn or NIL); v <= -2 is locked
 * and holds -(head + 3). At rest (no CPU inside) every head is a pfn or NIL,
 * so checkers may walk the table directly.
 *
 * Lock order (src/sync/index.ts): ... → pagecache_lock / tree_lock →
 * bucket bit-lock; zone->lock is not taken under them here (callers free
 * pages after unlocking).
 *
 * Sources: 2.4.17 mm/filemap.c (__find_get_page, add_to_page_cache_unique,
 * __remove_inode_page, truncate_inode_pages), 2.6 mm/swap_state.c
 * (__add_to_swap_cache: PG_swapcache + page->private), REFERENCE.md §5.
 */
import { spin_relax } from '../sync/relax.js';
import type { CpuBase } from '../machine/cpu.js';
import { LS_BKL, LS_24 } from '../machine/cpu.js';
import {
  G_PAGECACHE,
  I_NRPAGES,
  I_SIZE,
  NIL,
  PAGE_STRUCT_WORDS,
  PG_FLAGS,
  PG_COUNT,
  PG_MAPPING,
  PG_INDEX,
  PG_PRIVATE,
  PG_HASH_NEXT,
  G_FREEABLE,
  FQ_NR,
  globalLine,
  inodeBase,
} from '../machine/layout.js';
import { PG_swapcache, PG_freeable, SWAPPER_SPACE, inodeOfMapping, mappingOfInode } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { C_TREE_LOCK, SITE } from '../sync/classes.js';
import { spin_lock, spin_unlock, assertHeld } from '../sync/spinlock.js';
import { mapping_lock, mapping_unlock, mapping_assert_locked } from '../sync/scheme.js';
import { __free_page } from './page_ref.js';

/* ---- locks ---- */

/**
 * Take the page-cache lock that guards `mapping`'s pages (table above).
 * swapper_space has no inode: under bkl and 2.4 mapping_lock ignores its
 * inode argument (kernel_flag / the global pagecache_lock), under split the
 * G_PAGECACHE line's lock serves as swapper_space.tree_lock.
 */
export function cache_lock(cpu: CpuBase, mapping: number, site: number): void {
  if (mapping === SWAPPER_SPACE) {
    if (cpu.lockScheme === LS_BKL || cpu.lockScheme === LS_24) mapping_lock(cpu, 0, site);
    else spin_lock(cpu, globalLine(cpu.l, G_PAGECACHE), C_TREE_LOCK, site);
  } else {
    mapping_lock(cpu, inodeOfMapping(mapping), site);
  }
}

export function cache_unlock(cpu: CpuBase, mapping: number): void {
  if (mapping === SWAPPER_SPACE) {
    if (cpu.lockScheme === LS_BKL || cpu.lockScheme === LS_24) mapping_unlock(cpu, 0);
    else spin_unlock(cpu, globalLine(cpu.l, G_PAGECACHE), C_TREE_LOCK);
  } else {
    mapping_unlock(cpu, inodeOfMapping(mapping));
  }
}

/** Debug check (no-op unless config.debug): the caller holds cache_lock(mapping). */
export function cache_assert_locked(cpu: CpuBase, mapping: number): void {
  if (!cpu.debug) return;
  if (mapping === SWAPPER_SPACE && cpu.lockScheme !== LS_BKL && cpu.lockScheme !== LS_24) {
    assertHeld(cpu, globalLine(cpu.l, G_PAGECACHE), C_TREE_LOCK);
  } else {
    mapping_assert_locked(cpu, mapping === SWAPPER_SPACE ? 0 : inodeOfMapping(mapping));
  }
}

/** murmur3 fmix32 of the key: sequential indexes and swap entries (spaced 256 apart) both spread. */
function page_hash(cpu: CpuBase, mapping: number, index: number): number {
  let h = (Math.imul(mapping, 0x9e3779b1) + index) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return cpu.l.pcHash + (h & cpu.l.pcHashMask);
}

/**
 * Lock bucket word `off` (split only) and return its head. Spins: holders
 * keep it for a few loads and never block inside.
 */
function bucket_lock(cpu: CpuBase, off: number): number {
  const w = cpu.w;
  if (cpu.lockScheme === LS_BKL || cpu.lockScheme === LS_24) return w[off]!;
  for (let spins = 1; ; spins++) {
    const v = Atomics.load(w, off);
    if (v >= -1 && Atomics.compareExchange(w, off, v, -v - 3) === v) return v;
    if (v < -1) spin_relax(w, off, v, spins); // held (virtual clock: park until it moves)
  }
}

/** Store the (possibly new) head and release the bucket. */
function bucket_unlock(cpu: CpuBase, off: number, head: number): void {
  if (cpu.lockScheme === LS_BKL || cpu.lockScheme === LS_24) cpu.w[off] = head;
  else Atomics.store(cpu.w, off, head);
}

/** Does page `p` (struct page offset) carry the key (mapping, index)? */
function key_matches(w: Int32Array, p: number, mapping: number, index: number): boolean {
  if (mapping === SWAPPER_SPACE) return (w[p + PG_FLAGS]! & PG_swapcache) !== 0 && w[p + PG_PRIVATE] === index;
  return w[p + PG_MAPPING] === mapping && w[p + PG_INDEX] === index && (w[p + PG_FLAGS]! & PG_swapcache) === 0;
}

function chain_find(cpu: CpuBase, head: number, mapping: number, index: number): number {
  const w = cpu.w;
  const memMap = cpu.l.memMap;
  for (let q = head; q !== NIL; q = w[memMap + q * PAGE_STRUCT_WORDS + PG_HASH_NEXT]!) {
    if (key_matches(w, memMap + q * PAGE_STRUCT_WORDS, mapping, index)) return q;
  }
  return NIL;
}

/* ---- lookups ---- */

/** __find_page: the pfn cached under (mapping, index) or -1; no reference taken. Cache lock held. */
export function __find_page(cpu: CpuBase, mapping: number, index: number): number {
  cache_assert_locked(cpu, mapping);
  const off = page_hash(cpu, mapping, index);
  const head = bucket_lock(cpu, off);
  const pfn = chain_find(cpu, head, mapping, index);
  bucket_unlock(cpu, off, head);
  return pfn;
}

/**
 * find_get_page: look (mapping, index) up and take a reference on the page
 * (the caller put_page()s it). Returns the pfn or -1. Takes the cache lock.
 * For the swap cache: find_get_page(cpu, SWAPPER_SPACE, entry) (lookup_swap_cache).
 */
export function find_get_page(cpu: CpuBase, mapping: number, index: number): number {
  cache_lock(cpu, mapping, SITE.find_get_page);
  const pfn = __find_page(cpu, mapping, index);
  if (pfn !== NIL) Atomics.add(cpu.w, cpu.l.memMap + pfn * PAGE_STRUCT_WORDS + PG_COUNT, 1);
  cache_unlock(cpu, mapping);
  // issue 18: a page parked on the freeable queue is wanted again: rescued (reclaim/freeable.ts)
  if (pfn !== NIL && (cpu.w[cpu.l.memMap + pfn * PAGE_STRUCT_WORDS + PG_FLAGS]! & PG_freeable) !== 0 && TestClearPageFreeable(cpu, pfn)) {
    cpu.w[cpu.vm + VM.pgrescued]!++;
  }
  return pfn;
}

/**
 * TestClearPageFreeable: take PG_freeable off pfn (issue 18, the clock
 * policy's freeable queue, reclaim/freeable.ts) and drop FQ_NR if it was
 * set. Atomics on the flags word, so the lookup that rescues a page, the
 * allocator that takes it and the release that frees it agree on who
 * cleared it. True if this call cleared it.
 */
export function TestClearPageFreeable(cpu: CpuBase, pfn: number): boolean {
  if ((Atomics.and(cpu.w, cpu.l.memMap + pfn * PAGE_STRUCT_WORDS + PG_FLAGS, ~PG_freeable) & PG_freeable) === 0) return false;
  Atomics.sub(cpu.w, globalLine(cpu.l, G_FREEABLE) + FQ_NR, 1);
  return true;
}

/* ---- insertion ---- */

/**
 * __add_to_page_cache: insert page `pfn` under (mapping, index) unless the
 * key is already cached. Cache lock held. The page must be the caller's
 * (its _count includes the caller's reference) and not in any cache; it
 * should already hold its data (filled, or locked by the caller), since
 * other CPUs can find it as soon as this returns. On success the cache takes
 * a reference, a file page gets mapping/index and bumps I_NRPAGES, a
 * swap-cache page gets PG_swapcache and PG_PRIVATE = entry. Returns false
 * (page untouched) if the key exists: the race loser frees its page.
 */
export function __add_to_page_cache(cpu: CpuBase, pfn: number, mapping: number, index: number): boolean {
  cache_assert_locked(cpu, mapping);
  const w = cpu.w;
  const p = cpu.l.memMap + pfn * PAGE_STRUCT_WORDS;
  const off = page_hash(cpu, mapping, index);
  const head = bucket_lock(cpu, off);
  if (chain_find(cpu, head, mapping, index) !== NIL) {
    bucket_unlock(cpu, off, head);
    return false;
  }
  if (mapping === SWAPPER_SPACE) {
    w[p + PG_PRIVATE] = index;
    Atomics.or(w, p + PG_FLAGS, PG_swapcache);
  } else {
    w[p + PG_MAPPING] = mapping;
    w[p + PG_INDEX] = index;
    w[inodeBase(cpu.l, inodeOfMapping(mapping)) + I_NRPAGES]!++;
  }
  Atomics.add(w, p + PG_COUNT, 1);
  w[p + PG_HASH_NEXT] = head;
  bucket_unlock(cpu, off, pfn);
  return true;
}

/** add_to_page_cache: __add_to_page_cache under the cache lock. */
export function add_to_page_cache(cpu: CpuBase, pfn: number, mapping: number, index: number): boolean {
  cache_lock(cpu, mapping, SITE.add_to_page_cache);
  const ok = __add_to_page_cache(cpu, pfn, mapping, index);
  cache_unlock(cpu, mapping);
  return ok;
}

/* ---- removal ---- */

/** The cache key mapping of page `pfn` (SWAPPER_SPACE for swap-cache pages, 0 if uncached file/anon). */
export function page_cache_mapping(cpu: CpuBase, pfn: number): number {
  const p = cpu.l.memMap + pfn * PAGE_STRUCT_WORDS;
  if ((Atomics.load(cpu.w, p + PG_FLAGS) & PG_swapcache) !== 0) return SWAPPER_SPACE;
  const mapping = cpu.w[p + PG_MAPPING]!;
  return mapping > 0 ? mapping : 0;
}

/**
 * __remove_from_page_cache: unlink page `pfn` from the cache. Cache lock of
 * its key held. Clears mapping (file) or PG_swapcache + private (swap); does
 * NOT drop the cache's reference: the caller put_page()s (or, for an LRU
 * page, releases it through reclaim/) after unlocking. Throws if the page is
 * not in the cache under its key (a broken caller).
 */
export function __remove_from_page_cache(cpu: CpuBase, pfn: number): void {
  const w = cpu.w;
  const memMap = cpu.l.memMap;
  const p = memMap + pfn * PAGE_STRUCT_WORDS;
  const swap = (w[p + PG_FLAGS]! & PG_swapcache) !== 0;
  const mapping = swap ? SWAPPER_SPACE : w[p + PG_MAPPING]!;
  const index = swap ? w[p + PG_PRIVATE]! : w[p + PG_INDEX]!;
  cache_assert_locked(cpu, mapping);
  const off = page_hash(cpu, mapping, index);
  let head = bucket_lock(cpu, off);
  let prev = NIL;
  let q = head;
  while (q !== NIL && q !== pfn) {
    prev = q;
    q = w[memMap + q * PAGE_STRUCT_WORDS + PG_HASH_NEXT]!;
  }
  if (q === NIL) {
    bucket_unlock(cpu, off, head);
    throw new Error(`cpu ${cpu.id}: remove_from_page_cache: page ${pfn} not cached under (${mapping}, ${index})`);
  }
  const next = w[p + PG_HASH_NEXT]!;
  if (prev === NIL) head = next;
  else w[memMap + prev * PAGE_STRUCT_WORDS + PG_HASH_NEXT] = next;
  w[p + PG_HASH_NEXT] = NIL;
  if (swap) {
    Atomics.and(w, p + PG_FLAGS, ~PG_swapcache);
    w[p + PG_PRIVATE] = 0;
  } else {
    w[p + PG_MAPPING] = 0;
    w[inodeBase(cpu.l, inodeOfMapping(mapping)) + I_NRPAGES]!--;
  }
  bucket_unlock(cpu, off, head);
}

/**
 * remove_from_page_cache: take the cache lock of page `pfn`'s key and unlink
 * it. Returns false if the page was no longer cached (another CPU removed it
 * first: truncate racing reclaim). The cache's reference is NOT dropped
 * (see __remove_from_page_cache).
 */
export function remove_from_page_cache(cpu: CpuBase, pfn: number): boolean {
  const mapping = page_cache_mapping(cpu, pfn);
  if (mapping === 0) return false;
  cache_lock(cpu, mapping, SITE.remove_from_page_cache);
  const still = page_cache_mapping(cpu, pfn) === mapping;
  if (still) __remove_from_page_cache(cpu, pfn);
  cache_unlock(cpu, mapping);
  return still;
}

/**
 * How truncate_inode_pages drops the cache's reference on each page it
 * removes: __free_page (mm/page_ref.ts) until reclaim/'s installReclaim
 * (run by vm/cpu.ts's makeCpu) sets its LRU-aware put_page (a page freed
 * while on an LRU would corrupt the list).
 */
export const pagecache_hooks: { release: (cpu: CpuBase, pfn: number) => void } = { release: __free_page };

/**
 * truncate_inode_pages: drop every cached page of inode `ino` (file deletion,
 * shmem teardown, tests). Dirty data is discarded. A page still mapped stays
 * alive for its mappers (their references) as an uncached page, as 2.4's
 * truncate left it. Takes the cache lock once per page.
 */
export function truncate_inode_pages(cpu: CpuBase, ino: number): void {
  const w = cpu.w;
  const ib = inodeBase(cpu.l, ino);
  const mapping = mappingOfInode(ino);
  const size = w[ib + I_SIZE]!;
  for (let index = 0; index < size && w[ib + I_NRPAGES]! > 0; index++) {
    cache_lock(cpu, mapping, SITE.remove_from_page_cache);
    const pfn = __find_page(cpu, mapping, index);
    if (pfn !== NIL) __remove_from_page_cache(cpu, pfn);
    cache_unlock(cpu, mapping);
    if (pfn !== NIL) pagecache_hooks.release(cpu, pfn);
  }
}

/** Pages cached for inode `ino` (I_NRPAGES snapshot). */
export const inode_nrpages = (cpu: CpuBase, ino: number) => cpu.w[inodeBase(cpu.l, ino) + I_NRPAGES]!;
