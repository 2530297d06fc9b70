/*
 * shmem.ts — inodes as the VM sees them: file users and shmem inodes.
 *
 * A file inode counts the VMAs mapping it (I_USERS, Atomics): it outlives
 * them (the file stays on "disk"). MAP_SHARED|MAP_ANONYMOUS memory is a shmem
 * inode of its own, created at mmap and destroyed — page cache dropped, inode
 * freed — when its last VMA goes (fork and split_vma share it; Tweedie, seed 003: "one
 * inode per new vma for anonymous shared regions").
 */
import { I_USERS, I_FLAGS, inodeBase } from '../machine/layout.js';
import type { CpuBase as Cpu } from '../machine/cpu.js';
import { inode_alloc, inode_free, I_SHMEM } from './files.js';
import { truncate_inode_pages } from './filemap.js';

export function shmem_inode_new(cpu: Cpu, pages: number): number {
  const ino = inode_alloc(cpu, pages, I_SHMEM);
  if (ino < 0) return ino;
  Atomics.store(cpu.w, inodeBase(cpu.l, ino) + I_USERS, 1);
  return ino;
}

export function inode_get(cpu: Cpu, ino: number): void {
  Atomics.add(cpu.w, inodeBase(cpu.l, ino) + I_USERS, 1);
}

export function inode_put(cpu: Cpu, ino: number): void {
  const ib = inodeBase(cpu.l, ino);
  if (Atomics.sub(cpu.w, ib + I_USERS, 1) === 1 && (cpu.w[ib + I_FLAGS]! & I_SHMEM) !== 0) {
    truncate_inode_pages(cpu, ino);
    inode_free(cpu, ino);
  }
}
