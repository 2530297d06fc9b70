/*
 * The coherence table (src/timing/coherence.ts): a struct page or global
 * line written by one CPU costs the next CPU a transfer from it, by the
 * topology; a line a CPU holds costs nothing; reads share; a write after
 * reads invalidates the farthest sharer; a lock acquisition makes the lock
 * word's line (a global line, a page's own) the acquirer's. And in a run:
 * one CPU transfers nothing, two CPUs sharing the LRU and the buddy lists do.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { computeLayout, globalLine, pageStruct, G_LRU, PG_LOCKWORD } from '../../src/machine/layout.js';
import { makeConfig } from '../../src/config.js';
import { loadCostTable, installCosts, COST, C_LINE_CORE, C_LINE_SOCKET, C_LINE_CROSS } from '../../src/timing/cost.js';
import { setTopology } from '../../src/timing/topology.js';
import { coherence_attach, coherence_detach, coherence_reset, coherence_stats, page_line_w, page_line_r, global_line_w, page_line_own, lock_line_acquired, mm_line_w, mm_line_r } from '../../src/timing/coherence.js';
import { runMachine } from '../../src/sim/run.js';
import { buildResults } from '../../src/sim/results.js';

const MiB = 1 << 20;

describe('coherence table', () => {
  const l = computeLayout(makeConfig({ cpus: 4, mem: 4 * MiB, swap: 0 }));
  const w = new Int32Array(new SharedArrayBuffer(l.totalWords * 4));
  installCosts(loadCostTable('skylake-2s-112'));
  // 2 sockets x 2 cores: CPUs 0,1 on socket 0, CPUs 2,3 on socket 1; slots 4,5 (kswapd, monitor) are SMT siblings of 0,1
  setTopology({ sockets: 2, coresPerSocket: 2 }, l.nrCpuSlots);
  const as = (cpu: number) => coherence_attach(w, l, cpu);
  afterEach(() => coherence_detach());

  it('a write costs a transfer from the last writer, by distance; a line already held is free', () => {
    coherence_reset(w, l);
    as(0);
    expect(page_line_w(7)).toBe(0); // nobody had it: from memory, which the cost table's operations carry
    expect(page_line_w(7)).toBe(0);
    as(1);
    expect(page_line_w(7)).toBe(COST[C_LINE_SOCKET]);
    as(2);
    expect(page_line_w(7)).toBe(COST[C_LINE_CROSS]);
    expect(page_line_w(7)).toBe(0);
    as(l.nrCpus); // kswapd's slot: an SMT sibling of cpu 0
    as(0);
    expect(page_line_w(7)).toBe(COST[C_LINE_CROSS]);
    as(l.nrCpus);
    expect(page_line_w(7)).toBe(COST[C_LINE_CORE]);
    expect(coherence_stats(w, l)).toEqual({ transfers: 4, transferNs: COST[C_LINE_SOCKET]! + 2 * COST[C_LINE_CROSS]! + COST[C_LINE_CORE]! });
  });

  it('reads share the line; the next write invalidates the copies, the farthest setting the cost', () => {
    coherence_reset(w, l);
    as(0);
    page_line_w(3);
    as(1);
    expect(page_line_r(3)).toBe(COST[C_LINE_SOCKET]);
    expect(page_line_r(3)).toBe(0); // a copy held
    as(2);
    expect(page_line_r(3)).toBe(COST[C_LINE_CROSS]);
    as(0);
    expect(page_line_r(3)).toBe(0); // the writer still has it
    expect(page_line_w(3)).toBe(COST[C_LINE_CROSS]); // invalidate 1 (same socket) and 2 (cross): the farther
    as(1);
    expect(page_line_r(3)).toBe(COST[C_LINE_SOCKET]); // the copy was invalidated
  });

  it('global lines are followed apart from struct pages; a lock acquisition hands its line over', () => {
    coherence_reset(w, l);
    as(0);
    global_line_w(G_LRU);
    as(1);
    lock_line_acquired(globalLine(l, G_LRU) + 1); // pagemap_lru_lock lives in the lists' line
    expect(global_line_w(G_LRU)).toBe(0);
    expect(page_line_w(G_LRU)).toBe(0); // struct page G_LRU is another line, written by nobody
    as(0);
    page_line_w(9);
    as(2);
    lock_line_acquired(pageStruct(l, 9) + PG_LOCKWORD); // PG_locked lives in the page's own line
    expect(page_line_w(9)).toBe(0);
    as(3);
    page_line_own(9); // a cold miss already paid for
    expect(page_line_w(9)).toBe(0);
  });

  it("an mm's field line is followed apart from every struct page and global line", () => {
    coherence_reset(w, l);
    as(0);
    expect(mm_line_w(3)).toBe(0); // first written: from memory (not a transfer)
    as(1);
    expect(mm_line_r(3)).toBe(COST[C_LINE_SOCKET]); // a sibling thread's find_vma after CPU 0's fault wrote MM_RSS
    expect(mm_line_w(3)).toBe(COST[C_LINE_SOCKET]); // its MM_RSS add: CPU 0's copy invalidated
    expect(page_line_w(l.nrFrames + 3)).toBe(0); // not an alias of a frame's line past the end
    expect(global_line_w(3)).toBe(0);
    expect(mm_line_w(4)).toBe(0); // another mm: another line
    as(0);
    expect(mm_line_r(4)).toBe(COST[C_LINE_SOCKET]);
    expect(mm_line_w(3)).toBe(COST[C_LINE_SOCKET]);
  });

  it('costs nothing when no virtual-clock CPU is attached', () => {
    coherence_reset(w, l);
    as(0);
    page_line_w(5);
    coherence_detach();
    expect(page_line_w(5)).toBe(0);
    expect(page_line_r(5)).toBe(0);
  });
});

describe('line transfers in a virtual-clock run', () => {
  const run = async (cpus: number, mode = 'processes', locks = '2.4') => {
    const spec = { name: `page_fault1_${mode}`, regionBytes: 256 * 1024 };
    const o = await runMachine({ config: { clock: 'virtual', cpus, locks, mem: 16 * MiB, swap: 0, populate: true, cost: 'skylake-2s-112', quantum: 0 }, spec, opsPerCpu: 4 });
    const r = buildResults(o, { spec, opsPerCpu: 4 });
    expect(r.error).toBeUndefined();
    expect(r.checker.ok).toBe(true);
    return r.virtual!;
  };

  it('one CPU transfers no line; two sharing the LRU and the free lists do', async () => {
    expect((await run(1)).lineTransfers).toBe(0);
    const two = await run(2);
    expect(two.lineTransfers).toBeGreaterThan(0);
    expect(two.lineTransferNs).toBeGreaterThan(0);
  }, 60_000);

  it("threads bounce their mm's field line and their shared pte table's struct page at every fault; processes do not (bkl: nothing else differs)", async () => {
    const procs = await run(2, 'processes', 'bkl');
    const threads = await run(2, 'threads', 'bkl');
    const faults = 2 * 4 * 64; // 2 CPUs x 4 loops x 64 pages
    // each fault of a thread: find_vma reads the mm line, the rss add takes it back, the table's struct page moves
    expect(threads.lineTransfers - procs.lineTransfers).toBeGreaterThan(faults);
  }, 60_000);
});
