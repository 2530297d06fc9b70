/*
 * atomic.ts — the kernel's atomic_add_unless (include/linux/atomic.h) on a
 * counter word of the machine buffer: add to the count only while it is
 * above a floor, so a count that has reached it (a free page's 0, an mm's
 * last user) is never moved off it by a racing walker. get_page_unless_zero
 * (page_ref.ts), mmget_not_zero and mmput_not_last (mm_struct.ts).
 *
 * Locking: none; a compare-and-swap loop on the one word, which every other
 * writer of it also changes atomically.
 */

/** Add `a` to the count at w[off] if it is above `floor`; true if added. */
export function atomic_add_above(w: Int32Array, off: number, a: number, floor: number): boolean {
  for (let c = Atomics.load(w, off); c > floor; ) {
    const was = Atomics.compareExchange(w, off, c, c + a);
    if (was === c) return true;
    c = was;
  }
  return false;
}
