/*
 * futex.ts — sleeping mutex on Atomics.wait / Atomics.notify: the
 * three-state futex mutex of Drepper, "Futexes Are Tricky" (2011, mutex #2),
 * which is also the fast path of the kernel's struct mutex (2.6.16).
 *
 * Footprint: one Int32 word (FUTEX_WORDS), LK_STATE of a lock, or any word
 * nothing else writes (a word whose other bits change under Atomics.wait
 * would wake sleepers for nothing; that is why PG_locked has its own word).
 *
 *   0  unlocked
 *   1  locked, no waiters
 *   2  locked, waiters possible
 *
 *   lock:   cmpxchg(0 -> 1) done. Else spin briefly (a holder is usually
 *           short: the adaptive spin of mutex_spin_on_owner), then
 *           c = xchg(2); while c != 0: Atomics.wait(word, 2); c = xchg(2)
 *   unlock: if atomic_dec(word) was 1: done (nobody waits). Else store 0
 *           and wake one waiter.
 *
 * Why it waits this way: a waiter parks only while the word reads 2, and only
 * after it stored the 2 itself, so an unlock between its xchg and its wait
 * changes the word and Atomics.wait returns "not-equal" at once — no wake-up
 * is lost. A woken waiter stores 2 again because it cannot know whether
 * others still sleep; the cost is one notify of nobody at the end of each
 * contention episode. A spurious wake (a notify while the lock is still held)
 * is harmless: the waiter's xchg sees the lock held and it parks again.
 *
 * Locking rule: the word is only touched with Atomics; unlock is called by
 * the holder.
 */
import { LK_STATE } from '../machine/layout.js';
import { vtOn, vt_park, PK_NE, PK_ONE, K_SLEEP } from '../timing/conductor.js';

/** virtual clock: a sleeper pays a wake-up; one is woken per release (futex_wake(1)) */
export const PARK_FUTEX = PK_NE | PK_ONE | K_SLEEP;

export const FUTEX_WORDS = 1;
export const FUTEX_UNLOCKED = 0;
export const FUTEX_LOCKED = 1;
export const FUTEX_CONTENDED = 2;
/** lock-word reads before the first sleep */
export const FUTEX_SPIN = 100;

export function futex_trylock(w: Int32Array, off: number): boolean {
  return Atomics.compareExchange(w, off + LK_STATE, 0, 1) === 0;
}

/**
 * Acquire. Returns 0 if the first compareExchange got it (uncontended), -1
 * if it was contended but got it without sleeping, else the number of times
 * this caller was parked in Atomics.wait and woken.
 */
export function futex_lock(w: Int32Array, off: number): number {
  const o = off + LK_STATE;
  if (Atomics.compareExchange(w, o, 0, 1) === 0) return 0;
  for (let i = 0; i < FUTEX_SPIN; i++) {
    if (Atomics.load(w, o) === 0 && Atomics.compareExchange(w, o, 0, 1) === 0) return -1;
  }
  let sleeps = 0;
  let c = Atomics.exchange(w, o, 2);
  while (c !== 0) {
    if (vtOn ? vt_park(o, 2, PARK_FUTEX) : Atomics.wait(w, o, 2) === 'ok') sleeps++;
    c = Atomics.exchange(w, o, 2);
  }
  return sleeps === 0 ? -1 : sleeps;
}

/** Release; returns the number of waiters woken (futex_wake's return). */
export function futex_unlock(w: Int32Array, off: number): number {
  const o = off + LK_STATE;
  if (Atomics.sub(w, o, 1) === 1) return 0;
  Atomics.store(w, o, 0);
  return Atomics.notify(w, o, 1);
}
