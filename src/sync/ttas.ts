/*
 * ttas.ts — test-and-test-and-set with exponential backoff.
 * Waiters spin on a plain (shared-state) load and try the compareExchange only
 * when the word reads free; after each failure they back off for a growing,
 * jittered number of iterations (Anderson 1990), capped at TTAS_MAX_BACKOFF.
 * Footprint: LK_STATE (0 free, 1 held).
 */
const TTAS_MAX_BACKOFF = 1024;

export function ttas_trylock(w: Int32Array, off: number): boolean {
  return Atomics.load(w, off) === 0 && Atomics.compareExchange(w, off, 0, 1) === 0;
}

export function ttas_lock(w: Int32Array, off: number): number {
  let spins = 0;
  let backoff = 4;
  for (;;) {
    while (Atomics.load(w, off) !== 0) spins++;
    if (Atomics.compareExchange(w, off, 0, 1) === 0) return spins;
    // lost the race: back off before looking again
    const n = backoff + ((spins * 7919) & (backoff - 1));
    for (let i = 0; i < n; i++) spins++;
    if (backoff < TTAS_MAX_BACKOFF) backoff <<= 1;
  }
}

export function ttas_unlock(w: Int32Array, off: number): void {
  Atomics.store(w, off, 0);
}
