/*
 * probe.ts — a reclaim stand-in for the rmap tests: what shrink_list does
 * to a page through the rmap, without the LRU. Pick a frame, pin it
 * (get_page_unless_zero, as a mem_map scanner must), and if it is a mapped
 * user page run page_referenced on it; if it is a file page, take its page
 * lock (trylock) and try_to_unmap it with no swap entry (the ptes become
 * none; the next access refaults it from the page cache, so the workload
 * and its content oracle see nothing but extra minor faults).
 *
 * Used single-threaded between operations of the deterministic property
 * test, and on the main thread concurrently with two worker CPUs in the
 * stress test (the monitor CPU slot, between checkpoints).
 */
import { randInt, type Rng } from '../rng.js';
import type { Cpu } from '../../src/vm/cpu.js';
import { PG_FLAGS, PG_MAPPING, PG_MAPCOUNT, pageStruct } from '../../src/machine/layout.js';
import { PG_pgtable, PG_reserved, PG_compound, PG_buddy, PG_pcp, isFileMapping } from '../../src/machine/page.js';
import { get_page_unless_zero } from '../../src/mm/page_ref.js';
import { put_page } from '../../src/reclaim/lru.js';
import { trylock_page, unlock_page } from '../../src/sync/pagelock.js';
import { SITE } from '../../src/sync/classes.js';
import { lock_kernel, unlock_kernel } from '../../src/sync/scheme.js';
import { LS_BKL } from '../../src/machine/cpu.js';
import { SWAP_SUCCESS, SWAP_AGAIN, SWAP_FAIL } from '../../src/rmap/types.js';

export interface ProbeStats {
  probes: number;
  referenced: number;
  young: number;
  unmapSuccess: number;
  unmapAgain: number;
  unmapFail: number;
}

export const newProbeStats = (): ProbeStats => ({ probes: 0, referenced: 0, young: 0, unmapSuccess: 0, unmapAgain: 0, unmapFail: 0 });

const SKIP = PG_pgtable | PG_reserved | PG_compound | PG_buddy | PG_pcp;


/**
 * One probe of frame pfn. `strict`: no other CPU runs (deterministic mode),
 * so try_to_unmap must succeed and page_referenced cannot exceed the
 * mappings; returns a description of a violation, or ''.
 */
export function probe(cpu: Cpu, pfn: number, st: ProbeStats, strict: boolean, unmap = true): string {
  const w = cpu.w;
  const p = pageStruct(cpu.l, pfn);
  if ((Atomics.load(w, p + PG_FLAGS) & SKIP) !== 0) return '';
  if (!get_page_unless_zero(cpu, pfn)) return '';
  let bad = '';
  const mapping = Atomics.load(w, p + PG_MAPPING);
  const flags = Atomics.load(w, p + PG_FLAGS);
  const mapcount = Atomics.load(w, p + PG_MAPCOUNT) + 1;
  if ((flags & SKIP) === 0 && mapcount > 0) {
    st.probes++;
    const young = cpu.rmap.page_referenced(cpu, pfn);
    st.referenced++;
    st.young += young;
    if (strict && (young < 0 || young > mapcount)) bad = `page_referenced(${pfn}) = ${young} with ${mapcount} mappings`;
    // under `bkl` a page lock is only ever held inside kernel_flag (reclaim/context.ts), as kswapd does
    const bkl = cpu.lockScheme === LS_BKL;
    if (bkl) lock_kernel(cpu, SITE.shrink_list);
    if (unmap && isFileMapping(mapping) && trylock_page(cpu, pfn, SITE.shrink_list)) {
      const k = cpu.rmap.try_to_unmap(cpu, pfn, 0);
      unlock_page(cpu, pfn);
      if (k === SWAP_SUCCESS) st.unmapSuccess++;
      else if (k === SWAP_AGAIN) st.unmapAgain++;
      else if (k === SWAP_FAIL) st.unmapFail++;
      const left = Atomics.load(w, p + PG_MAPCOUNT) + 1;
      if (k === SWAP_SUCCESS && strict && left !== 0) bad = `try_to_unmap(${pfn}) = SUCCESS but ${left} mappings left`;
      if (strict && k !== SWAP_SUCCESS) bad = `try_to_unmap(${pfn}) = ${k} with no other CPU running`;
    }
    if (bkl) unlock_kernel(cpu);
  }
  put_page(cpu, pfn);
  return bad;
}

/** A random frame that is a mapped user page right now (up to `tries` random picks), or -1. */
export function pick_mapped(cpu: Cpu, rng: Rng, tries: number): number {
  const w = cpu.w;
  const n = cpu.l.nrFrames;
  for (let i = 0; i < tries; i++) {
    const pfn = randInt(rng, 1, n - 1);
    const p = pageStruct(cpu.l, pfn);
    if ((Atomics.load(w, p + PG_FLAGS) & SKIP) === 0 && Atomics.load(w, p + PG_MAPCOUNT) >= 0) return pfn;
  }
  return -1;
}
