/*
 * workingset.ts — refault detection on the machine: the nonresident table
 * (nonresident.ts) wired into eviction, into the fault path and into the
 * swap-slot life cycle (issue 7; Rik van Riel's 2005 call sites of
 * remember_page / recently_evicted, REFERENCE.md §1.4; mm/workingset.c's
 * counters and its activation rule, §6; the seed wiki's invalidation of
 * swap entries, seed 002).
 *
 *   evict                         refault                      slot freed
 *   ─────                         ───────                      ──────────
 *   shrink_page                   filemap_nopage miss          swap_free → 0
 *     remove_mapping                add_to_page_cache            (zap, swap-in,
 *       workingset_eviction           newFilePage hook             remove_exclusive_
 *         policy.rememberEvicted?       workingset_file_insert     swap_page, swapoff)
 *         remember_page ───────┐    read_swap_cache_async            │
 *           recycled a live    │      workingset_swapin              ▼
 *           cookie:            ▼        recently_evicted ◄──── nonresident_
 *           policy.        nr_bucket      (claims the cookie)   invalidate_swap
 *           testExpired    table          /proc/refaults row
 *                                         workingset_refault_*
 *                                         policy.lruInsert → list,
 *                                           workingset_activate_*
 *
 * KEYS. A page-cache page is remembered as (mapping, index, file key) — its
 * inode's mapping word, its page index and nr_file_key(): the inode number
 * (I_INO) with the slot's generation (I_GEN) folded in; a
 * swap-cache page as (SWAPPER_SPACE, swp_entry_t), no host. The swap key is
 * the arch-independent 2.6 swp_entry_t value, type << 27 | offset
 * (include/linux/swapops.h, MAX_SWAPFILES_SHIFT 5), not the i386 pte form
 * (offset << 8) the pte and page->private hold here: nr_hash() picks the
 * bucket from the LOW bits of a hash whose low k bits depend only on the key's
 * low k bits, so keys 256 apart would crowd into nbuckets / 256 buckets.
 * Sequential offsets (swap clusters) walk the buckets round-robin instead —
 * what the distance estimate wants. Our inode numbers are inode-table slots
 * and are reused with the slot — the aliasing the wiki and NetBSD's comment
 * warn about (a file created where a deleted one lived would meet that
 * file's cookies, and its first reads would count as refaults). The table
 * has no per-mapping invalidation, so the key carries the slot's generation
 * instead: key = gen * maxFiles + ino (mod 2^32), distinct for every
 * allocation of every slot while gen < 2^32 / maxFiles (a million
 * allocations of one slot at maxFiles = 4096), and the cookie's last term
 * hash_long(key) is a bijection, so a new file's cookie differs from every
 * old file's at the same (mapping, index).
 *
 * WHAT IS LOOKED UP. Every insertion after a miss, read-ahead pages included
 * (workingset.c does the same: the read-ahead page may well be the one that
 * refaults); not shmem pages (never evicted here), not swapoff's reads
 * (try_to_unuse brings pages back because the area goes away, not because
 * anybody touched them: their cookies die with their slots), not a
 * first-touch anonymous page (nothing to refault). Every lookup lands in the
 * faulting CPU's /proc/refaults histogram — row d for distance (d + 1) ×
 * nbuckets, the last row "New/Beyond" for not found (Rik's 10 Aug 2005
 * form) — and a hit counts workingset_refault_file / _anon.
 *
 * WHO DECIDES. Whether a refault is activated, and onto which list a page
 * goes, is the policy's (policy.ts lruInsert; the default is the
 * policy's newPageActive, never an activation). The policies here:
 *   2q + refaultActivation   workingset.c: activate iff distance <= nr_active
 *                            (workingset_2q_insert below)
 *   clockpro                 only test-period pages are remembered; a hit
 *                            means "refaulted in its test period": hot
 *   clockpro-approx          every eviction remembered; a hit: active (rule 8)
 * A remember that overwrote a live cookie, and the policies' coupled expiry
 * (nonresident_couple), are "a test period ended unreferenced"
 * (policy.testExpired).
 *
 * DISTANCE UNITS. remember_page and the coupled expiry both move bucket
 * hands, so a distance counts slots written (evictions, plus expiries under
 * the CLOCK-Pro policies) since the page left, times nbuckets. With 2q only
 * evictions move the hands: workingset.c's distance minus its activations.
 *
 * INVALIDATION (seed wiki, "the swap cache is a special case"): when a swap
 * slot's count reaches 0, whatever path freed it, its cookie is claimed
 * (swapfile.ts swap_free), so a page later written to the reused slot does
 * not refault on its first swap-in. A swap page is not remembered at all when
 * the swap cache holds its slot's last count (the slot dies with the
 * eviction). sys_swapoff, once the area is empty, sweeps every slot of it
 * (workingset_swapoff) — which must find nothing if the first rule held; the
 * invariant checker checks the same thing at every checkpoint.
 *
 * Locking: none of its own. The table is lock-free (nonresident.ts); policy
 * words in the LRU line are Atomics; eviction runs under the page lock and
 * the cache lock (as 2005's remember_page ran under mapping->tree_lock);
 * insertion under the new page's lock (swap) or none (file). Per-CPU
 * histogram and vmstat: the calling CPU's own (it is always the CPU that
 * faults). Nothing allocates on these paths but the once-per-thread table
 * descriptor.
 */
import type { CpuBase } from '../machine/cpu.js';
import type { Layout } from '../machine/layout.js';
import type { Machine } from '../machine/machine.js';
import {
  G_LRU,
  G_ZONE,
  Z_FREE,
  Z_LOW,
  Z_MANAGED,
  L_NR_ACTIVE,
  L_NR_INACTIVE,
  L_NR_HOT,
  L_POLICY,
  I_FLAGS,
  I_INO,
  I_GEN,
  PG_FLAGS,
  PG_MAPPING,
  PG_INDEX,
  PAGE_STRUCT_WORDS,
  globalLine,
  inodeBase,
  pageStruct,
} from '../machine/layout.js';
import { PG_hot, PG_test, PG_lru, SWAPPER_SPACE, inodeOfMapping } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { I_SHMEM } from '../mm/files.js';
import { SWP_ENTRY, SWP_OFFSET, SWP_TYPE } from '../mm/pte.js';
import { swap_count } from '../mm/swap_map.js';
import {
  nrTableOf,
  remember_page,
  recently_evicted,
  nonresident_invalidate,
  nonresident_total,
  nr_refault_account,
  nr_refault_rows,
  nr_hand_advance,
  nr_hash,
  nr_cookie,
  NR_HAND,
  NR_SLOT0_NARROW,
  NR_NO_HOST,
  NR_EMPTY,
  NR_NOT_FOUND,
  type NrTable,
  type RefaultRow,
} from './nonresident.js';
import { policyOf } from './policy.js';

/* ---- what joins the LRU (policy.lruInsert's `kind`) ---- */
/** a first-touch anonymous page (no lookup) */
export const WS_NEW_ANON = 0;
/** a page-cache page read in after a miss */
export const WS_FILE = 1;
/** a swap-cache page read in by a fault */
export const WS_SWAPIN = 2;
/** a swap-cache page read ahead of a fault (swapin_readahead) */
export const WS_READAHEAD = 3;
/** swapoff's read (try_to_unuse): no lookup */
export const WS_SWAPOFF = 4;

/* ---- policy.lruInsert's result bits ---- */
/** the page joins the active list (else the inactive one) */
export const WS_ACTIVE = 1;
/** the policy activated a refault (workingset_activate_anon / _file) */
export const WS_ACTIVATED = 2;

/**
 * The LRU-line word where the refault-driven policies (clockpro,
 * clockpro-approx) count the pages their scans hold isolated right now
 * (Atomics); 0 at every quiescent point (workingset_check).
 */
export const L_POLICY_ISOLATED = L_POLICY + 5;

/** Did not look the page up (first touch, shmem, swapoff). */
export const WS_NO_LOOKUP = NR_NOT_FOUND;

/** 2.6 swapops.h: bits above the offset in a swp_entry_t (32 - MAX_SWAPFILES_SHIFT). */
const SWP_TYPE_SHIFT = 27;

/** The arch-independent swp_entry_t value of an i386 swap pte / page->private (see KEYS). */
export const nr_swap_key = (entry: number) => ((SWP_TYPE(entry) << SWP_TYPE_SHIFT) | SWP_OFFSET(entry)) | 0;

/**
 * The inode term of a page-cache cookie for the inode at word offset ib:
 * I_INO with I_GEN folded in (gen * maxFiles + ino, mod 2^32; see KEYS).
 * Read by a CPU that holds one of the inode's pages, so the inode is live.
 */
export const nr_file_key = (w: Int32Array, l: Layout, ib: number) => (Math.imul(w[ib + I_GEN]!, l.maxFiles) + w[ib + I_INO]!) | 0;

const tables = new WeakMap<Layout, NrTable>();

/** This thread's descriptor of the machine's nonresident table (built once per machine). */
export function nr_table(l: Layout): NrTable {
  let t = tables.get(l);
  if (t === undefined) {
    t = nrTableOf(l);
    tables.set(l, t);
  }
  return t;
}

const lruWord = (cpu: CpuBase, k: number) => globalLine(cpu.l, G_LRU) + k;

/** Pages on the two LRU lists (lock-free snapshot). */
export const nr_resident = (cpu: CpuBase) => cpu.w[lruWord(cpu, L_NR_ACTIVE)]! + cpu.w[lruWord(cpu, L_NR_INACTIVE)]!;

/** Frames the page allocator manages (fixed after boot). */
export const nr_managed = (cpu: CpuBase) => cpu.w[globalLine(cpu.l, G_ZONE) + Z_MANAGED]!;

/**
 * Free pages above the low watermark (lock-free snapshot): how many more
 * pages fit before kswapd is woken. The policies' warm-up fills memory with
 * hot / active pages only while this exceeds their cold / inactive target,
 * so that the target's worth of cold pages is in place when reclaim starts
 * (the replay's "first M - m_c pages are hot", with M what actually fits).
 */
export const free_above_low = (cpu: CpuBase) => {
  const z = globalLine(cpu.l, G_ZONE);
  return Atomics.load(cpu.w, z + Z_FREE) - cpu.w[z + Z_LOW]!;
};

/* ------------------------------------------------------------------------ */
/* joining the LRU                                                           */
/* ------------------------------------------------------------------------ */

/**
 * Let the policy place a page joining the LRU (default: newPageActive, no
 * activation); count workingset_activate_* when it activated a refault.
 * Returns the `active` argument for lru_cache_add.
 */
function ws_place(cpu: CpuBase, pfn: number, kind: number, distance: number): boolean {
  const policy = policyOf(cpu);
  const anon = kind !== WS_FILE;
  if (policy.lruInsert === undefined) return kind !== WS_READAHEAD && policy.newPageActive(anon);
  const r = policy.lruInsert(cpu, pfn, kind, distance);
  if ((r & WS_ACTIVATED) !== 0) cpu.w[cpu.vm + (anon ? VM.workingset_activate_anon : VM.workingset_activate_file)]!++;
  return (r & WS_ACTIVE) !== 0;
}

/** Account one lookup: the histogram row, and workingset_refault_* on a hit. */
function ws_account(cpu: CpuBase, t: NrTable, distance: number, anon: boolean): void {
  nr_refault_account(cpu, t, distance);
  if (distance >= 0) cpu.w[cpu.vm + (anon ? VM.workingset_refault_anon : VM.workingset_refault_file)]!++;
}

/** A first-touch anonymous page joins the LRU (the newAnonPage hook): its list. */
export function workingset_new_anon_page(cpu: CpuBase, pfn: number): boolean {
  return ws_place(cpu, pfn, WS_NEW_ANON, WS_NO_LOOKUP);
}

/**
 * filemap_nopage inserted page pfn in the page cache after a miss (the
 * newFilePage hook; the page carries its mapping and index): look it up,
 * account it, and return its list.
 */
export function workingset_file_insert(cpu: CpuBase, pfn: number): boolean {
  const w = cpu.w;
  const p = pageStruct(cpu.l, pfn);
  const mapping = w[p + PG_MAPPING]!;
  const ib = inodeBase(cpu.l, inodeOfMapping(mapping));
  if ((w[ib + I_FLAGS]! & I_SHMEM) !== 0) return ws_place(cpu, pfn, WS_FILE, WS_NO_LOOKUP);
  const t = nr_table(cpu.l);
  const d = recently_evicted(w, t, mapping, w[p + PG_INDEX]!, nr_file_key(w, cpu.l, ib));
  ws_account(cpu, t, d, false);
  return ws_place(cpu, pfn, WS_FILE, d);
}

/**
 * read_swap_cache_async inserted page pfn in the swap cache under `entry`
 * (page locked): look it up unless this is swapoff's read (mm < 0), account
 * it, and return its list.
 */
export function workingset_swapin(cpu: CpuBase, pfn: number, entry: number, mm: number, readahead: boolean): boolean {
  if (mm < 0) return ws_place(cpu, pfn, WS_SWAPOFF, WS_NO_LOOKUP);
  const t = nr_table(cpu.l);
  const d = recently_evicted(cpu.w, t, SWAPPER_SPACE, nr_swap_key(entry), NR_NO_HOST);
  ws_account(cpu, t, d, true);
  return ws_place(cpu, pfn, readahead ? WS_READAHEAD : WS_SWAPIN, d);
}

/* ------------------------------------------------------------------------ */
/* eviction and invalidation                                                 */
/* ------------------------------------------------------------------------ */

/**
 * workingset_eviction: page pfn (locked, clean, unmapped) is about to leave
 * the page cache (entry 0) or the swap cache under `entry`. Called by
 * remove_mapping with the cache lock held, before __remove_from_page_cache
 * (the page still carries its key).
 */
export function workingset_eviction(cpu: CpuBase, pfn: number, entry: number): void {
  const w = cpu.w;
  const l = cpu.l;
  // the cache holds the slot's last count: the slot is freed with this eviction
  if (entry !== 0 && swap_count(w, l, entry) <= 1) return;
  const policy = policyOf(cpu);
  if (policy.rememberEvicted !== undefined && !policy.rememberEvicted(cpu, pfn)) return;
  const t = nr_table(l);
  let recycled: boolean;
  if (entry !== 0) {
    recycled = remember_page(w, t, SWAPPER_SPACE, nr_swap_key(entry), NR_NO_HOST);
  } else {
    const p = pageStruct(l, pfn);
    const mapping = w[p + PG_MAPPING]!;
    recycled = remember_page(w, t, mapping, w[p + PG_INDEX]!, nr_file_key(w, l, inodeBase(l, inodeOfMapping(mapping))));
  }
  if (recycled && policy.testExpired !== undefined) policy.testExpired(cpu);
}

/** swap_free brought entry's count to 0: forget the slot's cookie (seed wiki). True if one was there. */
export function workingset_swap_free(cpu: CpuBase, entry: number): boolean {
  return nonresident_invalidate(cpu.w, nr_table(cpu.l), SWAPPER_SPACE, nr_swap_key(entry), NR_NO_HOST);
}

/**
 * sys_swapoff emptied the area: invalidate every slot's cookie ("this also
 * covers swapoff(8) and a subsequent swapon(8)"). Returns how many were
 * still there — 0 when swap_free's invalidation saw every slot go.
 */
export function workingset_swapoff(cpu: CpuBase): number {
  let n = 0;
  for (let off = 1; off < cpu.l.nrSwap; off++) if (workingset_swap_free(cpu, SWP_ENTRY(0, off))) n++;
  return n;
}

/* ------------------------------------------------------------------------ */
/* helpers for the refault-driven policies                                   */
/* ------------------------------------------------------------------------ */

/**
 * Add d to a policy target word (Atomics, CAS loop), clamped to [min, max];
 * a word still 0 (never set) starts from `init`. Returns the new value.
 */
export function target_adjust(w: Int32Array, off: number, d: number, min: number, max: number, init: number): number {
  const hi = Math.max(min, max);
  for (;;) {
    const cur = Atomics.load(w, off);
    let v = (cur === 0 ? init : cur) + d;
    if (v < min) v = min;
    else if (v > hi) v = hi;
    if (Atomics.compareExchange(w, off, cur, v) === cur) return v;
  }
}

/** A target word's value (`init` while never set). */
export function target_read(w: Int32Array, off: number, init: number): number {
  const v = Atomics.load(w, off);
  return v === 0 ? init : v;
}

/**
 * The non-resident clock's hand coupled to a resident hand (Peter
 * Zijlstra's CLOCK-Pro: "a full resident revolution = a full non-resident
 * revolution"; NetBSD's cycle_target; REFERENCE.md §2.4, §2.5): `steps`
 * pages passed by a hand going round `per` pages turn the table by
 * steps × capacity / per slots. Turning it by one slot = advancing the hand
 * of the next bucket round-robin (cursor word `cursorOff`) and emptying the
 * slot it lands on, with the same compare-and-swap / exchange as a remember,
 * so conservation holds. The fraction is kept in `fracOff` (CAS). Returns
 * the live cookies expired (test periods that ended without a refault).
 */
export function nonresident_couple(cpu: CpuBase, steps: number, per: number, fracOff: number, cursorOff: number): number {
  if (steps <= 0) return 0;
  const w = cpu.w;
  const t = nr_table(cpu.l);
  const cap = nonresident_total(t);
  const den = Math.max(1, per);
  let owed: number;
  for (;;) {
    const cur = Atomics.load(w, fracOff);
    const total = cur + steps * cap;
    owed = Math.floor(total / den);
    const rem = total - owed * den;
    if (Atomics.compareExchange(w, fracOff, cur, rem) === cur) break;
  }
  if (owed > cap) owed = cap; // one revolution ends every test period
  let live = 0;
  for (let i = 0; i < owed; i++) {
    const b = t.base + (Atomics.add(w, cursorOff, 1) & t.mask) * t.bucketWords;
    const s = nr_hand_advance(w, t, b);
    if (Atomics.exchange(w, b + NR_SLOT0_NARROW + s, NR_EMPTY) !== NR_EMPTY) live++;
  }
  return live;
}

/* ------------------------------------------------------------------------ */
/* 2q + refaultActivation (mm/workingset.c)                                  */
/* ------------------------------------------------------------------------ */

/**
 * The 2q policy's lruInsert. Without config.refaultActivation: 2.6 as
 * before (new anonymous pages and swap-ins active, page cache inactive,
 * read-ahead inactive). With it, workingset_refault's rule on the one pair
 * of lists: the page could have stayed resident had the inactive list had
 * the active list's pages too, iff refault_distance <= nr_active — then it
 * is activated at once (workingset_activate_*). Every other page starts
 * inactive, new anonymous pages and swap-ins included (as anon LRUs have
 * since 5.9, when workingset detection was extended to them: otherwise an
 * anonymous refault would have nothing to be activated from).
 */
export function workingset_2q_insert(cpu: CpuBase, _pfn: number, kind: number, distance: number): number {
  if (!cpu.m.cfg.refaultActivation) return kind !== WS_READAHEAD && kind !== WS_FILE ? WS_ACTIVE : 0;
  if (distance >= 0 && distance <= cpu.w[lruWord(cpu, L_NR_ACTIVE)]!) return WS_ACTIVE | WS_ACTIVATED;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* report and checks                                                         */
/* ------------------------------------------------------------------------ */

/** The results' `refaults` object (README "Results JSON"). */
export interface RefaultReport {
  /** buckets in the table, cookies per bucket, cookies in all */
  nrBuckets: number;
  numNr: number;
  capacity: number;
  /** insertions looked up (every histogram row), and those found */
  lookups: number;
  found: number;
  /** /proc/refaults rows: distances [from, to) (to -1: New/Beyond, not found) and hits */
  rows: RefaultRow[];
}

/** The refault histogram of a finished (or quiescent) machine, summed over every CPU slot. */
export function refault_report(m: Machine): RefaultReport {
  const t = nr_table(m.layout);
  const rows = nr_refault_rows(m.w, m.layout, t);
  const lookups = rows.reduce((s, r) => s + r.hits, 0);
  return {
    nrBuckets: t.nrBuckets,
    numNr: t.numNr,
    capacity: nonresident_total(t),
    lookups,
    found: lookups - rows[rows.length - 1]!.hits,
    rows,
  };
}

/**
 * The checker's workingset invariants (quiescent machine: every user page
 * on a list, no page isolated):
 *   - every bucket hand in [0, NUM_NR);
 *   - PG_hot / PG_test only on LRU pages, never both; L_NR_HOT = the PG_hot
 *     pages; none at all unless the policy is clockpro; no page counted as
 *     isolated by clockpro / clockpro-approx;
 *   - no cookie for a free swap slot (swap_free's invalidation).
 */
export function workingset_check(m: Machine, out: string[]): void {
  const w = m.w;
  const l = m.layout;
  const t = nr_table(l);
  const add = (s: string) => {
    if (out.length < 60) out.push(`workingset: ${s}`);
  };
  for (let b = 0; t.handCas && b < t.nrBuckets; b++) {
    const hand = w[t.base + b * t.bucketWords + NR_HAND]!; // the 'add' hand is a free-running counter: any value
    if (hand < 0 || hand >= t.numNr) add(`bucket ${b}: hand ${hand} outside [0, ${t.numNr})`);
  }
  const hotPolicy = m.cfg.policy === 'clockpro';
  let hot = 0;
  for (let pfn = 0; pfn < l.nrFrames; pfn++) {
    const f = w[l.memMap + pfn * PAGE_STRUCT_WORDS + PG_FLAGS]!;
    if ((f & (PG_hot | PG_test)) === 0) continue;
    if ((f & PG_lru) === 0) add(`page ${pfn} carries PG_hot/PG_test (flags 0x${f.toString(16)}) but is on no LRU list`);
    if ((f & (PG_hot | PG_test)) === (PG_hot | PG_test)) add(`page ${pfn} is both hot and in its test period`);
    if (!hotPolicy) add(`page ${pfn} carries PG_hot/PG_test under policy ${m.cfg.policy}`);
    if ((f & PG_hot) !== 0 && (f & PG_lru) !== 0) hot++;
  }
  const nrHot = w[globalLine(l, G_LRU) + L_NR_HOT]!;
  if (nrHot !== hot) add(`L_NR_HOT ${nrHot} but ${hot} hot pages on the lists`);
  if (m.cfg.policy === 'clockpro' || m.cfg.policy === 'clockpro-approx') {
    const iso = w[globalLine(l, G_LRU) + L_POLICY_ISOLATED]!;
    if (iso !== 0) add(`${m.cfg.policy}: ${iso} pages counted as isolated at a quiescent point`);
  }
  for (let off = 1; off < l.nrSwap; off++) {
    if (w[l.swapMap + off] !== 0) continue;
    const key = nr_swap_key(SWP_ENTRY(0, off));
    const b = nr_hash(t, SWAPPER_SPACE, key);
    const c = nr_cookie(SWAPPER_SPACE, key, NR_NO_HOST);
    for (let s = 0; s < t.numNr; s++) {
      if (w[b + NR_SLOT0_NARROW + s] === c) {
        add(`free swap slot ${off} still has a nonresident cookie (not invalidated when freed, or a file cookie collides: p ~ 2^-32)`);
        break;
      }
    }
  }
}
