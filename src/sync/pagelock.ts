/*
 * pagelock.ts — the per-page locks that live in struct page.
 *
 * PG_locked (lock_page / unlock_page / trylock_page; 2.4 mm/filemap.c
 * ___wait_on_page / 2.6 __lock_page) is a *sleeping* lock: it is held across
 * I/O (swap write-out, swap-in read), so another CPU faulting the page waits
 * on it. It is a futex mutex (futex.ts) on a word of its own, PG_LOCKWORD,
 * not on the flags word: Atomics.wait on a word whose other bits change would
 * wake sleepers for nothing. The PG_locked flag bit mirrors it for readers
 * of flags (set after taking the lock, cleared before dropping it).
 * Footprint: PG_LOCKWORD..PG_SPARE = LK_STATE, LK_AUX (unused by the futex),
 * LK_LAST (lock_stat), LK_HOLDER (debug).
 *
 * PG_chainlock (pte_chain_lock, the 2.5 rmap's per-page chain lock) is a bit
 * spinlock in the flags word, bit_spin_lock(): Atomics.or to take it (the old
 * value says whether we got it), spin on loads while it is set, Atomics.and
 * to drop it. It has no holder word; its lock_stat last-acquirer word is
 * PG_AUX — the page lock's LK_AUX, which the futex does not use — so its
 * LK_LAST-relative base is PG_AUX - LK_LAST (CHAIN_TRACK below). The debug
 * check assertChainLocked uses that word: set bit + last acquirer = us.
 *
 * Locking rule: PG_FLAGS only with Atomics.or/and (page.ts); PG_LOCKWORD
 * only through futex.ts. Lock order: page lock → chain lock (sync/index.ts).
 */
import type { CpuBase } from '../machine/cpu.js';
import { PG_FLAGS, PG_LOCKWORD, PG_AUX, LK_LAST, LK_HOLDER, pageStruct, type Layout } from '../machine/layout.js';
import { PG_locked, PG_chainlock } from '../machine/page.js';
import { C_PAGE_LOCK, C_CHAIN_LOCK } from './classes.js';
import { acquiring, acquired, releasing, lock_acquired, lock_releasing } from './spinlock.js';
import { futex_lock, futex_trylock, futex_unlock } from './futex.js';
import { lkLastCpu1 } from './lockstat.js';
import { spin_relax } from './relax.js';
import { clock_ms, vt_released, vt_sync_lock, vt_sync_release } from '../timing/conductor.js';

/** TestSetPageLocked: take the page lock if free; never sleeps. */
export function trylock_page(cpu: CpuBase, pfn: number, site: number): boolean {
  const p = pageStruct(cpu.l, pfn);
  vt_sync_lock(p + PG_LOCKWORD);
  if (!futex_trylock(cpu.w, p + PG_LOCKWORD)) return false;
  Atomics.or(cpu.w, p + PG_FLAGS, PG_locked);
  acquiring(cpu, C_PAGE_LOCK, site, true);
  acquired(cpu, p + PG_LOCKWORD, C_PAGE_LOCK, 0, site, 0, 0);
  return true;
}

/** lock_page: take the page lock, sleeping while another CPU holds it. Must not be called holding a spinlock. */
export function lock_page(cpu: CpuBase, pfn: number, site: number): void {
  const p = pageStruct(cpu.l, pfn);
  const word = p + PG_LOCKWORD;
  acquiring(cpu, C_PAGE_LOCK, site, false);
  vt_sync_lock(word);
  if (futex_trylock(cpu.w, word)) {
    Atomics.or(cpu.w, p + PG_FLAGS, PG_locked);
    acquired(cpu, word, C_PAGE_LOCK, 0, site, 0, 0);
    return;
  }
  const t0 = clock_ms();
  const sleeps = futex_lock(cpu.w, word);
  Atomics.or(cpu.w, p + PG_FLAGS, PG_locked);
  acquired(cpu, word, C_PAGE_LOCK, 0, site, t0, sleeps === 0 ? -1 : sleeps);
}

export function unlock_page(cpu: CpuBase, pfn: number): void {
  const p = pageStruct(cpu.l, pfn);
  releasing(cpu, p + PG_LOCKWORD, C_PAGE_LOCK, 0);
  vt_sync_release(p + PG_LOCKWORD, 0, true);
  Atomics.and(cpu.w, p + PG_FLAGS, ~PG_locked);
  futex_unlock(cpu.w, p + PG_LOCKWORD);
  vt_released();
}

export const PageLocked = (w: Int32Array, l: Layout, pfn: number) =>
  (Atomics.load(w, pageStruct(l, pfn) + PG_FLAGS) & PG_locked) !== 0;

/** Debug check: this CPU holds page `pfn`'s PG_locked (no-op unless config.debug). */
export function assertPageLocked(cpu: CpuBase, pfn: number): void {
  if (cpu.debug && cpu.w[pageStruct(cpu.l, pfn) + PG_LOCKWORD + LK_HOLDER] !== cpu.id + 1) {
    throw new Error(`assertPageLocked: cpu ${cpu.id} does not hold PG_locked of pfn ${pfn}`);
  }
}

/* offset from the flags word such that (flags + CHAIN_TRACK + LK_LAST) is PG_AUX */
const CHAIN_TRACK = PG_AUX - PG_FLAGS - LK_LAST;

/** pte_chain_lock: spin on the page's PG_chainlock bit. */
export function pte_chain_lock(cpu: CpuBase, pfn: number, site: number): void {
  const f = pageStruct(cpu.l, pfn) + PG_FLAGS;
  const w = cpu.w;
  acquiring(cpu, C_CHAIN_LOCK, site, false);
  vt_sync_lock(f + CHAIN_TRACK);
  if ((Atomics.or(w, f, PG_chainlock) & PG_chainlock) === 0) {
    lock_acquired(cpu, f + CHAIN_TRACK, C_CHAIN_LOCK, 0, site, 0, 0);
    return;
  }
  const t0 = clock_ms();
  let spins = 0;
  do {
    for (let v = Atomics.load(w, f); (v & PG_chainlock) !== 0; v = Atomics.load(w, f)) spin_relax(w, f, v, ++spins);
  } while ((Atomics.or(w, f, PG_chainlock) & PG_chainlock) !== 0);
  lock_acquired(cpu, f + CHAIN_TRACK, C_CHAIN_LOCK, 0, site, t0, spins || -1);
}

/** pte_chain_trylock: take PG_chainlock if free (reclaim against the fault path's order). */
export function pte_chain_trylock(cpu: CpuBase, pfn: number, site: number): boolean {
  const f = pageStruct(cpu.l, pfn) + PG_FLAGS;
  vt_sync_lock(f + CHAIN_TRACK);
  if ((Atomics.or(cpu.w, f, PG_chainlock) & PG_chainlock) !== 0) return false;
  acquiring(cpu, C_CHAIN_LOCK, site, true);
  lock_acquired(cpu, f + CHAIN_TRACK, C_CHAIN_LOCK, 0, site, 0, 0);
  return true;
}

export function pte_chain_unlock(cpu: CpuBase, pfn: number): void {
  const f = pageStruct(cpu.l, pfn) + PG_FLAGS;
  lock_releasing(cpu, C_CHAIN_LOCK, 0);
  vt_sync_release(f + CHAIN_TRACK, 0);
  Atomics.and(cpu.w, f, ~PG_chainlock);
  vt_released();
}

/** Debug check: this CPU holds page `pfn`'s PG_chainlock (bit set, and we were its last acquirer). */
export function assertChainLocked(cpu: CpuBase, pfn: number): void {
  if (!cpu.debug) return;
  const p = pageStruct(cpu.l, pfn);
  if ((Atomics.load(cpu.w, p + PG_FLAGS) & PG_chainlock) === 0 || lkLastCpu1(cpu.w[p + PG_AUX]!) !== cpu.id + 1) {
    throw new Error(`assertChainLocked: cpu ${cpu.id} does not hold PG_chainlock of pfn ${pfn}`);
  }
}
