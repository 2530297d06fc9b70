/*
 * policy.ts — the ReplacementPolicy interface: which pages reclaim picks
 * (DESIGN.md §2: chosen once, when the machine is built, `--policy`).
 *
 * Everything around a policy is shared: the LRU lists and pagevecs (lru.ts),
 * the mechanics of freeing one page — swap cache, unmapping, write-out,
 * removal from its cache (vmscan.ts shrink_page) — kswapd, direct reclaim
 * and the OOM killer. A policy only decides what to look at and in what
 * order, and which of the pages it looked at deserve another round:
 *
 *   swapout   2.4's virtual scan (swap_out over the mmlist; no rmap)
 *   clock     LaHaise's page-centric single-handed clock over mem_map (rmap)
 *   2q        2.6's active/inactive lists, refill_inactive + shrink_list (rmap)
 *
 * CLOCK-Pro (issue 7) plugs in here: clockpro.ts, clockpro_approx.ts, with
 * the optional refault hooks below (workingset.ts calls them).
 *
 * WHICH RMAP SERVES WHICH POLICY. `swapout` needs no reverse map (it only
 * keeps the scheme's records right through page_remove_rmap), so it runs
 * with every scheme. `clock` and `2q` need page_referenced and try_to_unmap
 * for all of a page's mappers at once; every scheme of this build answers
 * both completely, so none is excluded — but not at the same price
 * (bench/reclaim.ts):
 *   ptechain, vmnode, ptechain25   O(mappers) per page: the seed's case
 *   objrmap                        O(VMAs of the page's object) per page
 *   scan                           every pte of every process per page —
 *                                  correct and slow (the 2.x baseline)
 *   hint                           one pte when the page has one mapper; a
 *                                  shared page falls back to scan's walk
 *                                  (rmap_hint_fallback), so shared memory
 *                                  reclaims as slowly as with scan
 * A scheme that could only name one mapper, with no fallback, would have to
 * answer SWAP_FAIL for shared pages (kept active, never swapped): Linus's
 * own caveat about the hint map (seed 004).
 *
 * A policy's shrink() runs with no lock held (kswapd, or an allocating CPU in
 * direct reclaim, maybe inside a fault holding its own mmap_sem for reading)
 * and takes the lru lock, page locks and whatever the rmap needs itself.
 */
import type { CpuBase } from '../machine/cpu.js';
import { POLICIES, type PolicyName } from '../config.js';
import type { ReclaimCpu, ScanControl } from './context.js';

export interface ReplacementPolicy {
  readonly name: PolicyName;
  /** does shrink() call cpu.rmap.page_referenced / try_to_unmap? */
  readonly usesRmap: boolean;
  /** DEF_PRIORITY: a pass starts scanning len >> defPriority of a list (2.4: 6, 2.6: 12) */
  readonly defPriority: number;
  /** lru_cache_add_active (true) or lru_cache_add (false) for a new page */
  newPageActive(anon: boolean): boolean;
  /**
   * One scan at sc.priority: look at pages, free what it can (shrink_page),
   * adding freed pages to sc.nrReclaimed and pages looked at to
   * sc.nrScanned; stop early once sc.nrReclaimed >= sc.nrToReclaim.
   */
  shrink(cpu: ReclaimCpu, sc: ScanControl): void;
  /*
   * Issue 7, refault detection (workingset.ts); all optional, a policy
   * without them gets the defaults named.
   */
  /**
   * A page joins the LRU: a first-touch anonymous page, or a page inserted
   * in the page or swap cache after a miss. `kind` and the WS_* result bits
   * are workingset.ts's; `distance` is recently_evicted()'s (-1: not
   * remembered, or not looked up). Default: the active list iff
   * newPageActive(anon) and not read-ahead; no activation.
   */
  lruInsert?(cpu: CpuBase, pfn: number, kind: number, distance: number): number;
  /** Remember this page (locked, leaving its cache) in the nonresident table? Default: yes. */
  rememberEvicted?(cpu: CpuBase, pfn: number): boolean;
  /** A remember recycled a live cookie: a test period ended without a refault. */
  testExpired?(cpu: CpuBase): void;
  /** mark_page_accessed only sets PG_referenced (a CLOCK hit: no list movement). */
  readonly hitSetsReferenced?: boolean;
}

const REGISTRY: Partial<Record<PolicyName, ReplacementPolicy>> = {};
const byId: (ReplacementPolicy | undefined)[] = [];

export function registerPolicy(p: ReplacementPolicy): void {
  REGISTRY[p.name] = p;
  byId[POLICIES.indexOf(p.name)] = p;
}

/** The policy this machine was built with (cpu.policyId = config.policy). */
export function policyOf(cpu: CpuBase): ReplacementPolicy {
  const p = byId[cpu.policyId];
  if (!p) throw new Error(`replacement policy '${POLICIES[cpu.policyId]}' is not available in this build`);
  return p;
}

export function policyByName(name: PolicyName): ReplacementPolicy | undefined {
  return REGISTRY[name];
}

export const registeredPolicies = (): PolicyName[] => POLICIES.filter((n) => REGISTRY[n] !== undefined);
