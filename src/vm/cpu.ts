/*
 * vm/cpu.ts — the full CPU context the VM layer runs with: the machine-level
 * CpuBase plus the policies chosen when the machine was built (rmap scheme)
 * and the per-table slab caches. Created once per CPU, every field present.
 * Making the first one wires reclaim into mm/'s upcalls (installReclaim).
 */
import type { Machine } from '../machine/machine.js';
import { makeCpuBase, type CpuBase } from '../machine/cpu.js';
import type { SlabCache } from '../mm/slab.js';
import { mmCache } from '../mm/mm_struct.js';
import { vmaCache } from '../mm/vma.js';
import { rmapSchemeByName, type RmapScheme } from '../rmap/index.js';
import { installReclaim } from '../reclaim/index.js';

export interface Cpu extends CpuBase {
  readonly rmap: RmapScheme;
  readonly mmCache: SlabCache;
  readonly vmaCache: SlabCache;
}

export function makeCpu(m: Machine, id: number): Cpu {
  installReclaim();
  const base = makeCpuBase(m, id) as CpuBase & { rmap?: RmapScheme; mmCache?: SlabCache; vmaCache?: SlabCache };
  base.rmap = rmapSchemeByName(m.cfg.rmap);
  base.mmCache = mmCache(base);
  base.vmaCache = vmaCache(base);
  return base as Cpu;
}
