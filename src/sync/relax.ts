/*
 * relax.ts — what a spinning waiter does when the spin goes on too long.
 *
 * A simulated CPU is a host thread, and the host may preempt it — exactly
 * the position of a virtual CPU under a hypervisor. A preempted lock holder
 * (or, for FIFO locks, a preempted next-in-line waiter) then stalls every
 * spinner for a whole host time slice. Linux's answer for guests is the
 * paravirt spinlock (pv ticketlocks, Jeremy Fitzhardinge, 3.12; pv qspinlock):
 * spin SPIN_THRESHOLD times, then halt the vCPU until the lock may be free.
 * Here the halt is Atomics.wait on the watched word with a short timeout (no
 * kick is needed: the wait returns at once if the word has already changed,
 * and the timeout bounds it otherwise), which hands the host core back to
 * whichever thread holds things up.
 *
 * The threshold is far above an uncontended hold on a quiet host (holds are
 * ~1 µs; 2^13 spins are tens of µs), so on an idle machine the slow path is
 * not taken and the lock behaves as a pure spinlock; lock_stat's spin counts
 * and wait times still show the cost.
 *
 * Under the virtual clock (issue 17) nobody else runs while this CPU spins,
 * so every spin iteration parks it with the conductor (timing/conductor.ts)
 * until the watched word moves; `park` says how (the hand-over kind of the
 * lock: one line, a ticket's re-reads, a tas race).
 */
import { vtOn, vt_park, PARK_SPIN } from '../timing/conductor.js';

export const SPIN_THRESHOLD = 1 << 13;
const SPIN_MASK = SPIN_THRESHOLD - 1;
const HALT_MS = 0.05;

/**
 * Call once per spin iteration with the running count and the word being
 * watched (and the value it had): every SPIN_THRESHOLD spins, halt briefly.
 */
export function spin_relax(w: Int32Array, off: number, seen: number, spins: number, park: number = PARK_SPIN): void {
  if (vtOn) vt_park(off, seen, park);
  else if ((spins & SPIN_MASK) === 0) Atomics.wait(w, off, seen, HALT_MS);
}
