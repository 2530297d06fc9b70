import { describe, it, expect } from 'vitest';
import { boot } from '../helpers.js';
import { RW, ANON, P, read, write } from './helpers.js';
import { mm_alloc } from '../../src/mm/mm_struct.js';
import { do_mmap, do_munmap, do_mremap, PROT_READ, MAP_SHARED, MAP_FIXED, MAP_ANONYMOUS, EINVAL } from '../../src/vm/mmap.js';
import { mmput } from '../../src/vm/fork.js';
import { VM_FAULT_SIGSEGV } from '../../src/vm/fault.js';
import { check_invariants } from '../../src/sim/checker.js';
import { MM_MMAP, MM_MAP_COUNT, VMA_START, VMA_END, VMA_NEXT, VMA_PGOFF, mmBase, vmaBase } from '../../src/machine/layout.js';
import { pte_table } from '../../src/mm/pgtable.js';
import type { Cpu } from '../../src/vm/cpu.js';


function vmas(cpu: Cpu, mm: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let v = cpu.w[mmBase(cpu.l, mm) + MM_MMAP]!; v >= 0; v = cpu.w[vmaBase(cpu.l, v) + VMA_NEXT]!) {
    const b = vmaBase(cpu.l, v);
    out.push([cpu.w[b + VMA_START]! >>> 0, cpu.w[b + VMA_END]! >>> 0, cpu.w[b + VMA_PGOFF]!]);
  }
  return out;
}


describe('mmap / munmap / mremap', () => {
  it('a shared anonymous mapping longer than the largest shmem object (config.filePages) is refused with EINVAL', () => {
    const { cpu } = boot({ filePages: 16 });
    const mm = mm_alloc(cpu, cpu.mmCache);
    expect(do_mmap(cpu, mm, 0, 17 * P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0)).toBe(EINVAL);
    expect(vmas(cpu, mm)).toEqual([]);
    const a = do_mmap(cpu, mm, 0, 16 * P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    expect(a).toBeGreaterThan(0);
    mmput(cpu, mm);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });

  it('adjacent anonymous mappings merge into one VMA', () => {
    const { cpu } = boot();
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, mm, 0, 4 * P, RW, ANON, -1, 0);
    const b = do_mmap(cpu, mm, 0, 4 * P, RW, ANON, -1, 0);
    expect(b).toBe(a + 4 * P);
    expect(vmas(cpu, mm)).toEqual([[a, a + 8 * P, a >>> 12]]);
    // a read-only neighbour does not merge
    const c = do_mmap(cpu, mm, 0, P, PROT_READ, ANON, -1, 0);
    expect(vmas(cpu, mm).length).toBe(2);
    expect(c).toBe(a + 8 * P);
  });

  it('a partial munmap splits the VMA and frees only the range', () => {
    const { cpu } = boot();
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, mm, 0, 10 * P, RW, ANON, -1, 0);
    for (let i = 0; i < 10; i++) expect(write(cpu, mm, a + i * P, 100 + i)).toBe(0);
    expect(do_munmap(cpu, mm, a + 3 * P, 4 * P)).toBe(0);
    expect(vmas(cpu, mm)).toEqual([
      [a, a + 3 * P, a >>> 12],
      [a + 7 * P, a + 10 * P, (a >>> 12) + 7],
    ]);
    expect(cpu.w[mmBase(cpu.l, mm) + MM_MAP_COUNT]).toBe(2);
    expect(read(cpu, mm, a + 2 * P)).toBe(102);
    expect(read(cpu, mm, a + 8 * P)).toBe(108);
    expect(read(cpu, mm, a + 4 * P)).toBe(VM_FAULT_SIGSEGV);
    expect(check_invariants(cpu).violations).toEqual([]);
  });

  it('munmap frees a pte table once no VMA covers its 4 MiB', () => {
    const { cpu } = boot();
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, mm, 0x50000000, 2 * P, RW, ANON | MAP_FIXED, -1, 0);
    write(cpu, mm, a, 1);
    expect(pte_table(cpu, mm, a)).toBeGreaterThan(0);
    do_munmap(cpu, mm, a, 2 * P);
    expect(pte_table(cpu, mm, a)).toBe(-1);
    mmput(cpu, mm);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });

  it('MAP_FIXED replaces what was there', () => {
    const { cpu } = boot();
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, mm, 0, 4 * P, RW, ANON, -1, 0);
    write(cpu, mm, a + P, 7);
    expect(do_mmap(cpu, mm, a + P, P, RW, ANON | MAP_FIXED, -1, 0)).toBe(a + P);
    expect(read(cpu, mm, a + P)).toBe(0);
  });

  it('mremap grows in place, moves (data follows), and shrinks', () => {
    const { cpu } = boot();
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, mm, 0, 2 * P, RW, ANON, -1, 0);
    write(cpu, mm, a, 11);
    write(cpu, mm, a + P, 12);
    expect(do_mremap(cpu, mm, a, 2 * P, 4 * P, true)).toBe(a); // nothing after it: in place
    expect(read(cpu, mm, a + P)).toBe(12);
    const blocker = do_mmap(cpu, mm, 0, P, RW, ANON, -1, 0);
    expect(blocker).toBe(a + 4 * P);
    const moved = do_mremap(cpu, mm, a, 4 * P, 8 * P, true);
    expect(moved).not.toBe(a);
    expect(read(cpu, mm, moved)).toBe(11);
    expect(read(cpu, mm, moved + P)).toBe(12);
    expect(read(cpu, mm, a)).toBe(VM_FAULT_SIGSEGV);
    expect(do_mremap(cpu, mm, moved, 8 * P, P, true)).toBe(moved);
    expect(read(cpu, mm, moved + P)).toBe(VM_FAULT_SIGSEGV);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });

  it('rejects bad arguments with -errno', () => {
    const { cpu } = boot();
    const mm = mm_alloc(cpu, cpu.mmCache);
    expect(do_mmap(cpu, mm, 0, 0, RW, ANON, -1, 0)).toBeLessThan(0);
    expect(do_mmap(cpu, mm, 0, P, RW, MAP_SHARED, 999, 0)).toBeLessThan(0);
    expect(do_munmap(cpu, mm, 123, P)).toBeLessThan(0);
    expect(do_mremap(cpu, mm, 0x10000000, P, 2 * P, true)).toBeLessThan(0);
  });
});
