/*
 * tas.ts — test-and-set spinlock, the bus-locked `xchg` loop of the first SMP
 * kernels (2.0 spin_lock: `lock; btsl` and retry).
 *
 * Footprint: LK_STATE of a LOCK_WORDS lock (0 free, 1 held).
 * Every spin iteration is a compareExchange, so each waiter keeps pulling the
 * lock's cache line exclusive while the holder tries to write the data next to
 * it: the implementation that collapses worst under contention, kept as the
 * baseline.
 *
 * Locking rule: only the holder stores 0 (tas_unlock). Memory ordering: the
 * Atomics operations are sequentially consistent, so the holder's plain
 * stores inside the critical section are visible to the next acquirer.
 */
import { LK_STATE } from '../machine/layout.js';
import { spin_relax } from './relax.js';
import { PK_NE, PK_ONE, K_RACE, K_TAS } from '../timing/conductor.js';

/** virtual clock (ttas): spinners read a shared copy and race for the line a release frees; one wakes per release */
export const PARK_RACE = PK_NE | PK_ONE | K_RACE;
/** virtual clock (tas): spinners hold the line exclusive in turn, so the release first pulls it back, then they race */
export const PARK_TAS = PK_NE | PK_ONE | K_TAS;

export function tas_trylock(w: Int32Array, off: number): boolean {
  return Atomics.compareExchange(w, off + LK_STATE, 0, 1) === 0;
}

/** Acquire; returns the number of failed attempts (0 = uncontended). */
export function tas_lock(w: Int32Array, off: number): number {
  let spins = 0;
  while (Atomics.compareExchange(w, off + LK_STATE, 0, 1) !== 0) spin_relax(w, off + LK_STATE, 1, ++spins, PARK_TAS);
  return spins;
}

export function tas_unlock(w: Int32Array, off: number): void {
  Atomics.store(w, off + LK_STATE, 0);
}
