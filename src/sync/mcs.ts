/*
 * mcs.ts — MCS queue lock (Mellor-Crummey & Scott, "Algorithms for scalable
 * synchronization on shared-memory multiprocessors", ACM TOCS 1991; the
 * kernel's mcs_spinlock.h and the qspinlock slow path).
 *
 * Footprint: LK_STATE = tail (queue node id + 1, 0 = free); LK_AUX = the
 * node id + 1 the current holder used (so unlock finds it without a lookup,
 * and locks need not be released in LIFO order). LK_HOLDER stays free for
 * the debug holder check (spinlock.ts).
 *
 * Queue nodes live in the per-CPU areas (layout.ts PC_MCS): MCS_LEVELS nodes
 * per CPU, one cache line each, node id = cpu * MCS_LEVELS + level, one per
 * lock the CPU may hold or wait for at once. Node words: [0] locked (1 =
 * wait), [1] next node id + 1. Each waiter spins on its *own* node's line,
 * so a hand-over writes exactly one remote line instead of invalidating
 * every waiter, and waiters are served in arrival (swap) order.
 *
 *   lock:   node.next = 0; node.locked = 1; prev = xchg(tail, node)
 *           if prev: prev.next = node; spin while node.locked
 *   unlock: if node.next == 0: cmpxchg(tail, node, 0) succeeds -> free
 *           else wait until the successor has linked itself into node.next
 *           successor.locked = 0
 *
 * Locking rule: a node is written by its owner CPU, except `next` (written
 * by the successor) and `locked` (cleared by the predecessor). LK_AUX is
 * written only by the holder. The caller (spinlock.ts) allocates the node
 * from the CPU's free-node mask and frees it after unlock.
 */
import { LK_STATE, LK_AUX, LINE_WORDS, MCS_LEVELS, PC_MCS, percpuBase, type Layout } from '../machine/layout.js';
import { spin_relax } from './relax.js';

export const MCS_LOCKED = 0;
export const MCS_NEXT = 1;

/** Word offset of queue node `id` (cpu * MCS_LEVELS + level). */
export const mcsNodeOff = (l: Layout, id: number) =>
  percpuBase(l, (id / MCS_LEVELS) | 0) + PC_MCS + (id % MCS_LEVELS) * LINE_WORDS;

export function mcs_trylock(w: Int32Array, off: number, l: Layout, node: number): boolean {
  const n = mcsNodeOff(l, node);
  Atomics.store(w, n + MCS_NEXT, 0);
  if (Atomics.compareExchange(w, off + LK_STATE, 0, node + 1) !== 0) return false;
  w[off + LK_AUX] = node + 1;
  return true;
}

/** Acquire with queue node `node`; returns iterations spent waiting (0 = uncontended). */
export function mcs_lock(w: Int32Array, off: number, l: Layout, node: number): number {
  const n = mcsNodeOff(l, node);
  Atomics.store(w, n + MCS_LOCKED, 1);
  Atomics.store(w, n + MCS_NEXT, 0);
  const prev = Atomics.exchange(w, off + LK_STATE, node + 1);
  let spins = 0;
  if (prev !== 0) {
    Atomics.store(w, mcsNodeOff(l, prev - 1) + MCS_NEXT, node + 1);
    while (Atomics.load(w, n + MCS_LOCKED) !== 0) spin_relax(w, n + MCS_LOCKED, 1, ++spins);
    if (spins === 0) spins = 1; // queued behind a holder: contended even if handed over at once
  }
  w[off + LK_AUX] = node + 1;
  return spins;
}

/** Release; returns the node id the holder used (the caller frees it). */
export function mcs_unlock(w: Int32Array, off: number, l: Layout): number {
  const node = w[off + LK_AUX]! - 1;
  const n = mcsNodeOff(l, node);
  let next = Atomics.load(w, n + MCS_NEXT);
  if (next === 0) {
    if (Atomics.compareExchange(w, off + LK_STATE, node + 1, 0) === node + 1) return node;
    // a successor swapped itself into the tail but has not linked in yet: wait for it
    for (let k = 1; (next = Atomics.load(w, n + MCS_NEXT)) === 0; k++) spin_relax(w, n + MCS_NEXT, 0, k);
  }
  Atomics.store(w, mcsNodeOff(l, next - 1) + MCS_LOCKED, 0);
  return node;
}

/** The CPU whose node is at the tail of the queue (-1: free). */
export function mcs_tail_cpu(w: Int32Array, off: number): number {
  const t = Atomics.load(w, off + LK_STATE);
  return t === 0 ? -1 : ((t - 1) / MCS_LEVELS) | 0;
}
