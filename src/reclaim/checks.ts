/*
 * checks.ts — reclaim's part of the invariant checker (sim/checker.ts), run
 * at quiescent points (stop-the-world checkpoints, the end of a run):
 *
 *   quiesce   every CPU's pagevec is drained onto the LRU (lru_add_drain_all);
 *             when the machine should be empty, swap-cache pages nobody maps
 *             or names any more are dropped (the swap cache's "drop caches")
 *   LRU       every PG_lru page on exactly one list, the active one iff
 *             PG_active, lengths right, every user page on a list (lru.ts)
 *   swap_map  every slot's count = the ptes holding its entry + the shmem
 *             index entries recording it + 1 if a page is in the swap cache
 *             under it; slot 0 unused; SW_INUSE right; no swap pte or index
 *             entry names a slot outside the area
 *   shmem     an index slot of a live shmem inode holds a page (in the
 *             inode's cache) or a swap entry, never both; a free inode slot
 *             or a non-shmem inode records no entry (shmem_swap.ts)
 *   swap cache  at most one page per entry; every PG_swapcache page is in
 *             the hash (the core checker) with an entry of the area
 *   write-back  (writeback.ts writeback_check) every PG_writeback page is on
 *             the device queue and every queued page is a swap-cache page
 *             under PG_writeback with a slot in use, none free; an
 *             expected-empty machine first lets the device finish
 *
 * Locking: none — the caller guarantees no CPU is inside the MM.
 */
import type { Machine } from '../machine/machine.js';
import {
  NIL,
  PAGE_WORDS,
  PAGE_STRUCT_WORDS,
  PG_FLAGS,
  PG_COUNT,
  PG_MAPCOUNT,
  PG_PRIVATE,
  MM_PGD,
  MM_WORDS,
  G_SWAP,
  SW_INUSE,
  PG_MAPPING,
  PG_INDEX,
  I_INO,
  I_FLAGS,
  globalLine,
  inodeBase,
  shmemSwpEntry,
} from '../machine/layout.js';
import { isFileMapping, inodeOfMapping } from '../machine/page.js';
import { I_SHMEM } from '../mm/files.js';
import { PG_swapcache, PG_reserved } from '../machine/page.js';
import { trylock_page, unlock_page } from '../sync/pagelock.js';
import { get_page } from '../mm/page_ref.js';
import { is_swap_pte, SWP_OFFSET, SWP_TYPE } from '../mm/pte.js';
import { bkl_enter, bkl_exit, type ReclaimCpu } from './context.js';
import { lru_add_drain_all, check_lru, put_page } from './lru.js';
import { delete_from_swap_cache } from './swap_state.js';
import { wb_complete } from './writeback.js';
import { SITE } from '../sync/classes.js';

/**
 * The quiesce step (registerQuiesce): drain the pagevecs; for an expected
 * empty machine also drop unmapped swap-cache pages that only the cache
 * holds (orphans an exiting task could not take out because another CPU
 * held the page lock at that moment).
 */
export function reclaim_quiesce(cpu: ReclaimCpu, opts: { expectEmpty?: boolean }): void {
  bkl_enter(cpu, SITE.kswapd);
  lru_add_drain_all(cpu);
  if (opts.expectEmpty) {
    wb_complete(cpu, true); // issue 18: the device finishes every queued write first
    const w = cpu.w;
    const l = cpu.l;
    for (let pfn = 1; pfn < l.nrFrames; pfn++) {
      const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
      if ((w[p + PG_FLAGS]! & PG_swapcache) === 0 || w[p + PG_MAPCOUNT]! >= 0 || w[p + PG_COUNT] !== 1) continue;
      if (!trylock_page(cpu, pfn, SITE.kswapd)) continue;
      get_page(cpu, pfn);
      delete_from_swap_cache(cpu, pfn);
      unlock_page(cpu, pfn);
      put_page(cpu, pfn);
    }
  }
  bkl_exit(cpu);
}

/** The LRU check (registerCheck). */
export function check_lru_membership(m: Machine, mapped: Int32Array, cached: Uint8Array, out: string[]): void {
  const n = m.layout.nrFrames;
  const user = new Uint8Array(n);
  for (let pfn = 0; pfn < n; pfn++) {
    if ((m.w[m.layout.memMap + pfn * PAGE_STRUCT_WORDS + PG_FLAGS]! & PG_reserved) !== 0) continue;
    if (mapped[pfn]! > 0 || cached[pfn]) user[pfn] = 1;
  }
  check_lru(m, user, out);
}

/** The swap_map / swap-cache check (registerCheck). */
export function check_swap(m: Machine, cached: Uint8Array, out: string[]): void {
  const w = m.w;
  const l = m.layout;
  const nrSwap = l.nrSwap;
  const add = (s: string) => {
    if (out.length < 60) out.push(`swap: ${s}`);
  };
  const ptes = new Int32Array(Math.max(1, nrSwap));
  const inCache = new Int32Array(Math.max(1, nrSwap));
  for (let mm = 0; mm < l.maxMm; mm++) {
    const pgd = w[l.mmTable + mm * MM_WORDS + MM_PGD]!;
    if (pgd === NIL) continue;
    for (let i = 0; i < 768; i++) {
      const e = w[l.frames + pgd * PAGE_WORDS + i]!;
      if (e === 0) continue;
      const t = l.frames + (e >>> 12) * PAGE_WORDS;
      for (let s = 0; s < 1024; s++) {
        const pte = w[t + s]!;
        if (!is_swap_pte(pte)) continue;
        const off = SWP_OFFSET(pte);
        if (SWP_TYPE(pte) !== 0 || off === 0 || off >= nrSwap) {
          add(`mm ${mm} addr 0x${(((i << 22) | (s << 12)) >>> 0).toString(16)}: bad swap pte 0x${(pte >>> 0).toString(16)}`);
          continue;
        }
        ptes[off]!++;
      }
    }
  }
  const inIndex = new Int32Array(Math.max(1, nrSwap));
  check_shmem_index(m, cached, inIndex, add);
  for (let pfn = 1; pfn < l.nrFrames; pfn++) {
    const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
    if ((w[p + PG_FLAGS]! & PG_swapcache) === 0) continue;
    const entry = w[p + PG_PRIVATE]!;
    const off = SWP_OFFSET(entry);
    if (SWP_TYPE(entry) !== 0 || off === 0 || off >= nrSwap) {
      add(`page ${pfn}: PG_swapcache with bad entry 0x${(entry >>> 0).toString(16)}`);
      continue;
    }
    if (!cached[pfn]) continue; // the core checker reports it
    if (inCache[off]!++ > 0) add(`slot ${off}: more than one page in the swap cache`);
  }
  let inuse = 0;
  if (nrSwap > 0 && w[l.swapMap] !== 0) add(`slot 0 (the header) has count ${w[l.swapMap]}`);
  for (let off = 1; off < nrSwap; off++) {
    const c = w[l.swapMap + off]!;
    if (c !== 0) inuse++;
    const want = ptes[off]! + inIndex[off]! + inCache[off]!;
    if (c !== want) add(`slot ${off}: swap_map ${c} != ${ptes[off]} swap ptes + ${inIndex[off]} shmem index + ${inCache[off]} swap-cache page`);
  }
  const sw = w[globalLine(l, G_SWAP) + SW_INUSE]!;
  if (sw !== inuse) add(`SW_INUSE ${sw} but ${inuse} slots in use`);
}

/**
 * The shmem index check: count each recorded entry into inIndex (by slot)
 * and report an index slot holding both an entry and a cached page, an entry
 * outside the area, or an entry left in a free or non-shmem inode slot.
 */
function check_shmem_index(m: Machine, cached: Uint8Array, inIndex: Int32Array, add: (s: string) => void): void {
  const w = m.w;
  const l = m.layout;
  // (inode, index) of every page in an inode's cache
  const cachedAt = new Set<number>();
  for (let pfn = 1; pfn < l.nrFrames; pfn++) {
    const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
    if (!cached[pfn] || (w[p + PG_FLAGS]! & PG_swapcache) !== 0 || !isFileMapping(w[p + PG_MAPPING]!)) continue;
    cachedAt.add(inodeOfMapping(w[p + PG_MAPPING]!) * l.filePages + w[p + PG_INDEX]!);
  }
  for (let ino = 0; ino < l.maxFiles; ino++) {
    const ib = inodeBase(l, ino);
    const shmem = w[ib + I_INO] === ino && (w[ib + I_FLAGS]! & I_SHMEM) !== 0;
    for (let index = 0; index < l.filePages; index++) {
      const entry = w[shmemSwpEntry(l, ino, index)]!;
      if (entry === 0) continue;
      const off = SWP_OFFSET(entry);
      if (!shmem) add(`inode slot ${ino} (${w[ib + I_INO] === ino ? 'not shmem' : 'free'}) records entry 0x${(entry >>> 0).toString(16)} at ${index}`);
      else if (cachedAt.has(ino * l.filePages + index)) add(`shmem inode ${ino} page ${index}: both a cached page and swap entry 0x${(entry >>> 0).toString(16)}`);
      if (SWP_TYPE(entry) !== 0 || off === 0 || off >= l.nrSwap) add(`shmem inode ${ino} page ${index}: bad swap entry 0x${(entry >>> 0).toString(16)}`);
      else inIndex[off]!++;
    }
  }
}
