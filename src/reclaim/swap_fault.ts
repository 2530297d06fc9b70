/*
 * swap_fault.ts — do_swap_page: a fault on a pte holding a swap entry
 * (2.6.10 mm/memory.c do_swap_page; REFERENCE.md §5), called by
 * vm/fault.ts's handle_pte_fault for a swap pte.
 *
 *   lookup_swap_cache(entry)
 *     miss: swapin_readahead (the 2^page_cluster window) and
 *           read_swap_cache_async(entry): a major fault
 *   mark_page_accessed
 *   lock_page          sleeps while the page is being read or written out
 *                      (a synchronous write); an asynchronous write in
 *                      flight (writeback.ts) is not waited for: the page
 *                      is mapped read-only (swap_wb_fault)
 *   !PG_uptodate       the read failed: every user got SIGBUS (oom.ts)
 *   pte lock; pte_same(pte, orig) and the page still the entry's?
 *                      else another CPU got here first: retry the access
 *   swap_free(entry)   this pte's count
 *   write, or swap more than half full (vm_swap_full): if this is the slot's
 *   last user (remove_exclusive_swap_page) the page leaves the swap cache
 *   and, for a write, is mapped writable and dirty; otherwise it is mapped
 *   read-only and a write faults again into do_wp_page, which copies it
 *   (can_share_swap_page said no: another pte or the cache still shares it)
 *   install the pte, rss, page_add_rmap; unlock
 *
 * Locking: entered with mmap_sem held for reading (kernel_flag under bkl)
 * and nothing else. Page lock (sleeping) → pte lock → chain lock, as the
 * lock order has it; the swap cache's own locks inside.
 */
import {
  PG_FLAGS,
  PG_INDEX,
  MM_RSS,
  mmBase,
  pageStruct,
} from '../machine/layout.js';
import { PG_anon, PG_uptodate, PG_writeback } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { pte_lock, pte_unlock } from '../sync/scheme.js';
import { unlock_page } from '../sync/pagelock.js';
import { vma_pgoff_of } from '../mm/vma.js';
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_ACCESSED, _PAGE_DIRTY, mk_pte, pte_index, pteAddrOf } from '../mm/pte.js';
import { page_add_rmap } from '../rmap/index.js';
import { lock_page_sleep, type ReclaimCpu } from './context.js';
import { mark_page_accessed, put_page, lru_add_drain } from './lru.js';
import { swap_free, vm_swap_full } from './swapfile.js';
import {
  lookup_swap_cache,
  read_swap_cache_async,
  swapin_readahead,
  remove_exclusive_swap_page,
  in_swap_cache,
  RSC_NOMEM,
} from './swap_state.js';

/* the values of vm/fault.ts (reclaim/ does not import vm/) */
const VM_FAULT_MINOR = 1;
const VM_FAULT_MAJOR = 2;
const VM_FAULT_OOM = -2;
const VM_FAULT_SIGBUS = -3;

const A_D = _PAGE_ACCESSED | _PAGE_DIRTY;
/** pte_same, ignoring the accessed/dirty bits */
const pte_same = (a: number, b: number) => ((a ^ b) & ~A_D) === 0;

/** Drop the page lock and our reference; return r. */
function give_up(cpu: ReclaimCpu, pfn: number, r: number): number {
  unlock_page(cpu, pfn);
  put_page(cpu, pfn);
  return r;
}

/**
 * do_swap_page: see the header. `orig` is the swap pte as the fault read it
 * (lock-free); ptPfn the pte table. Returns VM_FAULT_MINOR / MAJOR (the
 * access is retried), VM_FAULT_OOM or VM_FAULT_SIGBUS.
 */
export function do_swap_page(cpu: ReclaimCpu, mm: number, vma: number, addr: number, ptPfn: number, orig: number, write: boolean): number {
  const w = cpu.w;
  const l = cpu.l;
  const entry = orig;
  const pteAddr = pteAddrOf(ptPfn, pte_index(addr));
  const ptep = l.frames + pteAddr;
  let ret = VM_FAULT_MINOR;
  let pfn = lookup_swap_cache(cpu, entry);
  if (pfn < 0) {
    swapin_readahead(cpu, entry, mm, cpu.scratch2);
    pfn = read_swap_cache_async(cpu, entry, mm, false);
    if (pfn < 0) {
      // no memory, or the slot was freed: by whoever changed the pte under
      // us (retry the access) — a pte still naming a free slot is corruption
      const ptl = pte_lock(cpu, mm, ptPfn, SITE.do_swap_page);
      const same = pte_same(Atomics.load(w, ptep), orig);
      pte_unlock(cpu, ptl);
      if (!same) return VM_FAULT_MINOR;
      if (pfn === RSC_NOMEM) return VM_FAULT_OOM;
      throw new Error(`do_swap_page: mm ${mm} addr 0x${(addr >>> 0).toString(16)}: swap pte 0x${(orig >>> 0).toString(16)} names a free slot`);
    }
    ret = VM_FAULT_MAJOR;
    w[cpu.vm + VM.pgmajfault]!++;
  }
  mark_page_accessed(cpu, pfn);
  lock_page_sleep(cpu, pfn, SITE.do_swap_page);
  // issue 7 workaround: a page just read in sits in this CPU's pagevec (split), whose reference makes
  // remove_exclusive_swap_page's count-2 test fail; a write would then copy it and orphan the swap-cache page
  if (write || vm_swap_full(cpu)) lru_add_drain(cpu);
  const p = pageStruct(l, pfn);
  // issue 18: its write-out is in flight: mapped anyway (read-only: remove_exclusive_swap_page refuses), no wait
  if ((Atomics.load(w, p + PG_FLAGS) & PG_writeback) !== 0) w[cpu.vm + VM.swap_wb_fault]!++;
  if ((Atomics.load(w, p + PG_FLAGS) & PG_uptodate) === 0) {
    // the read failed: kill_swap_users flagged this mm (and every other user)
    return give_up(cpu, pfn, pte_same(Atomics.load(w, ptep), orig) ? VM_FAULT_SIGBUS : VM_FAULT_MINOR);
  }
  if (!cpu.rmap.prealloc(cpu) || !cpu.rmap.anon_vma_prepare(cpu, vma)) return give_up(cpu, pfn, VM_FAULT_OOM);
  const ptl = pte_lock(cpu, mm, ptPfn, SITE.do_swap_page);
  if (!pte_same(Atomics.load(w, ptep), orig) || !in_swap_cache(cpu, pfn, entry)) {
    pte_unlock(cpu, ptl);
    return give_up(cpu, pfn, VM_FAULT_MINOR);
  }
  swap_free(cpu, entry); // this pte's count; the swap cache still holds the slot
  if ((Atomics.load(w, p + PG_FLAGS) & PG_anon) === 0) {
    Atomics.or(w, p + PG_FLAGS, PG_anon);
    w[p + PG_INDEX] = vma_pgoff_of(w, l, vma, addr);
  }
  let prot = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
  if ((write || vm_swap_full(cpu)) && remove_exclusive_swap_page(cpu, pfn) && write) prot |= _PAGE_RW | _PAGE_DIRTY;
  Atomics.store(w, ptep, mk_pte(pfn, prot)); // our reference becomes the mapping's
  Atomics.add(w, mmBase(l, mm) + MM_RSS, 1);
  page_add_rmap(cpu, cpu.rmap, pfn, pteAddr, vma, addr);
  pte_unlock(cpu, ptl);
  unlock_page(cpu, pfn);
  return ret;
}
