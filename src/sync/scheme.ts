/*
 * scheme.ts — the lock *scheme*: which lock guards what (DESIGN.md §4).
 *
 * MM code never names a lock word; it asks the scheme ("lock the pte table
 * that maps this address", "lock the LRU"), so the same fault path runs under
 * every scheme:
 *
 *   bkl    one global, recursive lock (lock_kernel): every lock the MM asks
 *          for — mmap_sem, pte locks, the LRU, the zone, the table
 *          allocators — is kernel_flag (2.0's lock_kernel around all of
 *          mm/); nested requests only bump the recursion depth.
 *   2.4    per-mm mmap_sem (rwsem) and page_table_lock (all of an mm's page
 *          tables, rss), global pagemap_lru_lock, global pagecache_lock, the
 *          zone lock on every allocation (no per-CPU lists). Reverse-map
 *          chains use the per-page PG_chainlock, as the later 2.4-rmap
 *          patches did (pte_chain_lock); guarding them with pagemap_lru_lock,
 *          as the first ones did, would make lru_lock-inside-chain-lock a
 *          self-deadlock.
 *   split  per-mm mmap_sem; one spinlock per page-table page in its struct
 *          page (2.6.15 "split page table lock"), page_table_lock only for
 *          populating the pgd; per-page chain bit-locks (PG_chainlock);
 *          per-mapping tree_lock; per-CPU page lists and LRU pagevecs.
 *
 * The lock order (written once, in index.ts) holds in every scheme.
 */
import type { CpuBase } from '../machine/cpu.js';
import { LS_BKL, LS_24, INJECT_NO_ZONE_LOCK, INJECT_NO_PTE_LOCK, INJECT_NO_LRU_LOCK } from '../machine/cpu.js';
import {
  LK_HOLDER,
  G_BKL,
  G_LRU,
  G_PAGECACHE,
  G_SWAP,
  G_ZONE,
  G_MMLIST,
  PG_PTL,
  MM_MMAP_SEM,
  MM_PAGE_TABLE_LOCK,
  I_TREE_LOCK,
  globalLine,
  mmBase,
  pageStruct,
  inodeBase,
} from '../machine/layout.js';
import {
  C_BKL,
  C_MMAP_SEM,
  C_PAGE_TABLE_LOCK,
  C_PTL,
  C_LRU_LOCK,
  C_ZONE_LOCK,
  C_PAGECACHE_LOCK,
  C_TREE_LOCK,
  C_SWAP_LOCK,
  C_MMLIST_LOCK,
} from './classes.js';
import { spin_lock, spin_unlock, spin_trylock, assertHeld } from './spinlock.js';
import { down_read, up_read, down_write, up_write } from './rwsem.js';
import { pte_chain_lock, pte_chain_unlock, assertChainLocked } from './pagelock.js';

/* ---- the big kernel lock: recursive per CPU (task->lock_depth) ---- */
export function lock_kernel(cpu: CpuBase, site: number): void {
  if (cpu.bklDepth++ === 0) spin_lock(cpu, globalLine(cpu.l, G_BKL), C_BKL, site);
}
export function unlock_kernel(cpu: CpuBase): void {
  if (--cpu.bklDepth === 0) spin_unlock(cpu, globalLine(cpu.l, G_BKL), C_BKL);
}
export function kernel_trylock(cpu: CpuBase, site: number): boolean {
  if (cpu.bklDepth > 0 || spin_trylock(cpu, globalLine(cpu.l, G_BKL), C_BKL, site)) {
    cpu.bklDepth++;
    return true;
  }
  return false;
}

/* ---- mmap_sem ---- */
export function mmap_read_lock(cpu: CpuBase, mm: number, site: number): void {
  if (cpu.lockScheme === LS_BKL) lock_kernel(cpu, site);
  else down_read(cpu, mmBase(cpu.l, mm) + MM_MMAP_SEM, C_MMAP_SEM, site);
}
export function mmap_read_unlock(cpu: CpuBase, mm: number): void {
  if (cpu.lockScheme === LS_BKL) unlock_kernel(cpu);
  else up_read(cpu, mmBase(cpu.l, mm) + MM_MMAP_SEM, C_MMAP_SEM);
}
export function mmap_write_lock(cpu: CpuBase, mm: number, site: number): void {
  if (cpu.lockScheme === LS_BKL) lock_kernel(cpu, site);
  else down_write(cpu, mmBase(cpu.l, mm) + MM_MMAP_SEM, C_MMAP_SEM, site);
}
export function mmap_write_unlock(cpu: CpuBase, mm: number): void {
  if (cpu.lockScheme === LS_BKL) unlock_kernel(cpu);
  else up_write(cpu, mmBase(cpu.l, mm) + MM_MMAP_SEM, C_MMAP_SEM);
}

/*
 * ---- "caller holds" contracts, checked under config.debug (no-ops otherwise) ----
 * The kernel's mmap_assert_locked / mmap_assert_write_locked (5.8) and
 * assert_spin_locked on the pte lock, in the lock the scheme maps them to:
 * kernel_flag under `bkl`.
 */
const assertBkl = (cpu: CpuBase) => assertHeld(cpu, globalLine(cpu.l, G_BKL), C_BKL);

/** The caller holds mm's mmap_sem, for reading or writing. */
export function mmap_assert_locked(cpu: CpuBase, mm: number): void {
  if (!cpu.debug) return;
  if (cpu.lockScheme === LS_BKL) assertBkl(cpu);
  else assertHeld(cpu, mmBase(cpu.l, mm) + MM_MMAP_SEM, C_MMAP_SEM);
}

/** The caller holds mm's mmap_sem for writing. */
export function mmap_assert_write_locked(cpu: CpuBase, mm: number): void {
  if (!cpu.debug) return;
  if (cpu.lockScheme === LS_BKL) return assertBkl(cpu);
  const off = mmBase(cpu.l, mm) + MM_MMAP_SEM;
  if (cpu.w[off + LK_HOLDER] !== cpu.id + 1) throw new Error(`mmap_assert_write_locked: cpu ${cpu.id} does not hold mmap_sem of mm ${mm} for writing`);
}

/** The caller holds the lock of page-table page ptPfn of mm (pte_lock). */
export function pte_assert_locked(cpu: CpuBase, mm: number, ptPfn: number): void {
  if (!cpu.debug) return;
  const off = pte_lockptr(cpu, mm, ptPfn);
  if (off === PTL_BKL) assertBkl(cpu);
  else if (off >= 0) assertHeld(cpu, off, ptlClass(cpu));
}

/** The caller holds mm->page_table_lock (kernel_flag under bkl). */
export function mm_ptl_assert_locked(cpu: CpuBase, mm: number): void {
  if (!cpu.debug) return;
  if (cpu.lockScheme === LS_BKL) assertBkl(cpu);
  else assertHeld(cpu, mmBase(cpu.l, mm) + MM_PAGE_TABLE_LOCK, C_PAGE_TABLE_LOCK);
}

/** The caller holds the spinlock at `off` of class `cls` (kernel_flag under bkl): scheme_spin_lock's. */
export function scheme_assert_spin_locked(cpu: CpuBase, off: number, cls: number): void {
  if (!cpu.debug) return;
  if (cpu.lockScheme === LS_BKL) assertBkl(cpu);
  else assertHeld(cpu, off, cls);
}

/** The caller holds the LRU lock (none to check under the planted no_lru_lock bug). */
export function lru_assert_locked(cpu: CpuBase): void {
  if (cpu.debug && cpu.inject !== INJECT_NO_LRU_LOCK) scheme_assert_spin_locked(cpu, globalLine(cpu.l, G_LRU), C_LRU_LOCK);
}

/** The caller holds zone->lock (none to check under the planted no_zone_lock bug). */
export function zone_assert_locked(cpu: CpuBase): void {
  if (cpu.debug && cpu.inject !== INJECT_NO_ZONE_LOCK) scheme_assert_spin_locked(cpu, globalLine(cpu.l, G_ZONE), C_ZONE_LOCK);
}

/** The caller holds swap_lock. */
export function swap_assert_locked(cpu: CpuBase): void {
  if (cpu.debug) scheme_assert_spin_locked(cpu, globalLine(cpu.l, G_SWAP), C_SWAP_LOCK);
}

/** The caller holds the page-cache lock of `inode`'s mapping (see mapping_lock). */
export function mapping_assert_locked(cpu: CpuBase, inode: number): void {
  if (!cpu.debug) return;
  if (cpu.lockScheme === LS_BKL) assertBkl(cpu);
  else if (cpu.lockScheme === LS_24) assertHeld(cpu, globalLine(cpu.l, G_PAGECACHE), C_PAGECACHE_LOCK);
  else assertHeld(cpu, inodeBase(cpu.l, inode) + I_TREE_LOCK, C_TREE_LOCK);
}

/** The caller holds page `pfn`'s reverse-map chain lock (see chain_lock). */
export function chain_assert_locked(cpu: CpuBase, pfn: number): void {
  if (!cpu.debug) return;
  if (cpu.lockScheme === LS_BKL) assertBkl(cpu);
  else assertChainLocked(cpu, pfn);
}

/* ---- page-table locks ---- */
/** pte_lock's value for "kernel_flag" (bkl scheme) */
export const PTL_BKL = -3;

/** Word offset of the lock guarding the ptes in page-table page `ptPfn` of `mm` (-1: none, PTL_BKL). */
export function pte_lockptr(cpu: CpuBase, mm: number, ptPfn: number): number {
  if (cpu.inject === INJECT_NO_PTE_LOCK) return -1; // planted bug (tests only)
  switch (cpu.lockScheme) {
    case LS_BKL:
      return PTL_BKL;
    case LS_24:
      return mmBase(cpu.l, mm) + MM_PAGE_TABLE_LOCK;
    default:
      return pageStruct(cpu.l, ptPfn) + PG_PTL;
  }
}
const ptlClass = (cpu: CpuBase) => (cpu.lockScheme === LS_24 ? C_PAGE_TABLE_LOCK : C_PTL);

/** pte_offset_map_lock: lock the table holding the pte. Returns the lock taken (for pte_unlock). */
export function pte_lock(cpu: CpuBase, mm: number, ptPfn: number, site: number): number {
  const off = pte_lockptr(cpu, mm, ptPfn);
  if (off >= 0) spin_lock(cpu, off, ptlClass(cpu), site);
  else if (off === PTL_BKL) lock_kernel(cpu, site);
  return off;
}
/** Returns the lock taken, or -2 if it is busy. */
export function pte_trylock(cpu: CpuBase, mm: number, ptPfn: number, site: number): number {
  const off = pte_lockptr(cpu, mm, ptPfn);
  if (off === PTL_BKL) return kernel_trylock(cpu, site) ? off : -2;
  if (off < 0) return off;
  return spin_trylock(cpu, off, ptlClass(cpu), site) ? off : -2;
}
export function pte_unlock(cpu: CpuBase, off: number): void {
  if (off >= 0) spin_unlock(cpu, off, ptlClass(cpu));
  else if (off === PTL_BKL) unlock_kernel(cpu);
}

/** mm->page_table_lock: populating the pgd (every scheme but bkl). */
export function mm_ptl_lock(cpu: CpuBase, mm: number, site: number): void {
  if (cpu.lockScheme !== LS_BKL) spin_lock(cpu, mmBase(cpu.l, mm) + MM_PAGE_TABLE_LOCK, C_PAGE_TABLE_LOCK, site);
  else lock_kernel(cpu, site);
}
/** Trylock mm->page_table_lock (kernel_flag under bkl); false if it is busy. */
export function mm_ptl_trylock(cpu: CpuBase, mm: number, site: number): boolean {
  if (cpu.lockScheme === LS_BKL) return kernel_trylock(cpu, site);
  return spin_trylock(cpu, mmBase(cpu.l, mm) + MM_PAGE_TABLE_LOCK, C_PAGE_TABLE_LOCK, site);
}
export function mm_ptl_unlock(cpu: CpuBase, mm: number): void {
  if (cpu.lockScheme !== LS_BKL) spin_unlock(cpu, mmBase(cpu.l, mm) + MM_PAGE_TABLE_LOCK, C_PAGE_TABLE_LOCK);
  else unlock_kernel(cpu);
}

/* ---- any other lock word (a global line, an inode's, a table allocator's) ---- */
/** Lock the spinlock at `off` — or kernel_flag under the bkl scheme. */
export function scheme_spin_lock(cpu: CpuBase, off: number, cls: number, site: number): void {
  if (cpu.lockScheme !== LS_BKL) spin_lock(cpu, off, cls, site);
  else lock_kernel(cpu, site);
}
export function scheme_spin_unlock(cpu: CpuBase, off: number, cls: number): void {
  if (cpu.lockScheme !== LS_BKL) spin_unlock(cpu, off, cls);
  else unlock_kernel(cpu);
}
const globalLock = (cpu: CpuBase, g: number, cls: number, site: number) =>
  scheme_spin_lock(cpu, globalLine(cpu.l, g), cls, site);
const globalUnlock = (cpu: CpuBase, g: number, cls: number) => scheme_spin_unlock(cpu, globalLine(cpu.l, g), cls);
export function lru_lock(cpu: CpuBase, site: number): void {
  if (cpu.inject !== INJECT_NO_LRU_LOCK) globalLock(cpu, G_LRU, C_LRU_LOCK, site);
}
export function lru_unlock(cpu: CpuBase): void {
  if (cpu.inject !== INJECT_NO_LRU_LOCK) globalUnlock(cpu, G_LRU, C_LRU_LOCK);
}
export function zone_lock(cpu: CpuBase, site: number): void {
  if (cpu.inject !== INJECT_NO_ZONE_LOCK) globalLock(cpu, G_ZONE, C_ZONE_LOCK, site);
}
export function zone_unlock(cpu: CpuBase): void {
  if (cpu.inject !== INJECT_NO_ZONE_LOCK) globalUnlock(cpu, G_ZONE, C_ZONE_LOCK);
}
export const swap_lock = (cpu: CpuBase, site: number) => globalLock(cpu, G_SWAP, C_SWAP_LOCK, site);
export const swap_unlock = (cpu: CpuBase) => globalUnlock(cpu, G_SWAP, C_SWAP_LOCK);
export const mmlist_lock = (cpu: CpuBase, site: number) => globalLock(cpu, G_MMLIST, C_MMLIST_LOCK, site);
export const mmlist_unlock = (cpu: CpuBase) => globalUnlock(cpu, G_MMLIST, C_MMLIST_LOCK);

/** The page-cache lock for a mapping: global pagecache_lock (2.4) or mapping->tree_lock (split). */
export function mapping_lock(cpu: CpuBase, inode: number, site: number): void {
  if (cpu.lockScheme === LS_BKL) lock_kernel(cpu, site);
  else if (cpu.lockScheme === LS_24) spin_lock(cpu, globalLine(cpu.l, G_PAGECACHE), C_PAGECACHE_LOCK, site);
  else spin_lock(cpu, inodeBase(cpu.l, inode) + I_TREE_LOCK, C_TREE_LOCK, site);
}
export function mapping_unlock(cpu: CpuBase, inode: number): void {
  if (cpu.lockScheme === LS_BKL) unlock_kernel(cpu);
  else if (cpu.lockScheme === LS_24) spin_unlock(cpu, globalLine(cpu.l, G_PAGECACHE), C_PAGECACHE_LOCK);
  else spin_unlock(cpu, inodeBase(cpu.l, inode) + I_TREE_LOCK, C_TREE_LOCK);
}

/** The lock over one page's reverse-map chain: PG_chainlock (2.4, split) or kernel_flag (bkl). */
export function chain_lock(cpu: CpuBase, pfn: number, site: number): void {
  if (cpu.lockScheme === LS_BKL) lock_kernel(cpu, site);
  else pte_chain_lock(cpu, pfn, site);
}
export function chain_unlock(cpu: CpuBase, pfn: number): void {
  if (cpu.lockScheme === LS_BKL) unlock_kernel(cpu);
  else pte_chain_unlock(cpu, pfn);
}

/** Does this scheme use per-CPU page lists and pagevecs? */
export const usesPcp = (cpu: CpuBase) => cpu.lockScheme !== LS_24 && cpu.lockScheme !== LS_BKL;
