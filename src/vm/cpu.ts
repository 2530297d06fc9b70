/*
 * vm/cpu.ts — the full CPU context the VM layer runs with: the machine-level
 * CpuBase plus the policies chosen when the machine was built (rmap scheme)
 * and the per-table slab caches. Created once per CPU, every field present.
 * Making one wires reclaim into mm/'s upcalls (installReclaim) and points
 * mm/'s mmput at exit_mmap (mm_hooks: the last user of an mm may be
 * reclaim's swapoff, which cannot import vm/).
 */
import type { Machine } from '../machine/machine.js';
import { makeCpuBase, type CpuBase } from '../machine/cpu.js';
import type { SlabCache } from '../mm/slab.js';
import { mmCache, mm_hooks } from '../mm/mm_struct.js';
import { vmaCache } from '../mm/vma.js';
import { rmapSchemeByName, type RmapScheme } from '../rmap/index.js';
import { installReclaim } from '../reclaim/index.js';
import { exit_mmap } from './fork.js';

export interface Cpu extends CpuBase {
  readonly rmap: RmapScheme;
  readonly mmCache: SlabCache;
  readonly vmaCache: SlabCache;
}

/** Every mm is torn down by a Cpu: mm_struct.ts's mmput only knows CpuBase. */
const exit_mmap_hook = (cpu: CpuBase, mm: number) => exit_mmap(cpu as Cpu, mm);

export function makeCpu(m: Machine, id: number): Cpu {
  installReclaim();
  mm_hooks.exit_mmap = exit_mmap_hook;
  const base = makeCpuBase(m, id) as CpuBase & { rmap?: RmapScheme; mmCache?: SlabCache; vmaCache?: SlabCache };
  base.rmap = rmapSchemeByName(m.cfg.rmap);
  base.mmCache = mmCache(base);
  base.vmaCache = vmaCache(base);
  return base as Cpu;
}
