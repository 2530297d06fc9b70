/*
 * ptechain25.ts — the 2.5 rmap VM's pte chains (Rik van Riel's rmap, as in
 * 2.5.x–2.6.6 mm/rmap.c; REFERENCE.md §3.2, §3.3).
 *
 * struct page gains a union: either one pte address (PG_direct set, Dave
 * McCracken's singleton optimisation: most pages have one mapping, and it
 * costs no allocation) or the head of a chain of pte_chain blocks, each one
 * cache line (Andrew Morton's layout, to cut the cache misses of 8-byte
 * {next, pte} nodes):
 *
 *   struct pte_chain {             one 64-byte line in the rmap pool
 *     next_and_idx;                next block id + 1, << 4 | index of the
 *                                  first used slot (the low bits are free
 *                                  because blocks are aligned)
 *     ptes[NRPTE];                 NRPTE = (64 - 4) / 4 = 15 pte addresses
 *   }
 *
 *   PG_RMAP ──> head block                 next block            ──> NIL
 *               [0 0 0 0 a b c ... z]       [p q r ... y]  (full)
 *                ^free^  ^idx = 4
 *
 * Packing invariants (kept by every operation, checked by ptechain25_check):
 * only the head block has free slots; free slots are the leading ones (0),
 * so idx is where the used run starts; page_add_rmap fills the last free
 * slot of the head (ptes[idx - 1], idx--) or pushes a new head with only its
 * last slot used when the head is full; page_remove_rmap moves the head's
 * first used entry into the hole and frees the head when that empties it. A
 * second mapping converts PG_direct into a block holding both; removals do
 * not convert back — page_referenced collapses a 1-entry chain to PG_direct
 * ("only under memory pressure", McCracken).
 *
 * Allocation discipline (pte_chain_alloc): blocks come from the rmap pool;
 * every path that adds a mapping preallocates one into the CPU's one-deep
 * cache BEFORE taking the pte lock (fault: before the pte lock; fork and
 * mremap: per pte, where 2.5 tried GFP_ATOMIC under the lock — the pool lock
 * is a leaf, so that is legal); page_add_rmap consumes it only if it needs a
 * block and otherwise leaves it cached ("returned if unused"). An exhausted
 * pool makes prealloc fail and the fault return VM_FAULT_OOM (fork, mremap:
 * ENOMEM) before any pte changed; nothing is ever half-linked.
 *
 * Locking: pte lock → pte_chain_lock (the PG_chainlock bit under `split`
 * and `2.4`; kernel_flag under `bkl`) → rmap_cachep.
 * Reclaim: page lock → chain lock → TRYLOCK of each pte lock (SWAP_AGAIN on
 * failure). A pte on a chain has a live table: the zap clearing it waits in
 * page_remove_rmap for the chain lock before its table can be freed.
 */
import type { CpuBase } from '../machine/cpu.js';
import { NIL, LINE_WORDS, PAGE_STRUCT_WORDS, PG_RMAP, PG_FLAGS, PG_MAPCOUNT, pageStruct, type Layout } from '../machine/layout.js';
import { PG_direct, PG_pgtable, PG_reserved, PG_compound } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { chain_assert_locked } from '../sync/scheme.js';
import { ptep_to_mm, ptep_to_address } from '../mm/pgtable.js';
import type { SlabCache } from '../mm/slab.js';
import { SWAP_SUCCESS, SWAP_AGAIN, SWAP_FAIL, type RmapScheme } from './types.js';
import { page_referenced_one, try_to_unmap_one, ACT_COLLECT, ACT_REFERENCED, ACT_UNMAP } from './unmap.js';
import { chainScheme } from './chain_scheme.js';
import { poolCacheFor, poolObj, poolInUse, poolCached, poolCachedId, rmap_prealloc, rmap_obj_alloc, rmap_obj_free } from './pool.js';

/* ---- struct pte_chain: one line; packed next_and_idx ---- */
export const NRPTE = LINE_WORDS - 1; // 15 pte addresses per 64-byte block
const PC_NEXT_AND_IDX = 0; // also the free-list link of a free block
const PC_PTES = 1;
const IDX_BITS = 4;
const IDX_MASK = (1 << IDX_BITS) - 1;
if (NRPTE > IDX_MASK) throw new Error('ptechain25: NRPTE does not fit in next_and_idx');
/** pte_chain_encode(next, idx): next block id (NIL = end) and first used slot in one word. */
export const pte_chain_encode = (next: number, idx: number) => ((next + 1) << IDX_BITS) | idx;
export const pte_chain_next = (v: number) => (v >>> IDX_BITS) - 1;
export const pte_chain_idx = (v: number) => v & IDX_MASK;
/** Largest block id whose encoding fits in an int32. */
const MAX_BLOCKS = (1 << (31 - IDX_BITS)) - 1;

const memo: { l: Layout | null; c: SlabCache | null } = { l: null, c: null };
function cacheOf(cpu: CpuBase): SlabCache {
  if (cpu.l.rmapEntries > MAX_BLOCKS) throw new Error(`ptechain25: ${cpu.l.rmapEntries} blocks do not fit next_and_idx`);
  return poolCacheFor(cpu.l, PC_NEXT_AND_IDX, memo);
}

/** Word offset of slot i of block b. */
const slot = (l: Layout, b: number, i: number) => poolObj(l, b) + PC_PTES + i;

function take_block(cpu: CpuBase): number {
  const b = rmap_obj_alloc(cpu, cacheOf(cpu));
  if (b < 0) throw new Error(`cpu ${cpu.id}: pte_chain pool exhausted in page_add_rmap (the caller did not pte_chain_alloc first)`);
  return b;
}

/** __pte_chain_free: an empty block (all slots 0) goes back to the CPU cache / pool. */
function pte_chain_free(cpu: CpuBase, b: number): void {
  rmap_obj_free(cpu, cacheOf(cpu), b);
}

/** page_add_rmap's body: chain lock held. */
function __page_add_rmap(cpu: CpuBase, pfn: number, a: number): void {
  chain_assert_locked(cpu, pfn);
  const w = cpu.w;
  const l = cpu.l;
  const p = pageStruct(l, pfn);
  const head = w[p + PG_RMAP]!;
  if (head === NIL) {
    w[p + PG_RMAP] = a; // the first mapping: pte.direct
    Atomics.or(w, p + PG_FLAGS, PG_direct);
    return;
  }
  if ((Atomics.load(w, p + PG_FLAGS) & PG_direct) !== 0) {
    // a second mapping: convert the direct pointer into a chain
    const b = take_block(cpu);
    w[slot(l, b, NRPTE - 1)] = head;
    w[slot(l, b, NRPTE - 2)] = a;
    w[poolObj(l, b) + PC_NEXT_AND_IDX] = pte_chain_encode(NIL, NRPTE - 2);
    w[p + PG_RMAP] = b;
    Atomics.and(w, p + PG_FLAGS, ~PG_direct);
    return;
  }
  const v = w[poolObj(l, head) + PC_NEXT_AND_IDX]!;
  const idx = pte_chain_idx(v);
  if (idx === 0) {
    // the head is full: a new head with only its last slot used
    const b = take_block(cpu);
    w[poolObj(l, b) + PC_NEXT_AND_IDX] = pte_chain_encode(head, NRPTE - 1);
    w[slot(l, b, NRPTE - 1)] = a;
    w[p + PG_RMAP] = b;
    return;
  }
  w[slot(l, head, idx - 1)] = a;
  w[poolObj(l, head) + PC_NEXT_AND_IDX] = v - 1;
}

/**
 * Fill the hole at slot i of block pc with the head's first used entry and
 * retire that slot of the head (the shared tail of page_remove_rmap and of
 * try_to_unmap's in-place walk). Chain lock held.
 */
function fill_hole(cpu: CpuBase, p: number, pc: number, i: number): void {
  const w = cpu.w;
  const l = cpu.l;
  const start = w[p + PG_RMAP]!;
  const sv = w[poolObj(l, start) + PC_NEXT_AND_IDX]!;
  const victim = pte_chain_idx(sv);
  w[slot(l, pc, i)] = w[slot(l, start, victim)]!;
  w[slot(l, start, victim)] = 0;
  if (victim === NRPTE - 1) {
    // emptied the head block
    w[p + PG_RMAP] = pte_chain_next(sv);
    pte_chain_free(cpu, start);
  } else {
    w[poolObj(l, start) + PC_NEXT_AND_IDX] = sv + 1;
  }
}

/** page_remove_rmap's body: chain lock held. */
function __page_remove_rmap(cpu: CpuBase, pfn: number, a: number): void {
  chain_assert_locked(cpu, pfn);
  const w = cpu.w;
  const l = cpu.l;
  const p = pageStruct(l, pfn);
  const head = w[p + PG_RMAP]!;
  if ((Atomics.load(w, p + PG_FLAGS) & PG_direct) !== 0) {
    if (head !== a) throw new Error(`cpu ${cpu.id}: ptechain25: page ${pfn} direct pte ${head}, removing ${a}`);
    w[p + PG_RMAP] = NIL;
    Atomics.and(w, p + PG_FLAGS, ~PG_direct);
    return;
  }
  let guard = 0;
  for (let pc = head; pc !== NIL; ) {
    if (++guard > l.rmapEntries) break;
    const v = w[poolObj(l, pc) + PC_NEXT_AND_IDX]!;
    for (let i = pte_chain_idx(v); i < NRPTE; i++) {
      if (w[slot(l, pc, i)] !== a) continue;
      fill_hole(cpu, p, pc, i);
      return;
    }
    pc = pte_chain_next(v);
  }
  throw new Error(`cpu ${cpu.id}: ptechain25: pte ${a} is not on the chain of page ${pfn}`);
}

/** Collect or test-and-clear young over the chain (chain lock held). */
function chain_visit(cpu: CpuBase, pfn: number, act: number, out: Int32Array): number {
  chain_assert_locked(cpu, pfn);
  const w = cpu.w;
  const l = cpu.l;
  const p = pageStruct(l, pfn);
  const head = w[p + PG_RMAP]!;
  if (head === NIL) return 0;
  let n = 0;
  if ((Atomics.load(w, p + PG_FLAGS) & PG_direct) !== 0) return visit_one(cpu, pfn, act, out, n, head);
  let guard = 0;
  for (let pc = head; pc !== NIL; ) {
    if (++guard > l.rmapEntries) throw new Error(`cpu ${cpu.id}: ptechain25: chain of page ${pfn} does not end`);
    const v = w[poolObj(l, pc) + PC_NEXT_AND_IDX]!;
    for (let i = pte_chain_idx(v); i < NRPTE; i++) n = visit_one(cpu, pfn, act, out, n, w[slot(l, pc, i)]!);
    pc = pte_chain_next(v);
  }
  return n;
}

function visit_one(cpu: CpuBase, pfn: number, act: number, out: Int32Array, n: number, a: number): number {
  cpu.w[cpu.vm + VM.rmap_walk_visit]!++;
  if (act === ACT_COLLECT) {
    if (3 * n + 2 < out.length) {
      out[3 * n] = ptep_to_mm(cpu, a);
      out[3 * n + 1] = ptep_to_address(cpu, a);
      out[3 * n + 2] = a;
      return n + 1;
    }
    return n;
  }
  return page_referenced_one(cpu, pfn, ptep_to_mm(cpu, a), a) > 0 ? n + 1 : n;
}

/** McCracken: a chain left with one entry goes back to PG_direct (under memory pressure). Chain lock held. */
function collapse_singleton(cpu: CpuBase, pfn: number): void {
  chain_assert_locked(cpu, pfn);
  const w = cpu.w;
  const l = cpu.l;
  const p = pageStruct(l, pfn);
  const head = w[p + PG_RMAP]!;
  if (head === NIL || (Atomics.load(w, p + PG_FLAGS) & PG_direct) !== 0) return;
  const v = w[poolObj(l, head) + PC_NEXT_AND_IDX]!;
  if (pte_chain_idx(v) !== NRPTE - 1 || pte_chain_next(v) !== NIL) return;
  const a = w[slot(l, head, NRPTE - 1)]!;
  w[slot(l, head, NRPTE - 1)] = 0;
  w[p + PG_RMAP] = a;
  Atomics.or(w, p + PG_FLAGS, PG_direct);
  pte_chain_free(cpu, head);
}

/**
 * try_to_unmap's walk (2.6.0 mm/rmap.c): unmap each pte in chain order;
 * every unmapped entry is replaced by the head's first used entry (one that
 * was already visited, or itself), so the chain stays packed as it shrinks
 * and a freed head is stepped over with the saved next. Chain lock held.
 */
function chain_unmap(cpu: CpuBase, pfn: number, entry: number): number {
  chain_assert_locked(cpu, pfn);
  const w = cpu.w;
  const l = cpu.l;
  const p = pageStruct(l, pfn);
  const head = w[p + PG_RMAP]!;
  if (head === NIL) return SWAP_SUCCESS;
  if ((Atomics.load(w, p + PG_FLAGS) & PG_direct) !== 0) {
    w[cpu.vm + VM.rmap_walk_visit]!++;
    const k = try_to_unmap_one(cpu, null, pfn, ptep_to_mm(cpu, head), ptep_to_address(cpu, head), head, entry, true);
    if (k === SWAP_SUCCESS) {
      w[p + PG_RMAP] = NIL;
      Atomics.and(w, p + PG_FLAGS, ~PG_direct);
    }
    return k;
  }
  let ret = SWAP_SUCCESS;
  let guard = 0;
  for (let pc = head; pc !== NIL; ) {
    if (++guard > l.rmapEntries) throw new Error(`cpu ${cpu.id}: ptechain25: chain of page ${pfn} does not end`);
    const v = w[poolObj(l, pc) + PC_NEXT_AND_IDX]!;
    const next = pte_chain_next(v);
    for (let i = pte_chain_idx(v); i < NRPTE; i++) {
      const a = w[slot(l, pc, i)]!;
      w[cpu.vm + VM.rmap_walk_visit]!++;
      const k = try_to_unmap_one(cpu, null, pfn, ptep_to_mm(cpu, a), ptep_to_address(cpu, a), a, entry, true);
      if (k === SWAP_SUCCESS) fill_hole(cpu, p, pc, i);
      else if (k === SWAP_AGAIN) ret = SWAP_AGAIN;
      else return SWAP_FAIL;
    }
    pc = next;
  }
  return ret;
}

/** The walk under the chain lock: visit (collect, or test-and-clear then collapse a lone survivor) or unmap. */
function chain_walk(cpu: CpuBase, pfn: number, act: number, out: Int32Array, entry: number): number {
  if (act === ACT_UNMAP) return chain_unmap(cpu, pfn, entry);
  const n = chain_visit(cpu, pfn, act, out);
  if (act === ACT_REFERENCED) collapse_singleton(cpu, pfn);
  return n;
}

export const ptechain25Scheme: RmapScheme = chainScheme({
  name: 'ptechain25',
  ptOrder: 0,
  link: __page_add_rmap,
  unlink: __page_remove_rmap,
  walk: chain_walk,
  /** pte_chain blocks allocated, one 64-byte line each (PG_direct pages cost nothing) */
  metadataBytes(cpu) {
    return poolInUse(cpu.w, cpu.l) * LINE_WORDS * 4;
  },
  prealloc(cpu) {
    return rmap_prealloc(cpu, cacheOf(cpu));
  },
});

/**
 * The packing invariants of page pfn's pte_chain (quiescent, or chain lock
 * held): returns '' or what is wrong. `mapcount` = ptes the page tables have.
 */
export function pte_chain_check(w: Int32Array, l: Layout, pfn: number, mapcount: number): string {
  const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
  const head = w[p + PG_RMAP]!;
  const direct = (w[p + PG_FLAGS]! & PG_direct) !== 0;
  if (mapcount === 0) return head === NIL && !direct ? '' : `unmapped but PG_RMAP ${head}${direct ? ' PG_direct' : ''}`;
  if (direct) return mapcount === 1 ? '' : `PG_direct but ${mapcount} mappings`;
  if (head === NIL) return `${mapcount} mappings but no chain`;
  let entries = 0;
  let blocks = 0;
  for (let pc = head; pc !== NIL; blocks++) {
    if (pc < 0 || pc >= l.rmapEntries || blocks > mapcount) return `chain through bad block ${pc}`;
    const v = w[poolObj(l, pc) + PC_NEXT_AND_IDX]!;
    const idx = pte_chain_idx(v);
    if (pc !== head && idx !== 0) return `non-head block ${pc} has ${idx} free slots`;
    if (idx >= NRPTE) return `block ${pc} is empty (idx ${idx})`;
    for (let i = 0; i < NRPTE; i++) {
      const a = w[slot(l, pc, i)]!;
      if (i < idx && a !== 0) return `block ${pc} slot ${i} before idx ${idx} is used (${a})`;
      if (i >= idx && a === 0) return `block ${pc} slot ${i} after idx ${idx} is free`;
    }
    entries += NRPTE - idx;
    pc = pte_chain_next(v);
  }
  return entries === mapcount ? '' : `chain holds ${entries} ptes, page tables ${mapcount}`;
}

/** Checker extra (quiescent): packing invariants of every page, and blocks on chains + cached = allocated. */
export function ptechain25_check(w: Int32Array, l: Layout, out: string[], mapped: Int32Array, free: Uint8Array): void {
  let blocks = 0;
  for (let pfn = 1; pfn < l.nrFrames; pfn++) {
    if (free[pfn] !== 0) continue;
    const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
    if ((w[p + PG_FLAGS]! & (PG_pgtable | PG_reserved | PG_compound)) !== 0) continue;
    if (w[p + PG_MAPCOUNT]! + 1 !== mapped[pfn]) continue; // the main checker reports it
    const why = pte_chain_check(w, l, pfn, mapped[pfn]!);
    if (why) {
      if (out.length < 50) out.push(`ptechain25: page ${pfn}: ${why}`);
      continue;
    }
    if ((w[p + PG_FLAGS]! & PG_direct) === 0) {
      for (let pc = w[p + PG_RMAP]!; pc !== NIL; pc = pte_chain_next(w[poolObj(l, pc) + PC_NEXT_AND_IDX]!)) blocks++;
    }
  }
  const cached = poolCached(w, l);
  for (let c = 0; c < l.nrCpuSlots; c++) {
    const b = poolCachedId(w, l, c);
    if (b < 0) continue;
    for (let i = 0; i < NRPTE; i++) {
      if (w[slot(l, b, i)] !== 0 && out.length < 50) {
        out.push(`ptechain25: block ${b} cached by cpu ${c} is not empty`);
        break;
      }
    }
  }
  if (blocks + cached !== poolInUse(w, l) && out.length < 50) {
    out.push(`ptechain25: ${blocks} blocks on chains + ${cached} cached != ${poolInUse(w, l)} allocated (leak)`);
  }
}

