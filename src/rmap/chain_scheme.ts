/*
 * chain_scheme.ts — the RmapScheme around a page-centric chain: the three
 * schemes whose per-page structure hangs off struct page's PG_RMAP word under
 * the page's chain lock — LaHaise's pte chains (ptechain.ts, 1997),
 * Hemment's vm_node lists (vmnode.ts, 1997) and 2.5's packed pte_chains
 * (ptechain25.ts; mm/rmap.c page_add_rmap / page_remove_rmap /
 * page_referenced / try_to_unmap of 2.5.27+). They differ only in the
 * structure; the lock discipline around it, which this file writes once, is
 * 2.5's:
 *
 *   add            chain_lock(page_add_rmap)    link    chain_unlock
 *   remove         chain_lock(page_remove_rmap) unlink  chain_unlock
 *   removeLocked                                unlink   (reclaim's walk holds the lock)
 *   walk, page_referenced, try_to_unmap:
 *                  chain_lock(page_referenced | try_to_unmap)  walk  chain_unlock,
 *                  then (unmap.ts walkMethods) the TLB flush and the final
 *                  _mapcount check
 *
 * Locking: chain_lock is the page's PG_chainlock bit under `split` and
 * `2.4`, kernel_flag under `bkl` (sync/scheme.ts). add/remove run with the
 * pte lock held (pte lock → chain lock); a walk runs with the page lock held
 * and trylocks each pte lock inside (page lock → chain lock → trylock pte
 * lock). link, unlink and walk run with the chain lock held and assert it.
 */
import type { CpuBase } from '../machine/cpu.js';
import { SITE } from '../sync/classes.js';
import { chain_lock, chain_unlock } from '../sync/scheme.js';
import { no_anon_vma_prepare, type RmapScheme } from './types.js';
import { walkMethods, ACT_UNMAP, type SchemeWalk } from './unmap.js';

/** What a chain scheme brings: its structure's operations, each with the chain lock held. */
export interface ChainOps {
  readonly name: string;
  readonly ptOrder: number;
  /** page_add_rmap's body: put pteAddr on pfn's chain. */
  link(cpu: CpuBase, pfn: number, pteAddr: number, vma: number): void;
  /** page_remove_rmap's body: take pteAddr off pfn's chain. */
  unlink(cpu: CpuBase, pfn: number, pteAddr: number): void;
  /** Collect, test-and-clear or unmap (act) along pfn's chain. */
  walk: SchemeWalk;
  metadataBytes(cpu: CpuBase): number;
  prealloc(cpu: CpuBase): boolean;
}

export function chainScheme(o: ChainOps): RmapScheme {
  const { link, unlink, walk } = o;
  return {
    name: o.name,
    ptOrder: o.ptOrder,
    add(cpu, pfn, pteAddr, vma) {
      chain_lock(cpu, pfn, SITE.page_add_rmap);
      link(cpu, pfn, pteAddr, vma);
      chain_unlock(cpu, pfn);
    },
    remove(cpu, pfn, pteAddr) {
      chain_lock(cpu, pfn, SITE.page_remove_rmap);
      unlink(cpu, pfn, pteAddr);
      chain_unlock(cpu, pfn);
    },
    removeLocked: unlink,
    ...walkMethods((cpu, pfn, act, out, entry) => {
      chain_lock(cpu, pfn, act === ACT_UNMAP ? SITE.try_to_unmap : SITE.page_referenced);
      const r = walk(cpu, pfn, act, out, entry);
      chain_unlock(cpu, pfn);
      return r;
    }),
    metadataBytes: o.metadataBytes,
    prealloc: o.prealloc,
    anon_vma_prepare: no_anon_vma_prepare,
  };
}
