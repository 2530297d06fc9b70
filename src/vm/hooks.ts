/*
 * hooks.ts — where the fault path meets reclaim.
 *
 * The VM layer calls these at the points where the kernel calls into the LRU
 * and swap code: a new anonymous page goes on the LRU (lru_cache_add_active),
 * a swap pte is faulted in through the swap cache (do_swap_page), fork
 * duplicates a swap entry (swap_duplicate), zap frees one (free_swap_and_cache).
 * The machine is built with no swap device and no LRU until reclaim/ installs
 * its functions (installReclaimHooks, once, before any CPU runs); until then a
 * swap pte cannot exist, which `noSwap` asserts.
 */
import type { CpuBase } from '../machine/cpu.js';
import type { Cpu } from './cpu.js';

export interface FaultHooks {
  newAnonPage(cpu: CpuBase, pfn: number): void;
  newFilePage(cpu: CpuBase, pfn: number): void;
  doSwapPage(cpu: Cpu, mm: number, vma: number, addr: number, ptPfn: number, pte: number, write: boolean): number;
  swapDuplicate(cpu: CpuBase, entry: number): void;
  freeSwapEntry(cpu: CpuBase, entry: number): void;
}

function noSwap(): never {
  throw new Error('swap pte found but no swap device is configured');
}

export const fault_hooks: FaultHooks = {
  newAnonPage() {},
  newFilePage() {},
  doSwapPage: noSwap,
  swapDuplicate: noSwap,
  freeSwapEntry: noSwap,
};

export function installFaultHooks(h: Partial<FaultHooks>): void {
  Object.assign(fault_hooks, h);
}
