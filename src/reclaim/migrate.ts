/*
 * migrate.ts — page migration: move an in-use user page to another frame
 * so that its frame can be given to someone who needs that particular
 * frame (compaction, compact.ts).
 *
 * The mechanism is the 2.6.16 one (Christoph Lameter's first
 * migrate_pages(), which moved pages through the swap cache; REFERENCE.md
 * §8.3), on the fragmentation problem of seed 004 (Linus, Jan 1998: "it's
 * only when you want a _specific_ physical page that the lack of reverse
 * mapping is painful"): the reverse map finds every pte of the page, so the
 * page can be moved while processes keep using it.
 *
 *   isolate the old page from its LRU list (a reference), trylock it
 *   anonymous, not in the swap cache: add_to_swap (no swap: not movable)
 *   try_to_unmap through the rmap: every pte becomes the swap entry (anon)
 *     or none (file page: a later fault finds it in the page cache)
 *   under the cache lock of its key: if only the cache and we hold it,
 *     freeze its count (2 → 0: page_freeze_refs), copy the 4 KiB and the
 *     page state to the new frame, and swap the two in the cache slot
 *   unlock the new page and put it on the LRU where the old one was
 *   (a page parked on the clock policy's freeable queue moves parked:
 *   PG_freeable comes with MIGRATE_FLAGS and freeable_migrate queues the
 *   new frame and takes the flag off the old one, FQ_NR unchanged)
 *
 * Processes then fault the page back in from the swap or page cache as a
 * minor fault (do_swap_page / filemap_nopage find the new frame). 2.6.18's
 * migration entries — ptes rewritten to the new frame without a fault — are
 * not modelled. A shmem page moves like a file page (its inode's cache slot
 * is swapped under the inode's cache lock, which shmem_getpage's lookup
 * takes too); in the swap cache, like a swap-cache page.
 *
 * That is config.migrateMethod `swap`. The default, `flip`, replaces the
 * middle steps with try_to_flip_page_to (flip.ts): every pte is rewritten to
 * the new frame in place, no swap slot, no fault, shmem included; the outer
 * steps (isolation, page lock, putback, the old frame to the caller) are
 * the same.
 *
 * Counting: a frozen count of 0 with the cache lock held means nobody else
 * holds the page and nobody can find it (find_get_page and every cache
 * insertion take the same lock); any transient holder (a fault between its
 * lookup and lock_page, reclaim, swapoff) makes the freeze fail, and the
 * page goes back unmoved.
 *
 * Locking: entered with no lock held. LRU lock (isolation) ; page lock
 * (trylock) → rmap locks → pte locks (trylock, in try_to_unmap) ; page lock
 * → cache lock → bucket lock ; page locks of both frames → lru lock (a
 * parked page's new frame queued, freeable.ts freeable_migrate). The order
 * of vmscan.ts: migration is reclaim that keeps the page.
 */
import { PG_FLAGS, PG_COUNT, PG_MAPPING, PG_INDEX, PG_PRIVATE, PG_MAPCOUNT, pageStruct } from '../machine/layout.js';
import {
  PG_swapcache,
  PG_writeback,
  PG_freeable,
  PG_compound,
  SWAPPER_SPACE,
  isFileMapping,
} from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { INJECTIONS } from '../config.js';
import { SITE } from '../sync/classes.js';
import { trylock_page, unlock_page } from '../sync/pagelock.js';
import { copy_page } from '../mm/clear_page.js';
import { prep_new_page } from '../mm/page_alloc.js';
import { cache_lock, cache_unlock, page_cache_mapping, __remove_from_page_cache, __add_to_page_cache } from '../mm/filemap.js';
import { SWAP_SUCCESS } from '../rmap/types.js';
import { bkl_enter, bkl_exit, type ReclaimCpu } from './context.js';
import { isolate_lru_page, putback_lru_pages } from './lru.js';
import { swap_writeok } from './swapfile.js';
import { add_to_swap } from './swap_state.js';
import { try_to_flip_page_to } from './flip.js';
import { freeable_migrate } from './freeable.js';
import { MIGRATE_OK, MIGRATE_BUSY, MIGRATE_NOSWAP, MIGRATE_UNMOVABLE, MIGRATE_FLAGS, METHOD_FLIP } from './migrate_codes.js';

const INJECT_NO_MIGRATE_COPY = INJECTIONS.indexOf('no_migrate_copy');

export { MIGRATE_OK, MIGRATE_BUSY, MIGRATE_NOSWAP, MIGRATE_UNMOVABLE } from './migrate_codes.js';

/** putback_lru_pages' one-page vector (per thread; callers may be using cpu.scratch) */
const one = new Int32Array(1);

/** The body of migrate_page with the old page isolated and locked; on MIGRATE_OK the new page is locked and cached. */
function migrate_locked(cpu: ReclaimCpu, old: number, to: number): number {
  const w = cpu.w;
  const l = cpu.l;
  const op = pageStruct(l, old);
  const flags = Atomics.load(w, op + PG_FLAGS);
  if ((flags & PG_writeback) !== 0) return MIGRATE_BUSY; // issue 18: in flight (a parked page moves parked: MIGRATE_FLAGS)
  if ((flags & PG_compound) !== 0) return MIGRATE_UNMOVABLE;
  const mapping = w[op + PG_MAPPING]!;
  let swapcache = (flags & PG_swapcache) !== 0;
  const file = !swapcache && isFileMapping(mapping);
  const mapped = () => Atomics.load(w, op + PG_MAPCOUNT) >= 0;
  if (!swapcache && !file) {
    if (!mapped()) return MIGRATE_BUSY; // an anonymous page on its way out
    if (!swap_writeok(cpu) || !add_to_swap(cpu, old)) return MIGRATE_NOSWAP;
    swapcache = true;
  }
  if (mapped() && cpu.rmap.try_to_unmap(cpu, old, swapcache ? w[op + PG_PRIVATE]! : 0) !== SWAP_SUCCESS) return MIGRATE_BUSY;
  const key = swapcache ? SWAPPER_SPACE : mapping;
  cache_lock(cpu, key, SITE.migrate_pages);
  // page_freeze_refs: the cache's reference and ours, nobody else's
  if (page_cache_mapping(cpu, old) !== key || mapped() || Atomics.compareExchange(w, op + PG_COUNT, 2, 0) !== 2) {
    cache_unlock(cpu, key);
    return MIGRATE_BUSY;
  }
  const index = swapcache ? w[op + PG_PRIVATE]! : w[op + PG_INDEX]!;
  if (cpu.inject !== INJECT_NO_MIGRATE_COPY) copy_page(cpu, to, old); // (the planted bug skips the data)
  const np = pageStruct(l, to);
  if (!trylock_page(cpu, to, SITE.migrate_pages)) throw new Error(`migrate_page: new page ${to} is locked`);
  Atomics.or(w, np + PG_FLAGS, Atomics.load(w, op + PG_FLAGS) & MIGRATE_FLAGS);
  // an anonymous page keeps its anon mapping and index while in the swap cache (objrmap)
  w[np + PG_MAPPING] = swapcache ? w[op + PG_MAPPING]! : 0;
  w[np + PG_INDEX] = w[op + PG_INDEX]!;
  __remove_from_page_cache(cpu, old);
  // the cache's reference is added; the allocation's is ours now, as our isolation reference was on the old page
  if (!__add_to_page_cache(cpu, to, key, index)) throw new Error(`migrate_page: key (${key}, ${index}) reappeared under its lock`);
  cache_unlock(cpu, key);
  return MIGRATE_OK;
}

/**
 * migrate_page: move user page `old` to frame `to`, which the caller owns (an
 * order-0 allocation: _count 1, clean). On MIGRATE_OK `to` has replaced `old`
 * everywhere and `old` is the caller's instead, in the state of a fresh
 * order-0 allocation (to be freed or kept). Otherwise nothing changed hands:
 * `old` is back on its list (possibly now in the swap cache and unmapped,
 * as reclaim would leave it) and `to` is still the caller's.
 */
export function migrate_page(cpu: ReclaimCpu, old: number, to: number): number {
  bkl_enter(cpu, SITE.migrate_pages); // as reclaim: kernel_flag throughout under `bkl`
  const r = __migrate_page(cpu, old, to);
  bkl_exit(cpu);
  cpu.w[cpu.vm + (r === MIGRATE_OK ? VM.pgmigrate_success : VM.pgmigrate_fail)]!++;
  return r;
}

function __migrate_page(cpu: ReclaimCpu, old: number, to: number): number {
  if (!isolate_lru_page(cpu, old, false)) return MIGRATE_BUSY;
  const back = one;
  if (!trylock_page(cpu, old, SITE.migrate_pages)) {
    back[0] = old;
    putback_lru_pages(cpu, back, 1);
    return MIGRATE_BUSY;
  }
  const r = cpu.migrateMethod === METHOD_FLIP ? try_to_flip_page_to(cpu, to, old) : migrate_locked(cpu, old, to);
  if (r !== MIGRATE_OK) {
    unlock_page(cpu, old);
    back[0] = old;
    putback_lru_pages(cpu, back, 1);
    return r;
  }
  // issue 18: a parked page stays parked in its new frame (the flag came with MIGRATE_FLAGS)
  if ((Atomics.load(cpu.w, pageStruct(cpu.l, old) + PG_FLAGS) & PG_freeable) !== 0) freeable_migrate(cpu, old, to);
  unlock_page(cpu, to);
  back[0] = to;
  putback_lru_pages(cpu, back, 1); // onto the list the old page was on; drops our reference
  // the old frame: nobody can reach it any more; hand it to the caller as a fresh allocation
  unlock_page(cpu, old);
  prep_new_page(cpu, old, 0);
  return MIGRATE_OK;
}
