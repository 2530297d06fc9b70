/*
 * writeback.ts — asynchronous, clustered swap write-out (issue 18 item 2):
 * Stephen Tweedie's write-ahead (seed 003: swap-out is clustered on
 * consecutive slots), as 2.6 does it: shrink_list's pageout() with
 * WB_SYNC_NONE starts the write and moves on (mm/vmscan.c), swap_writepage
 * submits a bio and unlocks the page (mm/page_io.c), the device completes
 * it later (end_swap_bio_write → end_page_writeback, mm/filemap.c), which
 * rotates the page to the inactive tail (mm/swap.c rotate_reclaimable_page)
 * so that the next pass frees it; wait_on_page_writeback for the few paths
 * that must have the write finished.
 *
 *   shrink_page (page locked, unmapped, dirty, in the swap cache)
 *     swap_writepage_async: PG_dirty → PG_writeback, the page joins this
 *       CPU's cluster; unlock, keep (the page goes back to its list)
 *   cluster: up to 2^pageCluster pages on consecutive slots; a page on
 *     another slot, a full cluster or the end of the reclaim pass
 *     (wb_submit) queues it on the device as one request
 *   the device: one request at a time, FIFO; a request of n pages is done
 *     config.swapLatencyUs + n · 4 KiB / config.swapBandwidth after the
 *     later of its submission and the end of the request before it
 *   completion (wb_complete; kswapd on every loop, any CPU entering
 *     reclaim, a waiter): every request whose time has come: the DMA (the
 *     frame is copied to its slot now, not at submission), PG_writeback
 *     cleared (PG_dirty | PG_error on a device error), the page rotated to
 *     the inactive tail, WB_SEQ bumped for the waiters
 *   a later pass finds the page clean, unmapped, count 2 → freed
 *
 * WHILE A PAGE IS UNDER WRITE-BACK it stays in the swap cache and keeps its
 * slot: every path that would take it out refuses (shrink_page keeps it,
 * remove_exclusive_swap_page and free_swap_and_cache leave it, migration
 * says busy) or waits (swapoff: wait_on_page_writeback); delete_from_swap_cache
 * BUG()s on it. A fault finds it in the swap cache and maps it read-only
 * (no wait, as 2.6's do_swap_page); a write to it then copies it
 * (do_wp_page never reuses a swap-cache page), so the frame being written
 * out does not change under the "DMA", and the new data lives in the copy.
 *
 * Time: host clock — absolute host milliseconds (performance.timeOrigin +
 * now(): the same in every worker); virtual clock — the CPU's virtual clock
 * (conductor.ts), the latency scaled by the cost table's io_page factor as
 * io_sleep is. Blocking waits go through sleep_on (the conductor's park
 * under the virtual clock).
 *
 * Locking: the ring (l.wbq: wbqSize pfns, then wbqSize Float64 completion
 * times) and the G_WBQ line's head, tail and busy time under swap_lock
 * (taken inside the page lock, as get_swap_page does); WB_SEQ with
 * Atomics. PG_writeback is set under the page lock and cleared by the
 * completion without it (end_page_writeback). A CPU's open cluster is
 * CPU-local (created once, no allocation after). The checker's view
 * (writeback_check) runs on a stopped machine.
 */
import { sleep_on, vtOn, clock_ms } from '../timing/conductor.js';
import { COST, C_IO_PAGE } from '../timing/cost.js';
import {
  G_WBQ,
  WB_HEAD,
  WB_TAIL,
  WB_SEQ,
  WB_BUSY_F64,
  PAGE_SIZE,
  PAGE_WORDS,
  PAGE_STRUCT_WORDS,
  PG_FLAGS,
  PG_PRIVATE,
  PG_COUNT,
  frameBase,
  globalLine,
  pageStruct,
  swapSlotBase,
} from '../machine/layout.js';
import { PG_dirty, PG_writeback, PG_error, PG_swapcache, PG_buddy, PG_pcp } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { cpuRandom, LS_BKL, type CpuBase } from '../machine/cpu.js';
import type { Machine } from '../machine/machine.js';
import { SITE } from '../sync/classes.js';
import { swap_lock, swap_unlock } from '../sync/scheme.js';
import { assertPageLocked } from '../sync/pagelock.js';
import { SWP_OFFSET } from '../mm/pte.js';
import { swap_injected_failure } from './swapfile.js';
import { rotate_reclaimable_page } from './lru.js';

/** A CPU's open cluster: consecutive-slot pages under PG_writeback, not yet queued. */
interface Cluster {
  readonly pages: Int32Array;
  n: number;
  /** the slot of the last page added */
  last: number;
  /** completions popped under one swap_lock hold */
  readonly done: Int32Array;
}
const CLUSTER_MAX = 32; // 2^pageCluster is at most 32 (config: pageCluster <= 5)
const clusters = new WeakMap<CpuBase, Cluster>();

function clusterOf(cpu: CpuBase): Cluster {
  let c = clusters.get(cpu);
  if (!c) {
    c = { pages: new Int32Array(CLUSTER_MAX), n: 0, last: -2, done: new Int32Array(CLUSTER_MAX) };
    clusters.set(cpu, c);
  }
  return c;
}

/** Is this machine's write-out asynchronous (config.swapWriteout)? */
export const writeout_async = (cpu: CpuBase): boolean => cpu.m.cfg.swapWriteout === 'async';

/** The device's clock, ms: absolute host time, or this CPU's virtual clock. */
const dev_now = (): number => (vtOn ? clock_ms() : performance.timeOrigin + performance.now());

const wbLine = (cpu: CpuBase) => globalLine(cpu.l, G_WBQ);
const timeIdx = (cpu: CpuBase, i: number) => ((cpu.l.wbq + cpu.l.wbqSize) >>> 1) + (i & (cpu.l.wbqSize - 1));

/** Service time of a request of n pages, ms. */
function service_ms(cpu: CpuBase, n: number): number {
  const cfg = cpu.m.cfg;
  const lat = (cfg.swapLatencyUs / 1000) * (vtOn ? COST[C_IO_PAGE]! : 1);
  return lat + (n * PAGE_SIZE) / (cfg.swapBandwidth * 1000);
}

/**
 * wb_submit: queue this CPU's open cluster on the device as one request
 * (nothing if it is empty). Called inside the page lock or with no lock.
 */
export function wb_submit(cpu: CpuBase): void {
  const c = clusterOf(cpu);
  const n = c.n;
  if (n === 0) return;
  const w = cpu.w;
  const g = wbLine(cpu);
  const mask = cpu.l.wbqSize - 1;
  swap_lock(cpu, SITE.swap_writepage);
  const busy = (g + WB_BUSY_F64) >>> 1;
  const done = Math.max(dev_now(), cpu.f64[busy]!) + service_ms(cpu, n);
  cpu.f64[busy] = done;
  let tail = w[g + WB_TAIL]!;
  for (let i = 0; i < n; i++) {
    w[cpu.l.wbq + (tail & mask)] = c.pages[i]!;
    cpu.f64[timeIdx(cpu, tail)] = done;
    tail = (tail + 1) | 0;
  }
  Atomics.store(w, g + WB_TAIL, tail);
  swap_unlock(cpu);
  c.n = 0;
  c.last = -2;
  w[cpu.vm + VM.swap_wb_req]!++;
}

/**
 * swap_writepage_async: start writing swap-cache page pfn (locked,
 * unmapped, dirty) to its slot: PG_dirty is cleared and PG_writeback set
 * (a fault may map the page again meanwhile; it cannot be freed or leave
 * the swap cache until the write completes), and the page joins this CPU's
 * cluster, which is queued when it is full or the next page is not on the
 * following slot. The caller unlocks the page and keeps it.
 */
export function swap_writepage_async(cpu: CpuBase, pfn: number): void {
  assertPageLocked(cpu, pfn);
  const w = cpu.w;
  const p = pageStruct(cpu.l, pfn);
  const slot = SWP_OFFSET(w[p + PG_PRIVATE]!);
  const c = clusterOf(cpu);
  if (c.n > 0 && (slot !== c.last + 1 || c.n >= 1 << cpu.m.cfg.pageCluster)) wb_submit(cpu);
  Atomics.and(w, p + PG_FLAGS, ~PG_dirty);
  Atomics.or(w, p + PG_FLAGS, PG_writeback);
  c.pages[c.n++] = pfn;
  c.last = slot;
  if (c.n >= 1 << cpu.m.cfg.pageCluster) wb_submit(cpu);
}

const chance = (cpu: CpuBase, rate: number) => rate > 0 && cpuRandom(cpu) / 4294967296 < rate;

/** end_swap_bio_write + end_page_writeback for one page whose request is done. */
function end_swap_write(cpu: CpuBase, pfn: number): void {
  const w = cpu.w;
  const p = pageStruct(cpu.l, pfn);
  const fl = Atomics.load(w, p + PG_FLAGS);
  // end_page_writeback's BUG() on !TestClearPageWriteback: the page was freed or taken out of the cache under us
  if ((fl & (PG_writeback | PG_swapcache)) !== (PG_writeback | PG_swapcache)) {
    throw new Error(`end_page_writeback: page ${pfn} (flags 0x${fl.toString(16)}, _count ${w[p + PG_COUNT]}) is not a swap-cache page under write-back`);
  }
  const slot = SWP_OFFSET(w[p + PG_PRIVATE]!);
  const fail = swap_injected_failure(cpu, slot, 'write') || chance(cpu, cpu.m.cfg.swapWriteErrorRate);
  if (!fail) {
    const f = frameBase(cpu.l, pfn);
    w.copyWithin(swapSlotBase(cpu.l, slot), f, f + PAGE_WORDS); // the DMA: the frame as it is now
  }
  if (fail) {
    Atomics.or(w, p + PG_FLAGS, PG_dirty | PG_error); // still the only copy: written again later
    Atomics.and(w, p + PG_FLAGS, ~PG_writeback);
    w[cpu.vm + VM.swap_write_error]!++;
    return;
  }
  Atomics.and(w, p + PG_FLAGS, ~PG_error);
  Atomics.and(w, p + PG_FLAGS, ~PG_writeback);
  w[cpu.vm + VM.pswpout]!++;
  w[cpu.vm + VM.pgpgout]!++;
  rotate_reclaimable_page(cpu, pfn);
}

/**
 * wb_complete: the device's completion interrupt, taken on this CPU: end
 * every request whose time has come (`all`: every queued one — the
 * quiescent machine's drain). Called with no spinlock held (a page lock may
 * be). Returns the pages completed.
 */
export function wb_complete(cpu: CpuBase, all = false): number {
  const w = cpu.w;
  const g = wbLine(cpu);
  const bkl = cpu.lockScheme === LS_BKL;
  let total = 0;
  for (;;) {
    if (Atomics.load(w, g + WB_HEAD) === Atomics.load(w, g + WB_TAIL)) break; // a hint: rechecked under the lock
    const c = clusterOf(cpu);
    const now = dev_now();
    let k = 0;
    swap_lock(cpu, SITE.end_page_writeback);
    let head = w[g + WB_HEAD]!;
    const tail = w[g + WB_TAIL]!;
    while (head !== tail && k < CLUSTER_MAX && (all || cpu.f64[timeIdx(cpu, head)]! <= now)) {
      c.done[k++] = w[cpu.l.wbq + (head & (cpu.l.wbqSize - 1))]!;
      head = (head + 1) | 0;
    }
    Atomics.store(w, g + WB_HEAD, head);
    // under bkl the claim and the completions are one kernel_flag section (it is recursive): a waiter
    // sleeping with kernel_flag held (shmem_getpage, swapoff) must never wait on requests another CPU
    // has claimed and cannot complete without kernel_flag
    if (!bkl) swap_unlock(cpu);
    if (k === 0) {
      if (bkl) swap_unlock(cpu);
      break;
    }
    for (let i = 0; i < k; i++) end_swap_write(cpu, c.done[i]!);
    if (bkl) swap_unlock(cpu);
    total += k;
    Atomics.add(w, g + WB_SEQ, 1);
    Atomics.notify(w, g + WB_SEQ);
  }
  return total;
}

/** Milliseconds until the oldest queued request completes (0: due now; Infinity: none queued). A hint, read without the lock. */
export function wb_next_ms(cpu: CpuBase): number {
  const w = cpu.w;
  const g = wbLine(cpu);
  const head = Atomics.load(w, g + WB_HEAD);
  if (head === Atomics.load(w, g + WB_TAIL)) return Infinity;
  return Math.max(0, cpu.f64[timeIdx(cpu, head)]! - dev_now());
}

/** Longest single sleep of a waiter: a page may sit in another CPU's open cluster, not yet queued. */
const WAIT_SLICE_MS = 1;

/**
 * wait_on_page_writeback: sleep until pfn's write-out is done, completing
 * due requests on this CPU meanwhile (so a waiter needs no other CPU).
 * Called holding the page lock (which keeps the page in the swap cache)
 * and no spinlock — under `bkl`, kernel_flag, as every I/O wait here.
 */
export function wait_on_page_writeback(cpu: CpuBase, pfn: number): void {
  const w = cpu.w;
  const f = pageStruct(cpu.l, pfn) + PG_FLAGS;
  const seqOff = wbLine(cpu) + WB_SEQ;
  if ((Atomics.load(w, f) & PG_writeback) === 0) return;
  w[cpu.vm + VM.swap_wb_wait]!++;
  wb_submit(cpu); // our own open cluster may hold it
  for (;;) {
    const seq = Atomics.load(w, seqOff);
    wb_complete(cpu);
    if ((Atomics.load(w, f) & PG_writeback) === 0) return;
    const ms = Math.min(WAIT_SLICE_MS, Math.max(0.001, wb_next_ms(cpu)));
    sleep_on(w, seqOff, seq, ms);
  }
}

/**
 * The checker's view (on a stopped machine): the queued entries are pages
 * under PG_writeback in the swap cache, none free, each queued once, in
 * completion order; and every PG_writeback page is queued (no open cluster
 * outlives a reclaim pass, and a synchronous write ends before its CPU can
 * stop).
 */
export function writeback_check(m: Machine, out: string[]): void {
  const w = m.w;
  const l = m.layout;
  const g = globalLine(l, G_WBQ);
  const add = (s: string) => {
    if (out.length < 60) out.push(`writeback: ${s}`);
  };
  const head = w[g + WB_HEAD]!;
  const tail = w[g + WB_TAIL]!;
  const n = (tail - head) | 0;
  if (n < 0 || n > l.wbqSize) {
    add(`ring head ${head} tail ${tail}: ${n} entries (size ${l.wbqSize})`);
    return;
  }
  const queued = new Uint8Array(l.nrFrames);
  const t0 = (l.wbq + l.wbqSize) >>> 1;
  let prev = -Infinity;
  for (let i = head; i !== tail; i = (i + 1) | 0) {
    const pfn = w[l.wbq + (i & (l.wbqSize - 1))]!;
    if (pfn <= 0 || pfn >= l.nrFrames) {
      add(`ring entry ${i}: bad pfn ${pfn}`);
      continue;
    }
    const t = m.f64[t0 + (i & (l.wbqSize - 1))]!;
    if (t < prev) add(`ring entry ${i}: completes at ${t} ms, before the request ahead of it (${prev})`);
    prev = t;
    if (queued[pfn]++ > 0) add(`page ${pfn} queued twice`);
    const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
    const fl = w[p + PG_FLAGS]!;
    if ((fl & PG_writeback) === 0) add(`page ${pfn} queued without PG_writeback`);
    if ((fl & PG_swapcache) === 0) add(`page ${pfn} under write-out is not in the swap cache`);
    if ((fl & (PG_buddy | PG_pcp)) !== 0 || w[p + PG_COUNT]! <= 0) add(`page ${pfn} under write-out is free (count ${w[p + PG_COUNT]})`);
    else if ((fl & PG_swapcache) !== 0 && w[l.swapMap + SWP_OFFSET(w[p + PG_PRIVATE]!)] === 0) add(`page ${pfn} is written to free slot ${SWP_OFFSET(w[p + PG_PRIVATE]!)}`);
  }
  for (let pfn = 1; pfn < l.nrFrames; pfn++) {
    if ((w[l.memMap + pfn * PAGE_STRUCT_WORDS + PG_FLAGS]! & PG_writeback) !== 0 && queued[pfn] === 0) add(`page ${pfn} is PG_writeback but on no device queue`);
  }
}
