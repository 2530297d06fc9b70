/*
 * slab.test.ts — the object caches (src/mm/slab.ts): per-CPU array caches
 * that take the cache lock once per batch on `2.4` / `split`, flush their
 * oldest entries when full, count parked objects out of slab_in_use, stay off
 * for small tables and under `bkl`, and never lose or duplicate an object.
 */
import { describe, it, expect } from 'vitest';
import { makeCpu } from '../../src/vm/cpu.js';
import { AC_AVAIL, FL_NR_USED, NIL, globalLine } from '../../src/machine/layout.js';
import { C_VMA_ALLOC, C_MM_ALLOC } from '../../src/sync/classes.js';
import { lsIndex, LS_ACQ } from '../../src/sync/lockstat.js';
import { kmem_cache_alloc, kmem_cache_free, slab_cached, slab_in_use, type SlabCache } from '../../src/mm/slab.js';
import type { CpuBase } from '../../src/machine/cpu.js';
import { boot } from '../helpers.js';

const acq = (cpu: CpuBase, cls: number) => cpu.f64[lsIndex(cpu, cls, 0) + LS_ACQ]!;
const avail = (cpu: CpuBase, c: SlabCache) => cpu.w[cpu.pc + c.ac + AC_AVAIL]!;
const nrUsed = (cpu: CpuBase, c: SlabCache) => cpu.w[globalLine(cpu.l, c.line) + FL_NR_USED]!;

describe('kmem_cache_alloc / kmem_cache_free with per-CPU array caches', () => {
  it('sizes the array: one line (15), at most a quarter of the table over all CPU slots, none under bkl', () => {
    const { cpu } = boot({ locks: 'split', cpus: 2 });
    expect(cpu.vmaCache.limit).toBe(15); // 8192 VMAs
    expect(cpu.vmaCache.batch).toBe(8);
    expect(makeCpu(boot({ maxMm: 20, cpus: 2 }).m, 0).mmCache.limit).toBe(1); // 20 / (4 * 4 slots)
    expect(makeCpu(boot({ maxMm: 15, cpus: 2 }).m, 0).mmCache.limit).toBe(0);
  });

  it('takes the cache lock once per batch of allocations and once per flushed batch of frees', () => {
    const { cpu } = boot({ locks: 'split' });
    const c = cpu.vmaCache;
    const before = acq(cpu, C_VMA_ALLOC);
    const ids: number[] = [];
    for (let i = 0; i < 3 * c.batch; i++) ids.push(kmem_cache_alloc(cpu, c));
    expect(acq(cpu, C_VMA_ALLOC) - before).toBe(3); // cache_alloc_refill per batch
    expect(new Set(ids).size).toBe(ids.length);
    expect(slab_in_use(cpu.w, cpu.l, c)).toBe(ids.length);
    const mid = acq(cpu, C_VMA_ALLOC);
    for (const id of ids) kmem_cache_free(cpu, c, id);
    // 24 frees into a 15-entry array: the 16th and the 24th find it full and flush its 8 oldest
    expect(acq(cpu, C_VMA_ALLOC) - mid).toBe(2);
    expect(avail(cpu, c)).toBe(ids.length - 2 * c.batch);
    expect(slab_in_use(cpu.w, cpu.l, c)).toBe(0);
    expect(nrUsed(cpu, c)).toBe(avail(cpu, c)); // parked objects are off the global list
    // LIFO: the object freed last comes back first, with no lock
    const again = acq(cpu, C_VMA_ALLOC);
    expect(kmem_cache_alloc(cpu, c)).toBe(ids[ids.length - 1]);
    expect(acq(cpu, C_VMA_ALLOC)).toBe(again);
  });

  it('takes the lock for every object under bkl (2.2 had no per-CPU caches)', () => {
    const { cpu } = boot({ locks: 'bkl' });
    const c = cpu.vmaCache;
    const ids = [kmem_cache_alloc(cpu, c), kmem_cache_alloc(cpu, c)];
    kmem_cache_free(cpu, c, ids[0]!);
    expect(avail(cpu, c)).toBe(0);
    expect(slab_in_use(cpu.w, cpu.l, c)).toBe(1);
  });

  it('hands out every object of a small table exactly once across two CPUs, then NIL', () => {
    const { m } = boot({ locks: 'split', cpus: 2, maxMm: 64 });
    const a = makeCpu(m, 0);
    const b = makeCpu(m, 1);
    const c = a.mmCache;
    expect(c.limit).toBe(4);
    const base = slab_in_use(m.w, m.layout, c);
    const ids = new Set<number>();
    const drain = (cpu: CpuBase) => {
      for (;;) {
        const id = kmem_cache_alloc(cpu, c);
        if (id === NIL) return;
        expect(ids.has(id)).toBe(false);
        ids.add(id);
      }
    };
    ids.add(kmem_cache_alloc(b, c)); // b refills a batch and keeps the rest
    drain(a);
    expect(avail(b, c)).toBe(c.batch - 1);
    drain(b);
    expect(ids.size + base + slab_cached(m.w, m.layout, c)).toBe(64);
    expect(slab_in_use(m.w, m.layout, c)).toBe(ids.size + base);
    for (const id of ids) kmem_cache_free(b, c, id); // b's array fills and flushes batches
    expect(avail(b, c)).toBeLessThanOrEqual(c.limit);
    expect(slab_in_use(m.w, m.layout, c)).toBe(base);
    const n = ids.size;
    ids.clear();
    drain(a);
    expect(ids.size).toBe(n - avail(b, c));
  });
});
