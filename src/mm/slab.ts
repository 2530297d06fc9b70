/*
 * slab.ts — fixed-size object tables in the buffer (mm_struct, vm_area_struct,
 * inodes, rmap objects): a free list threaded through one word of each free
 * object, plus a never-used high-water id, under the table's global line lock
 * (kmem_cache_alloc's role; the `*_cachep` lock classes).
 *
 * Locking: the free-list line (FL_HEAD, FL_NR_USED, FL_NEXT_ID) is guarded by
 * the line's own lock (words 0..3), taken through the scheme (kernel_flag under bkl).
 */
import type { CpuBase } from '../machine/cpu.js';
import { FL_HEAD, FL_NR_USED, FL_NEXT_ID, NIL, globalLine } from '../machine/layout.js';
import { scheme_spin_lock, scheme_spin_unlock } from '../sync/scheme.js';

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
}

/** Allocate an object id, or NIL when the table is full. */
export function kmem_cache_alloc(cpu: CpuBase, c: SlabCache): number {
  const w = cpu.w;
  const g = globalLine(cpu.l, c.line);
  scheme_spin_lock(cpu, g, c.cls, c.site);
  let id = w[g + FL_HEAD]! - 1; // stored +1 so a zeroed line means "empty list"
  if (id >= 0) {
    w[g + FL_HEAD] = w[c.base + id * c.objWords + c.nextWord]! + 1;
  } else if (w[g + FL_NEXT_ID]! < c.max) {
    id = w[g + FL_NEXT_ID]!++;
  } else {
    id = NIL;
  }
  if (id >= 0) w[g + FL_NR_USED]!++;
  scheme_spin_unlock(cpu, g, c.cls);
  return id;
}

export function kmem_cache_free(cpu: CpuBase, c: SlabCache, id: number): void {
  const w = cpu.w;
  const g = globalLine(cpu.l, c.line);
  scheme_spin_lock(cpu, g, c.cls, c.site);
  w[c.base + id * c.objWords + c.nextWord] = w[g + FL_HEAD]! - 1;
  w[g + FL_HEAD] = id + 1;
  w[g + FL_NR_USED]!--;
  scheme_spin_unlock(cpu, g, c.cls);
}

export const slabInUse = (w: Int32Array, l: CpuBase['l'], line: number) => w[globalLine(l, line) + FL_NR_USED]!;
