/*
 * flip.ts — try_to_flip_page_to: move a user page to another frame by
 * rewriting every pte that maps it, found through the reverse map, with no
 * swap slot and no fault (the `flip` migrate method; migrate.ts keeps the
 * swap-cache one).
 *
 * Sources: Ben LaHaise's willdo list (seed 001: "steal_specific_page" and
 * "try_to_flip_page_to(dst_page, priv_page)"), Mark Hemment's pagable_node
 * (seed 000: moving a page updates the one link its vm_node list hangs off),
 * the fragmentation thread (seed 004: "it's only when you want a _specific_
 * physical page that the lack of reverse mapping is painful"), and 2.6.18's
 * migrate_pages with migration entries (REFERENCE.md §8.3): unmap every pte,
 * flush the TLBs, copy the data and the page state, move the cache slot,
 * point every pte at the new frame.
 *
 *   old page isolated from its LRU list (a reference) and trylocked (the
 *     caller, migrate.ts migrate_one)
 *   rmap walk: every (mm, address, pte) of old — the scheme's own walk: the
 *     pte chain (ptechain, ptechain25), the vm_node list (vmnode), i_mmap /
 *     anon_vma (objrmap), the hint and then a scan (hint), every mm (scan)
 *   lock the cache slot's lock (page cache, swapper space, or none for an
 *     anonymous page outside the swap cache)
 *   per mapping: trylock mm->page_table_lock, check that the pgd still leads
 *     to that pte's table, trylock the pte lock, drop page_table_lock, check
 *     under the pte lock that the pte still maps old, keep the lock
 *   freeze _count (ptes + cache + ours → 0: page_freeze_refs)
 *   every pte: ptep_get_and_clear (dirty bit to the page)
 *   flush_tlb_mm of every mm seen: no CPU still reads or writes old
 *   copy 4 KiB + struct page state (flags, mapping, index, _mapcount, the
 *     reverse-map head PG_RMAP / PG_direct), move the cache slot
 *   every pte: set_pte(new frame, the old pte's bits)
 *   unlock everything; the new page goes on the LRU where the old one was
 *
 * The reverse map moves with one word: every scheme here keys its entries
 * by pte address (LaHaise's chain page, Hemment's shadow word, 2.5's
 * pte_chain blocks, the hint), so the page's own head — Hemment's
 * pagable_node link, PG_RMAP — is all that names the frame; objrmap has no
 * per-page list at all (anon_vma / mapping + index move with the page state).
 *
 * Where the kernel writes migration entries (a fault on one waits for the
 * page lock), smpvm keeps every pte lock of the page held from the clear to
 * the set: a fault on a cleared pte finds it none, prepares, and then
 * waits for the pte lock, finds the new pte there and backs out (fault.ts
 * re-checks every pte under its lock) — no pte ever says "nothing here"
 * to anyone who holds its lock. So whoever reads a pte without its lock
 * must take the lock before acting on "none" (mremap's move_page_tables,
 * vm/mmap.ts, skipped such a pte and lost the page). The price: a page
 * mapped through more than FLIP_MAX_PTL pte locks (page tables, or mms
 * under `2.4`) is not flipped, since a CPU can hold only so many spinlocks
 * at once (MCS_LEVELS, the lockdep stack).
 *
 * Not movable, reported and left as it was (MIGRATE_BUSY): under write-back,
 * pinned (a reference beyond its ptes, its cache slot and ours — a racing
 * fault between find_get_page and its pte lock, get_user_pages), a pte lock
 * or mm->page_table_lock busy, a mapping that came or went during the walk,
 * a pte the walk found twice. The count check (n locked ptes that map old,
 * _mapcount + 1 = n, _count frozen at n + cache + ours) proves every mapping
 * is among them only if the n are distinct: a walk that met one pte twice
 * (two VMAs of one mm covering it: split_vma before vma_adjust's locking,
 * objrmap.ts) would have had the pte rewritten twice — the second time from
 * the 0 the first clear left — and another mapping left on the old frame.
 * Compound pages: MIGRATE_UNMOVABLE.
 *
 * Locking: page lock (held by the caller) → rmap locks (inside the walk,
 * dropped after it) ; page lock → cache lock → (trylock) page_table_lock,
 * pte locks → bucket lock. Only trylocks after the cache lock, so no lock
 * order edge into the fault path's pte lock → chain lock; flush_tlb_mm
 * waits only for user accesses, which take no lock.
 */
import { PG_FLAGS, PG_COUNT, PG_MAPPING, PG_INDEX, PG_PRIVATE, PG_MAPCOUNT, PG_RMAP, PG_AGE, MM_PGD, NIL, PAGE_WORDS, LOCKDEP_DEPTH, MCS_LEVELS, mmBase, pageStruct } from '../machine/layout.js';
import { PG_writeback, PG_compound, PG_dirty, PG_direct, SWAPPER_SPACE, isFileMapping } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { INJECTIONS } from '../config.js';
import { LS_24, LS_BKL } from '../machine/cpu.js';
import { SITE } from '../sync/classes.js';
import { trylock_page } from '../sync/pagelock.js';
import { pte_trylock, pte_unlock, mm_ptl_trylock, mm_ptl_unlock, pte_lockptr } from '../sync/scheme.js';
import { copy_page } from '../mm/clear_page.js';
import { cache_lock, cache_unlock, page_cache_mapping, __remove_from_page_cache, __add_to_page_cache } from '../mm/filemap.js';
import { pte_present, pte_pfn, pte_dirty, mk_pte, pgd_index, pte_index, PTE_FLAGS_MASK } from '../mm/pte.js';
import { flush_tlb_mm } from '../mm/tlb.js';
import type { ReclaimCpu } from './context.js';
import { MIGRATE_OK, MIGRATE_BUSY, MIGRATE_UNMOVABLE, MIGRATE_FLAGS } from './migrate_codes.js';

const INJECT_NO_MIGRATE_COPY = INJECTIONS.indexOf('no_migrate_copy');

/** Most pte locks a flip holds at once: a CPU's MCS nodes less the cache, page_table_lock and bucket locks it holds beside them. */
export const FLIP_MAX_PTL = Math.min(MCS_LEVELS - 3, LOCKDEP_DEPTH - 8);

/** Most mappings a flip rewrites (the walk's buffer); a page with more is reported busy. */
export const FLIP_MAX_PTES = 256;

/* Per-thread state of the flip in progress (a CPU does one at a time). */
const found = new Int32Array(3 * FLIP_MAX_PTES); // (mm, addr, pteAddr) from the walk
const saved = new Int32Array(FLIP_MAX_PTES); // the cleared ptes
const ptls = new Int32Array(FLIP_MAX_PTL); // pte locks held (distinct lock words)
const mms = new Int32Array(FLIP_MAX_PTES); // distinct mms, for the flushes

/** Is lock offset `off` among the first n of ptls? */
function holds(off: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (ptls[i] === off) return true;
  return false;
}

/**
 * Lock the pte of mapping i (found[3i..]) and check that it still maps pfn.
 * Returns the new number of held pte locks (ptls[0..n)), or -1 (a lock was
 * busy, too many, or the mapping changed) with nothing more held.
 */
function lock_one(cpu: ReclaimCpu, pfn: number, i: number, nptl: number): number {
  const w = cpu.w;
  const l = cpu.l;
  const mm = found[3 * i]!;
  const addr = found[3 * i + 1]!;
  const pteAddr = found[3 * i + 2]!;
  // a pte the walk found twice would be counted for a mapping it missed
  for (let j = 0; j < i; j++) if (found[3 * j + 2] === pteAddr) return -1;
  const off = pte_lockptr(cpu, mm, pteAddr >>> 10);
  const have = off < 0 || holds(off, nptl); // kernel_flag (held throughout), none (planted bug), or taken for a sibling
  if (!have && nptl === FLIP_MAX_PTL) return -1;
  // mm->page_table_lock pins the tables reached from the pgd (free_pte_table
  // clears the entry under it); under 2.4 it is the pte lock itself
  const same = cpu.lockScheme === LS_24;
  const mmHeld = cpu.lockScheme === LS_BKL || (same && have);
  if (!mmHeld && !mm_ptl_trylock(cpu, mm, SITE.migrate_pages)) return -1;
  // under page_table_lock: the slot's pgd (pinned: mm_free waits for the
  // lock before pgd_free) still leads to the table (pinned: free_pte_table
  // clears the entry under the lock); the slot may hold a newer mm by now,
  // whose mapping at that pte is as good as the one the walk found
  const pgd = w[mmBase(l, mm) + MM_PGD]!;
  const e = pgd === NIL ? 0 : Atomics.load(w, l.frames + pgd * PAGE_WORDS + pgd_index(addr));
  let got = -2;
  if (e !== 0 && (((e >>> 12) << 10) | pte_index(addr)) === pteAddr) {
    if (have || same) got = off;
    else got = pte_trylock(cpu, mm, pteAddr >>> 10, SITE.migrate_pages); // taken before page_table_lock goes: the table is still this one
  }
  // under the pte lock: the pte still maps old
  const pte = got === -2 ? 0 : Atomics.load(w, l.frames + pteAddr);
  const ok = pte_present(pte) && pte_pfn(pte) === pfn;
  const tookPtl = got !== -2 && !have && !same; // a split pte lock this call took beside page_table_lock
  if (!ok && tookPtl) pte_unlock(cpu, got);
  if (!mmHeld && !(ok && same && !have)) mm_ptl_unlock(cpu, mm);
  if (!ok) return -1;
  if (have) return nptl;
  ptls[nptl] = got; // under 2.4 the page_table_lock we hold is this pte's lock: keep it
  return nptl + 1;
}

/** Remember mm for the flushes; returns the new count. */
function add_mm(mm: number, n: number): number {
  for (let i = 0; i < n; i++) if (mms[i] === mm) return n;
  mms[n] = mm;
  return n + 1;
}

/**
 * try_to_flip_page_to: the body of a flip with `old` isolated and locked by
 * the caller and `to` a fresh order-0 allocation of the caller's. On
 * MIGRATE_OK `to` is locked, has old's data, state, cache slot and every
 * mapping, and holds old's references (old's _count is 0, its _mapcount
 * -1). Otherwise nothing changed.
 */
export function try_to_flip_page_to(cpu: ReclaimCpu, to: number, old: number): number {
  const w = cpu.w;
  const op = pageStruct(cpu.l, old);
  const flags = Atomics.load(w, op + PG_FLAGS);
  if ((flags & PG_writeback) !== 0) return MIGRATE_BUSY;
  if ((flags & PG_compound) !== 0) return MIGRATE_UNMOVABLE;
  const n = Atomics.load(w, op + PG_MAPCOUNT) + 1;
  if (n > FLIP_MAX_PTES) return MIGRATE_BUSY;
  if (n > 0) {
    w[cpu.vm + VM.rmap_walk]!++;
    if (cpu.rmap.walk(cpu, old, found) !== n) return MIGRATE_BUSY; // busy, or a mapping came or went
  }
  const key = page_cache_mapping(cpu, old);
  if (key !== 0) cache_lock(cpu, key, SITE.migrate_pages);
  let nptl = 0;
  let r = MIGRATE_BUSY;
  let i = 0;
  for (; i < n; i++) {
    const k = lock_one(cpu, old, i, nptl);
    if (k < 0) break;
    nptl = k;
  }
  if (i === n && page_cache_mapping(cpu, old) === key && Atomics.load(w, op + PG_MAPCOUNT) + 1 === n) {
    // page_freeze_refs: every pte's reference, the cache's, our isolation's — nobody else's
    const expected = n + (key !== 0 ? 1 : 0) + 1;
    if (Atomics.compareExchange(w, op + PG_COUNT, expected, 0) === expected) {
      flip_frozen(cpu, old, to, n, key, expected);
      r = MIGRATE_OK;
    }
  }
  for (let j = nptl - 1; j >= 0; j--) pte_unlock(cpu, ptls[j]!);
  if (key !== 0) cache_unlock(cpu, key);
  return r;
}

/** Everything locked and old's count frozen: move the page. */
function flip_frozen(cpu: ReclaimCpu, old: number, to: number, n: number, key: number, count: number): void {
  const w = cpu.w;
  const l = cpu.l;
  const op = pageStruct(l, old);
  const np = pageStruct(l, to);
  let nmm = 0;
  for (let i = 0; i < n; i++) {
    const pte = Atomics.exchange(w, l.frames + found[3 * i + 2]!, 0); // ptep_get_and_clear
    if (pte_dirty(pte)) Atomics.or(w, op + PG_FLAGS, PG_dirty);
    saved[i] = pte;
    nmm = add_mm(found[3 * i]!, nmm);
  }
  // the shootdown: after it no CPU reads or writes old through a stale translation
  for (let i = 0; i < nmm; i++) flush_tlb_mm(cpu, mms[i]!);
  if (cpu.inject !== INJECT_NO_MIGRATE_COPY) copy_page(cpu, to, old); // (the planted bug skips the data)
  if (!trylock_page(cpu, to, SITE.migrate_pages)) throw new Error(`try_to_flip_page_to: new page ${to} is locked`);
  const flags = Atomics.load(w, op + PG_FLAGS);
  Atomics.or(w, np + PG_FLAGS, flags & (MIGRATE_FLAGS | PG_direct));
  if (key === 0 || key === SWAPPER_SPACE || !isFileMapping(w[op + PG_MAPPING]!)) w[np + PG_MAPPING] = w[op + PG_MAPPING]!; // anon_vma (objrmap)
  w[np + PG_INDEX] = w[op + PG_INDEX]!;
  w[np + PG_AGE] = w[op + PG_AGE]!;
  // the reverse map: its per-page head (the pagable_node link), one word
  w[np + PG_RMAP] = w[op + PG_RMAP]!;
  w[op + PG_RMAP] = NIL;
  Atomics.and(w, op + PG_FLAGS, ~PG_direct);
  Atomics.store(w, np + PG_MAPCOUNT, n - 1);
  Atomics.store(w, op + PG_MAPCOUNT, -1);
  if (key !== 0) {
    const index = key === SWAPPER_SPACE ? w[op + PG_PRIVATE]! : w[op + PG_INDEX]!;
    __remove_from_page_cache(cpu, old);
    if (!__add_to_page_cache(cpu, to, key, index)) throw new Error(`try_to_flip_page_to: key (${key}, ${index}) reappeared under its lock`);
  }
  Atomics.store(w, np + PG_COUNT, count); // old's references, now to's
  for (let i = 0; i < n; i++) Atomics.store(w, l.frames + found[3 * i + 2]!, mk_pte(to, saved[i]! & PTE_FLAGS_MASK));
  w[cpu.vm + VM.rmap_walk_pte]! += n;
}
