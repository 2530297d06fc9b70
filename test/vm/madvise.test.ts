import { describe, it, expect } from 'vitest';
import { boot } from '../helpers.js';
import { P, RW, read, write } from './helpers.js';
import { mm_alloc } from '../../src/mm/mm_struct.js';
import { inode_alloc, file_word } from '../../src/mm/files.js';
import { do_mmap, do_munmap, MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS, MAP_FIXED, EINVAL, ENOMEM } from '../../src/vm/mmap.js';
import { sys_madvise, MADV_DONTNEED } from '../../src/vm/madvise.js';
import { mmput } from '../../src/vm/fork.js';
import { check_invariants } from '../../src/sim/checker.js';
import { MM_RSS, mmBase } from '../../src/machine/layout.js';
import { VM } from '../../src/machine/vmstat.js';
import type { Cpu } from '../../src/vm/cpu.js';

const rss = (cpu: Cpu, mm: number) => cpu.w[mmBase(cpu.l, mm) + MM_RSS];

describe('madvise(MADV_DONTNEED)', () => {
  it('anonymous: frees the pages, keeps the VMA; the next read is zeros (tlb_flush2)', () => {
    const { cpu } = boot();
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, mm, 0, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (let i = 0; i < 4; i++) expect(write(cpu, mm, a + i * P, 10 + i)).toBe(0);
    const flushes = cpu.w[cpu.vm + VM.nr_tlb_local_flush_all]!;
    expect(sys_madvise(cpu, mm, a + P, 2 * P, MADV_DONTNEED)).toBe(0);
    expect(cpu.w[cpu.vm + VM.nr_tlb_local_flush_all]!).toBeGreaterThan(flushes); // the flush before the pages are freed
    expect(rss(cpu, mm)).toBe(2);
    expect([0, 1, 2, 3].map((i) => read(cpu, mm, a + i * P))).toEqual([10, 0, 0, 13]);
    mmput(cpu, mm);
    expect(check_invariants(cpu).violations).toEqual([]);
  });

  it('file private: drops the COW copy, the file shows through again (tlb_flush1); file shared: the write stays (tlb_flush3)', () => {
    const { cpu } = boot();
    const ino = inode_alloc(cpu, 4, 0);
    const mm = mm_alloc(cpu, cpu.mmCache);
    const priv = do_mmap(cpu, mm, 0, 4 * P, RW, MAP_PRIVATE, ino, 0);
    const shared = do_mmap(cpu, mm, 0, 4 * P, RW, MAP_SHARED, ino, 0);
    expect(write(cpu, mm, priv, 111)).toBe(0);
    expect(sys_madvise(cpu, mm, priv, P, MADV_DONTNEED)).toBe(0);
    expect(read(cpu, mm, priv)).toBe(file_word(ino, 0, 0));
    expect(write(cpu, mm, shared + P, 222)).toBe(0);
    expect(sys_madvise(cpu, mm, shared + P, P, MADV_DONTNEED)).toBe(0);
    expect(read(cpu, mm, shared + P)).toBe(222);
    do_munmap(cpu, mm, priv, 4 * P);
    do_munmap(cpu, mm, shared, 4 * P);
    mmput(cpu, mm);
    expect(check_invariants(cpu).violations).toEqual([]);
  });

  it('a hole in the range is ENOMEM after zapping what is mapped; bad arguments are EINVAL', () => {
    const { cpu } = boot();
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = 0x50000000;
    const FIX = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
    do_mmap(cpu, mm, a, P, RW, FIX, -1, 0);
    do_mmap(cpu, mm, a + 2 * P, P, RW, FIX, -1, 0);
    write(cpu, mm, a, 1);
    write(cpu, mm, a + 2 * P, 2);
    expect(sys_madvise(cpu, mm, a, 3 * P, MADV_DONTNEED)).toBe(ENOMEM);
    expect(rss(cpu, mm)).toBe(0);
    expect(sys_madvise(cpu, mm, a + 1, P, MADV_DONTNEED)).toBe(EINVAL);
    expect(sys_madvise(cpu, mm, a, P, 3)).toBe(EINVAL);
    mmput(cpu, mm);
    expect(check_invariants(cpu).violations).toEqual([]);
  });
});
