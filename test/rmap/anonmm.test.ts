/*
 * anonmm (rmap/anonmm.ts, issue 20 item 3): one object per fork family,
 * the virtual address as the index. A family is made at the first
 * anonymous fault, joined by fork, left at exit, and exec starts a new one;
 * the walk visits each mm of the family at the page's address; mremap moves
 * a page only this pte maps with its new address and copies any other
 * (Hugh's early C-O-W), swapping in a shared swap pte first; a shared
 * anonymous region keeps its per-VMA shmem inode (found through i_mmap).
 * Every step ends with the checker clean (each walk equals a full scan) and
 * the contents every process reads back are the ones it wrote.
 */
import { describe, it, expect } from 'vitest';
import { boot } from '../helpers.js';
import { bootR, vmsum, newProc, mapAnon, put, get, pteOf, isSwapPte } from '../reclaim/helpers.js';
import { mm_alloc } from '../../src/mm/mm_struct.js';
import { do_mmap, do_munmap, do_mremap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS, MAP_FIXED } from '../../src/vm/mmap.js';
import { do_fork, do_exec, mmput } from '../../src/vm/fork.js';
import { check_invariants } from '../../src/sim/checker.js';
import { shrink_all_memory, swap_info } from '../../src/reclaim/index.js';
import { pte_pfn, pte_present } from '../../src/mm/pte.js';
import { PG_MAPPING, PG_INDEX, pageStruct } from '../../src/machine/layout.js';
import { anonOfMapping, isFileMapping } from '../../src/machine/page.js';
import { VM } from '../../src/machine/vmstat.js';
import { poolInUse, poolObj } from '../../src/rmap/pool.js';
import { anonmm_of } from '../../src/rmap/anonmm.js';
import { AO_NR as AM_NR } from '../../src/rmap/anon_obj.js';
import type { Cpu } from '../../src/vm/cpu.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const clean = (cpu: Cpu) => expect(check_invariants(cpu).violations).toEqual([]);
const pfnOf = (cpu: Cpu, mm: number, a: number) => pte_pfn(pteOf(cpu, mm, a));
const page = (cpu: Cpu, pfn: number) => ({ family: anonOfMapping(cpu.w[pageStruct(cpu.l, pfn) + PG_MAPPING]!), index: cpu.w[pageStruct(cpu.l, pfn) + PG_INDEX]! });
/** The walk as sorted "mm:addr" strings. */
function walked(cpu: Cpu, pfn: number): string[] {
  const out = new Int32Array(3 * 256);
  const n = cpu.rmap.walk(cpu, pfn, out);
  return Array.from({ length: n }, (_, i) => `${out[3 * i]}:${(out[3 * i + 1]! >>> 0).toString(16)}`).sort();
}
const at = (maps: [number, number][]) => maps.map(([mm, a]) => `${mm}:${(a >>> 0).toString(16)}`).sort();

describe('anonmm: one object per fork family, the address as index', () => {
  it('fork joins the family, exec starts a new one, the last exit frees it; the walk visits each mm at the address', () => {
    const { cpu } = boot({ rmap: 'anonmm', debug: true });
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = mapAnon(cpu, mm, 4);
    expect(anonmm_of(cpu.w, cpu.l, mm)).toBe(-1); // none before the first anonymous page
    put(cpu, mm, a + P, 11);
    const f = anonmm_of(cpu.w, cpu.l, mm);
    expect(f).toBeGreaterThanOrEqual(0);
    const pfn = pfnOf(cpu, mm, a + P);
    expect(page(cpu, pfn)).toEqual({ family: f, index: (a + P) >>> 12 });
    const kids = [do_fork(cpu, mm), do_fork(cpu, mm)];
    for (const k of kids) expect(anonmm_of(cpu.w, cpu.l, k)).toBe(f);
    expect(cpu.w[poolObj(cpu.l, f) + AM_NR]).toBe(3);
    expect(walked(cpu, pfn)).toEqual(at([[mm, a + P], ...kids.map((k): [number, number] => [k, a + P])]));
    const walks = cpu.w[cpu.vm + VM.rmap_walk_vma]!;
    cpu.rmap.page_referenced(cpu, pfn);
    expect(cpu.w[cpu.vm + VM.rmap_walk_vma]! - walks).toBe(3); // one visit per mm of the family
    const g = do_exec(cpu, kids[1]!); // exec: the new mm has no family until its first anonymous page
    expect(anonmm_of(cpu.w, cpu.l, g)).toBe(-1);
    put(cpu, g, mapAnon(cpu, g, 1), 5);
    expect(anonmm_of(cpu.w, cpu.l, g)).not.toBe(f);
    expect(cpu.w[poolObj(cpu.l, f) + AM_NR]).toBe(2);
    expect(poolInUse(cpu.w, cpu.l)).toBe(2);
    clean(cpu);
    for (const x of [mm, kids[0]!, g]) mmput(cpu, x);
    expect(poolInUse(cpu.w, cpu.l)).toBe(0);
    clean(cpu);
  });

  it('mremap of pages only this mm maps: the page moves and its index becomes the new address, no copy', () => {
    const { cpu } = boot({ rmap: 'anonmm', debug: true });
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = mapAnon(cpu, mm, 8);
    for (let i = 0; i < 8; i++) put(cpu, mm, a + i * P, 10 + i);
    expect(do_mmap(cpu, mm, a + 8 * P, P, RW, ANON | MAP_FIXED, -1, 0)).toBe(a + 8 * P); // forces mremap to move
    const pfn = pfnOf(cpu, mm, a + 2 * P);
    const b = do_mremap(cpu, mm, a, 8 * P, 16 * P, true);
    expect(b).toBeGreaterThan(0);
    expect(b).not.toBe(a);
    expect(pfnOf(cpu, mm, b + 2 * P)).toBe(pfn);
    expect(page(cpu, pfn).index).toBe((b + 2 * P) >>> 12);
    expect(walked(cpu, pfn)).toEqual(at([[mm, b + 2 * P]]));
    expect(cpu.w[cpu.vm + VM.mremap_cow]).toBe(0);
    for (let i = 0; i < 8; i++) expect(get(cpu, mm, b + i * P)).toBe(10 + i);
    clean(cpu);
    mmput(cpu, mm);
    clean(cpu);
  });

  it('mremap of pages a child still maps: early C-O-W, each process keeps its contents at its address', () => {
    const { cpu } = boot({ rmap: 'anonmm', debug: true });
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = mapAnon(cpu, mm, 8);
    for (let i = 0; i < 8; i++) put(cpu, mm, a + i * P, 10 + i);
    const kid = do_fork(cpu, mm);
    put(cpu, mm, a + 7 * P, 77); // the parent's own COW copy of page 7: exclusive, moves
    expect(do_mmap(cpu, mm, a + 8 * P, P, RW, ANON | MAP_FIXED, -1, 0)).toBe(a + 8 * P);
    const shared = pfnOf(cpu, mm, a);
    const own = pfnOf(cpu, mm, a + 7 * P);
    const b = do_mremap(cpu, mm, a, 8 * P, 16 * P, true);
    expect(b).toBeGreaterThan(0);
    expect(cpu.w[cpu.vm + VM.mremap_cow]).toBe(7);
    expect(pfnOf(cpu, mm, b + 7 * P)).toBe(own);
    expect(pfnOf(cpu, kid, a)).toBe(shared); // the original stays with the child at the old address
    expect(pfnOf(cpu, mm, b)).not.toBe(shared);
    expect(page(cpu, shared).index).toBe(a >>> 12);
    expect(page(cpu, pfnOf(cpu, mm, b)).index).toBe(b >>> 12);
    expect(walked(cpu, shared)).toEqual(at([[kid, a]]));
    expect(walked(cpu, pfnOf(cpu, mm, b))).toEqual(at([[mm, b]]));
    for (let i = 0; i < 8; i++) {
      expect(get(cpu, mm, b + i * P)).toBe(i === 7 ? 77 : 10 + i);
      expect(get(cpu, kid, a + i * P)).toBe(10 + i);
    }
    put(cpu, mm, b + 3 * P, 33); // the copy is the parent's alone: no further COW needed
    expect(get(cpu, kid, a + 3 * P)).toBe(13);
    clean(cpu);
    mmput(cpu, kid);
    mmput(cpu, mm);
    clean(cpu);
  });

  it('mremap of swap ptes a child shares: swapped in and copied; the parent\'s own pages move', () => {
    const { m, cpu } = bootR({ rmap: 'anonmm', policy: '2q' });
    const mm = newProc(cpu);
    const N = 48;
    const a = mapAnon(cpu, mm, N);
    for (let i = 0; i < N; i++) put(cpu, mm, a + i * P, 100 + i);
    const kid = do_fork(cpu, mm);
    for (let i = N / 2; i < N; i++) put(cpu, kid, a + i * P, 500 + i); // the child's upper half is its own
    shrink_all_memory(cpu, 1 << 20);
    shrink_all_memory(cpu, 1 << 20);
    const swapped = [...Array(N).keys()].filter((i) => isSwapPte(pteOf(cpu, mm, a + i * P)));
    expect(swapped.filter((i) => i < N / 2).length).toBeGreaterThan(0); // shared slots (parent and child)
    expect(swapped.filter((i) => i >= N / 2).length).toBeGreaterThan(0); // the parent's alone
    const blocker = do_mmap(cpu, mm, a + N * P, P, RW, ANON | MAP_FIXED, -1, 0);
    expect(blocker).toBe(a + N * P);
    const cows = vmsum(m, 'mremap_cow');
    const majfaults = vmsum(m, 'pgmajfault');
    const b = do_mremap(cpu, mm, a, N * P, 2 * N * P, true);
    expect(b).toBeGreaterThan(0);
    // the lower half is the child's too (present and COW-shared, or in a shared swap slot): copied; the upper half moves
    expect(vmsum(m, 'mremap_cow') - cows).toBe(N / 2);
    expect(vmsum(m, 'pgmajfault') - majfaults).toBeGreaterThan(0); // shared slots were read back in by mremap itself
    clean(cpu);
    for (let i = 0; i < N; i++) {
      expect(get(cpu, mm, b + i * P)).toBe(100 + i);
      expect(get(cpu, kid, a + i * P)).toBe(i < N / 2 ? 100 + i : 500 + i);
    }
    clean(cpu);
    // and again under pressure: everything out, everything back
    shrink_all_memory(cpu, 1 << 20);
    for (let i = 0; i < N; i++) {
      expect(get(cpu, kid, a + i * P)).toBe(i < N / 2 ? 100 + i : 500 + i);
      expect(get(cpu, mm, b + i * P)).toBe(100 + i);
    }
    clean(cpu);
    mmput(cpu, kid);
    mmput(cpu, mm);
    expect(swap_info(m).inuse).toBe(0);
    clean(cpu);
  });

  it('a shared anonymous region keeps its per-VMA shmem inode: its pages are found through i_mmap', () => {
    const { cpu } = boot({ rmap: 'anonmm', debug: true });
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, mm, 0, 4 * P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    put(cpu, mm, a + P, 9);
    const kid = do_fork(cpu, mm);
    put(cpu, kid, a + P, 10); // shared: no COW, the parent sees it
    expect(get(cpu, mm, a + P)).toBe(10);
    const pfn = pfnOf(cpu, mm, a + P);
    expect(isFileMapping(cpu.w[pageStruct(cpu.l, pfn) + PG_MAPPING]!)).toBe(true);
    expect(anonmm_of(cpu.w, cpu.l, mm)).toBe(-1); // no anonymous page: no family
    expect(walked(cpu, pfn)).toEqual(at([[mm, a + P], [kid, a + P]]));
    expect(pte_present(pteOf(cpu, kid, a + P))).toBe(true);
    expect(do_munmap(cpu, mm, a, 4 * P)).toBe(0);
    expect(walked(cpu, pfn)).toEqual(at([[kid, a + P]]));
    clean(cpu);
    mmput(cpu, kid);
    mmput(cpu, mm);
    clean(cpu);
  });
});
