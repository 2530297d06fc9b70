/*
 * ttas.ts — test-and-test-and-set spinlock with exponential backoff
 * (Anderson, "The performance of spin lock alternatives for shared-memory
 * multiprocessors", IEEE TPDS 1990; Linux 2.2–2.6.24 x86 spin_lock spun on a
 * plain `cmpb $0` read before retrying the locked decrement).
 *
 * Footprint: LK_STATE of a LOCK_WORDS lock (0 free, 1 held).
 * Waiters spin on a load, which keeps the line shared in every waiter's cache
 * and costs the holder nothing; only when the word reads free do they try the
 * compareExchange. A waiter that loses that race backs off for a jittered,
 * doubling number of iterations (capped at TTAS_MAX_BACKOFF) before it looks
 * again, so the thundering herd after each release thins out.
 *
 * The backoff delay is a loop of Atomics.load on the lock word: JavaScript
 * has no `pause` instruction and an empty loop would be folded away by the
 * JIT; a sequentially consistent load cannot be, and it reads a line this CPU
 * already holds shared.
 *
 * Locking rule: only the holder stores 0 (ttas_unlock).
 */
import { LK_STATE } from '../machine/layout.js';
import { spin_relax } from './relax.js';
import { PARK_RACE } from './tas.js';

export const TTAS_MIN_BACKOFF = 4;
export const TTAS_MAX_BACKOFF = 1024;

export function ttas_trylock(w: Int32Array, off: number): boolean {
  return Atomics.load(w, off + LK_STATE) === 0 && Atomics.compareExchange(w, off + LK_STATE, 0, 1) === 0;
}

/** Acquire; returns the iterations spent waiting (0 = uncontended). */
export function ttas_lock(w: Int32Array, off: number): number {
  const o = off + LK_STATE;
  let spins = 0;
  let backoff = TTAS_MIN_BACKOFF;
  for (;;) {
    while (Atomics.load(w, o) !== 0) spin_relax(w, o, 1, ++spins, PARK_RACE);
    if (Atomics.compareExchange(w, o, 0, 1) === 0) return spins;
    // lost the race for a free lock: back off before looking again
    const n = backoff + (Math.imul(spins + backoff, 0x9e3779b1) >>> 22) % backoff;
    for (let i = 0; i < n; i++) Atomics.load(w, o);
    spins += n;
    if (backoff < TTAS_MAX_BACKOFF) backoff <<= 1;
  }
}

export function ttas_unlock(w: Int32Array, off: number): void {
  Atomics.store(w, off + LK_STATE, 0);
}
