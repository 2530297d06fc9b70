/*
 * ticket.ts — ticket spinlock (Nick Piggin, Linux 2.6.25 x86): FIFO hand-over.
 *
 * Footprint: LK_STATE = next ticket to hand out ("tail"), LK_AUX = ticket now
 * served ("head"), in one LOCK_WORDS lock. A CPU takes a ticket with
 * Atomics.add on the tail and spins until the head reaches it; unlock
 * advances the head, serving the next ticket, so waiters get the lock in the
 * order they took tickets (the test in test/sync proves it). Int32 wrap-around
 * is harmless: only equality is compared, and Atomics.add wraps mod 2^32.
 *
 * The price of fairness: the hand-over goes to exactly one CPU; if that CPU
 * is descheduled (an oversubscribed host), everybody behind it waits too.
 *
 * Locking rule: LK_AUX is written only by the holder (ticket_unlock).
 * Waiters read it with Atomics.load (a spin must re-read); trylock's single
 * pre-read is plain (tear-free), validated by its CAS on the tail.
 */
import { LK_STATE, LK_AUX } from '../machine/layout.js';
import { spin_relax } from './relax.js';
import { vtOn, vt_park, PK_EQ, K_TICKET } from '../timing/conductor.js';

export function ticket_trylock(w: Int32Array, off: number): boolean {
  // a plain read (tear-free) suffices: a stale head is lower than the tail, so the CAS fails
  const head = w[off + LK_AUX]!;
  // free iff tail == head; take ticket `head` by advancing tail in one CAS
  return Atomics.compareExchange(w, off + LK_STATE, head, (head + 1) | 0) === head;
}

/** Acquire; returns the iterations spent waiting for our ticket (0 = served at once). */
export function ticket_lock(w: Int32Array, off: number): number {
  const my = Atomics.add(w, off + LK_STATE, 1);
  let spins = 0;
  for (let head = Atomics.load(w, off + LK_AUX); head !== my; head = Atomics.load(w, off + LK_AUX)) {
    // virtual clock: park until our ticket is served (every spinner re-reads the line on a release)
    if (vtOn) vt_park(off + LK_AUX, my, PK_EQ | K_TICKET);
    else spin_relax(w, off + LK_AUX, head, ++spins);
    if (vtOn) spins++;
  }
  return spins;
}

export function ticket_unlock(w: Int32Array, off: number): void {
  // only the holder writes the head, so a plain read of it is exact
  Atomics.store(w, off + LK_AUX, (w[off + LK_AUX]! + 1) | 0);
}

/** CPUs holding or queued for the lock: tail - head (ticket_spin_is_contended when > 1). */
export function ticket_nr_queued(w: Int32Array, off: number): number {
  return (Atomics.load(w, off + LK_STATE) - Atomics.load(w, off + LK_AUX)) | 0;
}
