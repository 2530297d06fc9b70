import { describe, it, expect } from 'vitest';
import { boot } from '../helpers.js';
import { P, read, write } from './helpers.js';
import { mm_alloc } from '../../src/mm/mm_struct.js';
import { do_mmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED } from '../../src/vm/mmap.js';
import { sys_brk, set_brk } from '../../src/vm/brk.js';
import { do_fork, mmput } from '../../src/vm/fork.js';
import { VM_FAULT_SIGSEGV } from '../../src/vm/fault.js';
import { check_invariants } from '../../src/sim/checker.js';
import { MM_MMAP, MM_RSS, VMA_START, VMA_END, VMA_NEXT, mmBase, vmaBase } from '../../src/machine/layout.js';
import type { Cpu } from '../../src/vm/cpu.js';

const HEAP = 0x08100000;

function vmas(cpu: Cpu, mm: number): [number, number][] {
  const out: [number, number][] = [];
  for (let v = cpu.w[mmBase(cpu.l, mm) + MM_MMAP]!; v >= 0; v = cpu.w[vmaBase(cpu.l, v) + VMA_NEXT]!)
    out.push([cpu.w[vmaBase(cpu.l, v) + VMA_START]! >>> 0, cpu.w[vmaBase(cpu.l, v) + VMA_END]! >>> 0]);
  return out;
}

function heapMm(cpu: Cpu): number {
  const mm = mm_alloc(cpu, cpu.mmCache);
  set_brk(cpu, mm, HEAP);
  return mm;
}

describe('sys_brk', () => {
  it('brk(0) returns the break; growing from an empty heap creates the heap VMA, shrinking removes it (brk1)', () => {
    const { cpu } = boot();
    const mm = heapMm(cpu);
    expect(sys_brk(cpu, mm, 0)).toBe(HEAP);
    expect(sys_brk(cpu, mm, HEAP + P)).toBe(HEAP + P);
    expect(vmas(cpu, mm)).toEqual([[HEAP, HEAP + P]]);
    expect(sys_brk(cpu, mm, HEAP)).toBe(HEAP);
    expect(vmas(cpu, mm)).toEqual([]);
    mmput(cpu, mm);
    expect(check_invariants(cpu).violations).toEqual([]);
  });

  it('above a one-page heap a grow extends the VMA (merge) and a shrink cuts it back (brk2); the cut page is freed', () => {
    const { cpu } = boot();
    const mm = heapMm(cpu);
    expect(sys_brk(cpu, mm, HEAP + P)).toBe(HEAP + P);
    expect(sys_brk(cpu, mm, HEAP + 2 * P)).toBe(HEAP + 2 * P);
    expect(vmas(cpu, mm)).toEqual([[HEAP, HEAP + 2 * P]]);
    expect(write(cpu, mm, HEAP + P, 7)).toBe(0);
    expect(cpu.w[mmBase(cpu.l, mm) + MM_RSS]).toBe(1);
    expect(sys_brk(cpu, mm, HEAP + P)).toBe(HEAP + P);
    expect(vmas(cpu, mm)).toEqual([[HEAP, HEAP + P]]);
    expect(cpu.w[mmBase(cpu.l, mm) + MM_RSS]).toBe(0);
    expect(read(cpu, mm, HEAP + P)).toBe(VM_FAULT_SIGSEGV);
    // a new grow maps fresh zeros where the old page was
    expect(sys_brk(cpu, mm, HEAP + 2 * P)).toBe(HEAP + 2 * P);
    expect(read(cpu, mm, HEAP + P)).toBe(0);
    mmput(cpu, mm);
    expect(check_invariants(cpu).violations).toEqual([]);
  });

  it('refuses a break below start_brk or one that would reach the next mapping (guard page), returning the old break', () => {
    const { cpu } = boot();
    const mm = heapMm(cpu);
    expect(sys_brk(cpu, mm, HEAP - P)).toBe(HEAP);
    const next = HEAP + 4 * P;
    expect(do_mmap(cpu, mm, next, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)).toBe(next);
    expect(sys_brk(cpu, mm, HEAP + 4 * P)).toBe(HEAP);
    expect(sys_brk(cpu, mm, HEAP + 3 * P + 1)).toBe(HEAP); // rounds up to the page below the mapping: no guard page left
    expect(sys_brk(cpu, mm, HEAP + 3 * P - 100)).toBe(HEAP + 3 * P - 100);
    expect(vmas(cpu, mm)).toEqual([
      [HEAP, HEAP + 3 * P],
      [next, next + P],
    ]);
    mmput(cpu, mm);
  });

  it('fork copies the break with the heap', () => {
    const { cpu } = boot();
    const mm = heapMm(cpu);
    sys_brk(cpu, mm, HEAP + 2 * P);
    expect(write(cpu, mm, HEAP, 42)).toBe(0);
    const child = do_fork(cpu, mm);
    expect(sys_brk(cpu, child, 0)).toBe(HEAP + 2 * P);
    expect(read(cpu, child, HEAP)).toBe(42);
    expect(sys_brk(cpu, child, HEAP)).toBe(HEAP);
    expect(read(cpu, mm, HEAP)).toBe(42);
    mmput(cpu, child);
    mmput(cpu, mm);
    expect(check_invariants(cpu).violations).toEqual([]);
  });
});
