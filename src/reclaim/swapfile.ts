/*
 * swapfile.ts — the swap area: slot allocation in clusters, swap_free, the
 * read-ahead window, swapon / swapoff state (2.4.17 mm/swapfile.c,
 * REFERENCE.md §5).
 *
 * One swap area (type 0) of config.swap bytes: slot i is the 4 KiB at
 * swapSlotBase(i) (the "disk"), its count swap_map[i] (mm/swap_map.ts: the
 * number of ptes holding SWP_ENTRY(0, i) plus one while a page is in the
 * swap cache under that entry). Slot 0 is the header and never handed out,
 * so a swap entry is never 0 (a pte of 0 means "none"). swap_info_struct
 * lives in the G_SWAP line next to swap_lock:
 *
 *   SW_FLAGS         SWP_OFF when swapoff has disabled the area (a zeroed
 *                    buffer is an enabled area: no boot step needed)
 *   SW_CLUSTER_NEXT  next slot to try in the current cluster
 *   SW_CLUSTER_NR    slots left in the current cluster
 *   SW_INUSE         slots with a non-zero count
 *   SW_LOWEST        lowest_bit: no free slot below it (a hint; >= 1)
 *
 * SCAN_SWAP_MAP (2.4.17, Andrea Arcangeli's clustering): slots are handed
 * out sequentially inside a cluster of SWAPFILE_CLUSTER = 256 slots "to
 * reduce overall disk seek times"; when a cluster is used up, look for a
 * completely free 256-slot window and start a new cluster there; failing
 * that, take the first free slot from lowest_bit ("go fine-grained as
 * usual"). Pages written out together thus land next to each other, which
 * is what makes swap-in read-ahead (valid_swaphandles) pay.
 *
 * Locking: allocation (a count going 0 → 1) and the swap_info words under
 * swap_lock (the scheme's; kernel_flag under bkl). Counts otherwise change
 * with Atomics only (swap_duplicate / swap_entry_free), lock-free: a count
 * can only rise from a non-zero value outside swap_lock, so a zero read
 * under swap_lock is a free slot. swap_lock nests inside pte locks and the
 * page lock, outside zone->lock (src/sync/index.ts).
 */
import type { CpuBase } from '../machine/cpu.js';
import type { Machine } from '../machine/machine.js';
import {
  G_SWAP,
  SW_FLAGS,
  SW_CLUSTER_NEXT,
  SW_CLUSTER_NR,
  SW_INUSE,
  SW_LOWEST,
  SW_FAIL_READ,
  SW_FAIL_WRITE,
  globalLine,
} from '../machine/layout.js';
import { SITE } from '../sync/classes.js';
import { swap_lock, swap_unlock, swap_assert_locked } from '../sync/scheme.js';
import { SWP_ENTRY, SWP_OFFSET } from '../mm/pte.js';
import { swap_entry_free, SWAP_MAP_BAD } from '../mm/swap_map.js';
import { workingset_swap_free } from './workingset.js';

export const SWAPFILE_CLUSTER = 256;
/** SW_FLAGS: swapoff disabled the area (no new slots are handed out) */
export const SWP_OFF = 1;

const swapLine = (l: CpuBase['l']) => globalLine(l, G_SWAP);

/** Usable slots (all but the header). */
export const nr_swap_pages_total = (l: CpuBase['l']) => Math.max(0, l.nrSwap - 1);

/** Can reclaim put new pages in swap (an area exists and swapoff has not disabled it)? */
export function swap_writeok(cpu: CpuBase): boolean {
  return cpu.l.nrSwap > 1 && (Atomics.load(cpu.w, swapLine(cpu.l) + SW_FLAGS) & SWP_OFF) === 0;
}

/** Slots in use (SW_INUSE snapshot). */
export const swap_inuse = (w: Int32Array, l: CpuBase['l']) => Atomics.load(w, swapLine(l) + SW_INUSE);

/** vm_swap_full (2.6): more than half of swap in use — free slots eagerly on swap-in. */
export const vm_swap_full = (cpu: CpuBase) => swap_inuse(cpu.w, cpu.l) * 2 > nr_swap_pages_total(cpu.l);

/** scan_swap_map: a free slot (see the header) or 0. swap_lock held. */
function scan_swap_map(cpu: CpuBase): number {
  swap_assert_locked(cpu);
  const w = cpu.w;
  const g = swapLine(cpu.l);
  const map = cpu.l.swapMap;
  const highest = cpu.l.nrSwap - 1;
  if (w[g + SW_CLUSTER_NR]! > 0) {
    while (w[g + SW_CLUSTER_NEXT]! <= highest) {
      const off = w[g + SW_CLUSTER_NEXT]!++;
      if (off < 1 || Atomics.load(w, map + off) !== 0) continue;
      w[g + SW_CLUSTER_NR]!--;
      return off;
    }
  }
  w[g + SW_CLUSTER_NR] = SWAPFILE_CLUSTER;
  const lowest = Math.max(1, w[g + SW_LOWEST]!);
  // a completely empty cluster window (not necessarily aligned: 2.4.17)
  for (let off = lowest; off + SWAPFILE_CLUSTER - 1 <= highest; ) {
    let busy = -1;
    for (let nr = off; nr < off + SWAPFILE_CLUSTER; nr++) {
      if (Atomics.load(w, map + nr) !== 0) {
        busy = nr;
        break;
      }
    }
    if (busy < 0) {
      w[g + SW_CLUSTER_NEXT] = off + 1;
      w[g + SW_CLUSTER_NR]!--;
      return off;
    }
    off = busy + 1;
  }
  // no empty cluster: first free slot
  for (let off = lowest; off <= highest; off++) {
    if (Atomics.load(w, map + off) !== 0) continue;
    w[g + SW_LOWEST] = off + 1;
    w[g + SW_CLUSTER_NEXT] = off + 1;
    w[g + SW_CLUSTER_NR]!--;
    return off;
  }
  w[g + SW_LOWEST] = highest + 1;
  w[g + SW_CLUSTER_NR] = 0;
  return 0;
}

/**
 * get_swap_page: allocate a slot with count 1 (the swap cache's, which the
 * caller adds the page to next). Returns the swap entry, or 0 when swap is
 * full, absent or being switched off. Takes swap_lock.
 */
export function get_swap_page(cpu: CpuBase): number {
  if (!swap_writeok(cpu)) return 0;
  const w = cpu.w;
  const g = swapLine(cpu.l);
  swap_lock(cpu, SITE.get_swap_page);
  let off = 0;
  if ((w[g + SW_FLAGS]! & SWP_OFF) === 0 && Atomics.load(w, g + SW_INUSE) < nr_swap_pages_total(cpu.l)) {
    off = scan_swap_map(cpu);
    if (off > 0) {
      Atomics.store(w, cpu.l.swapMap + off, 1);
      Atomics.add(w, g + SW_INUSE, 1);
    }
  }
  swap_unlock(cpu);
  return off > 0 ? SWP_ENTRY(0, off) : 0;
}

/**
 * swap_free: one user fewer (a pte zapped or swapped in, or the swap cache
 * letting go). When the count reaches zero the slot is free again: SW_INUSE
 * and lowest_bit are updated under swap_lock. Returns the remaining count.
 */
export function swap_free(cpu: CpuBase, entry: number): number {
  const c = swap_entry_free(cpu, entry);
  if (c === 0) {
    const w = cpu.w;
    const g = swapLine(cpu.l);
    const off = SWP_OFFSET(entry);
    swap_lock(cpu, SITE.swap_free);
    Atomics.sub(w, g + SW_INUSE, 1);
    if (off < Math.max(1, w[g + SW_LOWEST]!)) w[g + SW_LOWEST] = off;
    swap_unlock(cpu);
    workingset_swap_free(cpu, entry); // issue 7: the slot's nonresident cookie dies with it (seed wiki)
  }
  return c;
}

/** swap_map count of entry (snapshot). */
export const swap_count = (cpu: CpuBase, entry: number) => Atomics.load(cpu.w, cpu.l.swapMap + SWP_OFFSET(entry));

/** 2^page_cluster: the read-ahead window (config.pageCluster; its default, 2 below 16 MiB of RAM and 3 above, is 2.4 swap_setup's). */
export function page_cluster(cpu: CpuBase): number {
  return cpu.m.cfg.pageCluster;
}

/**
 * valid_swaphandles (2.4.17): the read-ahead window around entry — the
 * 2^page_cluster slots of its aligned block, skipping the header, stopping
 * at the end of the area or at the first free or bad slot. Writes the
 * offsets (the target included) into out; returns how many. Lock-free
 * snapshot: a slot freed meanwhile is caught by read_swap_cache_async.
 */
export function valid_swaphandles(cpu: CpuBase, entry: number, out: Int32Array): number {
  const pc = page_cluster(cpu);
  let toff = (SWP_OFFSET(entry) >>> pc) << pc;
  if (toff === 0) toff = 1;
  const end = Math.min(cpu.l.nrSwap, ((SWP_OFFSET(entry) >>> pc) + 1) << pc);
  let n = 0;
  for (; toff < end; toff++) {
    const c = Atomics.load(cpu.w, cpu.l.swapMap + toff);
    if (c === 0 || c >= SWAP_MAP_BAD) break;
    out[n++] = toff;
  }
  return n;
}

/** Disable (swapoff) or enable (swapon) slot allocation. Takes swap_lock. */
export function swap_set_writeok(cpu: CpuBase, on: boolean): void {
  const g = swapLine(cpu.l);
  swap_lock(cpu, SITE.try_to_unuse);
  if (on) cpu.w[g + SW_FLAGS]! &= ~SWP_OFF;
  else cpu.w[g + SW_FLAGS]! |= SWP_OFF;
  swap_unlock(cpu);
}

/**
 * Test injection: make the next read ('read') or write ('write') of swap slot
 * `slot` fail, once. The device-fault tests use it to hit a known page.
 */
export function swap_inject_error(m: Machine, slot: number, kind: 'read' | 'write'): void {
  Atomics.store(m.w, globalLine(m.layout, G_SWAP) + (kind === 'read' ? SW_FAIL_READ : SW_FAIL_WRITE), slot + 1);
}

/** Consume a pending one-shot injected failure for slot (page_io.ts). */
export function swap_injected_failure(cpu: CpuBase, slot: number, kind: 'read' | 'write'): boolean {
  const off = swapLine(cpu.l) + (kind === 'read' ? SW_FAIL_READ : SW_FAIL_WRITE);
  return Atomics.load(cpu.w, off) === slot + 1 && Atomics.compareExchange(cpu.w, off, slot + 1, 0) === slot + 1;
}

/** Swap area usage for results and tests (any thread; exact when quiescent). */
export function swap_info(m: Machine): { total: number; inuse: number; off: boolean } {
  const g = globalLine(m.layout, G_SWAP);
  return {
    total: Math.max(0, m.layout.nrSwap - 1),
    inuse: Atomics.load(m.w, g + SW_INUSE),
    off: (m.w[g + SW_FLAGS]! & SWP_OFF) !== 0,
  };
}
