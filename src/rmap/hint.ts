/*
 * hint.ts — Linus's hint map (seed 004, "Re: 2.1.76, nfs client, and memory
 * fragmentation", 3 Jan 1998):
 *
 *   "you could instead try to keep a hint map that has a pointer for each
 *    physical page, but the pointer might point to just one of multiple
 *    users, and the code that wants to free the page would have to check
 *    whether it actually got the exclusive access."
 *
 * One word per physical page (struct page's PG_RMAP): the address of one pte
 * that maps it, or NIL. Memory proportional to physical memory only — no
 * per-mapping metadata at all, which is what Linus wanted. The hint is set by
 * the first mapper that finds it empty (compareExchange NIL → pte, no lock)
 * and cleared when that pte is unmapped; other mappers leave no trace. After
 * fork, the parent's pte holds the hint; if the parent then breaks COW, the
 * hint is gone and the child's now-exclusive page has none — Linus's own
 * objection ("even if they become unshared quickly after being shared, they
 * will have lost the information about what single mapping they had").
 *
 * The reclaimer checks for exclusive access: under the page's chain lock, if
 * page_mapcount == 1 and a hint is set, that pte is the only mapping (the
 * hinted pte maps the page: its removal would have to take the chain lock
 * we hold, and a pte that gets installed meanwhile is caught by
 * try_to_unmap's final _mapcount check). Then it tests / unmaps that one
 * pte (trylock of its pte lock). Otherwise it falls back to the full page
 * table scan of `scan` (counted in vmstat rmap_hint_fallback), whose
 * try_to_unmap_one drops the hint if it unmaps the hinted pte.
 *
 * Why remove() takes the chain lock (only when it clears the hint): the
 * reclaimer dereferences the hinted pte, so the pte's table must not be
 * freed under it. The zap of the hinted pte clears the hint in
 * page_remove_rmap under the chain lock, before free_pgtables can run, so
 * while the reclaimer holds the chain lock the hinted table is live. A
 * remove() of any other pte sees PG_RMAP != its pte and returns without a
 * lock: the hint cannot become that pte meanwhile (only add() of the same
 * pte sets it, and add/remove of one pte are serialised by its pte lock).
 * add() needs no lock: it only ever fills an empty hint.
 *
 * Locking: pte lock → chain lock (remove of the hinted pte). Reclaim: page
 * lock → chain lock → trylock pte lock (fast path); page lock → mmlist_lock
 * → page_table_lock → trylock pte lock → chain lock (fallback).
 */
import type { CpuBase } from '../machine/cpu.js';
import { NIL, PAGE_STRUCT_WORDS, PG_RMAP, PG_MAPCOUNT, PG_FLAGS, pageStruct, type Layout } from '../machine/layout.js';
import { PG_pgtable, PG_reserved, PG_compound } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { chain_lock, chain_unlock, chain_assert_locked } from '../sync/scheme.js';
import { ptep_to_mm, ptep_to_address } from '../mm/pgtable.js';
import { pte_present, pte_pfn } from '../mm/pte.js';
import { flush_tlb_others } from '../mm/tlb.js';
import { SWAP_SUCCESS, no_prealloc, no_anon_vma_prepare, type RmapScheme } from './types.js';
import { page_referenced_one, try_to_unmap_one, unmap_result, ACT_COLLECT, ACT_REFERENCED, ACT_UNMAP } from './unmap.js';
import { scan_rmap } from './scan.js';

/**
 * The hinted pte if it gives exclusive access (page_mapcount == 1), else NIL.
 * Chain lock held.
 */
function exclusive_hint(cpu: CpuBase, pfn: number): number {
  chain_assert_locked(cpu, pfn);
  const p = pageStruct(cpu.l, pfn);
  if (Atomics.load(cpu.w, p + PG_MAPCOUNT) !== 0) return NIL;
  const h = Atomics.load(cpu.w, p + PG_RMAP);
  if (h !== NIL) cpu.w[cpu.vm + VM.rmap_walk_visit]!++; // the walk visits the hint (vmstat.ts)
  return h;
}

function fallback(cpu: CpuBase): void {
  cpu.w[cpu.vm + VM.rmap_hint_fallback]!++;
}

export const hintScheme: RmapScheme = {
  name: 'hint',
  ptOrder: 0,
  add(cpu, pfn, pteAddr) {
    Atomics.compareExchange(cpu.w, pageStruct(cpu.l, pfn) + PG_RMAP, NIL, pteAddr);
  },
  remove(cpu, pfn, pteAddr) {
    const off = pageStruct(cpu.l, pfn) + PG_RMAP;
    if (Atomics.load(cpu.w, off) !== pteAddr) return;
    chain_lock(cpu, pfn, SITE.page_remove_rmap);
    Atomics.compareExchange(cpu.w, off, pteAddr, NIL);
    chain_unlock(cpu, pfn);
  },
  removeLocked(cpu, pfn, pteAddr) {
    Atomics.compareExchange(cpu.w, pageStruct(cpu.l, pfn) + PG_RMAP, pteAddr, NIL);
  },
  walk(cpu, pfn, out) {
    chain_lock(cpu, pfn, SITE.page_referenced);
    const h = exclusive_hint(cpu, pfn);
    if (h !== NIL) {
      out[0] = ptep_to_mm(cpu, h);
      out[1] = ptep_to_address(cpu, h);
      out[2] = h;
    }
    chain_unlock(cpu, pfn);
    return h !== NIL ? 1 : scan_rmap(cpu, hintScheme, pfn, ACT_COLLECT, out, 0);
  },
  page_referenced(cpu, pfn) {
    cpu.w[cpu.vm + VM.rmap_walk]!++;
    chain_lock(cpu, pfn, SITE.page_referenced);
    const h = exclusive_hint(cpu, pfn);
    const r = h !== NIL ? page_referenced_one(cpu, pfn, ptep_to_mm(cpu, h), h) : -1;
    chain_unlock(cpu, pfn);
    if (r >= 0) return r;
    fallback(cpu);
    return scan_rmap(cpu, hintScheme, pfn, ACT_REFERENCED, cpu.scratch, 0);
  },
  try_to_unmap(cpu, pfn, entry) {
    cpu.w[cpu.vm + VM.rmap_walk]!++;
    chain_lock(cpu, pfn, SITE.try_to_unmap);
    const h = exclusive_hint(cpu, pfn);
    let r = -1;
    if (h !== NIL) {
      r = try_to_unmap_one(cpu, null, pfn, ptep_to_mm(cpu, h), ptep_to_address(cpu, h), h, entry, true);
      if (r === SWAP_SUCCESS) Atomics.compareExchange(cpu.w, pageStruct(cpu.l, pfn) + PG_RMAP, h, NIL);
    }
    chain_unlock(cpu, pfn);
    if (r < 0) {
      fallback(cpu);
      r = scan_rmap(cpu, hintScheme, pfn, ACT_UNMAP, cpu.scratch, entry);
    }
    flush_tlb_others(cpu);
    return unmap_result(cpu, pfn, r);
  },
  /** nothing beyond the struct page word every page has */
  metadataBytes() {
    return 0;
  },
  prealloc: no_prealloc,
  anon_vma_prepare: no_anon_vma_prepare,
};

/** Checker extra (quiescent): a hint, where set, is a pte that maps the page. */
export function hint_check(w: Int32Array, l: Layout, out: string[], mapped: Int32Array, free: Uint8Array): void {
  for (let pfn = 1; pfn < l.nrFrames; pfn++) {
    if (free[pfn] !== 0) continue;
    const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
    if ((w[p + PG_FLAGS]! & (PG_pgtable | PG_reserved | PG_compound)) !== 0) continue;
    const h = w[p + PG_RMAP]!;
    if (h === NIL) continue;
    const pte = h > 0 && h >>> 10 < l.nrFrames ? w[l.frames + h]! : 0;
    if (mapped[pfn] === 0 || !pte_present(pte) || pte_pfn(pte) !== pfn) {
      if (out.length < 50) out.push(`hint: page ${pfn} hints pte ${h}, which does not map it`);
    }
  }
}

