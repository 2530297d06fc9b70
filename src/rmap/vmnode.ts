/*
 * vmnode.ts — Mark Hemment's pagable_node / vm_node chains (seed 000, "Re:
 * Page cache and swapping", linux-kernel, 26 Jun 1997).
 *
 *   "pte-mapping chains ... unordered, double-link, lists of dynamically
 *    allocated objects - called vm_nodes. The vm_nodes where linked off
 *    another object, called a pagable_node."  A vm_node held a pointer to
 *    the pte, a pointer to the vm_area and the links.
 *
 *   struct page (pagable_node)          rmap pool (vm_nodes, 16 bytes each)
 *   +--------------------+      +-----------------------------+
 *   | PG_RMAP = head  ---+----> | pte | vma | next | prev=NIL |--> ... --> NIL
 *   | PG_chainlock       |      +-----------------------------+
 *   +--------------------+        ^
 *   pte table T (order 1)         |
 *   +-----------------+           |
 *   | pte[s]          |  page T   |
 *   | node(s) + 1  ---+-----------+  page T+1: the per-table shadow page
 *   +-----------------+
 *
 * Unordered: a new node goes to the head (O(1)). Doubly linked: a node is
 * unlinked in O(1) once found. Finding the node of a given pte in O(1) is
 * the part Hemment's mail leaves open; the choices were
 *   - search the page's list for the node whose pte matches: O(mappers),
 *     which gives back the O(1) the double links bought;
 *   - a hash from pte address to node: memory per node plus a global hash
 *     and its lock on every map/unmap;
 *   - a shadow page beside each page table, one word per pte slot holding
 *     the pte's node — what Hemment himself moved to when he restarted
 *     ("allocate _three_ pages for each page-table; one for the pte, another
 *     for the vm_area ptr ..."), the same trick as LaHaise's chain page.
 * smpvm takes the shadow page: exact O(1), nothing to hash, no lock beyond
 * the pte lock (a pte's shadow word belongs to whoever holds that pte's
 * lock), allocated and freed with the table (pte tables are order 1, zeroed:
 * 0 = no node). Cost: 4 bytes per pte slot on top of the 16-byte node — the
 * "implementation sucked mud" overhead is visible in bench/rmap.ts.
 *
 * The node's vma word is the VMA the mapper passed at add(); split_vma and
 * vma_merge do not rewrite nodes, so after them it may name the old half
 * (Hemment needed it for flushes and per-type data; smpvm's flushes are per
 * CPU). Walks take mm and address from the page table's struct page
 * (ptep_to_mm / ptep_to_address), which never go stale.
 *
 * Nodes come from the rmap pool with 2.5's discipline: prealloc (pool lock)
 * before the pte lock, add() consumes the CPU's cached node, remove() frees
 * into the cache first (pool.ts). Pool exhaustion fails the fault / fork /
 * mremap with OOM before anything changed.
 *
 * Locking: pte lock → chain lock (the pagable_node's lock: PG_chainlock, or
 * kernel_flag under `bkl`; sync/scheme.ts chain_lock) → rmap_cachep.
 * Reclaim: page lock → chain lock → trylock pte lock; a pte whose node is on
 * the list cannot have its table freed (ptechain.ts argues it).
 */
import type { CpuBase } from '../machine/cpu.js';
import { NIL, PAGE_WORDS, PAGE_STRUCT_WORDS, PG_RMAP, PG_FLAGS, pageStruct, type Layout } from '../machine/layout.js';
import { PG_pgtable, PG_reserved, PG_compound } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { chain_assert_locked } from '../sync/scheme.js';
import { ptep_to_mm, ptep_to_address } from '../mm/pgtable.js';
import type { SlabCache } from '../mm/slab.js';
import { SWAP_SUCCESS, SWAP_FAIL, type RmapScheme } from './types.js';
import { page_referenced_one, try_to_unmap_one, swap_merge, ACT_COLLECT, ACT_REFERENCED, ACT_UNMAP } from './unmap.js';
import { poolCacheFor, poolObj, poolInUse, poolCached, poolCachedId, rmap_prealloc, rmap_obj_alloc, rmap_obj_free } from './pool.js';
import { nr_pte_tables } from './ptechain.js';
import { chainScheme } from './chain_scheme.js';

/* struct vm_node: 4 words */
export const VN_PTE = 0;
export const VN_VMA = 1;
export const VN_NEXT = 2; // also the free-list link
export const VN_PREV = 3;
export const VM_NODE_WORDS = 4;

const memo: { l: Layout | null; c: SlabCache | null } = { l: null, c: null };
const cacheOf = (cpu: CpuBase) => poolCacheFor(cpu.l, VN_NEXT, memo);

/** Word offset of the shadow word (node id + 1) of pte address a. */
const shadowOf = (cpu: CpuBase, a: number) => cpu.l.frames + a + PAGE_WORDS;

/** Link a new node for pte a (of vma) on page pfn's list. Chain lock held. */
function __vm_node_add(cpu: CpuBase, pfn: number, a: number, vma: number): void {
  chain_assert_locked(cpu, pfn);
  const w = cpu.w;
  const l = cpu.l;
  const n = rmap_obj_alloc(cpu, cacheOf(cpu));
  if (n < 0) throw new Error(`cpu ${cpu.id}: vm_node pool exhausted in page_add_rmap (the caller did not prealloc)`);
  const nb = poolObj(l, n);
  const head = pageStruct(l, pfn) + PG_RMAP;
  const first = w[head]!;
  w[nb + VN_PTE] = a;
  w[nb + VN_VMA] = vma;
  w[nb + VN_NEXT] = first;
  w[nb + VN_PREV] = NIL;
  if (first !== NIL) w[poolObj(l, first) + VN_PREV] = n;
  w[head] = n;
  w[shadowOf(cpu, a)] = n + 1;
}

/** Unlink node n from page pfn's list in O(1). Chain lock held. */
function __vm_node_unlink(cpu: CpuBase, pfn: number, n: number): void {
  chain_assert_locked(cpu, pfn);
  const w = cpu.w;
  const l = cpu.l;
  const nb = poolObj(l, n);
  const next = w[nb + VN_NEXT]!;
  const prev = w[nb + VN_PREV]!;
  if (prev === NIL) w[pageStruct(l, pfn) + PG_RMAP] = next;
  else w[poolObj(l, prev) + VN_NEXT] = next;
  if (next !== NIL) w[poolObj(l, next) + VN_PREV] = prev;
  w[shadowOf(cpu, w[nb + VN_PTE]!)] = 0;
  rmap_obj_free(cpu, cacheOf(cpu), n);
}

/** Remove pte a's node from page pfn: the shadow word finds it. Chain lock held. */
function __vm_node_remove(cpu: CpuBase, pfn: number, a: number): void {
  chain_assert_locked(cpu, pfn);
  const n = cpu.w[shadowOf(cpu, a)]! - 1;
  if (n < 0 || cpu.w[poolObj(cpu.l, n) + VN_PTE] !== a) {
    throw new Error(`cpu ${cpu.id}: vmnode: pte ${a} of page ${pfn} has no vm_node (shadow ${n})`);
  }
  __vm_node_unlink(cpu, pfn, n);
}

/** Walk page pfn's vm_nodes with the chain lock held (see ptechain.ts chain_walk). */
function node_walk(cpu: CpuBase, pfn: number, act: number, out: Int32Array, entry: number): number {
  chain_assert_locked(cpu, pfn);
  const w = cpu.w;
  const l = cpu.l;
  let ret = act === ACT_UNMAP ? SWAP_SUCCESS : 0;
  let guard = 0;
  for (let n = w[pageStruct(l, pfn) + PG_RMAP]!; n !== NIL; ) {
    if (++guard > l.rmapEntries) throw new Error(`cpu ${cpu.id}: vmnode: list of page ${pfn} does not end`);
    const nb = poolObj(l, n);
    const next = w[nb + VN_NEXT]!;
    const a = w[nb + VN_PTE]!;
    const mm = ptep_to_mm(cpu, a);
    if (act === ACT_COLLECT) {
      if (3 * ret + 2 < out.length) {
        out[3 * ret] = mm;
        out[3 * ret + 1] = ptep_to_address(cpu, a);
        out[3 * ret + 2] = a;
        ret++;
      }
    } else if (act === ACT_REFERENCED) {
      if (page_referenced_one(cpu, pfn, mm, a) > 0) ret++;
    } else {
      // removeLocked runs under the pte lock: the shadow word is the pte's, and
      // once that lock is dropped the table may be zapped and freed
      const k = try_to_unmap_one(cpu, vmnodeScheme, pfn, mm, ptep_to_address(cpu, a), a, entry, true);
      ret = swap_merge(ret, k);
      if (k === SWAP_FAIL) break;
    }
    n = next;
  }
  w[cpu.vm + VM.rmap_walk_visit]! += guard;
  return ret;
}

export const vmnodeScheme: RmapScheme = chainScheme({
  name: 'vmnode',
  ptOrder: 1,
  link: __vm_node_add,
  unlink: __vm_node_remove,
  walk: node_walk,
  /** vm_nodes allocated (16 bytes each) + the shadow pages (4 KiB per pte table) */
  metadataBytes(cpu) {
    return poolInUse(cpu.w, cpu.l) * VM_NODE_WORDS * 4 + nr_pte_tables(cpu.w, cpu.l) * PAGE_WORDS * 4;
  },
  prealloc(cpu) {
    return rmap_prealloc(cpu, cacheOf(cpu));
  },
});

/**
 * Checker extra (quiescent): every node on a page's list points back
 * through its pte's shadow word, prev links mirror next links, nodes on
 * lists + nodes cached per CPU = nodes allocated from the pool, and an
 * unmapped user page has no list.
 */
export function vmnode_check(w: Int32Array, l: Layout, out: string[], mapped: Int32Array, free: Uint8Array): void {
  const add = (s: string) => {
    if (out.length < 50) out.push(`vmnode: ${s}`);
  };
  let onLists = 0;
  for (let pfn = 1; pfn < l.nrFrames; pfn++) {
    if (free[pfn] !== 0) continue;
    const p = l.memMap + pfn * PAGE_STRUCT_WORDS;
    if ((w[p + PG_FLAGS]! & (PG_pgtable | PG_reserved | PG_compound)) !== 0) continue;
    if (mapped[pfn] === 0) {
      if (w[p + PG_RMAP] !== NIL) add(`unmapped page ${pfn} still has vm_node ${w[p + PG_RMAP]}`);
      continue;
    }
    let prev = NIL;
    let k = 0;
    for (let n = w[p + PG_RMAP]!; n !== NIL && k <= mapped[pfn]!; n = w[poolObj(l, n) + VN_NEXT]!) {
      const nb = poolObj(l, n);
      if (w[nb + VN_PREV] !== prev) add(`page ${pfn}: node ${n} prev ${w[nb + VN_PREV]} != ${prev}`);
      if (w[l.frames + w[nb + VN_PTE]! + PAGE_WORDS] !== n + 1) add(`page ${pfn}: node ${n}'s pte ${w[nb + VN_PTE]} shadows ${w[l.frames + w[nb + VN_PTE]! + PAGE_WORDS]! - 1}`);
      prev = n;
      k++;
    }
    onLists += k;
  }
  const cached = poolCached(w, l);
  for (let c = 0; c < l.nrCpuSlots; c++) {
    const id = poolCachedId(w, l, c);
    if (id >= l.rmapEntries) add(`cpu ${c} caches node ${id} beyond the pool`);
  }
  if (onLists + cached !== poolInUse(w, l)) add(`${onLists} nodes on lists + ${cached} cached != ${poolInUse(w, l)} allocated (leak)`);
}

