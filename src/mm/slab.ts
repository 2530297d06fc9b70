/*
 * slab.ts — fixed-size object tables in the buffer (mm_struct, vm_area_struct,
 * inodes, rmap objects): kmem_cache_alloc / kmem_cache_free.
 *
 * Each table is a cache: a global free list threaded through one word of each
 * free object plus a never-used high-water id, under the table's global line
 * lock (the `*_cachep` lock classes: the kernel's cachep->spinlock, 2.6's
 * l3->list_lock). In front of it, on `2.4` and `split`, each CPU has an
 * *array cache* of free object ids (Manfred Spraul's per-CPU caches, 2.4
 * mm/slab.c cpucache_t; 2.6 struct array_cache; Bonwick's magazines), so
 * allocating and freeing objects touches only the CPU's own line:
 *
 *   kmem_cache_alloc: ac->avail ? ac->entry[--ac->avail]
 *                               : cache_alloc_refill (take `batch` objects
 *                                 from the global list under its lock)
 *   kmem_cache_free:  ac->avail < ac->limit ? ac->entry[ac->avail++] = obj
 *                               : cache_flusharray (give the `batch` oldest
 *                                 entries back under the lock), then push
 *
 * The array is one cache line in the per-CPU area (layout.ts PC_SLAB_AC):
 * [AC_AVAIL] then up to AC_ENTRIES ids. The kernel's enable_cpucache gives
 * small objects limit 120, batchcount 60; here the limit is at most one line
 * (15) and at most a quarter of the table shared among all CPU slots, so a
 * small table is never stranded in other CPUs' arrays (limit 0: no array).
 * `bkl` has none: 2.2's slab took its lock for every object.
 *
 * Counting: FL_NR_USED counts objects off the global list, including those
 * parked in array caches; slab_in_use subtracts them (quiescent readers).
 *
 * Locking: the global free list (FL_HEAD, FL_NR_USED, FL_NEXT_ID) is guarded
 * by the line's own lock (words 0..3), taken through the scheme (kernel_flag
 * under bkl). A CPU's array cache: that CPU only, plain loads and stores (the
 * kernel's local_irq_save); other threads read it only when the machine is
 * quiescent or stopped.
 */
import { LS_BKL, type CpuBase } from '../machine/cpu.js';
import {
  AC_AVAIL,
  AC_ENTRIES,
  FL_HEAD,
  FL_NR_USED,
  FL_NEXT_ID,
  LINE_WORDS,
  NIL,
  PC_SLAB_AC,
  globalLine,
  percpuBase,
  type Layout,
} from '../machine/layout.js';
import { scheme_spin_lock, scheme_spin_unlock, scheme_assert_spin_locked } from '../sync/scheme.js';

export interface SlabCache {
  /** global line index (G_MMALLOC, ...) */
  readonly line: number;
  readonly cls: number;
  readonly site: number;
  /** word offset of object 0 */
  readonly base: number;
  readonly objWords: number;
  /** word within an object holding the free-list link */
  readonly nextWord: number;
  readonly max: number;
  /** word offset of this cache's array-cache line within a per-CPU area */
  readonly ac: number;
  /** array-cache limit (0: no per-CPU array) and batchcount */
  readonly limit: number;
  readonly batch: number;
}

/** Describe table `line` (objects of `objWords` words from `base`, `max` of them) as a cache using array cache `acIndex` (AC_MM, ...). */
export function slabCache(
  l: Layout,
  line: number,
  cls: number,
  site: number,
  base: number,
  objWords: number,
  nextWord: number,
  max: number,
  acIndex: number,
): SlabCache {
  const limit = Math.min(AC_ENTRIES, Math.floor(max / (4 * l.nrCpuSlots)));
  return { line, cls, site, base, objWords, nextWord, max, ac: PC_SLAB_AC + acIndex * LINE_WORDS, limit, batch: (limit + 1) >> 1 };
}

/** Take one object off the global list (or the high-water mark); NIL if the table is full. Cache lock held. */
function take_global(cpu: CpuBase, g: number, c: SlabCache): number {
  scheme_assert_spin_locked(cpu, g, c.cls);
  const w = cpu.w;
  let id = w[g + FL_HEAD]! - 1; // stored +1 so a zeroed line means "empty list"
  if (id >= 0) {
    w[g + FL_HEAD] = w[c.base + id * c.objWords + c.nextWord]! + 1;
  } else if (w[g + FL_NEXT_ID]! < c.max) {
    id = w[g + FL_NEXT_ID]!++;
  } else {
    return NIL;
  }
  w[g + FL_NR_USED]!++;
  return id;
}

/** Put object `id` on the global list. Cache lock held. */
function put_global(cpu: CpuBase, g: number, c: SlabCache, id: number): void {
  scheme_assert_spin_locked(cpu, g, c.cls);
  const w = cpu.w;
  w[c.base + id * c.objWords + c.nextWord] = w[g + FL_HEAD]! - 1;
  w[g + FL_HEAD] = id + 1;
  w[g + FL_NR_USED]!--;
}

/** cache_alloc_refill: move up to `batch` objects into this CPU's empty array at `ac`; returns how many. */
function cache_alloc_refill(cpu: CpuBase, c: SlabCache, ac: number): number {
  const w = cpu.w;
  const g = globalLine(cpu.l, c.line);
  scheme_spin_lock(cpu, g, c.cls, c.site);
  let n = 0;
  while (n < c.batch) {
    const id = take_global(cpu, g, c);
    if (id < 0) break;
    w[ac + 1 + n++] = id;
  }
  scheme_spin_unlock(cpu, g, c.cls);
  w[ac + AC_AVAIL] = n;
  return n;
}

/** cache_flusharray: give the `batch` oldest entries of this CPU's full array back; returns the new avail. */
function cache_flusharray(cpu: CpuBase, c: SlabCache, ac: number, avail: number): number {
  const w = cpu.w;
  const g = globalLine(cpu.l, c.line);
  const batch = c.batch;
  scheme_spin_lock(cpu, g, c.cls, c.site);
  for (let i = 0; i < batch; i++) put_global(cpu, g, c, w[ac + 1 + i]!);
  scheme_spin_unlock(cpu, g, c.cls);
  w.copyWithin(ac + 1, ac + 1 + batch, ac + 1 + avail);
  return avail - batch;
}

/** Allocate an object id, or NIL when the table is full. */
export function kmem_cache_alloc(cpu: CpuBase, c: SlabCache): number {
  const w = cpu.w;
  if (c.limit !== 0 && cpu.lockScheme !== LS_BKL) {
    const ac = cpu.pc + c.ac;
    let avail = w[ac + AC_AVAIL]!;
    if (avail === 0) {
      avail = cache_alloc_refill(cpu, c, ac);
      if (avail === 0) return NIL;
    }
    w[ac + AC_AVAIL] = --avail;
    return w[ac + 1 + avail]!;
  }
  const g = globalLine(cpu.l, c.line);
  scheme_spin_lock(cpu, g, c.cls, c.site);
  const id = take_global(cpu, g, c);
  scheme_spin_unlock(cpu, g, c.cls);
  return id;
}

export function kmem_cache_free(cpu: CpuBase, c: SlabCache, id: number): void {
  const w = cpu.w;
  if (c.limit !== 0 && cpu.lockScheme !== LS_BKL) {
    const ac = cpu.pc + c.ac;
    let avail = w[ac + AC_AVAIL]!;
    if (avail === c.limit) avail = cache_flusharray(cpu, c, ac, avail);
    w[ac + 1 + avail] = id;
    w[ac + AC_AVAIL] = avail + 1;
    return;
  }
  const g = globalLine(cpu.l, c.line);
  scheme_spin_lock(cpu, g, c.cls, c.site);
  put_global(cpu, g, c, id);
  scheme_spin_unlock(cpu, g, c.cls);
}

/** Free objects parked in every CPU slot's array cache of `c` (quiescent machine). */
export function slab_cached(w: Int32Array, l: Layout, c: Pick<SlabCache, 'ac'>): number {
  let n = 0;
  for (let s = 0; s < l.nrCpuSlots; s++) n += w[percpuBase(l, s) + c.ac + AC_AVAIL]!;
  return n;
}

/** Objects allocated to users: off the global list and not parked in an array cache (quiescent machine). */
export const slab_in_use = (w: Int32Array, l: Layout, c: Pick<SlabCache, 'line' | 'ac'>) => w[globalLine(l, c.line) + FL_NR_USED]! - slab_cached(w, l, c);
