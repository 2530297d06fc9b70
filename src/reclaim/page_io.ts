/*
 * page_io.ts — the swap device: writing a swap-cache page to its slot and
 * reading it back (2.4 mm/page_io.c rw_swap_page, 2.6 swap_writepage /
 * swap_readpage), and file write-back from reclaim (writepage).
 *
 * The "disk" is the swapSlots region of the machine: a write copies the
 * frame into slot SWP_OFFSET(entry), a read copies it back. Each I/O sleeps
 * config.swapIoUs (io_sleep) while the caller holds the page lock — exactly
 * as the kernel holds PG_locked across I/O — so a CPU faulting the same page
 * meanwhile finds it in the swap cache and sleeps in lock_page until the
 * I/O is done (seed 003: all swapping goes through the swap cache).
 *
 * Device faults (config.swapWriteErrorRate / swapReadErrorRate, or a one-shot
 * failure of a given slot: swapfile.ts swap_inject_error):
 *   - a write error leaves the page dirty and resident (PG_error, counted in
 *     swap_write_error); reclaim keeps it and may try again later;
 *   - a read error leaves the page !PG_uptodate with PG_error (counted in
 *     swap_read_error); the caller (swap_state.ts) kills the slot's users.
 *
 * With config.swapWriteout async, reclaim writes swap-cache pages through
 * writeback.ts instead (clustered, not waited for); reads and file pages
 * stay here.
 *
 * Locking: the caller holds the page lock (and a reference); nothing else.
 */
import { PAGE_WORDS, PG_FLAGS, PG_PRIVATE, PG_MAPPING, PG_INDEX, frameBase, pageStruct, swapSlotBase } from '../machine/layout.js';
import { PG_dirty, PG_writeback, PG_uptodate, PG_error, inodeOfMapping } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { cpuRandom, type CpuBase } from '../machine/cpu.js';
import { SWP_OFFSET } from '../mm/pte.js';
import { writeback_page } from '../mm/files.js';
import { io_sleep } from './context.js';
import { clock_ms } from '../timing/conductor.js';

/** io_sleep for a write, its time counted in writeout_wait_us (reclaim's time not spent on the CPU). */
function write_sleep(cpu: CpuBase): void {
  const t0 = clock_ms();
  io_sleep(cpu);
  cpu.w[cpu.vm + VM.writeout_wait_us]! += Math.round((clock_ms() - t0) * 1000);
}
import { assertPageLocked } from '../sync/pagelock.js';
import { swap_injected_failure } from './swapfile.js';

const chance = (cpu: CpuBase, rate: number) => rate > 0 && cpuRandom(cpu) / 4294967296 < rate;

/**
 * swap_writepage: write swap-cache page pfn (locked, unmapped, dirty) to its
 * slot. PG_dirty is cleared first (a new dirtying during the write would set
 * it again) and PG_writeback is set across the "I/O". Returns false on a
 * device error: the page is dirty again and keeps its slot.
 */
export function swap_writepage(cpu: CpuBase, pfn: number): boolean {
  assertPageLocked(cpu, pfn);
  const w = cpu.w;
  const p = pageStruct(cpu.l, pfn);
  const slot = SWP_OFFSET(w[p + PG_PRIVATE]!);
  Atomics.and(w, p + PG_FLAGS, ~PG_dirty);
  Atomics.or(w, p + PG_FLAGS, PG_writeback);
  const fail = swap_injected_failure(cpu, slot, 'write') || chance(cpu, cpu.m.cfg.swapWriteErrorRate);
  if (!fail) {
    const f = frameBase(cpu.l, pfn);
    w.copyWithin(swapSlotBase(cpu.l, slot), f, f + PAGE_WORDS);
  }
  write_sleep(cpu);
  Atomics.and(w, p + PG_FLAGS, ~PG_writeback);
  if (fail) {
    Atomics.or(w, p + PG_FLAGS, PG_dirty | PG_error);
    w[cpu.vm + VM.swap_write_error]!++;
    return false;
  }
  Atomics.and(w, p + PG_FLAGS, ~PG_error);
  w[cpu.vm + VM.pswpout]!++;
  w[cpu.vm + VM.pgpgout]!++;
  return true;
}

/**
 * swap_readpage: fill page pfn (locked, just added to the swap cache under
 * `entry`, not yet visible as uptodate) from its slot. Sets PG_uptodate, or
 * PG_error on a device error (returns false).
 */
export function swap_readpage(cpu: CpuBase, pfn: number, entry: number): boolean {
  assertPageLocked(cpu, pfn);
  const w = cpu.w;
  const p = pageStruct(cpu.l, pfn);
  const slot = SWP_OFFSET(entry);
  const fail = swap_injected_failure(cpu, slot, 'read') || chance(cpu, cpu.m.cfg.swapReadErrorRate);
  if (!fail) {
    const s = swapSlotBase(cpu.l, slot);
    w.copyWithin(frameBase(cpu.l, pfn), s, s + PAGE_WORDS);
  }
  io_sleep(cpu);
  if (fail) {
    Atomics.or(w, p + PG_FLAGS, PG_error);
    w[cpu.vm + VM.swap_read_error]!++;
    return false;
  }
  Atomics.or(w, p + PG_FLAGS, PG_uptodate);
  w[cpu.vm + VM.pswpin]!++;
  w[cpu.vm + VM.pgpgin]!++;
  return true;
}

/**
 * file_writepage: write a dirty, unmapped page-cache page (locked) back to
 * its file (mm/files.ts writeback_page) with the same simulated latency.
 */
export function file_writepage(cpu: CpuBase, pfn: number): void {
  assertPageLocked(cpu, pfn);
  const w = cpu.w;
  const p = pageStruct(cpu.l, pfn);
  Atomics.and(w, p + PG_FLAGS, ~PG_dirty);
  Atomics.or(w, p + PG_FLAGS, PG_writeback);
  writeback_page(cpu, inodeOfMapping(w[p + PG_MAPPING]!), w[p + PG_INDEX]!, pfn);
  write_sleep(cpu);
  Atomics.and(w, p + PG_FLAGS, ~PG_writeback);
}
