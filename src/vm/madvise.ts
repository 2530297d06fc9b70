/*
 * madvise.ts — madvise(MADV_DONTNEED) (2.4 mm/filemap.c madvise_dontneed).
 *
 * Every VMA piece of [start, start+len) has its ptes zapped with
 * zap_page_range: the ptes are cleared under the pte lock, the reverse
 * mappings dropped, then flush_tlb_mm waits out every other CPU of the mm's
 * cpumask (the shootdown IPI, nr_tlb_remote_flush) before the pages are
 * freed (mm/tlb.ts). The VMAs stay: the next access faults in a fresh page —
 * zeros for anonymous memory, the file's contents for a private file mapping
 * (a COW copy is dropped), the page cache's current contents for a shared
 * one. That re-fault after the flush is what will-it-scale's tlb_flush1/2/3
 * time. A range with a hole in it returns ENOMEM after zapping what is
 * mapped, as the kernel does.
 *
 * Locking: mmap_sem for writing (2.4's sys_madvise takes down_write), then
 * the pte locks inside zap_page_range.
 */
import { NIL, PAGE_SIZE, VMA_START, VMA_END, VMA_NEXT, vmaBase } from '../machine/layout.js';
import { SITE } from '../sync/classes.js';
import { mmap_write_lock, mmap_write_unlock } from '../sync/scheme.js';
import { find_vma } from '../mm/vma.js';
import { TASK_SIZE } from '../mm/pte.js';
import { zap_page_range } from './memory.js';
import { EINVAL, ENOMEM } from './mmap.js';
import type { Cpu } from './cpu.js';

export const MADV_DONTNEED = 4;

/** sys_madvise: only MADV_DONTNEED is modelled; 0 or -errno. */
export function sys_madvise(cpu: Cpu, mm: number, start: number, len: number, advice: number): number {
  start = start >>> 0;
  if (advice !== MADV_DONTNEED || start & (PAGE_SIZE - 1) || len < 0) return EINVAL;
  const end = start + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  if (end > TASK_SIZE) return EINVAL;
  if (end === start) return 0;
  const w = cpu.w;
  const l = cpu.l;
  mmap_write_lock(cpu, mm, SITE.madvise);
  let err = 0;
  let addr = start;
  for (let v = find_vma(cpu, mm, start); addr < end; v = w[vmaBase(l, v) + VMA_NEXT]!) {
    if (v === NIL) {
      err = ENOMEM;
      break;
    }
    const vs = w[vmaBase(l, v) + VMA_START]! >>> 0;
    const ve = w[vmaBase(l, v) + VMA_END]! >>> 0;
    if (vs >= end) {
      err = ENOMEM;
      break;
    }
    if (vs > addr) err = ENOMEM; // a hole: unmapped addresses in the range
    const lo = Math.max(vs, addr);
    const hi = Math.min(ve, end);
    zap_page_range(cpu, mm, v, lo, hi);
    addr = hi;
  }
  mmap_write_unlock(cpu, mm);
  return err;
}
