import { describe, it, expect } from 'vitest';
import { boot } from '../helpers.js';
import { RW, ANON, P, read, write } from './helpers.js';
import { mm_alloc } from '../../src/mm/mm_struct.js';
import { do_mmap, PROT_READ, MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS } from '../../src/vm/mmap.js';
import { do_fork, mmput } from '../../src/vm/fork.js';
import { VM_FAULT_SIGSEGV, VM_FAULT_SIGBUS } from '../../src/vm/fault.js';
import { check_invariants } from '../../src/sim/checker.js';
import { createFiles, file_word } from '../../src/mm/files.js';
import { lru_add_drain } from '../../src/reclaim/lru.js';
import { VM } from '../../src/machine/vmstat.js';
import { pte_table } from '../../src/mm/pgtable.js';
import { pte_pfn, pte_index } from '../../src/mm/pte.js';
import { PG_MAPCOUNT, PG_COUNT, pageStruct } from '../../src/machine/layout.js';
import type { Cpu } from '../../src/vm/cpu.js';

const pfnOf = (cpu: Cpu, mm: number, a: number) => pte_pfn(cpu.w[cpu.l.frames + (pte_table(cpu, mm, a) << 10) + pte_index(a)]!);
const vm = (cpu: Cpu, name: keyof typeof VM) => cpu.w[cpu.vm + VM[name]]!;

describe('fault handler', () => {
  it('demand-zero: a read maps ZERO_PAGE, the first write gets a zeroed private page', () => {
    const { cpu } = boot();
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, mm, 0, 2 * P, RW, ANON, -1, 0);
    expect(read(cpu, mm, a)).toBe(0);
    expect(pfnOf(cpu, mm, a)).toBe(0);
    expect(write(cpu, mm, a, 5)).toBe(0);
    expect(pfnOf(cpu, mm, a)).not.toBe(0);
    expect(read(cpu, mm, a)).toBe(5);
    expect(vm(cpu, 'pgfault')).toBe(2);
    expect(check_invariants(cpu).violations).toEqual([]);
  });

  it('copy-on-write after fork: child sees the parent data as of the fork, writes diverge', () => {
    const { cpu } = boot();
    const parent = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, parent, 0, 3 * P, RW, ANON, -1, 0);
    write(cpu, parent, a, 1);
    write(cpu, parent, a + P, 2);
    const child = do_fork(cpu, parent);
    const shared = pfnOf(cpu, parent, a);
    expect(pfnOf(cpu, child, a)).toBe(shared);
    expect(cpu.w[pageStruct(cpu.l, shared) + PG_MAPCOUNT]! + 1).toBe(2);
    lru_add_drain(cpu); // the pagevec's reference: the new page waits there for the LRU
    expect(cpu.w[pageStruct(cpu.l, shared) + PG_COUNT]).toBe(2);
    expect(check_invariants(cpu).violations).toEqual([]);
    write(cpu, child, a, 10);
    expect(read(cpu, parent, a)).toBe(1);
    expect(read(cpu, child, a)).toBe(10);
    expect(pfnOf(cpu, child, a)).not.toBe(shared);
    expect(vm(cpu, 'cow_fault')).toBeGreaterThan(0);
    // the parent's page is now exclusive again: its write reuses it in place
    const reuseBefore = vm(cpu, 'cow_reuse');
    write(cpu, parent, a, 3);
    expect(pfnOf(cpu, parent, a)).toBe(shared);
    expect(vm(cpu, 'cow_reuse')).toBe(reuseBefore + 1);
    expect(read(cpu, child, a + P)).toBe(2);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, child);
    mmput(cpu, parent);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });

  it('file pages: read from the file store (major), private write copies, shared write is seen by all', () => {
    const { cpu } = boot();
    const [f] = createFiles(cpu, 1);
    const m1 = mm_alloc(cpu, cpu.mmCache);
    const m2 = mm_alloc(cpu, cpu.mmCache);
    const priv = do_mmap(cpu, m1, 0, 4 * P, RW, MAP_PRIVATE, f!, 2);
    const sh1 = do_mmap(cpu, m1, 0, 4 * P, RW, MAP_SHARED, f!, 2);
    const sh2 = do_mmap(cpu, m2, 0, 4 * P, RW, MAP_SHARED, f!, 2);
    expect(read(cpu, m1, priv + P)).toBe(file_word(f!, 3, 0));
    expect(vm(cpu, 'pgmajfault')).toBe(1);
    expect(read(cpu, m2, sh2 + P)).toBe(file_word(f!, 3, 0)); // page cache hit: minor
    expect(vm(cpu, 'pgmajfault')).toBe(1);
    write(cpu, m2, sh2 + P, 77);
    expect(read(cpu, m1, sh1 + P)).toBe(77);
    expect(read(cpu, m1, priv + P)).toBe(77); // not yet COWed: sees the file
    write(cpu, m1, priv + P, 88);
    expect(read(cpu, m1, priv + P)).toBe(88);
    expect(read(cpu, m2, sh2 + P)).toBe(77);
    expect(check_invariants(cpu).violations).toEqual([]);
  });

  it('shared anonymous memory is shared across fork', () => {
    const { cpu } = boot();
    const parent = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, parent, 0, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    write(cpu, parent, a, 9);
    const child = do_fork(cpu, parent);
    write(cpu, child, a + P, 19);
    expect(read(cpu, parent, a + P)).toBe(19);
    expect(read(cpu, child, a)).toBe(9);
    mmput(cpu, parent);
    expect(read(cpu, child, a)).toBe(9);
    mmput(cpu, child);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });

  it('SIGSEGV outside any VMA and on a write to a read-only VMA; SIGBUS past the end of the file', () => {
    const { cpu } = boot({ filePages: 8 });
    const [f] = createFiles(cpu, 1);
    const mm = mm_alloc(cpu, cpu.mmCache);
    const ro = do_mmap(cpu, mm, 0, P, PROT_READ, ANON, -1, 0);
    expect(read(cpu, mm, 0x1000)).toBe(VM_FAULT_SIGSEGV);
    expect(write(cpu, mm, ro, 1)).toBe(VM_FAULT_SIGSEGV);
    const fm = do_mmap(cpu, mm, 0, 4 * P, PROT_READ, MAP_SHARED, f!, 6);
    expect(read(cpu, mm, fm + P)).toBe(file_word(f!, 7, 0));
    expect(read(cpu, mm, fm + 2 * P)).toBe(VM_FAULT_SIGBUS);
    expect(check_invariants(cpu).violations).toEqual([]);
  });
});
