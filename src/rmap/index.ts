/*
 * rmap/index.ts — page_add_rmap / page_remove_rmap and the scheme registry.
 *
 * _mapcount (-1 based, atomic as in 2.6) counts the ptes mapping a page; the
 * scheme's hooks keep its reverse pointers. Called with the pte lock held,
 * after cpu.rmap.prealloc() (and anon_vma_prepare() for a new anonymous
 * page) succeeded outside it. The count goes up before the scheme's add and
 * down after its remove, so a reclaim walk holding the scheme's lock never
 * finds more entries than _mapcount says (try_to_unmap's final check).
 * The schemes register themselves from their own files (rmap/*.ts, loaded
 * by sim/register.ts).
 */
import type { CpuBase } from '../machine/cpu.js';
import { PG_MAPCOUNT, pageStruct } from '../machine/layout.js';
import { RMAP_SCHEMES, type RmapSchemeName } from '../config.js';
import type { RmapScheme } from './types.js';
import { scanScheme } from './scan.js';

export function page_add_rmap(cpu: CpuBase, r: RmapScheme, pfn: number, pteAddr: number, vma: number, addr: number): void {
  Atomics.add(cpu.w, pageStruct(cpu.l, pfn) + PG_MAPCOUNT, 1);
  r.add(cpu, pfn, pteAddr, vma, addr);
}

export function page_remove_rmap(cpu: CpuBase, r: RmapScheme, pfn: number, pteAddr: number, vma: number, addr: number): void {
  r.remove(cpu, pfn, pteAddr, vma, addr);
  Atomics.sub(cpu.w, pageStruct(cpu.l, pfn) + PG_MAPCOUNT, 1);
}

/** page_mapcount: number of ptes mapping pfn. */
export const page_mapcount = (w: Int32Array, l: CpuBase['l'], pfn: number) => w[pageStruct(l, pfn) + PG_MAPCOUNT]! + 1;

const SCHEMES: Partial<Record<RmapSchemeName, RmapScheme>> = { scan: scanScheme };

/** Register a scheme implementation (each rmap/*.ts file registers itself). */
export function registerRmapScheme(name: RmapSchemeName, s: RmapScheme): void {
  SCHEMES[name] = s;
}

export function rmapSchemeByName(name: RmapSchemeName): RmapScheme {
  const s = SCHEMES[name];
  if (!s) throw new Error(`rmap scheme '${name}' is not available in this build`);
  return s;
}

/** The schemes registered in this build, in config order. */
export const registeredRmapSchemes = (): RmapSchemeName[] => RMAP_SCHEMES.filter((n) => SCHEMES[n] !== undefined);

export * from './types.js';
export {
  page_referenced_one,
  try_to_unmap_one,
  page_referenced_walk,
  try_to_unmap_walk,
  rmap_vaddr_one,
  unmap_result,
  swap_merge,
  ACT_COLLECT,
  ACT_REFERENCED,
  ACT_UNMAP,
} from './unmap.js';
