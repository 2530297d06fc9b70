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
 *
 * Two kinds of walk reach a pte:
 *   - chain walks (ptechain, vmnode, ptechain25, hint's fast path) hold the
 *     page's chain lock; while a pte is on the chain, the zap that would clear
 *     it is stuck in page_remove_rmap behind that lock, so its table cannot
 *     be freed (free_pgtables runs after the zap, under mmap_sem);
 *   - virtual walks (scan, objrmap, hint's fallback) find (mm, address) and
 *     read the pgd entry with mm->page_table_lock held (rmap_vaddr_one):
 *     free_pte_table clears the pgd entry under that lock before freeing the
 *     table, so a table read under it stays a table until it is dropped.
 *     Lock order: [i_mmap_lock | anon_vma->lock | mmlist_lock] →
 *     mm->page_table_lock → (trylock) pte lock → PG_chainlock (remove()).
 */
import { charge, page_line_w, mm_line_w } from '../timing/index.js';
import type { CpuBase } from '../machine/cpu.js';
import { LS_24 } from '../machine/cpu.js';
import {
  PG_FLAGS,
  PG_COUNT,
  PG_MAPCOUNT,
  PG_PT_NR,
  MM_RSS,
  MM_PGD,
  NIL,
  PAGE_WORDS,
  mmBase,
  pageStruct,
} from '../machine/layout.js';
import { PG_dirty } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { pte_trylock, pte_unlock, pte_assert_locked, mm_ptl_lock, mm_ptl_unlock } from '../sync/scheme.js';
import { pte_present, pte_pfn, pte_dirty, _PAGE_ACCESSED, ptPfnOfPteAddr, pgd_index, pte_index } from '../mm/pte.js';
import { swap_duplicate } from '../mm/swap_map.js';
import { flush_tlb_others, flush_tlb_page } from '../mm/tlb.js';
import { ptep_to_address } from '../mm/pgtable.js';
import { SWAP_SUCCESS, SWAP_AGAIN, SWAP_FAIL, type RmapScheme } from './types.js';

/** What a walk does at each mapping it finds. */
export const ACT_COLLECT = 0; // append (mm, addr, pteAddr) to out
export const ACT_REFERENCED = 1; // page_referenced_one
export const ACT_UNMAP = 2; // try_to_unmap_one

/** Test-and-clear the young bit of one mapping. 1 referenced (or busy), 0 not, -1 the pte no longer maps pfn. */
export function page_referenced_one(cpu: CpuBase, pfn: number, mm: number, pteAddr: number, ptlHeld = false): number {
  const w = cpu.w;
  if (ptlHeld) pte_assert_locked(cpu, mm, ptPfnOfPteAddr(pteAddr));
  const ptl = ptlHeld ? -1 : pte_trylock(cpu, mm, ptPfnOfPteAddr(pteAddr), SITE.page_referenced);
  if (ptl === -2) return 1; // contended: assume referenced (2.5)
  const ptep = cpu.l.frames + pteAddr;
  const pte = w[ptep]!;
  let r = -1;
  if (pte_present(pte) && pte_pfn(pte) === pfn) r = (Atomics.and(w, ptep, ~_PAGE_ACCESSED) & _PAGE_ACCESSED) !== 0 ? 1 : 0;
  pte_unlock(cpu, ptl);
  // ptep_clear_flush_young: a TLB that still caches the young pte would never set the bit again
  if (r === 1) flush_tlb_page(cpu, mm, ptep_to_address(cpu, pteAddr));
  return r;
}

/**
 * Unmap pfn from one pte. `entry` is the swap entry to leave behind (anon
 * page in the swap cache) or 0 (file page: the pte becomes none; it refaults
 * from the page cache). `r`: the scheme whose remove() drops the reverse
 * mapping (removeLocked() when `locked`: the caller holds the lock remove()
 * would take), or null when the caller unlinks the entry itself because it
 * is walking that very chain in place (ptechain, vmnode, ptechain25, hint's
 * fast path). `ptlHeld`: the caller holds this pte's lock already (scan and
 * objrmap under 2.4, whose pte lock is the page_table_lock they walk under).
 * SWAP_SUCCESS also when the pte no longer maps pfn (zapped or moved).
 */
export function try_to_unmap_one(
  cpu: CpuBase,
  r: RmapScheme | null,
  pfn: number,
  mm: number,
  addr: number,
  pteAddr: number,
  entry: number,
  locked: boolean,
  ptlHeld = false,
): number {
  const w = cpu.w;
  if (ptlHeld) pte_assert_locked(cpu, mm, ptPfnOfPteAddr(pteAddr));
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
  if (entry === 0) {
    const pt = ptPfnOfPteAddr(pteAddr);
    w[pageStruct(cpu.l, pt) + PG_PT_NR]!--;
    charge(page_line_w(pt));
  }
  const p = pageStruct(cpu.l, pfn);
  if (pte_dirty(pte)) Atomics.or(w, p + PG_FLAGS, PG_dirty);
  if (r !== null) {
    if (locked) r.removeLocked(cpu, pfn, pteAddr, mm, addr);
    else r.remove(cpu, pfn, pteAddr, -1, addr);
  }
  Atomics.sub(w, p + PG_MAPCOUNT, 1);
  Atomics.sub(w, mmBase(cpu.l, mm) + MM_RSS, 1);
  charge(mm_line_w(mm));
  pte_unlock(cpu, ptl);
  // the mapping's reference: the caller holds its own, so this never frees
  if (Atomics.sub(w, p + PG_COUNT, 1) <= 1) throw new Error(`try_to_unmap_one: page ${pfn} lost its last reference`);
  cpu.w[cpu.vm + VM.rmap_walk_pte]!++;
  return SWAP_SUCCESS;
}

/**
 * Combine the result of one mapping into a running try_to_unmap result:
 * FAIL wins, then AGAIN, then SUCCESS.
 */
export const swap_merge = (acc: number, k: number) => (k === SWAP_FAIL || acc === SWAP_FAIL ? SWAP_FAIL : k === SWAP_AGAIN ? SWAP_AGAIN : acc);

/**
 * The end of every try_to_unmap (2.6.7 mm/rmap.c): whatever the walk said,
 * the page is unmapped iff its _mapcount says so — a mapping the walk missed
 * (a VMA between lists during split_vma, a pte installed after the walk
 * passed it) turns SUCCESS into AGAIN, and an AGAIN whose busy mapping went
 * away meanwhile is a SUCCESS.
 */
export function unmap_result(cpu: CpuBase, pfn: number, ret: number): number {
  if (ret === SWAP_FAIL) return ret;
  return Atomics.load(cpu.w, pageStruct(cpu.l, pfn) + PG_MAPCOUNT) < 0 ? SWAP_SUCCESS : SWAP_AGAIN;
}

/**
 * A virtual walk's visit to one candidate mapping: the pte for `addr` in
 * `mm`, if the mm has a table there, looked at with mm->page_table_lock held
 * so the table cannot be freed under us (see the header). ACT_COLLECT
 * appends (mm, addr, pteAddr) at out[3n..] when the pte maps pfn and returns
 * the new n; ACT_REFERENCED returns 1 if the mapping was young (or busy), 0
 * if old, -1 if the pte does not map pfn; ACT_UNMAP returns a SWAP_* result
 * (SUCCESS when there is nothing to do).
 * `r` is passed to try_to_unmap_one (its remove() runs under the pte lock).
 * Caller holds the object lock that made (mm, addr) a candidate, or
 * mmlist_lock; mm is alive while it holds it.
 */
export function rmap_vaddr_one(
  cpu: CpuBase,
  r: RmapScheme,
  act: number,
  pfn: number,
  mm: number,
  addr: number,
  out: Int32Array,
  n: number,
  entry: number,
): number {
  const w = cpu.w;
  const held = cpu.lockScheme === LS_24;
  let ret = act === ACT_COLLECT ? n : act === ACT_UNMAP ? SWAP_SUCCESS : -1;
  mm_ptl_lock(cpu, mm, act === ACT_UNMAP ? SITE.try_to_unmap : SITE.page_referenced);
  const pgd = w[mmBase(cpu.l, mm) + MM_PGD]!;
  const e = pgd === NIL ? 0 : Atomics.load(w, cpu.l.frames + pgd * PAGE_WORDS + pgd_index(addr));
  if (e !== 0) {
    const pteAddr = ((e >>> 12) << 10) | pte_index(addr);
    const pte = Atomics.load(w, cpu.l.frames + pteAddr);
    if (pte_present(pte) && pte_pfn(pte) === pfn) {
      if (act === ACT_COLLECT) {
        if (3 * n + 2 < out.length) {
          out[3 * n] = mm;
          out[3 * n + 1] = addr;
          out[3 * n + 2] = pteAddr;
          ret = n + 1;
        }
      } else if (act === ACT_REFERENCED) {
        ret = page_referenced_one(cpu, pfn, mm, pteAddr, held);
      } else {
        ret = try_to_unmap_one(cpu, r, pfn, mm, addr, pteAddr, entry, false, held);
      }
    }
  }
  mm_ptl_unlock(cpu, mm);
  return ret;
}

/**
 * The generic reclaim walks for a scheme that can list a page's mappings
 * and act on them after dropping its locks. NOT safe for real reclaim: the
 * listed ptes' tables may be freed once the walk's locks are gone. Kept for
 * tests and single-CPU tools only; every scheme here does its per-pte work
 * inside its walk, under the lock that pins the tables.
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

/**
 * One walk that collects, test-and-clears or unmaps (act), taking and
 * dropping the scheme's own lock: every scheme has one but hint (whose fast
 * path is not a walk).
 */
export type SchemeWalk = (cpu: CpuBase, pfn: number, act: number, out: Int32Array, entry: number) => number;

/**
 * walk, page_referenced and try_to_unmap of a scheme from its one walk: the
 * rmap_walk count, the TLB flush once after the last pte, and the final
 * _mapcount check (unmap_result).
 */
export function walkMethods(scheme_walk: SchemeWalk): Pick<RmapScheme, 'walk' | 'page_referenced' | 'try_to_unmap'> {
  return {
    walk(cpu, pfn, out) {
      return scheme_walk(cpu, pfn, ACT_COLLECT, out, 0);
    },
    page_referenced(cpu, pfn) {
      cpu.w[cpu.vm + VM.rmap_walk]!++;
      return scheme_walk(cpu, pfn, ACT_REFERENCED, cpu.scratch, 0);
    },
    try_to_unmap(cpu, pfn, entry) {
      cpu.w[cpu.vm + VM.rmap_walk]!++;
      const r = scheme_walk(cpu, pfn, ACT_UNMAP, cpu.scratch, entry);
      flush_tlb_others(cpu);
      return unmap_result(cpu, pfn, r);
    },
  };
}
