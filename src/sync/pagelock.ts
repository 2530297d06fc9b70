/*
 * pagelock.ts — the per-page locks that live in struct page.
 *
 * PG_locked (lock_page / unlock_page / trylock_page) is a sleeping lock: held
 * across I/O (swap write-out sleeps holding it, so another CPU faulting the
 * page waits on it). It is a futex word of its own (PG_LOCKWORD: 0, 1, 2 =
 * locked with waiters), not the flags word, because Atomics.wait on a word
 * whose other bits change would wake spuriously (REFERENCE.md §10.1); the
 * PG_locked flag bit mirrors it for readers of flags.
 *
 * PG_chainlock (pte_chain_lock, 2.5 rmap) is a bit spinlock in the flags word:
 * Atomics.or to take it, Atomics.and to drop it (bit_spin_lock).
 *
 * Lock order: page lock → chain lock (REFERENCE.md §3.2).
 */
import type { CpuBase } from '../machine/cpu.js';
import { PG_FLAGS, PG_LOCKWORD, pageStruct } from '../machine/layout.js';
import { PG_locked, PG_chainlock } from '../machine/page.js';
import { C_PAGE_LOCK, C_CHAIN_LOCK } from './classes.js';
import { acquiring, acquired, releasing } from './spinlock.js';
import { futex_lock, futex_trylock, futex_unlock } from './futex.js';

export function trylock_page(cpu: CpuBase, pfn: number, site: number): boolean {
  const p = pageStruct(cpu.l, pfn);
  if (!futex_trylock(cpu.w, p + PG_LOCKWORD)) return false;
  Atomics.or(cpu.w, p + PG_FLAGS, PG_locked);
  acquiring(cpu, C_PAGE_LOCK, site, true);
  acquired(cpu, p + PG_LOCKWORD, C_PAGE_LOCK, 0, site, 0, 0);
  return true;
}

export function lock_page(cpu: CpuBase, pfn: number, site: number): void {
  const p = pageStruct(cpu.l, pfn);
  acquiring(cpu, C_PAGE_LOCK, site, false);
  const t0 = performance.now();
  const sleeps = futex_lock(cpu.w, p + PG_LOCKWORD);
  Atomics.or(cpu.w, p + PG_FLAGS, PG_locked);
  acquired(cpu, p + PG_LOCKWORD, C_PAGE_LOCK, 0, site, t0, sleeps);
}

export function unlock_page(cpu: CpuBase, pfn: number): void {
  const p = pageStruct(cpu.l, pfn);
  releasing(cpu, p + PG_LOCKWORD, C_PAGE_LOCK, 0);
  Atomics.and(cpu.w, p + PG_FLAGS, ~PG_locked);
  futex_unlock(cpu.w, p + PG_LOCKWORD);
}

export const PageLocked = (w: Int32Array, l: CpuBase['l'], pfn: number) =>
  (Atomics.load(w, pageStruct(l, pfn) + PG_FLAGS) & PG_locked) !== 0;

/*
 * The page lock's footprint is PG_LOCKWORD..PG_SPARE (state, aux, last cpu,
 * holder). The chain lock is a flags bit; its lock_stat bounce word is PG_AUX
 * (footprint base PG_AUX - LK_LAST = 11 words after the flags word).
 */
const CHAIN_TRACK = 11;

export function pte_chain_lock(cpu: CpuBase, pfn: number, site: number): void {
  const f = pageStruct(cpu.l, pfn) + PG_FLAGS;
  const w = cpu.w;
  acquiring(cpu, C_CHAIN_LOCK, site, false);
  if ((Atomics.or(w, f, PG_chainlock) & PG_chainlock) === 0) {
    acquired(cpu, f + CHAIN_TRACK, C_CHAIN_LOCK, 0, site, 0, 0);
    return;
  }
  const t0 = performance.now();
  let spins = 0;
  do {
    while ((Atomics.load(w, f) & PG_chainlock) !== 0) spins++;
  } while ((Atomics.or(w, f, PG_chainlock) & PG_chainlock) !== 0);
  acquired(cpu, f + CHAIN_TRACK, C_CHAIN_LOCK, 0, site, t0, spins || -1);
}

export function pte_chain_unlock(cpu: CpuBase, pfn: number): void {
  const f = pageStruct(cpu.l, pfn) + PG_FLAGS;
  releasing(cpu, f + CHAIN_TRACK, C_CHAIN_LOCK, 0);
  Atomics.and(cpu.w, f, ~PG_chainlock);
}
