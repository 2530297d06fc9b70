/*
 * brk.ts — the program break: sys_brk and do_brk (2.4 mm/mmap.c).
 *
 * The heap is an anonymous private VMA that starts at mm->start_brk (set
 * when the image is loaded: set_brk in binfmt.ts) and ends at the page-
 * aligned mm->brk. sys_brk(newbrk):
 *   - below start_brk: refused, the current break is returned (brk(0) is
 *     how libc learns the break);
 *   - shrinking: do_munmap of [PAGE_ALIGN(newbrk), PAGE_ALIGN(brk)), which
 *     unmaps the pages (and frees them after the TLB flush: zap_page_range);
 *   - growing: refused if the new range would touch the next VMA
 *     (find_vma_intersection with a guard page, as 2.4), else do_brk maps
 *     [oldbrk, newbrk) anonymous read/write at that fixed address, merging
 *     with the heap VMA below it when there is one (vma_merge);
 *   - the return value is the new break, or the old one on failure (the
 *     system call never returns an error code, libc compares).
 * will-it-scale's brk1 starts from an empty heap (each grow creates the heap
 * VMA, each shrink removes it), brk2 from a one-page heap (grow extends the
 * VMA, shrink splits it back).
 *
 * Locking: mmap_sem for writing around the whole call (MM_BRK and
 * MM_START_BRK are read and written only under it).
 */
import { NIL, PAGE_SIZE, MM_BRK, MM_START_BRK, VMA_START, mmBase, vmaBase } from '../machine/layout.js';
import { SITE } from '../sync/classes.js';
import { mmap_write_lock, mmap_write_unlock, mmap_assert_write_locked } from '../sync/scheme.js';
import { find_vma } from '../mm/vma.js';
import { TASK_SIZE } from '../mm/pte.js';
import { __do_mmap, __do_munmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED } from './mmap.js';
import type { Cpu } from './cpu.js';

const PAGE_ALIGN = (a: number) => ((a + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)) >>> 0;

/** set_brk: an empty heap at `start` (page aligned). Caller holds mmap_sem write, or owns a fresh mm nobody else can reach (exec, workload setup), so not asserted. */
export function set_brk(cpu: Cpu, mm: number, start: number): void {
  const b = mmBase(cpu.l, mm);
  cpu.w[b + MM_START_BRK] = start;
  cpu.w[b + MM_BRK] = start;
}

/** do_brk: map [addr, addr+len) anonymous read/write at a fixed place. Caller holds mmap_sem write. */
function do_brk(cpu: Cpu, mm: number, addr: number, len: number): number {
  mmap_assert_write_locked(cpu, mm);
  return __do_mmap(cpu, mm, addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

/** sys_brk: move the break to newbrk; returns the break afterwards (the old one when refused). */
export function sys_brk(cpu: Cpu, mm: number, newbrk: number): number {
  const w = cpu.w;
  const mb = mmBase(cpu.l, mm);
  newbrk = newbrk >>> 0;
  mmap_write_lock(cpu, mm, SITE.sys_brk);
  const brk = w[mb + MM_BRK]! >>> 0;
  let ret = brk;
  if (newbrk >= w[mb + MM_START_BRK]! >>> 0 && newbrk < TASK_SIZE) {
    const nb = PAGE_ALIGN(newbrk);
    const ob = PAGE_ALIGN(brk);
    if (nb === ob) {
      ret = newbrk;
    } else if (newbrk < brk) {
      if (__do_munmap(cpu, mm, nb, ob - nb) === 0) ret = newbrk;
    } else {
      // find_vma_intersection(mm, oldbrk, newbrk + PAGE_SIZE): keep a guard page below the next mapping
      const next = find_vma(cpu, mm, ob);
      const clear = next === NIL || w[vmaBase(cpu.l, next) + VMA_START]! >>> 0 >= nb + PAGE_SIZE;
      if (clear && do_brk(cpu, mm, ob, nb - ob) === ob) ret = newbrk;
    }
    w[mb + MM_BRK] = ret;
  }
  mmap_write_unlock(cpu, mm);
  return ret;
}
