/*
 * alloc.ts — page allocation with reclaim: the part of 2.6's __alloc_pages
 * that the buddy allocator (mm/page_alloc.ts) leaves to the VM.
 *
 *   free < pages_low         wake kswapd (it reclaims up to pages_high)
 *   free >= pages_min         allocate
 *   below pages_min, or the allocator came back empty:
 *     direct reclaim          try_to_free_pages on this CPU (allocstall_normal),
 *                             then allocate — from the reserve below
 *                             pages_min if need be: nothing in this machine
 *                             allocates inside reclaim (PF_MEMALLOC's reason
 *                             for the reserve), so a fault may have it
 *     nothing reclaimable and no page left:
 *       out_of_memory         kill a process (oom.ts) and retry while its
 *                             CPU frees it — or fail, killing the task the
 *                             page was for
 *
 * The VM allocates through this (vm/hooks.ts alloc_page_vma for faults and
 * swap-in, mm/pgtable.ts pgtable_hooks for page tables) once reclaim/ is
 * installed; `mm` names the address space the page is for (the OOM
 * killer's "current"), or NIL.
 *
 * Locking: called with no spinlock held (a fault's mmap_sem, or kernel_flag
 * under bkl, may be held). Watermarks are read lock-free (zone_watermark_ok).
 */
import { G_ZONE, Z_FREE, Z_LOW, Z_MIN, globalLine } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { __alloc_pages, zone_watermark_ok } from '../mm/page_alloc.js';
import type { ReclaimCpu } from './context.js';
import { try_to_free_pages, wakeup_kswapd } from './vmscan.js';
import { mm_killed, mm_kill, out_of_memory, OOM_FAIL, SIGKILL } from './oom.js';

/** Direct-reclaim rounds before an allocation gives up (each ends in reclaim or an OOM wait). */
export const ALLOC_MAX_RETRIES = 200;

/**
 * alloc_pages_reclaim: 2^order frames for `mm` (NIL: none), reclaiming as
 * needed; -1 when out of memory (then `mm`, if any, has been killed: its
 * task must exit).
 */
export function alloc_pages_reclaim(cpu: ReclaimCpu, order: number, site: number, mm: number): number {
  const w = cpu.w;
  const z = globalLine(cpu.l, G_ZONE);
  if (Atomics.load(w, z + Z_FREE) < w[z + Z_LOW]!) wakeup_kswapd(cpu);
  if (zone_watermark_ok(cpu, order, w[z + Z_MIN]!)) {
    const pfn = __alloc_pages(cpu, order, site);
    if (pfn >= 0) return pfn;
  }
  for (let attempt = 0; attempt < ALLOC_MAX_RETRIES; attempt++) {
    if (mm >= 0 && mm_killed(w, cpu.l, mm) !== 0) return -1; // a dying task gets no more memory
    w[cpu.vm + VM.allocstall_normal]!++;
    const progress = try_to_free_pages(cpu);
    const pfn = __alloc_pages(cpu, order, site);
    if (pfn >= 0) return pfn;
    if (progress > 0) continue;
    if (out_of_memory(cpu, mm) === OOM_FAIL) return -1;
  }
  if (mm >= 0 && mm_kill(cpu, mm, SIGKILL)) w[cpu.vm + VM.oom_kill]!++;
  return -1;
}
