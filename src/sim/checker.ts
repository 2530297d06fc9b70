/*
 * checker.ts — the invariant checker (DESIGN.md §5), run at quiescent points:
 * after a deterministic run, at stop-the-world checkpoints, at the end of a
 * worker run (all CPUs parked or joined).
 *
 * It rebuilds from the page tables what struct page should say and compares:
 *   - every present pte ↔ the frame's _mapcount (ZERO_PAGE excepted);
 *   - _count = mapping ptes + page-cache/swap-cache reference (no pins at rest);
 *   - the rmap scheme's walk yields exactly the ptes a full scan finds;
 *   - page-table pages: PG_pgtable, back-pointers (mm, base), PG_PT_NR equal to
 *     their non-none entries, each referenced by exactly one pgd entry;
 *   - the buddy/pcp lists hold exactly the free frames (check_free_lists);
 *   - every frame is exactly one of: reserved, free, page table, user page
 *     (mapped and/or cached) — nothing leaks;
 *   - after every process exits and the caches are dropped, every frame is free.
 * Then the rmap scheme's own checks and reclaim's (swap_map, LRU membership).
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
  PG_MAPPING,
  PG_INDEX,
  PG_PT_NR,
  PG_HASH_NEXT,
  PG_ORDER,
  MM_PGD,
  MM_WORDS,
} from '../machine/layout.js';
import { PG_reserved, PG_pgtable, PG_swapcache } from '../machine/page.js';
import { check_free_lists, FREE_NONE } from '../mm/free_check.js';
import { pte_present, pte_pfn } from '../mm/pte.js';
import type { Cpu } from '../vm/cpu.js';
import { ptechain_check } from '../rmap/ptechain.js';
import { vmnode_check } from '../rmap/vmnode.js';
import { ptechain25_check } from '../rmap/ptechain25.js';
import { hint_check } from '../rmap/hint.js';
import { objrmap_check } from '../rmap/objrmap.js';
import { anonmm_check } from '../rmap/anonmm.js';
import { reclaim_checks, reclaim_quiesce } from '../reclaim/index.js';

export interface CheckResult {
  ok: boolean;
  violations: string[];
  stats: { free: number; pagetables: number; user: number; cached: number; mapped: number; reserved: number };
}

export interface CheckContext {
  /** present ptes per pfn */
  mapped: Int32Array;
  /** 1 if the pfn is in the page cache or swap cache hash */
  cached: Uint8Array;
  /** FREE_NONE / FREE_BUDDY / FREE_PCP per pfn */
  free: Uint8Array;
}

/** The rmap scheme's own structural checks (chain packing, pool accounting, anon_vma lists). */
function rmap_scheme_check(cpu: Cpu, out: string[], ctx: CheckContext): void {
  const w = cpu.w;
  const l = cpu.l;
  switch (cpu.rmap.name) {
    case 'ptechain':
      return ptechain_check(w, l, out, ctx.mapped, ctx.free);
    case 'vmnode':
      return vmnode_check(w, l, out, ctx.mapped, ctx.free);
    case 'ptechain25':
      return ptechain25_check(w, l, out, ctx.mapped, ctx.free);
    case 'hint':
      return hint_check(w, l, out, ctx.mapped, ctx.free);
    case 'objrmap':
      return objrmap_check(w, l, out, ctx.mapped);
    case 'anonmm':
      return anonmm_check(w, l, out, ctx.mapped);
  }
}

/**
 * Before anything is checked, reclaim_quiesce (reclaim/checks.ts) drains
 * every CPU's pagevec onto the LRU (lru_add_drain_all at a checkpoint: a page
 * in a pagevec holds a reference the checks below do not expect) and, when
 * the machine should be empty, drops swap-cache pages nobody maps any more
 * (as the caller drops the page cache). Same quiescence rule as the checks.
 * After the core checks come the rmap scheme's and reclaim's own
 * (reclaim_checks: LRU membership, swap_map and swap-cache counts).
 */
const MAX_REPORT = 50;

export function check_invariants(cpu: Cpu, opts: { expectEmpty?: boolean; rmapWalk?: boolean } = {}): CheckResult {
  const m: Machine = cpu.m;
  const w = m.w;
  const l = m.layout;
  const n = l.nrFrames;
  reclaim_quiesce(cpu, opts);
  const v: string[] = [];
  const add = (s: string) => {
    if (v.length < MAX_REPORT) v.push(s);
  };
  const free = new Uint8Array(n);
  for (const s of check_free_lists(m, free)) add(`free lists: ${s}`);
  const mapped = new Int32Array(n);
  const ptOwner = new Int32Array(n).fill(NIL);
  const cached = new Uint8Array(n);
  let pagetables = 0;

  // 1. page tables of every live mm
  for (let mm = 0; mm < l.maxMm; mm++) {
    const pgd = w[l.mmTable + mm * MM_WORDS + MM_PGD]!;
    if (pgd === NIL) continue;
    const checkTable = (pfn: number, base: number, what: string) => {
      const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
      if ((w[p + PG_FLAGS]! & PG_pgtable) === 0) add(`${what} ${pfn} of mm ${mm} lacks PG_pgtable`);
      if (w[p + PG_MAPPING] !== mm) add(`${what} ${pfn}: pgd_getmm says ${w[p + PG_MAPPING]}, owner is mm ${mm}`);
      if (w[p + PG_INDEX]! >>> 0 !== base >>> 0) add(`${what} ${pfn}: base ${w[p + PG_INDEX]! >>> 0} != ${base >>> 0}`);
      if (ptOwner[pfn] !== NIL) add(`${what} ${pfn} referenced twice (mm ${ptOwner[pfn]} and ${mm})`);
      ptOwner[pfn] = mm;
      if (free[pfn] !== FREE_NONE) add(`${what} ${pfn} of mm ${mm} is on a free list`);
      pagetables++;
    };
    checkTable(pgd, 0, 'pgd');
    for (let i = 0; i < 1024; i++) {
      const e = w[l.frames + pgd * PAGE_WORDS + i]!;
      if (e === 0) continue;
      if (i >= 768) {
        add(`mm ${mm}: pgd entry ${i} above TASK_SIZE`);
        continue;
      }
      const pt = e >>> 12;
      checkTable(pt, i << 22, 'pte table');
      const order = w[l.memMap + pt * PAGE_STRUCT_WORDS + PG_ORDER]!;
      for (let k = 1; k < 1 << order; k++) {
        if (ptOwner[pt + k] !== NIL) add(`chain page ${pt + k} referenced twice`);
        ptOwner[pt + k] = mm;
        pagetables++;
      }
      let nonNone = 0;
      for (let s = 0; s < 1024; s++) {
        const pte = w[l.frames + pt * PAGE_WORDS + s]!;
        if (pte === 0) continue;
        nonNone++;
        if (!pte_present(pte)) continue;
        const pfn = pte_pfn(pte);
        if (pfn >= n) {
          add(`mm ${mm} addr ${((i << 22) | (s << 12)) >>> 0}: pte names pfn ${pfn} beyond RAM`);
          continue;
        }
        mapped[pfn]!++;
      }
      const nr = w[l.memMap + pt * PAGE_STRUCT_WORDS + PG_PT_NR]!;
      if (nr !== nonNone) add(`pte table ${pt} of mm ${mm}: PG_PT_NR ${nr} but ${nonNone} entries`);
    }
  }

  // 2. the page cache / swap cache hash
  for (let b = 0; b <= l.pcHashMask; b++) {
    let guard = 0;
    for (let pfn = w[l.pcHash + b]!; pfn !== NIL; pfn = w[l.memMap + pfn * PAGE_STRUCT_WORDS + PG_HASH_NEXT]!) {
      if (pfn < 0 || pfn >= n || ++guard > n) {
        add(`page cache bucket ${b}: broken chain`);
        break;
      }
      if (cached[pfn]) add(`page ${pfn} twice in the page cache`);
      cached[pfn] = 1;
    }
  }

  // 3. per-frame accounting
  let nfree = 0;
  let user = 0;
  let ncached = 0;
  let nmapped = 0;
  let reserved = 0;
  for (let pfn = 0; pfn < n; pfn++) {
    const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
    const flags = w[p + PG_FLAGS]!;
    if (flags & PG_reserved) {
      reserved++;
      continue;
    }
    if (free[pfn] !== FREE_NONE) {
      nfree++;
      if (mapped[pfn]) add(`free page ${pfn} is mapped by ${mapped[pfn]} ptes`);
      if (cached[pfn]) add(`free page ${pfn} is in the page cache`);
      continue;
    }
    if (ptOwner[pfn] !== NIL) {
      if (mapped[pfn]) add(`page table ${pfn} is mapped into user space`);
      continue;
    }
    // a tail frame of a free buddy block has flags 0, count 0 and is "free" via its head
    const count = w[p + PG_COUNT]!;
    const mc = w[p + PG_MAPCOUNT]! + 1;
    if (mapped[pfn] !== mc) add(`page ${pfn}: _mapcount+1 = ${mc} but ${mapped[pfn]} ptes map it`);
    const cacheRef = cached[pfn] ? 1 : 0;
    if (count !== mapped[pfn]! + cacheRef) {
      add(`page ${pfn}: _count ${count} != ${mapped[pfn]} mappers + ${cacheRef} cache (flags 0x${flags.toString(16)})`);
    }
    if (mapped[pfn] === 0 && cacheRef === 0) add(`page ${pfn} leaked: _count ${count}, not mapped, not cached, not free`);
    if (cacheRef) ncached++;
    if (mapped[pfn]) nmapped++;
    if ((flags & PG_swapcache) !== 0 && !cached[pfn]) add(`page ${pfn} PG_swapcache but not in the swap cache hash`);
    user++;
  }
  if (nfree + pagetables + user + reserved !== n) {
    add(`frame accounting: ${nfree} free + ${pagetables} page-table + ${user} user + ${reserved} reserved != ${n} frames`);
  }

  // 4. the reverse map agrees with the page tables
  if (opts.rmapWalk !== false && cpu.rmap.name !== 'scan') rmap_check(cpu, mapped, add);

  const ctx: CheckContext = { mapped, cached, free };
  rmap_scheme_check(cpu, v, ctx);
  reclaim_checks(cpu, v, ctx);

  if (opts.expectEmpty) {
    if (user !== 0 || pagetables !== 0) add(`after exit: ${user} user pages and ${pagetables} page-table pages remain`);
  }
  return {
    ok: v.length === 0,
    violations: v,
    stats: { free: nfree, pagetables, user, cached: ncached, mapped: nmapped, reserved },
  };
}

/** For every mapped frame, the scheme's walk must yield exactly the ptes a scan finds. */
function rmap_check(cpu: Cpu, mapped: Int32Array, add: (s: string) => void): void {
  const w = cpu.w;
  const l = cpu.l;
  // collect the scan's ptes per pfn: pteAddr lists via a CSR layout
  const n = l.nrFrames;
  const start = new Int32Array(n + 1);
  for (let pfn = 0; pfn < n; pfn++) start[pfn + 1] = start[pfn]! + mapped[pfn]!;
  const ptes = new Int32Array(start[n]!);
  const fill = start.slice(0, n);
  for (let mm = 0; mm < l.maxMm; mm++) {
    const pgd = w[l.mmTable + mm * MM_WORDS + MM_PGD]!;
    if (pgd === NIL) continue;
    for (let i = 0; i < 768; i++) {
      const e = w[l.frames + pgd * PAGE_WORDS + i]!;
      if (e === 0) continue;
      const pt = e >>> 12;
      for (let s = 0; s < 1024; s++) {
        const pte = w[l.frames + pt * PAGE_WORDS + s]!;
        if (!pte_present(pte) || pte_pfn(pte) >= n) continue;
        ptes[fill[pte_pfn(pte)]!++] = (pt << 10) | s;
      }
    }
  }
  const out = cpu.scratch;
  for (let pfn = 1; pfn < n; pfn++) {
    const k = mapped[pfn]!;
    if (k === 0) continue;
    const got = cpu.rmap.walk(cpu, pfn, out);
    if (got !== k) {
      add(`rmap ${cpu.rmap.name}: page ${pfn} walk found ${got} ptes, page tables have ${k}`);
      continue;
    }
    const want = ptes.subarray(start[pfn]!, start[pfn + 1]!).slice().sort();
    const have = new Int32Array(k);
    for (let i = 0; i < k; i++) have[i] = out[3 * i + 2]!;
    have.sort();
    for (let i = 0; i < k; i++) {
      if (have[i] !== want[i]) {
        add(`rmap ${cpu.rmap.name}: page ${pfn} walk yields pte ${have[i]}, page tables have ${want[i]}`);
        break;
      }
    }
  }
}
