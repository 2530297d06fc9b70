/*
 * shmem.ts — inodes as the VM sees them: file users and shmem inodes.
 *
 * A file inode counts the VMAs mapping it (I_USERS, Atomics): it outlives
 * them (the file stays on "disk"). MAP_SHARED|MAP_ANONYMOUS memory is a shmem
 * inode of its own, created at mmap and destroyed — swap entries released
 * (shmem_hooks.truncate: reclaim/shmem_swap.ts shmem_truncate), page cache
 * dropped, inode freed — when its last VMA goes (fork and split_vma share
 * it; Tweedie, seed 003: "one inode per new vma for anonymous shared regions").
 *
 * Locking: I_USERS with Atomics; teardown runs on the CPU that dropped the
 * last user, when no VMA maps the inode any more.
 */
import { I_USERS, I_FLAGS, inodeBase } from '../machine/layout.js';
import type { CpuBase as Cpu } from '../machine/cpu.js';
import { inode_alloc, inode_free, I_SHMEM } from './files.js';
import { truncate_inode_pages } from './filemap.js';

/**
 * How a dying shmem inode's swap entries are released: set by reclaim/'s
 * installReclaim (mm/ sits below reclaim/). Until then no entry can exist
 * (only reclaim records them), so there is nothing to release.
 */
export const shmem_hooks: { truncate: (cpu: Cpu, ino: number) => void } = { truncate: () => {} };

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
    shmem_hooks.truncate(cpu, ino); // after the pages: none can be moved out to swap any more
    inode_free(cpu, ino);
  }
}
