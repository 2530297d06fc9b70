/*
 * unmap.ts — the per-pte halves of page_referenced and try_to_unmap, shared
 * by every scheme (2.5 mm/rmap.c page_referenced_one / try_to_unmap_one).
 *
 * A reclaim walk goes physical → virtual: it holds the page lock (and a
 * scheme's chain or object lock) and must take the pte lock, which the fault
 * path takes *before* the chain lock. So the pte lock is only ever TRYlocked
 * here: a miss means "assume referenced" for page_referenced and SWAP_AGAIN
 * for try_to_unmap (REFERENCE.md §3.2), and lockdep records no edge.
 *
 * try_to_unmap_one clears the pte with ptep_get_and_clear, moves the dirty
 * bit to the page, and for an anonymous page installs the swap entry —
 * swap_duplicate first, so the entry's count covers the pte before any other
 * CPU can see it — then drops the reverse mapping, rss and the mapping's page
 * reference. TLB flushing is the caller's (once per page, after all ptes).
 */
import type { CpuBase } from '../machine/cpu.js';
import { PG_FLAGS, PG_COUNT, PG_MAPCOUNT, PG_PT_NR, MM_RSS, mmBase, pageStruct } from '../machine/layout.js';
import { PG_dirty } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { pte_trylock, pte_unlock } from '../sync/scheme.js';
import { pte_present, pte_pfn, pte_dirty, _PAGE_ACCESSED, ptPfnOfPteAddr } from '../mm/pte.js';
import { swap_duplicate } from '../mm/swap_map.js';
import { SWAP_SUCCESS, SWAP_AGAIN, SWAP_FAIL, type RmapScheme } from './types.js';

/** Test-and-clear the young bit of one mapping. 1 referenced (or busy), 0 not, -1 the pte no longer maps pfn. */
export function page_referenced_one(cpu: CpuBase, pfn: number, mm: number, pteAddr: number, ptlHeld = false): number {
  const w = cpu.w;
  const ptl = ptlHeld ? -1 : pte_trylock(cpu, mm, ptPfnOfPteAddr(pteAddr), SITE.page_referenced);
  if (ptl === -2) return 1; // contended: assume referenced (2.5)
  const ptep = cpu.l.frames + pteAddr;
  const pte = w[ptep]!;
  let r = -1;
  if (pte_present(pte) && pte_pfn(pte) === pfn) r = (Atomics.and(w, ptep, ~_PAGE_ACCESSED) & _PAGE_ACCESSED) !== 0 ? 1 : 0;
  pte_unlock(cpu, ptl);
  return r;
}

/**
 * Unmap pfn from one pte. `entry` is the swap entry to leave behind (anon
 * page in the swap cache) or 0 (file page: the pte becomes none; it refaults
 * from the page cache). `locked`: the scheme's lock that page_remove_rmap
 * would take is already held, so the scheme's __remove is called instead.
 * `ptlHeld`: the caller holds this pte's lock already (scan under 2.4, whose
 * pte lock is the page_table_lock it walks under).
 */
export function try_to_unmap_one(
  cpu: CpuBase,
  r: RmapScheme,
  pfn: number,
  mm: number,
  addr: number,
  pteAddr: number,
  entry: number,
  locked: boolean,
  ptlHeld = false,
): number {
  const w = cpu.w;
  const ptl = ptlHeld ? -1 : pte_trylock(cpu, mm, ptPfnOfPteAddr(pteAddr), SITE.try_to_unmap);
  if (ptl === -2) return SWAP_AGAIN;
  const ptep = cpu.l.frames + pteAddr;
  const cur = w[ptep]!;
  if (!pte_present(cur) || pte_pfn(cur) !== pfn) {
    pte_unlock(cpu, ptl);
    return SWAP_SUCCESS; // already gone (zapped or moved meanwhile)
  }
  if (entry !== 0 && !swap_duplicate(cpu, entry)) {
    pte_unlock(cpu, ptl);
    return SWAP_FAIL;
  }
  const pte = Atomics.exchange(w, ptep, entry); // ptep_get_and_clear (+ set_pte of the swap entry)
  if (entry === 0) w[pageStruct(cpu.l, ptPfnOfPteAddr(pteAddr)) + PG_PT_NR]!--;
  const p = pageStruct(cpu.l, pfn);
  if (pte_dirty(pte)) Atomics.or(w, p + PG_FLAGS, PG_dirty);
  if (locked) r.removeLocked(cpu, pfn, pteAddr, mm, addr);
  else r.remove(cpu, pfn, pteAddr, -1, addr);
  Atomics.sub(w, p + PG_MAPCOUNT, 1);
  Atomics.sub(w, mmBase(cpu.l, mm) + MM_RSS, 1);
  pte_unlock(cpu, ptl);
  // the mapping's reference: the caller holds its own, so this never frees
  if (Atomics.sub(w, p + PG_COUNT, 1) <= 1) throw new Error(`try_to_unmap_one: page ${pfn} lost its last reference`);
  cpu.w[cpu.vm + VM.rmap_walk_pte]!++;
  return SWAP_SUCCESS;
}

/**
 * The generic reclaim walks for schemes that can list a page's mappings
 * first and act on them afterwards (scan, hint, objrmap): walk into the CPU's
 * scratch, then visit each (mm, addr, pte) with the *_one functions.
 */
export function page_referenced_walk(cpu: CpuBase, r: RmapScheme, pfn: number): number {
  const out = cpu.scratch;
  const n = r.walk(cpu, pfn, out);
  if (n < 0) return 1;
  let refs = 0;
  for (let i = 0; i < n; i++) if (page_referenced_one(cpu, pfn, out[3 * i]!, out[3 * i + 2]!) > 0) refs++;
  cpu.w[cpu.vm + VM.rmap_walk]!++;
  return refs;
}

export function try_to_unmap_walk(cpu: CpuBase, r: RmapScheme, pfn: number, entry: number): number {
  const out = cpu.scratch;
  const n = r.walk(cpu, pfn, out);
  if (n < 0) return SWAP_AGAIN;
  let ret = SWAP_SUCCESS;
  for (let i = 0; i < n; i++) {
    const k = try_to_unmap_one(cpu, r, pfn, out[3 * i]!, out[3 * i + 1]!, out[3 * i + 2]!, entry, false);
    if (k === SWAP_FAIL) return SWAP_FAIL;
    if (k === SWAP_AGAIN) ret = SWAP_AGAIN;
  }
  cpu.w[cpu.vm + VM.rmap_walk]!++;
  return ret;
}
