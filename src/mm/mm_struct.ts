/*
 * mm_struct.ts — address spaces: the mm table (layout MM_*).
 *
 * mm_alloc builds a fresh mm (pgd, mm_users = 1, no VMAs) from the mm
 * table's slab, its mmap_sem and page_table_lock as the last user left them
 * (free, or held a moment longer by a stale walker: see below); mm_free
 * returns it. An mm is
 * on the global mmlist (init_mm.mmlist, under mmlist_lock) while alive, as in
 * 2.4, so that swap_out and swapoff can find every address space.
 *
 * Locking: the slot's fields belong to whoever holds the mm's mmap_sem for
 * writing, except MM_RSS (Atomics.add: faults under split ptls race on it, as
 * 2.6.16's atomic mm counters) and the mmlist links (mmlist_lock). swap_out's
 * cursor (K_SWAP_MM, reclaim/swapout.ts) is under mmlist_lock too: mm_free
 * moves it off the mm it unlinks, as 2.4's mmput does with swap_mm
 * ("if (swap_mm == mm) swap_mm = list_entry(mm->mmlist.next, ...)"), so
 * swap_out never starts from a slot that is free or being built again (a
 * trylock of the old mmap_sem, zeroed by the next mm_alloc under it, left the
 * new mm's count at -1: held for writing for ever). For the same reason
 * mm_free sets MM_PGD to NIL under mmlist_lock: try_to_unuse, which checks
 * the mms of its list by that test under mmlist_lock before it pins them,
 * never pins a slot mm_free has passed.
 *
 * mm_users (MM_USERS): mm_alloc's user, one more per thread sharing the mm
 * (mmget), and a walker's pin: try_to_unuse (reclaim/swapoff.ts) finds an
 * mm on the mmlist under mmlist_lock and pins it with mmget_not_zero, so
 * that it cannot go away while mmlist_lock is dropped and the walker sleeps
 * on its mmap_sem (2.6 try_to_unuse's atomic_inc(&mm->mm_users)). Whoever
 * drops the last user (mmput) tears the mm down — a task exiting, or the
 * walker if the task exited while it held its pin. The teardown is vm/'s
 * exit_mmap, called through mm_hooks (mm/ sits below vm/).
 *
 * The slot's two locks, mmap_sem and page_table_lock, are type-stable, as
 * the kernel's SLAB_TYPESAFE_BY_RCU caches (anon_vma's lock, initialised
 * once by its constructor and never on allocation, so page_lock_anon_vma
 * may lock an anon_vma that is being freed and then check it): they are
 * zero from boot and mm_alloc leaves them alone. A reverse-map walker that
 * found an mm under its rmap lock and trylocks its page_table_lock after
 * dropping that lock (reclaim/flip.ts) may so lock a slot that mm_free has
 * freed and mm_alloc handed out again; it then finds MM_PGD not leading to
 * its pte and lets go, and the new mm's first locker waits for it. Zeroed
 * under such a holder, the lock was left "held by nobody": the holder's
 * unlock took a ticket lock's owner past its next ticket, and every later
 * spin_lock waited for ever (the migrate stress's hang of 2026-12-07).
 */
import type { CpuBase } from '../machine/cpu.js';
import {
  NIL,
  MM_WORDS,
  MM_PGD,
  MM_USERS,
  MM_RSS,
  MM_MMAP,
  MM_MMAP_CACHE,
  MM_MAP_COUNT,
  MM_MMLIST_NEXT,
  MM_MMLIST_PREV,
  MM_SWAP_ADDRESS,
  MM_OWNER_CPU,
  MM_NR_PTES,
  MM_TOTAL_VM,
  MM_FREE_NEXT,
  MM_GEN,
  MM_MMAP_SEM,
  MM_PAGE_TABLE_LOCK,
  LOCK_WORDS,
  G_MMALLOC,
  AC_MM,
  G_MMLIST,
  G_KSWAPD,
  K_SWAP_MM,
  FL_HEAD,
  globalLine,
  mmBase,
} from '../machine/layout.js';
import { C_MM_ALLOC } from '../sync/classes.js';
import { SITE } from '../sync/classes.js';
import { mmlist_lock, mmlist_unlock, mm_ptl_lock, mm_ptl_unlock } from '../sync/scheme.js';
import { kmem_cache_alloc, kmem_cache_free, slabCache, type SlabCache } from './slab.js';
import { pgd_alloc, pgd_free } from './pgtable.js';
import { atomic_add_above } from './atomic.js';

const MMLIST_HEAD = FL_HEAD; // word in the G_MMLIST line: first mm on mmlist + 1

export function mmCache(cpu: CpuBase): SlabCache {
  const l = cpu.l;
  return slabCache(l, G_MMALLOC, C_MM_ALLOC, SITE.mm_alloc, l.mmTable, MM_WORDS, MM_FREE_NEXT, l.maxMm, AC_MM);
}

/** Allocate and initialise an mm; NIL if the table is full or no memory for a pgd. */
export function mm_alloc(cpu: CpuBase, cache: SlabCache): number {
  const mm = kmem_cache_alloc(cpu, cache);
  if (mm < 0) return NIL;
  const w = cpu.w;
  const b = mmBase(cpu.l, mm);
  const gen = w[b + MM_GEN]! + 1;
  // every word but the two locks, type-stable (see the header), and MM_PGD,
  // NIL until the new pgd is in: never a 0 that a stale walker would follow
  w.fill(0, b + MM_PGD + 1, b + MM_MMAP_SEM);
  w.fill(0, b + MM_MMAP_SEM + LOCK_WORDS, b + MM_PAGE_TABLE_LOCK);
  w.fill(0, b + MM_PAGE_TABLE_LOCK + LOCK_WORDS, b + MM_WORDS);
  w[b + MM_GEN] = gen;
  w[b + MM_MMAP] = NIL;
  w[b + MM_MMAP_CACHE] = NIL;
  w[b + MM_USERS] = 1;
  w[b + MM_OWNER_CPU] = cpu.id;
  const pgd = pgd_alloc(cpu, mm);
  if (pgd < 0) {
    kmem_cache_free(cpu, cache, mm);
    return NIL;
  }
  w[b + MM_PGD] = pgd;
  // link at the head of init_mm.mmlist
  const g = globalLine(cpu.l, G_MMLIST);
  mmlist_lock(cpu, SITE.mmlist);
  const first = w[g + MMLIST_HEAD]! - 1;
  w[b + MM_MMLIST_NEXT] = first;
  w[b + MM_MMLIST_PREV] = NIL;
  if (first >= 0) w[mmBase(cpu.l, first) + MM_MMLIST_PREV] = mm;
  w[g + MMLIST_HEAD] = mm + 1;
  mmlist_unlock(cpu);
  return mm;
}

/** Free an mm whose VMAs and page tables are gone (exit_mmap done). */
export function mm_free(cpu: CpuBase, cache: SlabCache, mm: number): void {
  const w = cpu.w;
  const b = mmBase(cpu.l, mm);
  const g = globalLine(cpu.l, G_MMLIST);
  mmlist_lock(cpu, SITE.mmlist);
  const next = w[b + MM_MMLIST_NEXT]!;
  const prev = w[b + MM_MMLIST_PREV]!;
  if (prev >= 0) w[mmBase(cpu.l, prev) + MM_MMLIST_NEXT] = next;
  else w[g + MMLIST_HEAD] = next + 1;
  if (next >= 0) w[mmBase(cpu.l, next) + MM_MMLIST_PREV] = prev;
  const cursor = globalLine(cpu.l, G_KSWAPD) + K_SWAP_MM;
  if (w[cursor] === mm + 1) w[cursor] = next + 1; // 0 (NIL + 1): swap_out starts from the head
  // dead for try_to_unuse's check under mmlist_lock before the slot can be reused
  const pgd = w[b + MM_PGD]!;
  w[b + MM_PGD] = NIL;
  mmlist_unlock(cpu);
  // spin_unlock_wait(&mm->page_table_lock): a walker that trylocked the
  // slot's page_table_lock and read MM_PGD before the NIL above is done
  // with the pgd before it is freed (reclaim/flip.ts)
  mm_ptl_lock(cpu, mm, SITE.exit_mmap);
  mm_ptl_unlock(cpu, mm);
  pgd_free(cpu, pgd);
  kmem_cache_free(cpu, cache, mm);
}

/**
 * The teardown of an mm whose last user left: vm/fork.ts's exit_mmap, which
 * unmaps everything and ends in mm_free. mm/ sits below vm/ and cannot
 * import it; vm/cpu.ts's makeCpu sets it before any mm exists.
 */
export const mm_hooks: { exit_mmap: (cpu: CpuBase, mm: number) => void } = {
  exit_mmap: () => {
    throw new Error('mmput: exit_mmap not installed (vm/cpu.ts makeCpu)');
  },
};

/** mmget: one more user of mm (a thread sharing it); the caller holds one already. */
export function mmget(cpu: CpuBase, mm: number): void {
  Atomics.add(cpu.w, mmBase(cpu.l, mm) + MM_USERS, 1);
}

/**
 * mmget_not_zero: pin an mm found on the mmlist, unless its last user has
 * gone (exit_mmap runs or is about to). Caller holds mmlist_lock and has
 * checked that the slot still holds the mm it listed (MM_PGD, MM_GEN). The
 * count never rises from 0, so a dying mm is never revived (2.6
 * try_to_unuse: "if (atomic_inc_return(&mm->mm_users) == 1)" undoes it).
 */
export const mmget_not_zero = (cpu: CpuBase, mm: number): boolean => atomic_add_above(cpu.w, mmBase(cpu.l, mm) + MM_USERS, 1, 0);

/**
 * mmput: drop a user of mm; the last one tears it down (mm_hooks.exit_mmap).
 * That takes mmap_sem for writing: the caller holds no page lock, no
 * spinlock and not mm's mmap_sem.
 */
export function mmput(cpu: CpuBase, mm: number): void {
  if (Atomics.sub(cpu.w, mmBase(cpu.l, mm) + MM_USERS, 1) === 1) mm_hooks.exit_mmap(cpu, mm);
}

/**
 * mmput_not_last: drop a user of mm unless it is the last one
 * (atomic_add_unless(&mm->mm_users, -1, 1)). False: the caller holds the
 * last user and must mmput where the teardown may run.
 */
export const mmput_not_last = (cpu: CpuBase, mm: number): boolean => atomic_add_above(cpu.w, mmBase(cpu.l, mm) + MM_USERS, -1, 1);

/** First mm on the mmlist (NIL if none); walk with MM_MMLIST_NEXT under mmlist_lock. */
export const mmlist_first = (cpu: CpuBase) => cpu.w[globalLine(cpu.l, G_MMLIST) + MMLIST_HEAD]! - 1;

export const mm_in_use = (w: Int32Array, l: CpuBase['l'], mm: number) => w[mmBase(l, mm) + MM_PGD]! !== NIL;

export {
  MM_PGD,
  MM_USERS,
  MM_RSS,
  MM_MMAP,
  MM_MAP_COUNT,
  MM_SWAP_ADDRESS,
  MM_TOTAL_VM,
  MM_NR_PTES,
  MM_MMAP_SEM,
};
