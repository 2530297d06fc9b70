/*
 * pool.ts — the rmap pool: fixed-size objects (vm_nodes, pte_chain blocks,
 * anon_vmas) in the buffer's rmap region, allocated with the slab table
 * allocator (mm/slab.ts: a per-CPU array cache in front of the G_RMAPALLOC
 * line lock, class rmap_cachep), plus 2.5's one-deep per-CPU cache of a free
 * object (local_pte_chain), kept in the CPU's PC_RMAP_CACHE word.
 *
 * pte_chain_alloc discipline (2.5 mm/rmap.c, REFERENCE.md §3.2): a path that
 * will add a mapping calls rmap_prealloc *before* taking the pte lock, so the
 * add() under the pte and chain locks never needs the allocator; an add()
 * that does not need the object leaves it cached for the next one, and a
 * remove() that frees an object refills the cache first. The pool lock is
 * a leaf of the lock order (sync/index.ts: *_cachep), so the atomic
 * allocation that a path without prealloc falls back to is legal under the
 * chain lock — it just may fail, which prealloc turns into an OOM before
 * anything was changed.
 *
 * A freed object keeps its memory in the pool (type-stable, as 2.6's
 * SLAB_DESTROY_BY_RCU anon_vma cache): the free-list link is written into a
 * word the scheme names (never a lock word).
 *
 * Locking: the free list under rmap_cachep; the per-CPU word is touched
 * only by its own CPU (and read by the checker at quiescent points).
 */
import type { CpuBase } from '../machine/cpu.js';
import { AC_RMAP, G_RMAPALLOC, LINE_WORDS, PC_RMAP_CACHE, PC_SLAB_AC, NIL, percpuBase, type Layout } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { C_RMAP_ALLOC, SITE } from '../sync/classes.js';
import { kmem_cache_alloc, kmem_cache_free, slabCache, slab_in_use, type SlabCache } from '../mm/slab.js';

/**
 * The slab cache describing this machine's pool. One cached descriptor per
 * (scheme module, layout): a worker has one machine, so this is built once;
 * tests that switch machines rebuild it. `nextWord` is the free-list word.
 */
export function poolCacheFor(l: Layout, nextWord: number, memo: { l: Layout | null; c: SlabCache | null }): SlabCache {
  if (memo.l !== l) {
    memo.c = slabCache(l, G_RMAPALLOC, C_RMAP_ALLOC, SITE.rmap_alloc, l.rmapPool, l.rmapEntryWords, nextWord, l.rmapEntries, AC_RMAP);
    memo.l = l;
  }
  return memo.c!;
}

/** Word offset of pool object `id`. */
export const poolObj = (l: Layout, id: number) => l.rmapPool + id * l.rmapEntryWords;

/** Objects allocated from the pool (including the per-CPU cached ones). */
const POOL_AC = { line: G_RMAPALLOC, ac: PC_SLAB_AC + AC_RMAP * LINE_WORDS } as const;
export const poolInUse = (w: Int32Array, l: Layout) => slab_in_use(w, l, POOL_AC);

/** pte_chain_alloc: make sure this CPU's cache holds a free object. false: the pool is exhausted. */
export function rmap_prealloc(cpu: CpuBase, c: SlabCache): boolean {
  const slot = cpu.pc + PC_RMAP_CACHE;
  if (cpu.w[slot] !== 0) return true;
  const id = kmem_cache_alloc(cpu, c);
  if (id < 0) return false;
  cpu.w[cpu.vm + VM.pte_chain_alloc]!++;
  cpu.w[slot] = id + 1;
  return true;
}

/**
 * Take an object for an add(): the cached one, else straight from the pool
 * (the atomic fallback of a caller that did not prealloc). NIL if none.
 */
export function rmap_obj_alloc(cpu: CpuBase, c: SlabCache): number {
  const slot = cpu.pc + PC_RMAP_CACHE;
  const cached = cpu.w[slot]! - 1;
  if (cached >= 0) {
    cpu.w[slot] = 0;
    return cached;
  }
  const id = kmem_cache_alloc(cpu, c);
  if (id >= 0) cpu.w[cpu.vm + VM.pte_chain_alloc]!++;
  return id;
}

/** Free an object: into this CPU's cache if it is empty, else back to the pool. */
export function rmap_obj_free(cpu: CpuBase, c: SlabCache, id: number): void {
  const slot = cpu.pc + PC_RMAP_CACHE;
  if (cpu.w[slot] === 0) cpu.w[slot] = id + 1;
  else kmem_cache_free(cpu, c, id);
}

/** Objects sitting in the per-CPU caches (checker, at a quiescent point). */
export function poolCached(w: Int32Array, l: Layout): number {
  let n = 0;
  for (let c = 0; c < l.nrCpuSlots; c++) if (w[percpuBase(l, c) + PC_RMAP_CACHE] !== 0) n++;
  return n;
}

/** The cached object id of CPU slot c, or NIL. */
export const poolCachedId = (w: Int32Array, l: Layout, c: number) => w[percpuBase(l, c) + PC_RMAP_CACHE]! - 1;

export { NIL };
