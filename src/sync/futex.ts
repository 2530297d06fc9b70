/*
 * futex.ts — sleeping mutex on Atomics.wait/notify, after Drepper's
 * "Futexes are tricky" (mutex2). LK_STATE has three states:
 *   0 unlocked, 1 locked (no waiters), 2 locked, maybe waiters.
 * lock: CAS 0→1; on failure mark 2 and Atomics.wait while it reads 2.
 * unlock: decrement; if it was 2, store 0 and wake one waiter.
 * Why it waits this way: the waiter sleeps only on the value 2, so a wake-up
 * is never lost — an unlock between our exchange and our wait changes the
 * word and Atomics.wait returns "not-equal" at once.
 */
export const futexWaits = { n: 0 };

export function futex_trylock(w: Int32Array, off: number): boolean {
  return Atomics.compareExchange(w, off, 0, 1) === 0;
}

/** Returns the number of times the caller slept (0 = uncontended, -1 = contended without sleeping). */
export function futex_lock(w: Int32Array, off: number): number {
  let c = Atomics.compareExchange(w, off, 0, 1);
  if (c === 0) return 0;
  let sleeps = 0;
  // brief adaptive spin before sleeping (as mutex_spin_on_owner)
  for (let i = 0; i < 100; i++) {
    if (Atomics.load(w, off) === 0 && (c = Atomics.compareExchange(w, off, 0, 1)) === 0) return -1;
  }
  if (c !== 2) c = Atomics.exchange(w, off, 2);
  while (c !== 0) {
    Atomics.wait(w, off, 2);
    sleeps++;
    c = Atomics.exchange(w, off, 2);
  }
  return sleeps;
}

export function futex_unlock(w: Int32Array, off: number): void {
  if (Atomics.sub(w, off, 1) !== 1) {
    Atomics.store(w, off, 0);
    Atomics.notify(w, off, 1);
  }
}
