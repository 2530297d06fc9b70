/*
 * wis.ts — what every will-it-scale test shares: the `_processes` /
 * `_threads` pair. _processes gives each CPU an mm of its own; _threads one
 * mm shared by every CPU (made in setup, one mmget per CPU), so munmap,
 * madvise and brk there flush the TLBs of the other CPUs and contend on one
 * mmap_sem. Tests whose file is "separated" (mmap2, page_fault2/3,
 * tlb_flush1/3: will-it-scale's mkstemp inside testcase()) get one file per
 * CPU. Main thread (setup, teardown) and each CPU's own worker (mm).
 */
import { z } from 'zod';
import { size } from '../config.js';
import { NIL, PAGE_SIZE } from '../machine/layout.js';
import { mm_alloc } from '../mm/mm_struct.js';
import { inode_alloc } from '../mm/files.js';
import { mmput, mmget } from '../vm/fork.js';
import type { Cpu } from '../vm/cpu.js';
import type { WorkloadSetup } from './types.js';

export const MiB = 1 << 20;

/** The spec of a test with a region: each CPU's (the CLI sizes it from --mem / cpus when not given; 128 MiB, will-it-scale's, otherwise). */
export const WILL_IT_SCALE_SPEC = z.object({ regionBytes: size(PAGE_SIZE, 1024 * MiB).optional() }).strict();

/** A region size from spec.regionBytes (page-rounded, at least a page) or dflt. */
export function regionOf(spec: { regionBytes?: number }, dflt: number): number {
  const r = Number(spec.regionBytes ?? dflt);
  return Math.max(PAGE_SIZE, Math.ceil(r / PAGE_SIZE) * PAGE_SIZE);
}

/** setup(): filePages > 0 gives each CPU its own file of that size; threads makes the shared mm. */
export function wisSetup(monitor: Cpu, name: string, cpus: number, threads: boolean, filePages: number): WorkloadSetup {
  const files: number[][] = [];
  for (let c = 0; c < cpus; c++) {
    if (filePages > 0) {
      const ino = inode_alloc(monitor, filePages, 0);
      if (ino < 0) throw new Error(`${name}: out of inodes (maxFiles)`);
      files.push([ino]);
    } else files.push([]);
  }
  let sharedMm = -1;
  if (threads) {
    sharedMm = mm_alloc(monitor, monitor.mmCache);
    if (sharedMm === NIL) throw new Error(`${name}: cannot allocate the shared mm`);
  }
  return { files, sharedMm, sharedFiles: [] };
}

/** This CPU's mm: the shared one (another user of it) or a fresh one. */
export function wisMm(cpu: Cpu, name: string, setup: WorkloadSetup): number {
  const threads = setup.sharedMm >= 0;
  const mm = threads ? setup.sharedMm : mm_alloc(cpu, cpu.mmCache);
  if (mm === NIL) throw new Error(`${name}: cannot allocate an mm`);
  if (threads) mmget(cpu, mm);
  return mm;
}

/** teardown(): drop the setup's reference to the shared mm. */
export function wisTeardown(monitor: Cpu, setup: WorkloadSetup): void {
  if (setup.sharedMm >= 0) mmput(monitor, setup.sharedMm);
}

export const wisName = (base: string, threads: boolean) => `${base}_${threads ? 'threads' : 'processes'}`;
