/*
 * mmap.ts — do_mmap, do_munmap and mremap (2.4 mm/mmap.c, mm/mremap.c).
 *
 * do_mmap finds a gap (get_unmapped_area: first fit above
 * TASK_UNMAPPED_BASE, or MAP_FIXED after unmapping what is there), creates a
 * VMA and merges it with its predecessor when they are compatible (same
 * flags, same file and contiguous pgoff; anonymous VMAs use vm_pgoff = virtual
 * page number so adjacent ones merge, as anon_vma does). MAP_SHARED |
 * MAP_ANONYMOUS gets a shmem inode of its own ("one inode per new vma for
 * anonymous shared regions", Tweedie, seed 003). do_munmap splits the VMAs at
 * the range ends, zaps and frees what is inside, then frees unused tables.
 * mremap shrinks, grows in place, or moves the ptes to a new range
 * (move_page_tables), rewriting the reverse mapping of every moved pte;
 * under anonmm, whose anonymous pages have one address per fork family,
 * only a page no other pte maps moves, any other is copied (early C-O-W,
 * anonmm_move_pte below), with the page locked while that is decided.
 *
 * Locking: all of these take mmap_sem for writing (bkl: kernel_flag);
 * mremap's anonmm path takes the page lock (sleeping) then pte locks.
 */
import { charge, COST, C_SYSCALL } from '../timing/index.js';
import {
  NIL,
  PAGE_SIZE,
  PAGE_SHIFT,
  PG_PT_NR,
  PG_FLAGS,
  PG_MAPCOUNT,
  PG_PRIVATE,
  VMA_START,
  VMA_END,
  VMA_FLAGS,
  VMA_FILE,
  VMA_PGOFF,
  VMA_NEXT,
  VMA_PREV,
  VMA_ANON,
  MM_MMAP,
  I_USERS,
  mmBase,
  vmaBase,
  inodeBase,
  pageStruct,
} from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { mmap_write_lock, mmap_write_unlock, pte_lock, pte_unlock, mmap_assert_locked, mmap_assert_write_locked } from '../sync/scheme.js';
import { pte_alloc, pte_table } from '../mm/pgtable.js';
import {
  pte_present,
  pte_pfn,
  pte_dirty,
  is_swap_pte,
  mk_pte,
  pteAddrOf,
  pte_index,
  TASK_SIZE,
  TASK_UNMAPPED_BASE,
  _PAGE_PRESENT,
  _PAGE_USER,
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_RW,
} from '../mm/pte.js';
import { swap_count } from '../mm/swap_map.js';
import { copy_page } from '../mm/clear_page.js';
import { get_page } from '../mm/page_ref.js';
import { put_page, lru_cache_add_anon } from '../reclaim/lru.js';
import { alloc_page_vma } from '../reclaim/alloc.js';
import { do_swap_page } from '../reclaim/swap_fault.js';
import { lock_page_sleep } from '../reclaim/context.js';
import { unlock_page } from '../sync/pagelock.js';
import { PG_anon, PG_swapcache, PG_dirty } from '../machine/page.js';
import { flush_tlb_mm, flush_tlb_page } from '../mm/tlb.js';
import {
  find_vma,
  vm_area_alloc,
  vm_area_free,
  vma_link,
  vma_unlink,
  split_vma,
  can_vma_merge,
  vma_merge,
  anon_vma_link,
  VM_READ,
  VM_WRITE,
  VM_SHARED,
  VM_MAYWRITE,
  VM_ANON_SHARED,
} from '../mm/vma.js';
import { VM_FAULT_OOM } from './fault.js';
import { page_add_rmap, page_remove_rmap } from '../rmap/index.js';
import { ZERO_PFN } from '../mm/page_ref.js';
import { zap_page_range, free_pgtables } from './memory.js';
import { shmem_inode_new, inode_put, inode_get } from '../mm/shmem.js';
import type { Cpu } from './cpu.js';

export const ENOMEM = -12;
export const EINVAL = -22;
export const EFAULT = -14;

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_PRIVATE = 2;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;

const pageAlign = (n: number) => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

/** move_one_pte's `orig` when any pte may be moved (move_page_tables outside anonmm) */
const ANY_PTE = -1;
/** move_one_pte: the pte under its lock is not the `orig` the caller decided on; nothing moved */
const MOVE_CHANGED = 1;

/** get_unmapped_area: first gap of len bytes at or above TASK_UNMAPPED_BASE; -1 if none. Caller holds mmap_sem. */
export function get_unmapped_area(cpu: Cpu, mm: number, len: number): number {
  mmap_assert_locked(cpu, mm);
  const w = cpu.w;
  const l = cpu.l;
  let addr = TASK_UNMAPPED_BASE;
  for (let v = w[mmBase(l, mm) + MM_MMAP]!; v >= 0; v = w[vmaBase(l, v) + VMA_NEXT]!) {
    const s = w[vmaBase(l, v) + VMA_START]! >>> 0;
    const e = w[vmaBase(l, v) + VMA_END]! >>> 0;
    if (e <= addr) continue;
    if (s >= addr + len) break;
    addr = e;
  }
  return addr + len <= TASK_SIZE ? addr : -1;
}

/** __do_munmap: caller holds mmap_sem for writing. Returns 0 or -errno. */
export function __do_munmap(cpu: Cpu, mm: number, start: number, len: number): number {
  mmap_assert_write_locked(cpu, mm);
  const w = cpu.w;
  const l = cpu.l;
  start = start >>> 0;
  if (start & (PAGE_SIZE - 1) || len <= 0) return EINVAL;
  const end = start + pageAlign(len);
  if (end > TASK_SIZE) return EINVAL;
  let v = find_vma(cpu, mm, start);
  if (v === NIL || w[vmaBase(l, v) + VMA_START]! >>> 0 >= end) return 0;
  if (w[vmaBase(l, v) + VMA_START]! >>> 0 < start) {
    const n = split_vma(cpu, cpu.vmaCache, mm, v, start);
    if (n === NIL) return ENOMEM;
    v = n;
  }
  // v starts at or after start; walk the VMAs that begin below end
  while (v !== NIL && w[vmaBase(l, v) + VMA_START]! >>> 0 < end) {
    if (w[vmaBase(l, v) + VMA_END]! >>> 0 > end) {
      if (split_vma(cpu, cpu.vmaCache, mm, v, end) === NIL) return ENOMEM;
    }
    const next = w[vmaBase(l, v) + VMA_NEXT]!;
    const b = vmaBase(l, v);
    zap_page_range(cpu, mm, v, w[b + VMA_START]!, w[b + VMA_END]!);
    vma_unlink(cpu, mm, v);
    const ino = w[b + VMA_FILE]!;
    vm_area_free(cpu, cpu.vmaCache, v);
    if (ino >= 0) inode_put(cpu, ino);
    v = next;
  }
  free_pgtables(cpu, mm, start, end);
  return 0;
}

export function do_munmap(cpu: Cpu, mm: number, start: number, len: number): number {
  cpu.w[cpu.vm + VM.munmap]!++;
  charge(COST[C_SYSCALL]!);
  mmap_write_lock(cpu, mm, SITE.do_munmap);
  const r = __do_munmap(cpu, mm, start, len);
  mmap_write_unlock(cpu, mm);
  return r;
}

/**
 * do_mmap: map len bytes. prot: PROT_READ|PROT_WRITE; flags: MAP_SHARED or
 * MAP_PRIVATE, | MAP_ANONYMOUS (file = -1), | MAP_FIXED (addr used as is).
 * Returns the address, or -errno.
 */
export function do_mmap(
  cpu: Cpu,
  mm: number,
  addr: number,
  len: number,
  prot: number,
  flags: number,
  file: number,
  pgoff: number,
): number {
  cpu.w[cpu.vm + VM.mmap]!++;
  charge(COST[C_SYSCALL]!);
  mmap_write_lock(cpu, mm, SITE.do_mmap);
  const r = __do_mmap(cpu, mm, addr, len, prot, flags, file, pgoff);
  mmap_write_unlock(cpu, mm);
  return r;
}

export function __do_mmap(
  cpu: Cpu,
  mm: number,
  addr: number,
  len: number,
  prot: number,
  flags: number,
  file: number,
  pgoff: number,
): number {
  const w = cpu.w;
  const l = cpu.l;
  if (len <= 0 || len > TASK_SIZE) return EINVAL;
  len = pageAlign(len);
  const anon = (flags & MAP_ANONYMOUS) !== 0;
  if (!anon && (file < 0 || file >= l.maxFiles)) return EINVAL;
  if (flags & MAP_FIXED) {
    addr = addr >>> 0;
    if (addr & (PAGE_SIZE - 1) || addr + len > TASK_SIZE) return EINVAL;
    const r = __do_munmap(cpu, mm, addr, len);
    if (r < 0) return r;
  } else {
    addr = get_unmapped_area(cpu, mm, len);
    if (addr < 0) return ENOMEM;
  }
  let vflags = (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE | VM_MAYWRITE : 0);
  if (flags & MAP_SHARED) vflags |= VM_SHARED;
  let ino = anon ? NIL : file;
  if (anon && flags & MAP_SHARED) {
    // the shmem object's size: at most config.filePages, the largest inode of the layout's page cache
    // (a bigger one is refused as shmem_file_setup refuses a size past its limit: -EINVAL)
    if (len >>> PAGE_SHIFT > l.filePages) return EINVAL;
    ino = shmem_inode_new(cpu, len >>> PAGE_SHIFT);
    if (ino < 0) return ENOMEM;
    vflags |= VM_ANON_SHARED;
    pgoff = 0;
  } else if (anon) {
    pgoff = addr >>> PAGE_SHIFT; // anon vm_pgoff = virtual page number (anon_vma)
  } else {
    inode_get(cpu, ino);
  }
  const v = vm_area_alloc(cpu, cpu.vmaCache, mm);
  if (v === NIL) {
    if (ino >= 0) inode_put(cpu, ino);
    return ENOMEM;
  }
  const b = vmaBase(l, v);
  w[b + VMA_START] = addr;
  w[b + VMA_END] = addr + len;
  w[b + VMA_FLAGS] = vflags;
  w[b + VMA_FILE] = ino;
  w[b + VMA_PGOFF] = pgoff;
  w[b + VMA_ANON] = NIL;
  vma_link(cpu, mm, v);
  const prev = w[b + VMA_PREV]!;
  if (prev >= 0 && can_vma_merge(w, l, prev, v)) vma_merge(cpu, cpu.vmaCache, mm, prev, v);
  return addr;
}

/**
 * Move the pte of src (in table spt) to dst, re-pointing the page's reverse
 * mapping at the new pte (page_remove_rmap at src, page_add_rmap at dst).
 * Anonymous pages keep page->index under anon_vma (the new VMA carries the
 * old vm_pgoff); under anonmm the add at dst is the page's first mapping
 * again, which records its new address (the caller made sure no other pte
 * maps it). The pte is read again under its lock: none there, nothing
 * moves; `orig` (anonmm_move_pte: the pte it decided on) not there any
 * more, nothing moves and MOVE_CHANGED says look again.
 */
function move_one_pte(cpu: Cpu, mm: number, oldVma: number, newVma: number, spt: number, src: number, dst: number, orig = ANY_PTE): number {
  const w = cpu.w;
  const l = cpu.l;
  const sAddr = pteAddrOf(spt, pte_index(src));
  const dpt = pte_alloc(cpu, mm, dst, cpu.rmap.ptOrder);
  if (dpt === NIL || !cpu.rmap.prealloc(cpu)) return ENOMEM;
  const dAddr = pteAddrOf(dpt, pte_index(dst));
  let ptl = pte_lock(cpu, mm, spt, SITE.mremap);
  const cur = Atomics.load(w, l.frames + sAddr);
  const changed = orig !== ANY_PTE && cur !== orig;
  if (cur === 0 || changed) {
    pte_unlock(cpu, ptl);
    return changed ? MOVE_CHANGED : 0;
  }
  const pte = Atomics.exchange(w, l.frames + sAddr, 0);
  w[pageStruct(l, spt) + PG_PT_NR]!--;
  const mapped = pte_present(pte) && pte_pfn(pte) !== ZERO_PFN;
  if (mapped) page_remove_rmap(cpu, cpu.rmap, pte_pfn(pte), sAddr, oldVma, src);
  pte_unlock(cpu, ptl);
  ptl = pte_lock(cpu, mm, dpt, SITE.mremap);
  Atomics.store(w, l.frames + dAddr, pte);
  w[pageStruct(l, dpt) + PG_PT_NR]!++;
  if (mapped) page_add_rmap(cpu, cpu.rmap, pte_pfn(pte), dAddr, newVma, dst);
  pte_unlock(cpu, ptl);
  return 0;
}

/** Is the pte of addr in table spt none, read under its lock? */
function pte_none_locked(cpu: Cpu, mm: number, spt: number, addr: number): boolean {
  const ptl = pte_lock(cpu, mm, spt, SITE.mremap);
  const none = Atomics.load(cpu.w, cpu.l.frames + pteAddrOf(spt, pte_index(addr))) === 0;
  pte_unlock(cpu, ptl);
  return none;
}

/**
 * move_page_tables: move the ptes of [old, old+len) to [neu, neu+len) in mm
 * (mmap_sem held for writing), one pte at a time; under anonmm through
 * anonmm_move_pte. A pte read none without its lock is skipped only once
 * its lock confirms it (2.6.7 get_one_pte_map_nested tests pte_none under
 * page_table_lock): reclaim/flip.ts clears a pte and sets it to the new
 * frame under that lock, and a move that skipped the pte in between left
 * the page mapped at the old address, which munmap then zapped — the page
 * gone from the new one (the migrate stress: anonymous pages read zeros).
 */
function move_page_tables(cpu: Cpu, mm: number, oldVma: number, newVma: number, old: number, neu: number, len: number): number {
  const w = cpu.w;
  const l = cpu.l;
  const byAddress = cpu.rmap.addressTracksPage === true;
  for (let off = 0; off < len; off += PAGE_SIZE) {
    const src = (old + off) >>> 0;
    const dst = (neu + off) >>> 0;
    const spt = pte_table(cpu, mm, src);
    if (spt === NIL) {
      off = (((src & ~0x3fffff) >>> 0) + 0x400000 - old - PAGE_SIZE) >>> 0; // skip the empty 4 MiB slot
      continue;
    }
    if (Atomics.load(w, l.frames + pteAddrOf(spt, pte_index(src))) === 0 && pte_none_locked(cpu, mm, spt, src)) continue;
    const r = byAddress ? anonmm_move_pte(cpu, mm, oldVma, newVma, spt, src, dst) : move_one_pte(cpu, mm, oldVma, newVma, spt, src, dst);
    if (r < 0) return r;
  }
  flush_tlb_mm(cpu, mm);
  return 0;
}

/**
 * anonmm (rmap/anonmm.ts), Hugh Dickins' "rmap 11 mremap moves": an
 * anonymous page is found at one address in every mm of its family, so
 * only a page no other pte maps, and that no swap pte can bring back
 * elsewhere (_mapcount 0 besides us; not in the swap cache, or its slot
 * used by the cache alone), moves with its new address. Any other page is
 * copied now (early C-O-W): the copy is mapped at dst and the original
 * stays at the old address for the rest of the family. A swap pte whose
 * slot others also use is swapped in first and then treated like a present
 * page. The page is locked while its mappings are decided and moved, so no
 * swap-in or reclaim maps or unmaps it meanwhile.
 */
function anonmm_move_pte(cpu: Cpu, mm: number, oldVma: number, newVma: number, spt: number, src: number, dst: number): number {
  const w = cpu.w;
  const l = cpu.l;
  const sOff = l.frames + pteAddrOf(spt, pte_index(src));
  for (;;) {
    const pte = Atomics.load(w, sOff);
    const swap = is_swap_pte(pte);
    // moved as it is: a swap pte that is its slot's only user; none (or a flip's cleared pte:
    // flip.ts holds its lock until the new frame is in); the zero page
    if (swap ? swap_count(w, l, pte) <= 1 : !pte_present(pte) || pte_pfn(pte) === ZERO_PFN) {
      const r = move_one_pte(cpu, mm, oldVma, newVma, spt, src, dst, pte);
      if (r === MOVE_CHANGED) continue;
      return r;
    }
    if (swap) {
      const r = do_swap_page(cpu, mm, oldVma, src, spt, pte, false);
      if (r === VM_FAULT_OOM) return ENOMEM;
      if (r < 0) return EFAULT;
      continue;
    }
    // pin the page under the pte lock (reclaim may unmap it as soon as we let go), then lock it
    const pfn = pte_pfn(pte);
    let ptl = pte_lock(cpu, mm, spt, SITE.mremap);
    const same = Atomics.load(w, sOff) === pte;
    if (same) get_page(cpu, pfn);
    pte_unlock(cpu, ptl);
    if (!same) continue;
    const p = pageStruct(l, pfn);
    if ((Atomics.load(w, p + PG_FLAGS) & PG_anon) === 0) {
      put_page(cpu, pfn);
      return move_one_pte(cpu, mm, oldVma, newVma, spt, src, dst); // a file page (whatever maps it now): i_mmap finds it in the new VMA
    }
    lock_page_sleep(cpu, pfn, SITE.mremap);
    ptl = pte_lock(cpu, mm, spt, SITE.mremap);
    const still = pte_present(Atomics.load(w, sOff)) && pte_pfn(Atomics.load(w, sOff)) === pfn;
    pte_unlock(cpu, ptl);
    let r = 0;
    if (still) {
      const flags = Atomics.load(w, p + PG_FLAGS);
      const exclusive = Atomics.load(w, p + PG_MAPCOUNT) === 0 && ((flags & PG_swapcache) === 0 || swap_count(w, l, w[p + PG_PRIVATE]!) === 1);
      r = exclusive ? move_one_pte(cpu, mm, oldVma, newVma, spt, src, dst) : mremap_cow(cpu, mm, oldVma, newVma, spt, src, dst, pfn);
    }
    unlock_page(cpu, pfn);
    put_page(cpu, pfn);
    if (still) return r;
  }
}

/** The early C-O-W of anonmm_move_pte: a private copy of locked page pfn replaces the pte at src, mapped at dst. */
function mremap_cow(cpu: Cpu, mm: number, oldVma: number, newVma: number, spt: number, src: number, dst: number, pfn: number): number {
  const w = cpu.w;
  const l = cpu.l;
  if (!cpu.rmap.prealloc(cpu) || !cpu.rmap.anon_vma_prepare(cpu, newVma)) return ENOMEM;
  const dpt = pte_alloc(cpu, mm, dst, cpu.rmap.ptOrder);
  if (dpt === NIL) return ENOMEM;
  const np = alloc_page_vma(cpu, mm, SITE.mremap);
  if (np < 0) return ENOMEM;
  // every pte of a page others share is read-only (COW), so nobody writes it while it is copied
  copy_page(cpu, np, pfn);
  Atomics.or(w, pageStruct(l, np) + PG_FLAGS, PG_anon);
  const sAddr = pteAddrOf(spt, pte_index(src));
  const dAddr = pteAddrOf(dpt, pte_index(dst));
  let ptl = pte_lock(cpu, mm, spt, SITE.mremap);
  const pte = Atomics.exchange(w, l.frames + sAddr, 0);
  w[pageStruct(l, spt) + PG_PT_NR]!--;
  if (pte_dirty(pte)) Atomics.or(w, pageStruct(l, pfn) + PG_FLAGS, PG_dirty);
  page_remove_rmap(cpu, cpu.rmap, pfn, sAddr, oldVma, src);
  pte_unlock(cpu, ptl);
  // now, not at move_page_tables' end: the page's last reference may go before that, and a CPU of this
  // mm must not read it through the old translation once it is freed
  flush_tlb_page(cpu, mm, src);
  const rw = (w[vmaBase(l, newVma) + VMA_FLAGS]! & VM_WRITE) !== 0 ? _PAGE_RW : 0;
  ptl = pte_lock(cpu, mm, dpt, SITE.mremap);
  Atomics.store(w, l.frames + dAddr, mk_pte(np, _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY | rw));
  w[pageStruct(l, dpt) + PG_PT_NR]!++;
  page_add_rmap(cpu, cpu.rmap, np, dAddr, newVma, dst);
  pte_unlock(cpu, ptl);
  lru_cache_add_anon(cpu, np);
  put_page(cpu, pfn); // the old pte's reference (the caller still pins the page)
  w[cpu.vm + VM.mremap_cow]!++;
  return 0;
}

/** mremap(old, oldLen, newLen, MREMAP_MAYMOVE?) → new address or -errno. */
export function do_mremap(cpu: Cpu, mm: number, old: number, oldLen: number, newLen: number, mayMove: boolean): number {
  cpu.w[cpu.vm + VM.mremap]!++;
  charge(COST[C_SYSCALL]!);
  mmap_write_lock(cpu, mm, SITE.mremap);
  const r = __do_mremap(cpu, mm, old >>> 0, pageAlign(oldLen), pageAlign(newLen), mayMove);
  mmap_write_unlock(cpu, mm);
  return r;
}

function __do_mremap(cpu: Cpu, mm: number, old: number, oldLen: number, newLen: number, mayMove: boolean): number {
  const w = cpu.w;
  const l = cpu.l;
  if (old & (PAGE_SIZE - 1) || oldLen <= 0 || newLen <= 0) return EINVAL;
  const v = find_vma(cpu, mm, old);
  if (v === NIL) return EFAULT;
  const b = vmaBase(l, v);
  const vs = w[b + VMA_START]! >>> 0;
  const ve = w[b + VMA_END]! >>> 0;
  if (vs > old || old + oldLen > ve) return EFAULT;
  if (newLen === oldLen) return old;
  if (newLen < oldLen) {
    const r = __do_munmap(cpu, mm, old + newLen, oldLen - newLen);
    return r < 0 ? r : old;
  }
  // grow in place if the range ends the VMA and the gap after it is free
  if (old + oldLen === ve) {
    const next = w[b + VMA_NEXT]!;
    const limit = next >= 0 ? w[vmaBase(l, next) + VMA_START]! >>> 0 : TASK_SIZE;
    if (old + newLen <= limit && (w[b + VMA_FLAGS]! & VM_ANON_SHARED) === 0) {
      vma_unlink(cpu, mm, v);
      w[b + VMA_END] = old + newLen;
      vma_link(cpu, mm, v);
      return old;
    }
  }
  if (!mayMove) return ENOMEM;
  const neu = get_unmapped_area(cpu, mm, newLen);
  if (neu < 0) return ENOMEM;
  const n = vm_area_alloc(cpu, cpu.vmaCache, mm);
  if (n === NIL) return ENOMEM;
  const nb = vmaBase(l, n);
  const ino = w[b + VMA_FILE]!;
  w[nb + VMA_START] = neu;
  w[nb + VMA_END] = neu + newLen;
  w[nb + VMA_FLAGS] = w[b + VMA_FLAGS]!;
  w[nb + VMA_FILE] = ino;
  w[nb + VMA_PGOFF] = w[b + VMA_PGOFF]! + ((old - vs) >>> PAGE_SHIFT);
  w[nb + VMA_ANON] = w[b + VMA_ANON]!;
  if (ino >= 0) inode_get(cpu, ino);
  vma_link(cpu, mm, n);
  anon_vma_link(cpu, n); // the moved pages keep (anon_vma, index): n must be on the list first
  const r = move_page_tables(cpu, mm, v, n, old, neu, oldLen);
  if (r < 0) return r;
  const u = __do_munmap(cpu, mm, old, oldLen);
  return u < 0 ? u : neu;
}

export { I_USERS, inodeBase };
