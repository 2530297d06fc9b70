/*
 * swap_map.ts — the swap_map counts of the swap area (2.4 mm/swapfile.c).
 *
 * swap_map[offset] = number of users of a swap slot: every pte holding the
 * entry, plus one while the page is in the swap cache. 0 = free slot,
 * SWAP_MAP_MAX = saturated (kept until swapoff), SWAP_MAP_BAD = unusable
 * (REFERENCE.md §5). Slot 0 is the swap header and never handed out.
 *
 * The counts live here, below rmap/ and reclaim/, because try_to_unmap
 * (rmap) must swap_duplicate an entry *before* a pte holding it becomes
 * visible, and fork/zap adjust them too; slot allocation, the swap cache and
 * I/O are reclaim/'s. Locking: each count is changed with Atomics (an
 * increment can race a decrement on another CPU: zap vs fork vs unmap);
 * allocation scans take swap_lock (reclaim/swapfile.ts).
 */
import type { CpuBase } from '../machine/cpu.js';
import { SWP_OFFSET } from './pte.js';

export const SWAP_MAP_MAX = 0x7fff;
export const SWAP_MAP_BAD = 0x8000;

/** swap_duplicate: one more user of entry. False if the slot is not in use. */
export function swap_duplicate(cpu: CpuBase, entry: number): boolean {
  const off = cpu.l.swapMap + SWP_OFFSET(entry);
  for (let c = Atomics.load(cpu.w, off); ; ) {
    if (c <= 0 || c >= SWAP_MAP_BAD) return false;
    if (c === SWAP_MAP_MAX) return true; // saturated: permanent until swapoff
    const old = Atomics.compareExchange(cpu.w, off, c, c + 1);
    if (old === c) return true;
    c = old;
  }
}

/** swap_free: one user fewer; returns the remaining count (0: the slot is free again). */
export function swap_entry_free(cpu: CpuBase, entry: number): number {
  const off = cpu.l.swapMap + SWP_OFFSET(entry);
  for (let c = Atomics.load(cpu.w, off); ; ) {
    if (c <= 0 || c >= SWAP_MAP_BAD) throw new Error(`swap_free: bad count ${c} for entry 0x${(entry >>> 0).toString(16)}`);
    if (c === SWAP_MAP_MAX) return c;
    const old = Atomics.compareExchange(cpu.w, off, c, c - 1);
    if (old === c) return c - 1;
    c = old;
  }
}

export const swap_count = (w: Int32Array, l: CpuBase['l'], entry: number) => Atomics.load(w, l.swapMap + SWP_OFFSET(entry));
