/*
 * The pages the flip tests move (flip.test.ts, flip-smp.test.ts): one page
 * mapped by several processes — private after fork, shared anonymous
 * (shmem, forked), a shared file mapped by two processes.
 */
import { expect } from 'vitest';
import { do_fork } from '../../src/vm/fork.js';
import { do_mmap, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_ANONYMOUS } from '../../src/vm/mmap.js';
import { inode_alloc } from '../../src/mm/files.js';
import type { Cpu } from '../../src/vm/cpu.js';
import { newProc, mapAnon, put, get } from './helpers.js';

export type Setup = { mms: number[]; addrs: number[]; value: number; shared: boolean };

/** K processes mapping one page at addrs[i] in mms[i], its first word `value`. */
export const KINDS: Record<string, (cpu: Cpu) => Setup> = {
  'private after fork': (cpu) => {
    const mm = newProc(cpu);
    const a = mapAnon(cpu, mm, 2);
    expect(put(cpu, mm, a, 101)).toBe(0);
    const c1 = do_fork(cpu, mm);
    const c2 = do_fork(cpu, mm);
    return { mms: [mm, c1, c2], addrs: [a, a, a], value: 101, shared: false };
  },
  'shared anonymous': (cpu) => {
    const mm = newProc(cpu);
    const a = do_mmap(cpu, mm, 0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    expect(put(cpu, mm, a, 202)).toBe(0);
    const c1 = do_fork(cpu, mm);
    expect(get(cpu, c1, a)).toBe(202);
    return { mms: [mm, c1], addrs: [a, a], value: 202, shared: true };
  },
  'shared file': (cpu) => {
    const ino = inode_alloc(cpu, 8, 0);
    const p1 = newProc(cpu);
    const p2 = newProc(cpu);
    const a1 = do_mmap(cpu, p1, 0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ino, 0);
    const a2 = do_mmap(cpu, p2, 0x2000000, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ino, 0);
    expect(put(cpu, p1, a1, 303)).toBe(0);
    expect(get(cpu, p2, a2)).toBe(303);
    return { mms: [p1, p2], addrs: [a1, a2], value: 303, shared: true };
  },
};
