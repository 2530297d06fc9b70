/*
 * boot.ts — build a machine ready to run: the buffer (machine/), the buddy
 * allocator's free lists (mem_init), and the files a workload maps.
 * start_kernel's role, on the main thread, before any CPU runs.
 */
import { createMachine, type Machine } from '../machine/machine.js';
import { mem_init } from '../mm/page_alloc.js';
import { inode_alloc } from '../mm/files.js';
import type { Cpu } from '../vm/cpu.js';

export function bootMachine(cfg: unknown): Machine {
  const m = createMachine(cfg);
  mem_init(m);
  return m;
}

/** Create n regular files of the configured size (on the given CPU's context). */
export function createFiles(cpu: Cpu, n: number): number[] {
  const files: number[] = [];
  for (let i = 0; i < n; i++) {
    const ino = inode_alloc(cpu, cpu.m.cfg.filePages, 0);
    if (ino < 0) throw new Error(`createFiles: inode table full after ${i} files (maxFiles ${cpu.m.cfg.maxFiles})`);
    files.push(ino);
  }
  return files;
}
