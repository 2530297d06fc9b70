/*
 * mcs.ts — MCS queue lock (Mellor-Crummey & Scott 1991): each waiter spins on
 * its own queue node, in its own per-CPU area, so a hand-over touches one
 * remote line instead of every waiter's.
 *
 * LK_STATE = tail node id + 1 (0 = free). Node id = cpu * MCS_LEVELS + level;
 * node words: [0] locked flag (1 = wait), [1] next node id + 1. Each CPU has
 * MCS_LEVELS nodes, one per lock it may hold (or wait for) at once; the node a
 * holder used is kept in LK_HOLDER so unlock finds it (locks need not be
 * released in LIFO order). A CPU's free nodes are a bitmask in its context.
 */
import { LK_HOLDER, LINE_WORDS, MCS_LEVELS, PC_MCS, percpuBase, type Layout } from '../machine/layout.js';

const nodeOff = (l: Layout, id: number) =>
  percpuBase(l, (id / MCS_LEVELS) | 0) + PC_MCS + (id % MCS_LEVELS) * LINE_WORDS;

export function mcs_trylock(w: Int32Array, off: number, l: Layout, node: number): boolean {
  const n = nodeOff(l, node);
  Atomics.store(w, n + 1, 0);
  if (Atomics.compareExchange(w, off, 0, node + 1) !== 0) return false;
  w[off + LK_HOLDER] = node + 1;
  return true;
}

export function mcs_lock(w: Int32Array, off: number, l: Layout, node: number): number {
  const n = nodeOff(l, node);
  Atomics.store(w, n, 1);
  Atomics.store(w, n + 1, 0);
  const prev = Atomics.exchange(w, off, node + 1);
  let spins = 0;
  if (prev !== 0) {
    Atomics.store(w, nodeOff(l, prev - 1) + 1, node + 1);
    while (Atomics.load(w, n) !== 0) spins++;
    if (spins === 0) spins = 1; // queued behind someone: contended
  }
  w[off + LK_HOLDER] = node + 1;
  return spins;
}

/** Release; returns the node id the holder used (to be freed by the caller). */
export function mcs_unlock(w: Int32Array, off: number, l: Layout): number {
  const node = w[off + LK_HOLDER]! - 1;
  const n = nodeOff(l, node);
  let next = Atomics.load(w, n + 1);
  if (next === 0) {
    if (Atomics.compareExchange(w, off, node + 1, 0) === node + 1) return node;
    // a successor is linking itself in: wait for it
    while ((next = Atomics.load(w, n + 1)) === 0);
  }
  Atomics.store(w, nodeOff(l, next - 1), 0);
  return node;
}
