/*
 * ptechain.ts — Ben LaHaise's pte chains (seed 001, "mm - a page-centric
 * kswapd", Aug 1997; the same design as Ingo Molnar's shadow page table,
 * REFERENCE.md §3.1).
 *
 *   "all page tables are now allocated with an order of 1. The second page
 *    provides a single pointer to the next pte on the list of a given page."
 *
 *      pte table T (order-1 block)              struct page of the data page
 *      +--------------------+  page T           +--------------------------+
 *      | pte[0] ... pte[s]  |  (hardware)       | PG_RMAP = head pte addr  |--+
 *      +--------------------+                   +--------------------------+  |
 *      | next[0] .. next[s] |  page T+1           pte addr a = T << 10 | s    |
 *      +--------------------+  (chain page)      next(a) = word s of T+1 <---+
 *
 * So the reverse map costs exactly one word per pte slot — the chain page
 * is the same size as the forward table ("the same size as the forward page
 * table", Linus, seed 004) — and establishing a mapping allocates nothing:
 * pte_link pushes the pte at the head of the page's chain in O(1).
 * pte_unlink must find the pte's predecessor: the list is singly linked, so
 * it walks the chain from the head, O(mappers of the page). LaHaise used a
 * circular list "for debugging purposes ... my intention for the list not to
 * be circular"; here it is NIL-terminated, as he intended. A reclaim walk
 * that unmaps as it goes unlinks each pte in O(1) with the predecessor it
 * already holds.
 *
 * From a pte to its mm and address: pte_getpmd / pmd_getpgd / pgd_getmm,
 * through the page-table pages' own struct pages, which record the mm
 * (PG_MAPPING) and the virtual base (PG_INDEX) when the table is allocated
 * (mm/pgtable.ts; Rik van Riel's 2001 note of the same idea).
 *
 * Locking: pte lock → chain lock (chain_lock: the page's PG_chainlock bit
 * under `split` and `2.4`, kernel_flag under `bkl`). add/remove run with
 * the pte lock held and take the chain lock. Reclaim goes the other way
 * (page lock → chain lock → pte lock) and therefore only trylocks the pte
 * lock (unmap.ts). While a pte is on a chain its table cannot be freed: the
 * zap that clears it waits for the chain lock in page_remove_rmap before
 * free_pgtables can run, so a walk holding the chain lock only touches live
 * tables. A next word is meaningful only while its pte is on a chain; the
 * chain page is zeroed with the table and never needs clearing.
 */
import { pgd_index } from '../mm/pte.js';
import type { CpuBase } from '../machine/cpu.js';
import {
  NIL,
  PAGE_WORDS,
  PAGE_STRUCT_WORDS,
  PG_RMAP,
  PG_MAPPING,
  PG_INDEX,
  PG_FLAGS,
  MM_PGD,
  MM_NR_PTES,
  MM_WORDS,
  mmBase,
  pageStruct,
} from '../machine/layout.js';
import { PG_pgtable, PG_reserved, PG_compound } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { chain_assert_locked } from '../sync/scheme.js';
import { SWAP_SUCCESS, SWAP_FAIL, no_prealloc, type RmapScheme } from './types.js';
import { page_referenced_one, try_to_unmap_one, swap_merge, ACT_COLLECT, ACT_REFERENCED } from './unmap.js';
import { chainScheme } from './chain_scheme.js';

/** Word offset of the next-pte word of pte address a (the chain page follows the table). */
const nextOf = (cpu: CpuBase, a: number) => cpu.l.frames + a + PAGE_WORDS;

/* ---- LaHaise's back-pointers: pte → pmd → pgd → mm ---- */

/** pte_getpmd: the pmd entry (the folded pmd is the pgd entry) pointing at a pte's table, as pgdPfn << 10 | index. */
export function pte_getpmd(cpu: CpuBase, pteAddr: number): number {
  const tp = pageStruct(cpu.l, pteAddr >>> 10);
  const mm = cpu.w[tp + PG_MAPPING]!;
  return (cpu.w[mmBase(cpu.l, mm) + MM_PGD]! << 10) | pgd_index(cpu.w[tp + PG_INDEX]!);
}
/** pmd_getpgd: the pgd (its frame) holding a pmd entry. */
export const pmd_getpgd = (pmdAddr: number) => pmdAddr >>> 10;
/** pgd_getmm: the mm owning a pgd, from the pgd frame's struct page. */
export const pgd_getmm = (cpu: CpuBase, pgdPfn: number) => cpu.w[pageStruct(cpu.l, pgdPfn) + PG_MAPPING]!;
/** The user address a pte maps: its pmd index and its slot. */
export const pte_address = (pmdAddr: number, pteAddr: number) => (((pmdAddr & 0x3ff) << 22) | ((pteAddr & 0x3ff) << 12)) >>> 0;

/* ---- the chain, under the chain lock ---- */

/** pte_link: push pte address a on page pfn's chain. Chain lock held. */
export function pte_link(cpu: CpuBase, pfn: number, a: number): void {
  chain_assert_locked(cpu, pfn);
  const p = pageStruct(cpu.l, pfn) + PG_RMAP;
  cpu.w[nextOf(cpu, a)] = cpu.w[p]!;
  cpu.w[p] = a;
}

/** pte_unlink: take pte address a off page pfn's chain, walking it for a's predecessor. Chain lock held. */
export function pte_unlink(cpu: CpuBase, pfn: number, a: number): void {
  chain_assert_locked(cpu, pfn);
  const w = cpu.w;
  const head = pageStruct(cpu.l, pfn) + PG_RMAP;
  let prevWord = head;
  let cur = w[head]!;
  let guard = 0;
  while (cur !== a) {
    if (cur === NIL || ++guard > cpu.l.nrFrames * 4) {
      throw new Error(`cpu ${cpu.id}: pte_unlink: pte ${a} is not on the chain of page ${pfn}`);
    }
    prevWord = nextOf(cpu, cur);
    cur = w[prevWord]!;
  }
  w[prevWord] = w[nextOf(cpu, a)]!;
}

/**
 * Walk page pfn's chain with the chain lock held, doing `act` to each pte:
 * collect (mm, addr, pte) triples (returns n), test-and-clear young bits
 * (returns the young count), or unmap, unlinking each unmapped pte with the
 * predecessor in hand (returns SWAP_*).
 */
function chain_walk(cpu: CpuBase, pfn: number, act: number, out: Int32Array, entry: number): number {
  chain_assert_locked(cpu, pfn);
  const w = cpu.w;
  const head = pageStruct(cpu.l, pfn) + PG_RMAP;
  let ret = act === ACT_COLLECT || act === ACT_REFERENCED ? 0 : SWAP_SUCCESS;
  let prevWord = head;
  let guard = 0;
  for (let a = w[head]!; a !== NIL; ) {
    if (++guard > cpu.l.nrFrames * 4) throw new Error(`cpu ${cpu.id}: ptechain: chain of page ${pfn} does not end`);
    const nw = nextOf(cpu, a);
    const next = w[nw]!;
    const pmd = pte_getpmd(cpu, a);
    const mm = pgd_getmm(cpu, pmd_getpgd(pmd));
    if (act === ACT_COLLECT) {
      if (3 * ret + 2 < out.length) {
        out[3 * ret] = mm;
        out[3 * ret + 1] = pte_address(pmd, a);
        out[3 * ret + 2] = a;
        ret++;
      }
      prevWord = nw;
    } else if (act === ACT_REFERENCED) {
      if (page_referenced_one(cpu, pfn, mm, a) > 0) ret++;
      prevWord = nw;
    } else {
      const k = try_to_unmap_one(cpu, null, pfn, mm, pte_address(pmd, a), a, entry, true);
      if (k === SWAP_SUCCESS) w[prevWord] = next; // pte_unlink in O(1): we hold the predecessor
      else prevWord = nw;
      ret = swap_merge(ret, k);
      if (k === SWAP_FAIL) break;
    }
    a = next;
  }
  w[cpu.vm + VM.rmap_walk_visit]! += guard;
  return ret;
}

export const ptechainScheme: RmapScheme = chainScheme({
  name: 'ptechain',
  ptOrder: 1,
  link: pte_link,
  unlink: pte_unlink,
  walk: chain_walk,
  /** the chain pages: one per pte table, 4 KiB each (one word per pte slot) */
  metadataBytes(cpu) {
    return nr_pte_tables(cpu.w, cpu.l) * PAGE_WORDS * 4;
  },
  prealloc: no_prealloc,
});

/** Number of pte tables in the machine (sum of every live mm's MM_NR_PTES). */
export function nr_pte_tables(w: Int32Array, l: CpuBase['l']): number {
  let n = 0;
  for (let mm = 0; mm < l.maxMm; mm++) if (w[l.mmTable + mm * MM_WORDS + MM_PGD] !== NIL) n += w[l.mmTable + mm * MM_WORDS + MM_NR_PTES]!;
  return n;
}

/**
 * Checker extra (quiescent): a user page that nobody maps has no chain.
 * (Chains of mapped pages are checked exactly by the checker's walk.)
 */
export function ptechain_check(w: Int32Array, l: CpuBase['l'], out: string[], mapped: Int32Array, free: Uint8Array): void {
  for (let pfn = 1; pfn < l.nrFrames; pfn++) {
    if (mapped[pfn] !== 0 || free[pfn] !== 0) continue;
    const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
    if ((w[p + PG_FLAGS]! & (PG_pgtable | PG_reserved | PG_compound)) !== 0) continue;
    if (w[p + PG_RMAP] !== NIL && out.length < 50) out.push(`ptechain: unmapped page ${pfn} still has chain head ${w[p + PG_RMAP]}`);
  }
}

