/*
 * freeable.ts — the clock policy's freeable queue (issue 18 item 3). Seed
 * 001's willdo list ends with kswapd keeping "active, inactive and freeable
 * queues"; Rik van Riel's 2.4-rmap made it the inactive_clean list:
 * page_launder cleans inactive pages and moves the clean, unmapped ones to
 * inactive_clean, and __alloc_pages takes a page from there with
 * reclaim_page() — no scan, no unmapping, no I/O — when the free lists run
 * low; a page looked up again in the page cache meanwhile is simply back in
 * use.
 *
 * Here (config.freeable, policy clock only; the flag is off by default):
 *
 *   park      shrink_page (SP_FREEABLE, the clock policy) has a page locked,
 *             clean, unmapped and still in its page or swap cache — the
 *             moment remove_mapping would free it. While fewer than
 *             pages_high pages are parked it sets PG_freeable instead and
 *             queues the pfn (pgfreeable); the page goes back to the
 *             inactive list (PG_active cleared: the hand isolates pages
 *             from either list) with its data and its cache entry.
 *   take      an allocation that misses the pages_min fast path (alloc.ts)
 *             pops the queue before any reclaim: the page is isolated,
 *             locked, still PG_freeable, clean, unmapped and only the
 *             cache's → remove_mapping, freed, allocated (pgalloc_freeable).
 *   rescue    a page-cache or swap-cache lookup (find_get_page) of a parked
 *             page clears PG_freeable (pgrescued): it is an ordinary
 *             inactive page again and its queue entry goes stale.
 *   free      a parked page whose last user lets go (truncate, exit of the
 *             swap entry's last owner) leaves the queue in its release
 *             (del_page_from_lru clears PG_freeable).
 *   migrate   compaction moves a parked page (migrate.ts, either method):
 *             it stays parked in its new frame — PG_freeable is copied
 *             with MIGRATE_FLAGS under the frozen count, then
 *             freeable_migrate takes it off the old frame (the caller's
 *             fresh allocation now) and queues the new one; FQ_NR does not
 *             change.
 *
 * THE QUEUE is a ring of pfns (l.freeq, wbqSize entries, under the lru
 * lock) — not a third list: a parked page stays linked on the inactive list
 * with PG_lru (2.4-rmap unlinked it), so isolation, release and the LRU
 * checker need no third case; the clock hand passes parked pages by. The
 * ring may hold stale entries (rescued or freed pages, or one page twice);
 * the allocator re-checks PG_freeable and drops them. When it is full it
 * is compacted to its live entries (fq_compact): at most pages_high pages
 * are parked, far fewer than the ring's nrFrames (rounded up) entries.
 * FQ_NR counts PG_freeable pages (Atomics; TestClearPageFreeable in
 * mm/filemap.ts is the one clearer).
 *
 * Locking: parking runs under the page lock and takes the lru lock (page
 * lock → lru lock, as lru_cache_add under a page lock); taking pops under
 * the lru lock, drops it, then trylocks the page and removes it from its
 * cache under the cache lock (vmscan.ts remove_mapping); a migration
 * (freeable_migrate) holds the page locks of the old and the new frame
 * and takes the lru lock (page lock → lru lock, as parking; under `bkl`
 * the big lock is the lru lock). PG_freeable is set and cleared with
 * Atomics.
 *
 * THE COUNTING RULE (what keeps FQ_NR equal to the PG_freeable pages at
 * every checkpoint and at the end): PG_freeable goes 0 → 1 only in
 * freeable_park (Atomics.or, then FQ_NR + 1), on a page its caller has
 * isolated and locked; it goes 1 → 0 only in TestClearPageFreeable
 * (Atomics.and, then FQ_NR − 1) — lookup, take, release — except in
 * migration, which moves it from the old frame to the new one while the
 * old page's count is frozen at 0 under its cache lock (no lookup can hold
 * it, so no rescue can clear it meanwhile), leaving FQ_NR alone. No frame
 * may reach the allocator with the flag: a plain store to the flags word
 * (free_pages_check / clear_freed_page, prep_new_page of migration's old
 * frame) would drop it without FQ_NR; free_pages_check reports it as a bad
 * page in debug runs.
 */
import {
  G_FREEABLE,
  G_ZONE,
  FQ_HEAD,
  FQ_TAIL,
  FQ_NR,
  Z_HIGH,
  NIL,
  PAGE_STRUCT_WORDS,
  PG_FLAGS,
  PG_MAPCOUNT,
  PG_MAPPING,
  globalLine,
  pageStruct,
} from '../machine/layout.js';
import { PG_freeable, PG_lru, PG_active, PG_dirty, PG_writeback, PG_swapcache, PG_buddy, PG_pcp, PG_referenced, isFileMapping } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import type { CpuBase } from '../machine/cpu.js';
import type { Machine } from '../machine/machine.js';
import { SITE } from '../sync/classes.js';
import { lru_lock, lru_unlock } from '../sync/scheme.js';
import { trylock_page, unlock_page } from '../sync/pagelock.js';
import { page_count, put_page_testzero } from '../mm/page_ref.js';
import { __free_pages_ok } from '../mm/page_alloc.js';
import { TestClearPageFreeable } from '../mm/filemap.js';
import { isolate_lru_page, putback_lru_pages } from './lru.js';

/** Does this machine keep the freeable queue (config.freeable)? */
export const freeable_on = (cpu: CpuBase): boolean => cpu.m.cfg.freeable;

const fqLine = (cpu: CpuBase) => globalLine(cpu.l, G_FREEABLE);

/** pfns put back after a failed take (one per CPU, created once) */
const one = new WeakMap<CpuBase, Int32Array>();
const oneOf = (cpu: CpuBase) => {
  let a = one.get(cpu);
  if (!a) one.set(cpu, (a = new Int32Array(1)));
  return a;
};

/**
 * freeable_park: called by shrink_page (page locked and isolated, clean,
 * unmapped, in its cache, our reference and the cache's) where it would
 * free the page. Parks it on the freeable queue if fewer than pages_high
 * are parked; true if parked (the caller keeps the page).
 */
export function freeable_park(cpu: CpuBase, pfn: number): boolean {
  const w = cpu.w;
  const g = fqLine(cpu);
  if (Atomics.load(w, g + FQ_NR) >= w[globalLine(cpu.l, G_ZONE) + Z_HIGH]!) return false;
  const p = pageStruct(cpu.l, pfn);
  if ((Atomics.load(w, p + PG_FLAGS) & (PG_dirty | PG_writeback)) !== 0 || Atomics.load(w, p + PG_MAPCOUNT) >= 0 || page_count(cpu, pfn) !== 2) return false;
  if ((Atomics.or(w, p + PG_FLAGS, PG_freeable) & PG_freeable) !== 0) return true; // already parked
  // isolated by us, so its list bits are ours: a parked page goes back to the inactive list
  Atomics.and(w, p + PG_FLAGS, ~(PG_active | PG_referenced));
  Atomics.add(w, g + FQ_NR, 1);
  w[cpu.vm + VM.pgfreeable]!++;
  lru_lock(cpu, SITE.shrink_list);
  fq_push(cpu, pfn);
  lru_unlock(cpu);
  return true;
}

/** Queue pfn at the tail (full: compacted first). Lru lock held. */
function fq_push(cpu: CpuBase, pfn: number): void {
  const w = cpu.w;
  const g = fqLine(cpu);
  const mask = cpu.l.wbqSize - 1;
  if (((w[g + FQ_TAIL]! - w[g + FQ_HEAD]!) | 0) > mask) fq_compact(cpu);
  const tail = w[g + FQ_TAIL]!;
  w[cpu.l.freeq + (tail & mask)] = pfn;
  w[g + FQ_TAIL] = (tail + 1) | 0;
}

/** per-CPU "seen" marks for fq_compact (one byte per frame, created once) */
const seenMarks = new WeakMap<CpuBase, Uint8Array>();

/**
 * The ring is full of entries, most of them stale (rescued or freed pages,
 * pages queued twice): keep, in order, the first entry of each page still
 * PG_freeable. Live pages number at most pages_high < nrFrames <= the ring
 * size, so room is made and no parked page loses its entry. Rare (only
 * after a ring's worth of rescues without an allocation to pop them); lru
 * lock held.
 */
function fq_compact(cpu: CpuBase): void {
  const w = cpu.w;
  const g = fqLine(cpu);
  const mask = cpu.l.wbqSize - 1;
  const memMap = cpu.l.memMap;
  let seen = seenMarks.get(cpu);
  if (!seen) seenMarks.set(cpu, (seen = new Uint8Array(cpu.l.nrFrames)));
  const head = w[g + FQ_HEAD]!;
  const tail = w[g + FQ_TAIL]!;
  let out = head;
  for (let i = head; i !== tail; i = (i + 1) | 0) {
    const pfn = w[cpu.l.freeq + (i & mask)]!;
    if (seen[pfn] !== 0 || (Atomics.load(w, memMap + pfn * PAGE_STRUCT_WORDS + PG_FLAGS) & PG_freeable) === 0) continue;
    seen[pfn] = 1;
    w[cpu.l.freeq + (out & mask)] = pfn;
    out = (out + 1) | 0;
  }
  for (let i = head; i !== out; i = (i + 1) | 0) seen[w[cpu.l.freeq + (i & mask)]!] = 0;
  w[g + FQ_TAIL] = out;
}

/**
 * Pop the first entry that is still a parked page on the inactive list and
 * isolate it (with a reference); NIL if none. A parked page isolated by
 * someone else right now (the hand, migration) is queued again at the tail.
 * Lru lock taken here.
 */
function freeable_pop(cpu: CpuBase): number {
  const w = cpu.w;
  const g = fqLine(cpu);
  const mask = cpu.l.wbqSize - 1;
  const memMap = cpu.l.memMap;
  let pfn = NIL;
  lru_lock(cpu, SITE.__alloc_pages);
  for (let n = (w[g + FQ_TAIL]! - w[g + FQ_HEAD]!) | 0; n > 0 && pfn === NIL; n--) {
    const head = w[g + FQ_HEAD]!;
    const cand = w[cpu.l.freeq + (head & mask)]!;
    w[g + FQ_HEAD] = (head + 1) | 0;
    const f = Atomics.load(w, memMap + cand * PAGE_STRUCT_WORDS + PG_FLAGS);
    if ((f & PG_freeable) === 0) continue; // stale: rescued or freed
    if ((f & PG_lru) === 0) {
      fq_push(cpu, cand); // isolated for a moment: look again later
      continue;
    }
    if (isolate_lru_page(cpu, cand, true)) pfn = cand;
  }
  lru_unlock(cpu);
  return pfn;
}

/**
 * freeable_take (2.4-rmap reclaim_page): free one parked page for an
 * allocation, without scanning. Called with no spinlock held (as the
 * allocator's slow path). True if a page went to the free lists.
 * `remove_mapping` is vmscan.ts's (passed in: vmscan imports this file).
 */
export function freeable_take(cpu: CpuBase, remove_mapping: (cpu: CpuBase, pfn: number, swap: boolean) => boolean): boolean {
  const w = cpu.w;
  const g = fqLine(cpu);
  for (let tries = 0; tries < 4 && Atomics.load(w, g + FQ_NR) > 0; tries++) {
    const pfn = freeable_pop(cpu);
    if (pfn === NIL) return false;
    const p = pageStruct(cpu.l, pfn);
    let locked = false;
    if (trylock_page(cpu, pfn, SITE.__alloc_pages)) {
      locked = true;
      // still parked (a lookup clears it first), clean and only the cache's: take it out
      if (TestClearPageFreeable(cpu, pfn)) {
        const swap = (Atomics.load(w, p + PG_FLAGS) & PG_swapcache) !== 0;
        if ((Atomics.load(w, p + PG_FLAGS) & (PG_dirty | PG_writeback)) === 0 && remove_mapping(cpu, pfn, swap)) {
          unlock_page(cpu, pfn);
          Atomics.and(w, p + PG_FLAGS, ~(PG_active | PG_referenced));
          if (put_page_testzero(cpu, pfn)) __free_pages_ok(cpu, pfn, 0);
          w[cpu.vm + VM.pgalloc_freeable]!++;
          return true;
        }
      }
      unlock_page(cpu, pfn);
    }
    const a = oneOf(cpu);
    a[0] = pfn;
    if (!locked) {
      // busy (the hand, a fault's lookup): still parked, queue it again
      lru_lock(cpu, SITE.__alloc_pages);
      fq_push(cpu, pfn);
      lru_unlock(cpu);
    }
    putback_lru_pages(cpu, a, 1);
  }
  return false;
}

/**
 * freeable_migrate: migrate_page moved parked page `old` to `to` (MIGRATE_OK;
 * both locked by the caller, `to` not yet back on a list, `old`'s count 0
 * and the caller's to hand on). PG_freeable came to `to` with
 * MIGRATE_FLAGS: the parked page is `to` now, so FQ_NR stays; here `old`
 * gives the flag up (with no FQ_NR change: it is not a parked page any
 * more, just a frame) and `to` is queued — unless a lookup has rescued it
 * already, since it went into its cache (TestClearPageFreeable counted
 * that). Counts pgmigrate_freeable. Takes the lru lock (page lock → lru
 * lock, as parking).
 */
export function freeable_migrate(cpu: CpuBase, old: number, to: number): void {
  const w = cpu.w;
  Atomics.and(w, pageStruct(cpu.l, old) + PG_FLAGS, ~PG_freeable);
  w[cpu.vm + VM.pgmigrate_freeable]!++;
  if ((Atomics.load(w, pageStruct(cpu.l, to) + PG_FLAGS) & PG_freeable) === 0) return;
  lru_lock(cpu, SITE.migrate_pages);
  fq_push(cpu, to);
  lru_unlock(cpu);
}

/**
 * The checker's view (stopped machine): FQ_NR is the number of PG_freeable
 * pages; each is on the inactive list, unmapped, clean, not under
 * write-back, in its page or swap cache, not free, and queued.
 */
export function freeable_check(m: Machine, out: string[]): void {
  const w = m.w;
  const l = m.layout;
  const g = globalLine(l, G_FREEABLE);
  const add = (s: string) => {
    if (out.length < 60) out.push(`freeable: ${s}`);
  };
  const queued = new Uint8Array(l.nrFrames);
  const head = w[g + FQ_HEAD]!;
  const tail = w[g + FQ_TAIL]!;
  const n = (tail - head) | 0;
  if (n < 0 || n > l.wbqSize) add(`ring head ${head} tail ${tail}: ${n} entries (size ${l.wbqSize})`);
  else for (let i = head; i !== tail; i = (i + 1) | 0) {
    const pfn = w[l.freeq + (i & (l.wbqSize - 1))]!;
    if (pfn > 0 && pfn < l.nrFrames) queued[pfn] = 1;
    else add(`ring entry ${i}: bad pfn ${pfn}`);
  }
  let nr = 0;
  for (let pfn = 1; pfn < l.nrFrames; pfn++) {
    const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
    const f = w[p + PG_FLAGS]!;
    if ((f & PG_freeable) === 0) continue;
    nr++;
    const why =
      (f & (PG_buddy | PG_pcp)) !== 0
        ? 'free'
        : (f & (PG_lru | PG_active)) !== PG_lru
          ? 'not on the inactive list'
          : w[p + PG_MAPCOUNT]! >= 0
            ? 'mapped'
            : (f & (PG_dirty | PG_writeback)) !== 0
              ? 'dirty or under write-back'
              : (f & PG_swapcache) === 0 && !isFileMapping(w[p + PG_MAPPING]!)
                ? 'in no cache'
                : queued[pfn] === 0
                  ? 'not queued'
                  : '';
    if (why !== '') add(`page ${pfn} is PG_freeable but ${why} (flags 0x${f.toString(16)})`);
  }
  if (nr !== w[g + FQ_NR]) add(`FQ_NR ${w[g + FQ_NR]} but ${nr} PG_freeable pages`);
}
