/*
 * lru.ts — the active and inactive lists, per-CPU pagevecs, and releasing
 * pages that may sit on them (2.6 mm/swap.c: lru_cache_add,
 * __pagevec_lru_add, mark_page_accessed, activate_page,
 * __page_cache_release, release_pages; 2.4.17 mm/swap.c; REFERENCE.md §4.3).
 *
 * THE LISTS. Every page reclaim may free — anonymous pages, page-cache and
 * swap-cache pages — is on exactly one of two lists once it has been added
 * (PG_lru set): active (PG_active) or inactive. Both are doubly linked
 * lists threaded through struct page's PG_LRU_NEXT / PG_LRU_PREV (the words
 * the buddy allocator uses for free blocks: a page is on one or the other,
 * never both). The G_LRU line holds each list's head (+1, so a zeroed line is
 * two empty lists) and its length. Forwards a list ends in NIL; backwards it
 * is circular — the newest page's prev names the oldest:
 *
 *     L_INACTIVE_HEAD ─► [newest] ─next─► [...] ─next─► [oldest = tail] ─next─► NIL
 *                          │ prev ─────────────────────────────▲
 *
 * so adding at the head writes the new page, the old head's prev and the
 * head word, and never the tail page — as list_add on the kernel's
 * list_head in struct zone touches only the sentinel and the first entry
 * (with the tail's next pointing back at the head, every pagevec added would
 * also pull the tail page's line over from whichever CPU last wrote it; no
 * throughput difference was measurable on the noisy 2-vCPU host of
 * 2026-12-04, so this is a locality argument, not a measured speed-up).
 *
 * New pages go in at the head; reclaim takes from the tail (the oldest).
 * Which list a new page joins, and how pages move between the two, is the
 * replacement policy's business (policy.ts, twoq.ts, clock.ts, swapout.ts);
 * this file only keeps the lists consistent.
 *
 * PAGEVECS (`split` scheme only, 2.6). Taking the lru lock for every new page
 * would make it the hottest lock of a fault-heavy run, so a CPU collects new
 * pages in its own pagevec (PC_PAGEVEC line: [0] = nr, [1..15] = pfn, plus
 * ACTIVE_TAG for "add to the active list") and adds all PAGEVEC_SIZE of them
 * under one lru_lock acquisition. A page in a pagevec holds a reference (the
 * pagevec's: it must not be freed before it reaches a list) and is not yet
 * PG_lru, so reclaim cannot see it. lru_add_drain empties this CPU's
 * pagevec (before direct reclaim, so its own new pages can be reclaimed);
 * lru_add_drain_all empties every CPU's — only at a stop-the-world
 * checkpoint or on a quiescent machine, since it writes other CPUs' lines
 * (the checker's quiesce step, checks.ts). Under `2.4` and `bkl` every page
 * is added under the lock at once, as 2.4 did.
 *
 * RELEASE. A page on a list must come off it before the allocator sees it
 * (mm/page_ref.ts header): put_page is the release for such pages —
 * when the count reaches zero the page is unlinked under the lru lock and
 * only then freed. The lists hold no reference (2.6): a page whose count
 * reached zero may still be linked for a moment, which is why isolation takes
 * its reference with get_page_unless_zero and skips pages that are dying.
 *
 * ISOLATION. Reclaim takes pages off a list in batches (isolate_lru_pages),
 * each with a reference and PG_lru cleared (PG_active kept, so putback knows
 * where it came from), works on them with the lru lock dropped, and puts the
 * survivors back in one lock hold (putback_lru_pages).
 *
 * Locking: the lists, their lengths, the clock hand and the PG_lru /
 * PG_active bits of linked pages: lru_lock (the scheme's pagemap_lru_lock /
 * zone->lru_lock: G_LRU). PG_* bits are flipped with Atomics.or/and (other
 * CPUs flip other bits of the same word). A pagevec: its owning CPU, or the
 * monitor at a checkpoint. Lock order: lru_lock is taken inside the page
 * lock, pte locks and chain locks, and outside zone->lock (pages freed here
 * are freed after it is dropped).
 */
import { charge, COST, C_LIST_OP, page_line_w, global_line_w } from '../timing/index.js';
import type { CpuBase } from '../machine/cpu.js';
import type { Machine } from '../machine/machine.js';
import {
  G_LRU,
  L_ACTIVE_HEAD,
  L_INACTIVE_HEAD,
  L_NR_ACTIVE,
  L_NR_INACTIVE,
  L_NR_HOT,
  NIL,
  PAGEVEC_SIZE,
  PAGE_STRUCT_WORDS,
  PC_PAGEVEC,
  PG_FLAGS,
  PG_COUNT,
  PG_ORDER,
  PG_LRU_NEXT,
  PG_LRU_PREV,
  globalLine,
  percpuBase,
} from '../machine/layout.js';
import { PG_lru, PG_active, PG_referenced, PG_reserved, PG_hot, PG_test, PG_freeable } from '../machine/page.js';
import { TestClearPageFreeable } from '../mm/filemap.js';
import { policyOf } from './policy.js';
import { workingset_new_anon_page, workingset_file_insert } from './workingset.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { lru_lock, lru_unlock, usesPcp, lru_assert_locked } from '../sync/scheme.js';
import { __free_pages_ok } from '../mm/page_alloc.js';
import { get_page, get_page_unless_zero, put_page_testzero } from '../mm/page_ref.js';

/** pagevec entry bit: the page goes on the active list */
const ACTIVE_TAG = 1 << 30;

const ps = (memMap: number, pfn: number) => memMap + pfn * PAGE_STRUCT_WORDS;
const lruLine = (cpu: CpuBase) => globalLine(cpu.l, G_LRU);

/* ---- raw list operations: lru lock held ---- */

/** Link pfn at the head of the list whose head word (+1) is at headOff. */
function list_add_head(w: Int32Array, memMap: number, headOff: number, pfn: number): void {
  const p = ps(memMap, pfn);
  const h = w[headOff]! - 1;
  // virtual clock: the lines written (timing/coherence.ts; their misses overlap, the slowest counts); the head's comes with the lru lock
  charge(Math.max(page_line_w(pfn), h === NIL ? 0 : page_line_w(h), global_line_w(G_LRU)));
  if (h === NIL) {
    w[p + PG_LRU_NEXT] = NIL;
    w[p + PG_LRU_PREV] = pfn; // the only page is its own tail
  } else {
    const hp = ps(memMap, h);
    w[p + PG_LRU_NEXT] = h;
    w[p + PG_LRU_PREV] = w[hp + PG_LRU_PREV]!; // the tail, named by the head
    w[hp + PG_LRU_PREV] = pfn;
  }
  w[headOff] = pfn + 1;
}

/** CONFIG_DEBUG_LIST's __list_del_entry_valid: do pfn's neighbours (h: the list's head) link back to it? */
function list_del_valid(w: Int32Array, memMap: number, h: number, pfn: number, next: number, prev: number): boolean {
  if (prev < 0 || (next < 0 && next !== NIL)) return false;
  if (pfn === h) {
    if (next === NIL) return prev === pfn; // the only page
    return w[ps(memMap, next) + PG_LRU_PREV] === pfn && w[ps(memMap, prev) + PG_LRU_NEXT] === NIL; // prev: the tail
  }
  return w[ps(memMap, prev) + PG_LRU_NEXT] === pfn && w[ps(memMap, next === NIL ? h : next) + PG_LRU_PREV] === pfn;
}

/** Unlink pfn from the list at headOff (`debug`: check its neighbours first, CONFIG_DEBUG_LIST). */
function list_del(w: Int32Array, memMap: number, headOff: number, pfn: number, debug: boolean): void {
  const p = ps(memMap, pfn);
  const next = w[p + PG_LRU_NEXT]!;
  const prev = w[p + PG_LRU_PREV]!;
  const h = w[headOff]! - 1;
  if (debug && (h === NIL || !list_del_valid(w, memMap, h, pfn, next, prev))) {
    throw new Error(`list_del corruption: page ${pfn} (flags 0x${w[p + PG_FLAGS]!.toString(16)}, _count ${w[p + PG_COUNT]}): next ${next}, prev ${prev}, head ${h}`);
  }
  // virtual clock: the lines written (timing/coherence.ts; their misses overlap, the slowest counts)
  charge(Math.max(page_line_w(pfn), pfn === h ? global_line_w(G_LRU) : page_line_w(prev), page_line_w(next === NIL ? h : next)));
  if (pfn === h) {
    // the newest page: its prev is the tail, which the next page now names
    if (next === NIL) w[headOff] = 0;
    else {
      w[ps(memMap, next) + PG_LRU_PREV] = prev;
      w[headOff] = next + 1;
    }
  } else {
    w[ps(memMap, prev) + PG_LRU_NEXT] = next;
    // the tail's successor is NIL: then the head's prev names the new tail
    w[ps(memMap, next === NIL ? h : next) + PG_LRU_PREV] = prev;
  }
  w[p + PG_LRU_NEXT] = NIL;
  w[p + PG_LRU_PREV] = NIL;
}

/** The oldest page of a list (its tail), or NIL. Lock held. */
export function lru_tail(cpu: CpuBase, active: boolean): number {
  lru_assert_locked(cpu);
  const h = cpu.w[lruLine(cpu) + (active ? L_ACTIVE_HEAD : L_INACTIVE_HEAD)]! - 1;
  return h === NIL ? NIL : cpu.w[ps(cpu.l.memMap, h) + PG_LRU_PREV]!;
}

/** add_page_to_{active,inactive}_list: link a page that is on no list. Lock held. */
export function add_page_to_lru(cpu: CpuBase, pfn: number, active: boolean): void {
  lru_assert_locked(cpu);
  const w = cpu.w;
  const g = lruLine(cpu);
  charge(COST[C_LIST_OP]!);
  if (cpu.debug) __list_add_valid(cpu, pfn);
  if (active) {
    Atomics.or(w, ps(cpu.l.memMap, pfn) + PG_FLAGS, PG_lru | PG_active);
    list_add_head(w, cpu.l.memMap, g + L_ACTIVE_HEAD, pfn);
    w[g + L_NR_ACTIVE]!++;
  } else {
    const f = ps(cpu.l.memMap, pfn) + PG_FLAGS;
    Atomics.and(w, f, ~PG_active);
    Atomics.or(w, f, PG_lru);
    list_add_head(w, cpu.l.memMap, g + L_INACTIVE_HEAD, pfn);
    w[g + L_NR_INACTIVE]!++;
  }
}

/**
 * CONFIG_DEBUG_LIST's __list_add_valid for the LRU: a page joining a list
 * must be on none: PG_lru clear and both links NIL (a free frame's links
 * are the buddy or pcp list's, so this also catches a freed page). Not
 * _count: activate_page may move a dying page. Debug machines only.
 */
function __list_add_valid(cpu: CpuBase, pfn: number): void {
  const w = cpu.w;
  const p = ps(cpu.l.memMap, pfn);
  const f = Atomics.load(w, p + PG_FLAGS);
  const why =
    (f & PG_lru) !== 0
      ? 'PG_lru already set'
      : w[p + PG_LRU_NEXT] !== NIL || w[p + PG_LRU_PREV] !== NIL
        ? `still linked (next ${w[p + PG_LRU_NEXT]}, prev ${w[p + PG_LRU_PREV]}: on a list, or a free frame)`
        : '';
  if (why !== '') throw new Error(`cpu ${cpu.id}: list_add corruption: page ${pfn} (flags 0x${f.toString(16)}): ${why}`);
}

/** Unlink a PG_lru page from the list its PG_active names (both bits stay). Lock held. */
function lru_unlink(cpu: CpuBase, pfn: number): void {
  lru_assert_locked(cpu);
  const w = cpu.w;
  const g = lruLine(cpu);
  // PG_lru / PG_active only change under the lru lock, which we hold: a plain read of them is exact
  if ((w[ps(cpu.l.memMap, pfn) + PG_FLAGS]! & PG_active) !== 0) {
    list_del(w, cpu.l.memMap, g + L_ACTIVE_HEAD, pfn, cpu.debug);
    w[g + L_NR_ACTIVE]!--;
  } else {
    list_del(w, cpu.l.memMap, g + L_INACTIVE_HEAD, pfn, cpu.debug);
    w[g + L_NR_INACTIVE]!--;
  }
}

/** Unlink a PG_lru page from its list, keeping PG_active (isolation). Lock held. */
function __isolate(cpu: CpuBase, pfn: number): void {
  lru_unlink(cpu, pfn);
  Atomics.and(cpu.w, ps(cpu.l.memMap, pfn) + PG_FLAGS, ~PG_lru);
}

/** del_page_from_lru: unlink a PG_lru page and clear PG_lru and PG_active. Lock held. */
export function del_page_from_lru(cpu: CpuBase, pfn: number): void {
  charge(COST[C_LIST_OP]!);
  lru_unlink(cpu, pfn);
  // one locked op for all four bits; issue 7: a freed hot page leaves CLOCK-Pro's resident hot count (clockpro.ts)
  const old = Atomics.and(cpu.w, ps(cpu.l.memMap, pfn) + PG_FLAGS, ~(PG_lru | PG_active | PG_hot | PG_test));
  if ((old & PG_hot) !== 0) Atomics.sub(cpu.w, lruLine(cpu) + L_NR_HOT, 1);
  if ((old & PG_freeable) !== 0) TestClearPageFreeable(cpu, pfn); // issue 18: a parked page freed by its last user
}

/**
 * rotate_reclaimable_page (2.6 mm/swap.c): a page whose write-back just
 * completed (writeback.ts) moves to the inactive tail, so that the next
 * pass frees it instead of waiting for the whole list to turn over
 * (pgrotated). Only for the policies whose inactive list is in LRU order
 * (2q, swapout): clock sweeps pfns, CLOCK-Pro's lists are its clock. An
 * isolated page (PG_lru clear) is left alone. Takes the lru lock.
 */
export function rotate_reclaimable_page(cpu: CpuBase, pfn: number): void {
  const name = policyOf(cpu).name;
  if (name !== '2q' && name !== 'swapout') return;
  const w = cpu.w;
  const memMap = cpu.l.memMap;
  const f = ps(memMap, pfn) + PG_FLAGS;
  if ((Atomics.load(w, f) & (PG_lru | PG_active)) !== PG_lru) return; // a hint: rechecked under the lock
  lru_lock(cpu, SITE.end_page_writeback);
  const g = lruLine(cpu);
  const headOff = g + L_INACTIVE_HEAD;
  if ((w[f]! & (PG_lru | PG_active)) === PG_lru && lru_tail(cpu, false) !== pfn) {
    charge(COST[C_LIST_OP]!);
    list_del(w, memMap, headOff, pfn, cpu.debug);
    // list_add_tail: after the old tail, whose successor is NIL; the head's prev names the new tail
    const h = w[headOff]! - 1;
    const p = ps(memMap, pfn);
    if (h === NIL) list_add_head(w, memMap, headOff, pfn);
    else {
      const hp = ps(memMap, h);
      const tail = w[hp + PG_LRU_PREV]!;
      w[ps(memMap, tail) + PG_LRU_NEXT] = pfn;
      w[p + PG_LRU_PREV] = tail;
      w[p + PG_LRU_NEXT] = NIL;
      w[hp + PG_LRU_PREV] = pfn;
    }
    w[cpu.vm + VM.pgrotated]!++;
  }
  lru_unlock(cpu);
}

/* ---- adding new pages ---- */

/**
 * lru_cache_add / lru_cache_add_active: a new page (mapped by its first pte,
 * or just inserted in the page or swap cache) joins the LRU. The caller
 * holds a reference and no lock. Under `split` it goes through this CPU's
 * pagevec.
 */
export function lru_cache_add(cpu: CpuBase, pfn: number, active: boolean): void {
  if (!usesPcp(cpu)) {
    lru_lock(cpu, SITE.lru_cache_add);
    add_page_to_lru(cpu, pfn, active);
    lru_unlock(cpu);
    return;
  }
  const w = cpu.w;
  get_page(cpu, pfn); // the pagevec's reference
  const pv = cpu.pc + PC_PAGEVEC;
  const n = w[pv]!;
  w[pv + 1 + n] = active ? pfn | ACTIVE_TAG : pfn;
  w[pv] = n + 1;
  if (n + 1 === PAGEVEC_SIZE) __pagevec_lru_add(cpu, pv);
}

/**
 * lru_cache_add_anon: a fault's new anonymous page (first mapped by its
 * pte) joins the LRU; the replacement policy says which list
 * (workingset.ts, issue 7). Called by vm/fault.ts, no lock held.
 */
export function lru_cache_add_anon(cpu: CpuBase, pfn: number): void {
  lru_cache_add(cpu, pfn, workingset_new_anon_page(cpu, pfn));
}

/**
 * lru_cache_add_file (add_to_page_cache_lru's second half): a page just
 * inserted in the page cache after a miss joins the LRU; the insertion is a
 * refault lookup (workingset.ts). Called by vm/filemap_fault.ts, no lock held.
 */
export function lru_cache_add_file(cpu: CpuBase, pfn: number): void {
  lru_cache_add(cpu, pfn, workingset_file_insert(cpu, pfn));
}

/**
 * __pagevec_lru_add: add every page of the pagevec at `pv` under one lru_lock
 * hold, then, with the lock dropped, drop the pagevec's references
 * (2.6: pagevec_release after spin_unlock_irq, so the lock is held only for
 * the list insertions): release_pages re-takes the lock only for a page
 * whose count reaches zero there — one freed by everyone else meanwhile.
 */
function __pagevec_lru_add(cpu: CpuBase, pv: number): void {
  const w = cpu.w;
  const n = w[pv]!;
  if (n === 0) return;
  lru_lock(cpu, SITE.pagevec_lru_add);
  for (let i = 0; i < n; i++) {
    const e = w[pv + 1 + i]!;
    const pfn = e & ~ACTIVE_TAG;
    add_page_to_lru(cpu, pfn, (e & ACTIVE_TAG) !== 0);
    w[pv + 1 + i] = pfn;
  }
  lru_unlock(cpu);
  w[pv] = 0;
  release_pages(cpu, w, pv + 1, n); // the pagevec's words serve as its to-free vector
}

/** lru_add_drain: empty this CPU's pagevec onto the lists. */
export function lru_add_drain(cpu: CpuBase): void {
  const pv = cpu.pc + PC_PAGEVEC;
  if (cpu.w[pv] !== 0) __pagevec_lru_add(cpu, pv);
}

/**
 * lru_add_drain_all: empty every CPU slot's pagevec. Only with every other
 * CPU parked (checkpoint) or none running: it writes their pagevec lines.
 */
export function lru_add_drain_all(cpu: CpuBase): void {
  for (let c = 0; c < cpu.l.nrCpuSlots; c++) {
    const pv = percpuBase(cpu.l, c) + PC_PAGEVEC;
    if (cpu.w[pv] !== 0) __pagevec_lru_add(cpu, pv);
  }
}

/* ---- references ---- */

/**
 * activate_page: move an inactive PG_lru page to the active list (pgactivate).
 * Takes the lru lock.
 */
export function activate_page(cpu: CpuBase, pfn: number): void {
  const f = ps(cpu.l.memMap, pfn) + PG_FLAGS;
  lru_lock(cpu, SITE.activate_page);
  if ((Atomics.load(cpu.w, f) & (PG_lru | PG_active)) === PG_lru) {
    __isolate(cpu, pfn);
    add_page_to_lru(cpu, pfn, true);
    cpu.w[cpu.vm + VM.pgactivate]!++;
  }
  lru_unlock(cpu);
}

/**
 * mark_page_accessed (2.6 mm/swap.c): the two-touch state machine
 *
 *   inactive,unreferenced → inactive,referenced
 *   inactive,referenced   → active,unreferenced   (activate_page)
 *   active,unreferenced   → active,referenced
 *
 * Called on a page-cache or swap-cache hit and by swap_out on a young pte.
 * The caller holds a reference; any lock but the lru lock may be held.
 */
export function mark_page_accessed(cpu: CpuBase, pfn: number): void {
  const f = ps(cpu.l.memMap, pfn) + PG_FLAGS;
  const flags = Atomics.load(cpu.w, f);
  if (policyOf(cpu).hitSetsReferenced === true) {
    // issue 7: CLOCK-Pro and its approximation: a hit only sets the reference bit
    if ((flags & PG_referenced) === 0) Atomics.or(cpu.w, f, PG_referenced);
    return;
  }
  if ((flags & (PG_active | PG_referenced | PG_lru)) === (PG_referenced | PG_lru)) {
    activate_page(cpu, pfn);
    Atomics.and(cpu.w, f, ~PG_referenced);
  } else if ((flags & PG_referenced) === 0) {
    Atomics.or(cpu.w, f, PG_referenced);
  }
}

/** TestClearPageReferenced. */
export function test_clear_referenced(cpu: CpuBase, pfn: number): boolean {
  return (Atomics.and(cpu.w, ps(cpu.l.memMap, pfn) + PG_FLAGS, ~PG_referenced) & PG_referenced) !== 0;
}

/**
 * __page_cache_free: free a page whose count already reached zero: off its
 * list first (lru lock), then to the allocator.
 */
export function __page_cache_free(cpu: CpuBase, pfn: number): void {
  const w = cpu.w;
  const p = ps(cpu.l.memMap, pfn);
  if ((Atomics.load(w, p + PG_FLAGS) & PG_lru) !== 0) {
    lru_lock(cpu, SITE.__page_cache_release);
    if ((Atomics.load(w, p + PG_FLAGS) & PG_lru) !== 0) del_page_from_lru(cpu, pfn);
    lru_unlock(cpu);
  }
  free_unlisted_page(cpu, pfn);
}

/**
 * A page whose count is zero and which is on no list goes to the allocator
 * without its LRU state bits. A parked page (PG_freeable) freed while
 * isolated — its last reference dropped while the clock hand or the
 * allocator's take held it off the list — leaves the freeable queue here,
 * as a listed one does in del_page_from_lru.
 */
function free_unlisted_page(cpu: CpuBase, pfn: number): void {
  const w = cpu.w;
  const p = ps(cpu.l.memMap, pfn);
  if ((w[p + PG_FLAGS]! & PG_freeable) !== 0) TestClearPageFreeable(cpu, pfn);
  if ((w[p + PG_FLAGS]! & (PG_active | PG_referenced)) !== 0) Atomics.and(w, p + PG_FLAGS, ~(PG_active | PG_referenced));
  __free_pages_ok(cpu, pfn, w[p + PG_ORDER]!);
}

/**
 * put_page (2.6 mm/swap.c put_page; page_cache_release is the same
 * call): drop a reference to a user page; the last one takes the page off
 * its LRU list (__page_cache_free) and frees it. The one put_page of the
 * tree: pages that can never be on an LRU list (page tables, private
 * buffers) use mm/page_ref.ts's __free_pages. Reserved pages are never
 * freed. Takes the lru lock only for the last reference of a listed page.
 */
export function put_page(cpu: CpuBase, pfn: number): void {
  if ((Atomics.load(cpu.w, ps(cpu.l.memMap, pfn) + PG_FLAGS) & PG_reserved) !== 0) return;
  if (put_page_testzero(cpu, pfn)) __page_cache_free(cpu, pfn);
}

/**
 * release_pages (2.6 mm/swap.c): drop one reference to each of
 * pages[start .. start + nr) (at most PAGEVEC_SIZE: the caller batches).
 * The pages whose count reaches zero come off their LRU lists under one hold
 * of the lru lock, taken only if one of them is listed, and go to the
 * allocator after it is dropped (the kernel's pages_to_free pagevec; the
 * allocator's zone->lock is not nested in the lru lock). Reserved pages are
 * skipped. Reuses pages[start ..) as the to-free vector.
 *
 * Two passes where 2.6.16 has one: every put_page_testzero first, with no
 * lock held, then the lock once for the list deletions. The kernel drops the
 * references inside its lock hold (one locked decrement per page while the
 * other CPUs wait); the result is the same, since a page whose count reached
 * zero is touched by nobody but its freer (isolation skips it, activation
 * only moves it under the lock we are about to take), so the hold is just
 * the unlinking.
 */
export function release_pages(cpu: CpuBase, pages: Int32Array, start: number, nr: number): void {
  const w = cpu.w;
  const memMap = cpu.l.memMap;
  let listed = 0;
  let k = start;
  for (let i = start, end = start + nr; i < end; i++) {
    const pfn = pages[i]!;
    const p = ps(memMap, pfn);
    // plain reads: PG_reserved never changes, and once the count is zero nobody else
    // changes PG_lru (isolation needs a reference); the lru lock re-checks it anyway
    if ((w[p + PG_FLAGS]! & PG_reserved) !== 0 || !put_page_testzero(cpu, pfn)) continue;
    if ((w[p + PG_FLAGS]! & PG_lru) !== 0) listed++;
    pages[k++] = pfn;
  }
  if (listed !== 0) {
    lru_lock(cpu, SITE.release_pages);
    for (let i = start; i < k; i++) {
      const pfn = pages[i]!;
      if ((Atomics.load(w, ps(memMap, pfn) + PG_FLAGS) & PG_lru) !== 0) del_page_from_lru(cpu, pfn);
    }
    lru_unlock(cpu);
  }
  for (let i = start; i < k; i++) free_unlisted_page(cpu, pages[i]!);
}

/* ---- isolation for reclaim ---- */

/** Pages looked at by the last isolate_lru_pages on this thread (pgscan / pgrefill). */
export let lru_scanned = 0;

/**
 * isolate_lru_pages: take up to `max` pages off the tail of the active or
 * inactive list into out[0..), looking at no more than `nrScan` pages; each
 * taken page gets a reference and loses PG_lru (keeps PG_active). A page
 * whose count is already zero is being freed: it is rotated to the head and
 * left for its freer. Returns the number taken; lru_scanned says how many
 * were looked at. Takes the lru lock once.
 */
export function isolate_lru_pages(cpu: CpuBase, active: boolean, nrScan: number, out: Int32Array, max: number, site: number): number {
  const w = cpu.w;
  const memMap = cpu.l.memMap;
  const headOff = lruLine(cpu) + (active ? L_ACTIVE_HEAD : L_INACTIVE_HEAD);
  let n = 0;
  let scanned = 0;
  lru_lock(cpu, site);
  while (scanned < nrScan && n < max) {
    const h = w[headOff]! - 1;
    if (h === NIL) break;
    const tail = w[ps(memMap, h) + PG_LRU_PREV]!;
    scanned++;
    if (get_page_unless_zero(cpu, tail)) {
      __isolate(cpu, tail);
      out[n++] = tail;
    } else if (tail !== h) {
      list_del(w, memMap, headOff, tail, cpu.debug);
      list_add_head(w, memMap, headOff, tail);
    }
  }
  lru_unlock(cpu);
  lru_scanned = scanned;
  return n;
}

/**
 * isolate_lru_page: take one given page off its list (if it is on one) with
 * a reference. The clock hand and tests use it. Lock held by the caller
 * (`locked`) or taken here.
 */
export function isolate_lru_page(cpu: CpuBase, pfn: number, locked: boolean): boolean {
  if (!locked) lru_lock(cpu, SITE.shrink_list);
  else lru_assert_locked(cpu);
  let ok = false;
  if ((Atomics.load(cpu.w, ps(cpu.l.memMap, pfn) + PG_FLAGS) & PG_lru) !== 0 && get_page_unless_zero(cpu, pfn)) {
    __isolate(cpu, pfn);
    ok = true;
  }
  if (!locked) lru_unlock(cpu);
  return ok;
}

/**
 * putback_lru_pages: relink isolated pages (to the active list if PG_active
 * is set, else the inactive list) under one lru lock hold, then drop the
 * isolation references (which may free a page everybody else let go of).
 */
export function putback_lru_pages(cpu: CpuBase, pages: Int32Array, n: number): void {
  if (n === 0) return;
  const w = cpu.w;
  const memMap = cpu.l.memMap;
  lru_lock(cpu, SITE.shrink_list);
  for (let i = 0; i < n; i++) {
    const pfn = pages[i]!;
    add_page_to_lru(cpu, pfn, (Atomics.load(w, ps(memMap, pfn) + PG_FLAGS) & PG_active) !== 0);
  }
  lru_unlock(cpu);
  for (let i = 0; i < n; i++) put_page(cpu, pages[i]!);
}

/* ---- observation ---- */

/** Lengths of the two lists (lock-free snapshot). */
export function lru_sizes(m: Machine): { active: number; inactive: number } {
  const g = globalLine(m.layout, G_LRU);
  return { active: m.w[g + L_NR_ACTIVE]!, inactive: m.w[g + L_NR_INACTIVE]! };
}

/**
 * check_lru: at a quiescent point with the pagevecs drained, every PG_lru
 * page is on exactly one list — the active one iff PG_active — the lists are
 * well-formed and their lengths match, no page off the lists carries
 * PG_lru / PG_active, and every user page (mapped or cached; `user`) is on a
 * list. Appends violations to out.
 */
export function check_lru(m: Machine, user: Uint8Array, out: string[]): void {
  const w = m.w;
  const l = m.layout;
  const n = l.nrFrames;
  const g = globalLine(l, G_LRU);
  const seen = new Uint8Array(n);
  const add = (s: string) => {
    if (out.length < 60) out.push(`lru: ${s}`);
  };
  for (let c = 0; c < l.nrCpuSlots; c++) {
    const nr = w[percpuBase(l, c) + PC_PAGEVEC]!;
    if (nr !== 0) add(`cpu slot ${c}: pagevec holds ${nr} pages at a checkpoint (not drained)`);
  }
  for (const [which, headW, nrW] of [
    [1, L_ACTIVE_HEAD, L_NR_ACTIVE],
    [2, L_INACTIVE_HEAD, L_NR_INACTIVE],
  ] as const) {
    const name = which === 1 ? 'active' : 'inactive';
    const head = w[g + headW]! - 1;
    let len = 0;
    if (head !== NIL) {
      let pfn = head;
      let last = NIL;
      while (pfn !== NIL) {
        if (pfn < 0 || pfn >= n) {
          add(`${name} list: link to bad pfn ${pfn}`);
          break;
        }
        if (seen[pfn]) {
          add(`page ${pfn} is on a list twice (or the ${name} list loops)`);
          break;
        }
        seen[pfn] = which;
        len++;
        const p = ps(l.memMap, pfn);
        const f = w[p + PG_FLAGS]!;
        if ((f & PG_lru) === 0) add(`page ${pfn} on the ${name} list lacks PG_lru`);
        if (((f & PG_active) !== 0) !== (which === 1)) add(`page ${pfn} on the ${name} list has PG_active ${(f & PG_active) !== 0}`);
        if (w[p + PG_COUNT]! <= 0) add(`page ${pfn} on the ${name} list has _count ${w[p + PG_COUNT]}`);
        const next = w[p + PG_LRU_NEXT]!;
        if (next >= 0 && next < n && w[ps(l.memMap, next) + PG_LRU_PREV] !== pfn) add(`${name} list: ${next}.prev != ${pfn}`);
        last = pfn;
        pfn = next;
      }
      if (last !== NIL && w[ps(l.memMap, head) + PG_LRU_PREV] !== last) {
        add(`${name} list: the head's prev ${w[ps(l.memMap, head) + PG_LRU_PREV]} is not the tail ${last}`);
      }
    }
    if (w[g + nrW] !== len) add(`nr_${name} ${w[g + nrW]} but ${len} pages listed`);
  }
  for (let pfn = 0; pfn < n; pfn++) {
    const f = w[ps(l.memMap, pfn) + PG_FLAGS]!;
    if ((f & PG_lru) !== 0 && !seen[pfn]) add(`page ${pfn} has PG_lru but is on no list`);
    if ((f & PG_active) !== 0 && !seen[pfn]) add(`page ${pfn} has PG_active but is on no list`);
    if (user[pfn] && !seen[pfn]) add(`user page ${pfn} (flags 0x${f.toString(16)}) is on no LRU list`);
  }
}
