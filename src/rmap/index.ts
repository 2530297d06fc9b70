/*
 * rmap/index.ts — page_add_rmap / page_remove_rmap and the scheme registry.
 *
 * _mapcount (-1 based, atomic as in 2.6) counts the ptes mapping a page; the
 * scheme's hooks keep its reverse pointers. Called with the pte lock held,
 * after cpu.rmap.prealloc() (and anon_vma_prepare() for a new anonymous
 * page) succeeded outside it. The count goes up before the scheme's add and
 * down after its remove, so a reclaim walk holding the scheme's lock never
 * finds more entries than _mapcount says (try_to_unmap's final check).
 * rmapSchemeByName maps config.rmap to its implementation (one file per
 * scheme, rmap/*.ts).
 */
import type { CpuBase } from '../machine/cpu.js';
import { PG_MAPCOUNT, VMA_MM, pageStruct, vmaBase } from '../machine/layout.js';
import { charge, page_line_w } from '../timing/index.js';
import { ptPfnOfPteAddr } from '../mm/pte.js';
import { pte_assert_locked } from '../sync/scheme.js';
import { RMAP_SCHEMES, type RmapSchemeName } from '../config.js';
import type { RmapScheme } from './types.js';
import { scanScheme } from './scan.js';
import { ptechainScheme } from './ptechain.js';
import { vmnodeScheme } from './vmnode.js';
import { ptechain25Scheme } from './ptechain25.js';
import { hintScheme } from './hint.js';
import { objrmapScheme } from './objrmap.js';
import { anonmmScheme } from './anonmm.js';

/** Debug check of the contract above: the caller holds the lock of pteAddr's table in vma's mm. */
function rmap_assert_ptl(cpu: CpuBase, pteAddr: number, vma: number): void {
  if (cpu.debug) pte_assert_locked(cpu, cpu.w[vmaBase(cpu.l, vma) + VMA_MM]!, ptPfnOfPteAddr(pteAddr));
}

export function page_add_rmap(cpu: CpuBase, r: RmapScheme, pfn: number, pteAddr: number, vma: number, addr: number): void {
  rmap_assert_ptl(cpu, pteAddr, vma);
  charge(page_line_w(pfn)); // virtual clock: _mapcount's line (timing/coherence.ts)
  Atomics.add(cpu.w, pageStruct(cpu.l, pfn) + PG_MAPCOUNT, 1);
  r.add(cpu, pfn, pteAddr, vma, addr);
}

export function page_remove_rmap(cpu: CpuBase, r: RmapScheme, pfn: number, pteAddr: number, vma: number, addr: number): void {
  rmap_assert_ptl(cpu, pteAddr, vma);
  r.remove(cpu, pfn, pteAddr, vma, addr);
  charge(page_line_w(pfn));
  Atomics.sub(cpu.w, pageStruct(cpu.l, pfn) + PG_MAPCOUNT, 1);
}

/** page_mapcount: number of ptes mapping pfn. */
export const page_mapcount = (w: Int32Array, l: CpuBase['l'], pfn: number) => w[pageStruct(l, pfn) + PG_MAPCOUNT]! + 1;

let SCHEMES: Record<RmapSchemeName, RmapScheme> | undefined;

/** The implementation of config.rmap `name` (the table is built on first use: the scheme files import this one). */
export function rmapSchemeByName(name: RmapSchemeName): RmapScheme {
  SCHEMES ??= { scan: scanScheme, ptechain: ptechainScheme, vmnode: vmnodeScheme, ptechain25: ptechain25Scheme, hint: hintScheme, objrmap: objrmapScheme, anonmm: anonmmScheme };
  return SCHEMES[name];
}

/** Every scheme, in config order. */
export const registeredRmapSchemes = (): RmapSchemeName[] => [...RMAP_SCHEMES];

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
