/*
 * atomic_add_above (src/mm/atomic.ts): the count moves only while above its
 * floor — a free page's 0 and an mm's last user stay where they are.
 */
import { describe, it, expect } from 'vitest';
import { atomic_add_above } from '../../src/mm/atomic.js';

describe('atomic_add_above', () => {
  it('adds while the count is above the floor, and leaves it alone at or below', () => {
    const w = new Int32Array(new SharedArrayBuffer(8));
    expect(atomic_add_above(w, 0, 1, 0)).toBe(false); // get_page_unless_zero on a free page
    expect(w[0]).toBe(0);
    w[0] = 2;
    expect(atomic_add_above(w, 0, 1, 0)).toBe(true);
    expect(w[0]).toBe(3);
    expect(atomic_add_above(w, 0, -1, 1)).toBe(true); // mmput_not_last: 3 users → 2
    expect(atomic_add_above(w, 0, -1, 1)).toBe(true);
    expect(w[0]).toBe(1);
    expect(atomic_add_above(w, 0, -1, 1)).toBe(false); // the last user stays with the caller
    expect(w[0]).toBe(1);
    expect(w[1]).toBe(0);
  });
});
