/*
 * coherence.ts — who holds each cache line the cost model follows, and what
 * it costs another CPU to get it (issue 17, "Coherence": every lock word and
 * every struct page line has a last writer and a set of sharers; an access
 * by another CPU costs a line transfer whose latency depends on the
 * topology). A MESI-like directory, reduced to what a cost needs:
 *
 *   write (an RMW: _count, _mapcount, an LRU link): free if this CPU is the
 *     last writer and nobody else shares the line; else one transfer from
 *     the last writer (read-for-ownership), or, if it already had the line,
 *     the invalidation of the farthest sharer. Then it is the only holder.
 *   read: free if this CPU wrote the line last or holds a copy; else one
 *     transfer from the last writer, and it joins the sharers.
 *   a line nobody has written yet (0) comes from memory: that is in the
 *     cost table's per-operation costs (struct_page_miss for the pcp bulk
 *     walks), not here.
 *   Each call returns the virtual ns; the caller charges them. Where one
 *   operation writes several independent lines (a list_del's page and its
 *   two neighbours) the misses are in flight together, so callers charge
 *   the slowest, not the sum (memory-level parallelism).
 *
 * The lines followed: every struct page (64 bytes, layout.ts PAGE_STRUCT_WORDS
 * = one line; 2.6 struct page is one line on 64-bit), written by get_page,
 * put_page, page_add_rmap / page_remove_rmap and the LRU list links (a list
 * add or del also writes the neighbours' lines); and the global lines
 * (layout.ts G_*) whose list heads and counters the lists update: the LRU
 * heads (G_LRU) and the buddy free_area heads and nr_free (G_ZONE_AREA);
 * and each mm's first line (MM_RSS, mmap_cache: the fields a fault reads
 * and writes, layout.ts MM_*), which the threads of one process share and
 * bounce between their CPUs at every fault — the cost that made 2.6.34 split
 * the rss counters per thread (SPLIT_RSS_COUNTING); its second line, the
 * locks, is the lock library's. A pte table's own struct page (its count
 * of entries, PG_PT_NR) is a struct page line like any other.
 * A lock word's line is transferred by the lock library (conductor.ts
 * vt_acquired: from the lock's previous acquirer); lock_line_acquired then
 * records the acquirer as the holder of that line, so the list heads beside
 * pagemap_lru_lock come free with the lock, as they do on hardware.
 *
 * Sharers are a 32-bit mask of slot & 31: exact up to 32 CPUs; above that,
 * two CPUs 32 apart share a bit, so a read may be counted as a hit. Writes,
 * which are what the fault path does to these lines, are exact at any size.
 *
 * STATE: layout.ts vtLines, VT_LINE_WORDS (2) per line: LN_OWNER (slot + 1
 * of the last writer, 0: none), LN_SHARERS. Locking: only the turn holder of
 * a virtual-clock run touches it (one CPU runs at a time, and the
 * conductor's hand-over is an Atomics store/load pair, which orders it);
 * vt_init (the orchestrator, before the gate) clears it. Host clock: every
 * entry point is one untaken branch.
 *
 * Counts: each slot adds its line transfers and their virtual ns to its own
 * VT_XFER_WORDS after the lines (only that slot writes them; read after the
 * run by coherence_stats).
 */
import { LINE_WORDS, NR_GLOBAL_LINES, PAGE_STRUCT_WORDS, VT_LINE_WORDS, VT_XFER_WORDS, type Layout } from '../machine/layout.js';
import { line_ns } from './topology.js';

const LN_OWNER = 0;
const LN_SHARERS = 1;

let on = false;
let w: Int32Array = new Int32Array(0);
let base = 0;
let globalsBase = 0;
let memMap = 0;
let nrFrames = 0;
let me = -1;
let bit = 0;
/* this slot's counters: the Int32 word and the Float64 index */
let myXfers = 0;
let myXferNs = 0;
let f: Float64Array = new Float64Array(0);

const statsBase = (l: Layout) => l.vtLines + (l.nrFrames + NR_GLOBAL_LINES + l.maxMm) * VT_LINE_WORDS;

/** The orchestrator, before a virtual-clock run: nobody holds any line, nothing transferred. */
export function coherence_reset(wv: Int32Array, l: Layout): void {
  wv.fill(0, l.vtLines, statsBase(l) + l.nrCpuSlots * VT_XFER_WORDS);
}

/** After a run: line transfers and the virtual ns they cost, all slots. */
export function coherence_stats(wv: Int32Array, l: Layout): { transfers: number; transferNs: number } {
  const fv = new Float64Array(wv.buffer, 0, wv.length >>> 1);
  let transfers = 0;
  let transferNs = 0;
  for (let s = 0, b = statsBase(l); s < l.nrCpuSlots; s++, b += VT_XFER_WORDS) {
    transfers += wv[b]! >>> 0;
    transferNs += fv[(b + 2) >>> 1]!;
  }
  return { transfers, transferNs };
}

/** This thread is CPU slot `slot` of a virtual-clock run over `wv`. */
export function coherence_attach(wv: Int32Array, l: Layout, slot: number): void {
  w = wv;
  base = l.vtLines;
  globalsBase = l.globals;
  memMap = l.memMap;
  nrFrames = l.nrFrames;
  me = slot;
  bit = 1 << (slot & 31);
  myXfers = statsBase(l) + slot * VT_XFER_WORDS;
  myXferNs = (myXfers + 2) >>> 1;
  f = new Float64Array(wv.buffer, 0, wv.length >>> 1);
  on = true;
}

export function coherence_detach(): void {
  on = false;
  me = -1;
}

/** The cost of writing line entry `e`, which becomes this CPU's alone. */
function take(e: number): number {
  const owner = w[e + LN_OWNER]! - 1;
  const sharers = w[e + LN_SHARERS]!;
  let ns = 0;
  if (owner !== me && owner >= 0) ns = line_ns(owner, me);
  else if ((sharers & ~bit) !== 0) {
    // mine already (or nobody's): invalidate the copies; they go in parallel, the farthest sets the time
    for (let m = sharers & ~bit, s = 0; m !== 0; m >>>= 1, s++) if ((m & 1) !== 0) ns = Math.max(ns, line_ns(me, s));
  }
  own(e);
  if (ns > 0) count(ns);
  return ns;
}

/** Line entry `e` is this CPU's alone. */
function own(e: number): void {
  w[e + LN_OWNER] = me + 1;
  w[e + LN_SHARERS] = bit;
}

/** The cost of reading line entry `e` (this CPU keeps a copy). */
function share(e: number): number {
  const owner = w[e + LN_OWNER]! - 1;
  const sharers = w[e + LN_SHARERS]!;
  if (owner === me || owner < 0 || (sharers & bit) !== 0) return 0;
  w[e + LN_SHARERS] = sharers | bit;
  const ns = line_ns(owner, me);
  count(ns);
  return ns;
}

function count(ns: number): void {
  w[myXfers]!++;
  f[myXferNs] += ns;
}

/** Virtual ns for this CPU to write struct page `pfn` (0 on the host clock). */
export function page_line_w(pfn: number): number {
  return on ? take(base + pfn * VT_LINE_WORDS) : 0;
}

/** Virtual ns for this CPU to read struct page `pfn` (0 on the host clock). */
export function page_line_r(pfn: number): number {
  return on ? share(base + pfn * VT_LINE_WORDS) : 0;
}

/** Virtual ns for this CPU to write global line `g` (layout.ts G_*; 0 on the host clock). */
export function global_line_w(g: number): number {
  return on ? take(base + (nrFrames + g) * VT_LINE_WORDS) : 0;
}

/** The entry of mm `mm`'s field line: after the frames' and the global lines'. */
const mmEntry = (mm: number) => base + (nrFrames + NR_GLOBAL_LINES + mm) * VT_LINE_WORDS;

/** Virtual ns for this CPU to write mm `mm`'s field line (MM_RSS, mmap_cache; 0 on the host clock). */
export function mm_line_w(mm: number): number {
  return on ? take(mmEntry(mm)) : 0;
}

/** Virtual ns for this CPU to read mm `mm`'s field line (find_vma; 0 on the host clock). */
export function mm_line_r(mm: number): number {
  return on ? share(mmEntry(mm)) : 0;
}

/**
 * Struct page `pfn` came into this CPU's cache from memory, already paid for
 * (cost.ts struct_page_miss: the pcp bulk walks of cold pages): now it is
 * this CPU's line.
 */
export function page_line_own(pfn: number): void {
  if (on) own(base + pfn * VT_LINE_WORDS);
}

/**
 * A lock whose word is at `key` was just acquired, its line already paid
 * for (vt_acquired): if the word lives in a global line or a struct page,
 * this CPU now holds that line.
 */
export function lock_line_acquired(key: number): void {
  if (!on) return;
  let e: number;
  if (key >= globalsBase && key < globalsBase + NR_GLOBAL_LINES * LINE_WORDS) e = nrFrames + (((key - globalsBase) / LINE_WORDS) | 0);
  else if (key >= memMap && key < memMap + nrFrames * PAGE_STRUCT_WORDS) e = ((key - memMap) / PAGE_STRUCT_WORDS) | 0;
  else return;
  own(base + e * VT_LINE_WORDS);
}
