/*
 * tas.ts — test-and-set spinlock: one word, 0 = free, 1 = held.
 * Every spin iteration is a compareExchange, so waiters keep pulling the
 * line exclusive (the bus-locked xchg loop of early SMP kernels).
 * Footprint: LK_STATE. Returns the number of failed attempts (0 = uncontended).
 */
export function tas_trylock(w: Int32Array, off: number): boolean {
  return Atomics.compareExchange(w, off, 0, 1) === 0;
}

export function tas_lock(w: Int32Array, off: number): number {
  let spins = 0;
  while (Atomics.compareExchange(w, off, 0, 1) !== 0) spins++;
  return spins;
}

export function tas_unlock(w: Int32Array, off: number): void {
  Atomics.store(w, off, 0);
}
