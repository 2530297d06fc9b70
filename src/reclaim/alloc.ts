/*
 * alloc.ts — page allocation with reclaim: the part of 2.6's __alloc_pages
 * that the buddy allocator (mm/page_alloc.ts) leaves to the VM.
 *
 *   free < pages_low         wake kswapd (it reclaims up to pages_high)
 *   free >= pages_min         allocate
 *   clock + config.freeable, order 0: a page parked on the freeable queue
 *                             is freed and allocated, no reclaim
 *                             (freeable.ts; pgalloc_freeable)
 *   order > 0 and that failed:
 *     compact_pages           move pages out of one block (compact.ts) before
 *                             reclaiming anything (compact_stall)
 *   below pages_min, or the allocator came back empty:
 *     direct reclaim          try_to_free_pages on this CPU (allocstall_normal);
 *                             if it freed something, allocate — below
 *                             pages_min if need be (what it freed is ours)
 *     it freed nothing, OOM_AFTER_FUTILE rounds in a row (other CPUs'
 *     isolated, locked or freshly referenced pages come back meanwhile;
 *     2.6.9's out_of_memory also waited for ten failures), below pages_min:
 *       out_of_memory         kill a process (oom.ts) and, while its CPU
 *                             frees it, wait and retry without scanning again
 *                             (one victim at a time) — or fail, killing the
 *                             task the page was for. The pages below
 *                             pages_min stay a reserve, as in 2.6: an
 *                             exhausted machine kills early instead of
 *                             sweeping its lists again for every page.
 *
 * The VM allocates through this (alloc_page_vma below for faults, vm/
 * calling it directly; swap-in and mm/pgtable.ts's page tables through the
 * hooks installReclaim sets); `mm` names the address space the page is for
 * (the OOM killer's "current"), or NIL.
 *
 * Locking: called with no spinlock held (a fault's mmap_sem, or kernel_flag
 * under bkl, may be held). Watermarks are read lock-free (zone_watermark_ok).
 */
import { sleep_on, clock_ms } from '../timing/conductor.js';
import { G_ZONE, G_KSWAPD, K_IO_WAIT, H_RUNNING, Z_FREE, Z_LOW, Z_MIN, globalLine } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { __alloc_pages, zone_watermark_ok } from '../mm/page_alloc.js';
import type { ReclaimCpu } from './context.js';
import { try_to_free_pages, wakeup_kswapd, remove_mapping } from './vmscan.js';
import { freeable_on, freeable_take } from './freeable.js';
import { compact_pages } from './compact.js';
import { mm_killed, mm_kill, out_of_memory, oom_victim_exiting, OOM_FAIL, SIGKILL } from './oom.js';

/** Direct-reclaim rounds before an allocation gives up (each ends in reclaim or an OOM wait). */
export const ALLOC_MAX_RETRIES = 200;
/** Fruitless direct-reclaim rounds in a row before the OOM killer is asked (2.6.9: ten failures). */
export const OOM_AFTER_FUTILE = 8;

/**
 * alloc_pages_reclaim: 2^order frames for `mm` (NIL: none), reclaiming as
 * needed; -1 when out of memory (then `mm`, if any, has been killed: its
 * task must exit).
 */
export function alloc_pages_reclaim(cpu: ReclaimCpu, order: number, site: number, mm: number): number {
  const w = cpu.w;
  const z = globalLine(cpu.l, G_ZONE);
  if (w[z + Z_FREE]! < w[z + Z_LOW]!) wakeup_kswapd(cpu); // a hint, read plain (tear-free)
  if (zone_watermark_ok(cpu, order, w[z + Z_MIN]!)) {
    const pfn = __alloc_pages(cpu, order, site);
    if (pfn >= 0) return pfn;
  }
  // the slow path, timed (alloc_slow, alloc_slow_us: bench/freeable.ts)
  const t0 = clock_ms();
  const pfn = alloc_slowpath(cpu, order, site, mm);
  w[cpu.vm + VM.alloc_slow]!++;
  w[cpu.vm + VM.alloc_slow_us]! += Math.round((clock_ms() - t0) * 1000);
  return pfn;
}

/** An order-0 page by way of the freeable queue (freeable.ts), or -1 (queue off, empty, or every take lost to another CPU). */
function alloc_freeable(cpu: ReclaimCpu, site: number): number {
  if (!freeable_on(cpu)) return -1;
  while (freeable_take(cpu, remove_mapping)) {
    const pfn = __alloc_pages(cpu, 0, site);
    if (pfn >= 0) return pfn;
  }
  return -1;
}

/** Below pages_min, or the free lists came back empty: see the header. */
function alloc_slowpath(cpu: ReclaimCpu, order: number, site: number, mm: number): number {
  const w = cpu.w;
  const z = globalLine(cpu.l, G_ZONE);
  // issue 18: a clean page parked on the clock's freeable queue, before any reclaim (2.4-rmap reclaim_page)
  if (order === 0) {
    const pfn = alloc_freeable(cpu, site);
    if (pfn >= 0) return pfn;
  }
  if (order > 0) {
    // fragmented rather than short: move pages out of a block before reclaiming any
    const pfn = compact_pages(cpu, order);
    if (pfn >= 0) return pfn;
  }
  let futile = 0;
  for (let attempt = 0; attempt < ALLOC_MAX_RETRIES; attempt++) {
    if (mm >= 0 && mm_killed(w, cpu.l, mm) !== 0) return -1; // a dying task gets no more memory
    // while an OOM victim is exiting, wait for its memory instead of scanning again
    let progress = 0;
    const exiting = oom_victim_exiting(cpu);
    if (!exiting) {
      w[cpu.vm + VM.allocstall_normal]!++;
      progress = try_to_free_pages(cpu);
      // direct reclaim under clock + freeable parks what it cleans: take it from there
      if (order === 0) {
        const pfn = alloc_freeable(cpu, site);
        if (pfn >= 0) return pfn;
      }
    }
    if (progress > 0 || zone_watermark_ok(cpu, order, w[z + Z_MIN]!)) {
      const pfn = __alloc_pages(cpu, order, site);
      if (pfn >= 0) return pfn;
      if (progress > 0) {
        futile = 0;
        continue; // another CPU took what we freed: reclaim again
      }
    }
    // 2.6's out_of_memory only kills after repeated failures: pages other CPUs
    // have isolated, locked or just referenced come back to the lists soon
    if (!exiting && ++futile < OOM_AFTER_FUTILE) {
      if (Atomics.load(w, H_RUNNING) > 1) sleep_on(w, globalLine(cpu.l, G_KSWAPD) + K_IO_WAIT, 0, 1);
      continue;
    }
    if (out_of_memory(cpu, mm) === OOM_FAIL) return -1;
  }
  if (mm >= 0 && mm_kill(cpu, mm, SIGKILL)) w[cpu.vm + VM.oom_kill]!++;
  return -1;
}

/**
 * alloc_page_vma: one page for a fault (or swap-in) in mm, with kswapd
 * wake-ups, direct reclaim and the OOM killer behind it (alloc_pages_reclaim).
 */
export function alloc_page_vma(cpu: ReclaimCpu, mm: number, site: number): number {
  return alloc_pages_reclaim(cpu, 0, site, mm);
}
