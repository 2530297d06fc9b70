/*
 * mm/free_check.ts — the allocator's consistency check (check_free_lists):
 * the buddy lists of mm/page_alloc.ts and the pcp lists of mm/pcp.ts hold
 * exactly well-formed free blocks, with counts that add up. For tests and the
 * invariant checker (sim/checker.ts).
 *
 * Locking: none; call only when the machine is quiescent.
 */
import type { Machine } from '../machine/machine.js';
import {
  G_ZONE,
  G_ZONE_AREA,
  Z_FREE,
  Z_FIRST_PFN,
  MAX_ORDER,
  NIL,
  PAGE_STRUCT_WORDS,
  PG_FLAGS,
  PG_COUNT,
  PG_LRU_NEXT,
  PG_LRU_PREV,
  PG_ORDER,
  PC_PCP,
  PCP_COUNT,
  PCP_HEAD,
  PCP_TAIL,
  globalLine,
  percpuBase,
  pageStruct,
  type Layout,
} from '../machine/layout.js';
import { PG_buddy, PG_pcp } from '../machine/page.js';

/** Free-map values written by check_free_lists. */
export const FREE_NONE = 0;
export const FREE_BUDDY = 1;
export const FREE_PCP = 2;

/**
 * Walk a free list of struct pages (NIL-terminated forwards through
 * PG_LRU_NEXT, PG_LRU_PREV naming the previous entry, the first's NIL) from
 * `first`, reporting bad links and cycles as `what`; `visit` checks each
 * entry (pfn, struct page offset). Returns the length and the last pfn.
 */
function walk_free_list(
  w: Int32Array,
  l: Layout,
  first: number,
  what: string,
  report: (s: string) => void,
  visit: (pfn: number, p: number) => void,
): { len: number; last: number } {
  const n = l.nrFrames;
  let len = 0;
  let prev = NIL;
  for (let pfn = first; pfn !== NIL; pfn = w[pageStruct(l, pfn) + PG_LRU_NEXT]!) {
    if (pfn < 0 || pfn >= n) {
      report(`${what}: link to bad pfn ${pfn}`);
      break;
    }
    if (++len > n) {
      report(`${what}: list does not end (cycle)`);
      break;
    }
    const p = pageStruct(l, pfn);
    if (w[p + PG_LRU_PREV] !== prev) report(`${what}: pfn ${pfn} prev ${w[p + PG_LRU_PREV]} != ${prev}`);
    prev = pfn;
    visit(pfn, p);
  }
  return { len, last: prev };
}

/**
 * check_free_lists: verify the allocator's structures; returns violations
 * (empty = consistent). Every free-list entry is a PG_buddy head of the list's
 * order, aligned, inside managed memory, with _count 0 and consistent links;
 * blocks do not overlap; list lengths match nr_free; Z_FREE = their sum; pcp
 * lists are well-formed head/tail lists of PG_pcp pages whose length is the
 * slot's count; no stray PG_buddy / PG_pcp flag elsewhere. If `freeMap`
 * (nrFrames entries) is given it receives FREE_BUDDY / FREE_PCP per free
 * frame and FREE_NONE elsewhere, for the invariant checker ("the free lists
 * hold exactly the free frames"). Call only when the machine is quiescent.
 */
export function check_free_lists(m: Machine, freeMap?: Uint8Array): string[] {
  const w = m.w;
  const l = m.layout;
  const n = l.nrFrames;
  const out: string[] = [];
  const report = (s: string) => {
    if (out.length < 100) out.push(s);
  };
  const map = freeMap ?? new Uint8Array(n);
  if (map.length < n) throw new Error('check_free_lists: freeMap too small');
  map.fill(FREE_NONE, 0, n);
  const z = globalLine(l, G_ZONE);
  const first = w[z + Z_FIRST_PFN]!;
  const heads = globalLine(l, G_ZONE_AREA);
  const nrFreeBase = globalLine(l, G_ZONE_AREA + 1);
  const pg = (pfn: number) => l.memMap + pfn * PAGE_STRUCT_WORDS;
  const isHead = new Uint8Array(n);
  let sum = 0;
  for (let o = 0; o < MAX_ORDER; o++) {
    const { len } = walk_free_list(w, l, w[heads + o]!, `free_area[${o}]`, report, (pfn, p) => {
      if ((w[p + PG_FLAGS]! & PG_buddy) === 0) report(`free_area[${o}]: pfn ${pfn} lacks PG_buddy`);
      if (w[p + PG_ORDER] !== o) report(`free_area[${o}]: pfn ${pfn} has order ${w[p + PG_ORDER]}`);
      if (w[p + PG_COUNT] !== 0) report(`free_area[${o}]: pfn ${pfn} has _count ${w[p + PG_COUNT]}`);
      if ((pfn & ((1 << o) - 1)) !== 0) report(`free_area[${o}]: pfn ${pfn} not aligned`);
      if (pfn < first || pfn + (1 << o) > n) report(`free_area[${o}]: block ${pfn} outside managed memory`);
      isHead[pfn] = 1;
      for (let i = pfn, e = Math.min(n, pfn + (1 << o)); i < e; i++) {
        if (map[i] !== FREE_NONE) report(`free_area[${o}]: block ${pfn} overlaps another free block at pfn ${i}`);
        map[i] = FREE_BUDDY;
      }
      sum += 1 << o;
    });
    if (w[nrFreeBase + o] !== len) report(`free_area[${o}]: nr_free ${w[nrFreeBase + o]} but ${len} blocks listed`);
  }
  if (w[z + Z_FREE] !== sum) report(`zone: Z_FREE ${w[z + Z_FREE]} but the lists hold ${sum} pages`);
  for (let c = 0; c < l.nrCpuSlots; c++) {
    const pcp = percpuBase(l, c) + PC_PCP;
    const count = w[pcp + PCP_COUNT]!;
    const { len, last } = walk_free_list(w, l, w[pcp + PCP_HEAD]!, `pcp[${c}]`, report, (pfn, p) => {
      if (w[p + PG_FLAGS] !== PG_pcp) report(`pcp[${c}]: pfn ${pfn} flags 0x${w[p + PG_FLAGS]!.toString(16)} (want PG_pcp only)`);
      if (w[p + PG_COUNT] !== 0) report(`pcp[${c}]: pfn ${pfn} has _count ${w[p + PG_COUNT]}`);
      if (pfn < first) report(`pcp[${c}]: pfn ${pfn} outside managed memory`);
      if (map[pfn] !== FREE_NONE) report(`pcp[${c}]: pfn ${pfn} is also free elsewhere`);
      map[pfn] = FREE_PCP;
    });
    if (w[pcp + PCP_TAIL] !== last) report(`pcp[${c}]: tail ${w[pcp + PCP_TAIL]} but the list ends at ${last}`);
    if (len !== count) report(`pcp[${c}]: count ${count} but ${len} pages listed`);
  }
  for (let pfn = 0; pfn < n; pfn++) {
    const f = w[pg(pfn) + PG_FLAGS]!;
    if ((f & PG_buddy) !== 0 && !isHead[pfn]) report(`pfn ${pfn}: PG_buddy but not on a free list`);
    if ((f & PG_pcp) !== 0 && map[pfn] !== FREE_PCP) report(`pfn ${pfn}: PG_pcp but not on a pcp list`);
  }
  return out;
}
