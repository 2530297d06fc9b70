/*
 * ticket.ts — ticket spinlock (Linux 2.6.25 x86): FIFO hand-over.
 * LK_STATE = next ticket to hand out, LK_AUX = ticket now served. A CPU takes
 * a ticket with Atomics.add and spins until it is served; unlock serves the
 * next one. Int32 wrap-around is harmless: only equality is compared.
 */
import { LK_AUX } from '../machine/layout.js';

export function ticket_trylock(w: Int32Array, off: number): boolean {
  const serving = Atomics.load(w, off + LK_AUX);
  return Atomics.compareExchange(w, off, serving, (serving + 1) | 0) === serving;
}

export function ticket_lock(w: Int32Array, off: number): number {
  const my = Atomics.add(w, off, 1);
  let spins = 0;
  while (Atomics.load(w, off + LK_AUX) !== my) spins++;
  return spins;
}

export function ticket_unlock(w: Int32Array, off: number): void {
  // only the holder writes "serving"
  Atomics.store(w, off + LK_AUX, (w[off + LK_AUX]! + 1) | 0);
}
