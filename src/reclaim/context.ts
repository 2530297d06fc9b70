/*
 * context.ts — what every reclaim file shares: the CPU type reclaim runs
 * with, the scan_control of one reclaim pass, and the few scheduling
 * primitives that depend on the lock scheme (sleeping on a page lock,
 * sleeping for simulated I/O, trylocking another process's mmap_sem).
 *
 * THE BIG KERNEL LOCK AND SLEEPING. Under the `bkl` scheme every MM lock is
 * kernel_flag and a fault holds it from start to end (mmap_read_lock is
 * lock_kernel). A CPU holding kernel_flag must never sleep on a page lock:
 * lockdep would call it sleep-in-spin, and the holder of the page lock may
 * itself be spinning for kernel_flag. So under `bkl` every path that holds a
 * page lock holds kernel_flag for the whole time (faults already do; kswapd,
 * direct reclaim outside a fault and swapoff take it with bkl_enter), and a
 * page lock is then always free when a kernel_flag holder asks for it:
 * lock_page_sleep only trylocks. I/O sleeps (swap write-out, swap-in) keep
 * kernel_flag: the whole MM waits for the disk — the price of one lock.
 * (2.0's schedule() dropped the lock while sleeping; here that would also
 * drop the fault's "mmap_sem" and let page tables vanish under it.)
 *
 * Locking: none of its own. The per-CPU scan_control objects are CPU-local
 * (one per CpuBase, created once; the hot path allocates nothing).
 */
import { sleep_on, vtOn } from '../timing/conductor.js';
import { COST, C_IO_PAGE } from '../timing/cost.js';
import type { CpuBase } from '../machine/cpu.js';
import { LS_BKL } from '../machine/cpu.js';
import { G_KSWAPD, K_IO_WAIT, MM_MMAP_SEM, PC_NVCSW, globalLine, mmBase } from '../machine/layout.js';
import type { RmapScheme } from '../rmap/types.js';
import { C_MMAP_SEM } from '../sync/classes.js';
import { lock_kernel, unlock_kernel, kernel_trylock, mmap_read_unlock } from '../sync/scheme.js';
import { down_read_trylock } from '../sync/rwsem.js';
import { lock_page, trylock_page } from '../sync/pagelock.js';

/** The CPU context reclaim runs with: any CPU that knows its rmap scheme (vm/cpu.ts's Cpu is one). */
export type ReclaimCpu = CpuBase & { readonly rmap: RmapScheme };

/** SWAP_CLUSTER_MAX: pages a reclaim pass aims to free (2.4 / 2.6). */
export const SWAP_CLUSTER_MAX = 32;
/** isolation batch size (pages taken off a list under one lru_lock hold) */
export const ISOLATE_BATCH = SWAP_CLUSTER_MAX;

/** scan_control (2.6 mm/vmscan.c): the state of one reclaim pass, per CPU. */
export interface ScanControl {
  /** kswapd (pgscan_kswapd / pgsteal_kswapd) or direct reclaim (…_direct) */
  kswapd: boolean;
  /** scan depth: lists are scanned len >> priority at a time; lower = harder */
  priority: number;
  /** pages this pass tries to free */
  nrToReclaim: number;
  nrReclaimed: number;
  /** pages looked at (pgscan) */
  nrScanned: number;
  /** isolated pages */
  readonly batch: Int32Array;
  /** survivors to put back */
  readonly keep: Int32Array;
  /** pfns to visit (swap_out's pte scan gathers none; free for policies) */
  readonly aux: Int32Array;
}

const controls = new WeakMap<CpuBase, ScanControl>();

/** This CPU's scan_control (created once). */
export function scanControl(cpu: CpuBase): ScanControl {
  let sc = controls.get(cpu);
  if (!sc) {
    sc = {
      kswapd: false,
      priority: 0,
      nrToReclaim: 0,
      nrReclaimed: 0,
      nrScanned: 0,
      batch: new Int32Array(4 * ISOLATE_BATCH),
      keep: new Int32Array(4 * ISOLATE_BATCH),
      aux: new Int32Array(4 * ISOLATE_BATCH),
    };
    controls.set(cpu, sc);
  }
  return sc;
}

/** Under `bkl`, take kernel_flag around a reclaim entry point that may not hold it (see the header). */
export function bkl_enter(cpu: CpuBase, site: number): void {
  if (cpu.lockScheme === LS_BKL) lock_kernel(cpu, site);
}
export function bkl_exit(cpu: CpuBase): void {
  if (cpu.lockScheme === LS_BKL) unlock_kernel(cpu);
}

/**
 * lock_page for a path that may sleep on it (do_swap_page, swapoff). Under
 * `bkl` the caller holds kernel_flag and the lock is necessarily free (see
 * the header): only trylock, and a busy lock is a broken invariant.
 */
export function lock_page_sleep(cpu: CpuBase, pfn: number, site: number): void {
  if (cpu.lockScheme === LS_BKL) {
    if (!trylock_page(cpu, pfn, site)) throw new Error(`cpu ${cpu.id}: bkl: page ${pfn} locked by a CPU without kernel_flag`);
    return;
  }
  lock_page(cpu, pfn, site);
}

/**
 * Simulated disk latency: sleep config.swapIoUs microseconds in Atomics.wait
 * on a word nobody writes (K_IO_WAIT), so the wait always times out. The
 * caller keeps whatever it holds (the page lock): that is the point — other
 * CPUs faulting the page wait for the "I/O" on the page lock.
 */
/** virtual clock: the cost table's io_page multiplier; host: 1 */
const io_factor = () => (vtOn ? COST[C_IO_PAGE]! : 1);

export function io_sleep(cpu: CpuBase): void {
  const us = cpu.m.cfg.swapIoUs;
  if (us <= 0) return;
  cpu.w[cpu.pc + PC_NVCSW] = (cpu.w[cpu.pc + PC_NVCSW]! + 1) & 0x7fffffff; // a context switch: the hung-task detector sees a CPU that sleeps on I/O as alive
  sleep_on(cpu.w, globalLine(cpu.l, G_KSWAPD) + K_IO_WAIT, 0, (us / 1000) * io_factor());
}

/** down_read_trylock(&mm->mmap_sem) through the scheme (kernel_flag under bkl). */
export function mmap_read_trylock(cpu: CpuBase, mm: number, site: number): boolean {
  if (cpu.lockScheme === LS_BKL) return kernel_trylock(cpu, site);
  return down_read_trylock(cpu, mmBase(cpu.l, mm) + MM_MMAP_SEM, C_MMAP_SEM, site);
}
export { mmap_read_unlock };
