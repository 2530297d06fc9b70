/*
 * sim/rmap_cost.ts — what each reverse-mapping scheme costs (issue 5): the
 * measurements behind `smpvm rmap-cost` and bench/rmap.ts, every figure a
 * ratio against `scan` (or against N = 1) measured in one run:
 *
 *   1. metadata   bytes of rmap metadata per mapped pte, one mapper and four
 *                 (a 16 MiB anonymous region in full 4 MiB tables, then 3
 *                 forks); ptechain must be exactly one word per pte
 *   2. fork+exit  fork and exit of a process with a large anonymous RSS,
 *                 each scheme / scan (lmbench saw +25% fork for 2.5's pte
 *                 chains, REFERENCE.md §3.3)
 *   3. unmap N    try_to_unmap of pages mapped by N = 1, 10, 100, 1000
 *                 processes: cost per page against N
 *   4. anon_vma   the anon_vma worst case (REFERENCE.md §3.4): 1000 children
 *                 of one parent each COW-fault their own copy of the
 *                 parent's pages, then reclaim page_referenced()s every
 *                 child page (scaled down: 64 pages per child, not 1000)
 *   5. page_fault1  will-it-scale page_fault1 at 1 and 2 CPUs under each
 *                 scheme (real workers, compiled JS): what rmap costs the
 *                 fault path
 *
 * Parts 1-4 run on the main thread (one simulated CPU, `split` locks, no
 * lockdep/debug); each timing is the median of several repetitions, and
 * walks that would take too long (scan over 1000 processes) are time-boxed
 * and extrapolated, which the table says. Part 5 runs the orchestrator.
 *
 * In sim/ because it boots machines and runs them (sim/boot.ts, sim/run.ts);
 * the tables and the results file are cli/rmap-cost.ts's.
 * Locking: each machine is private to the measurement that built it.
 */
import { bootMachine } from './boot.js';
import { makeCpu, type Cpu } from '../vm/cpu.js';
import { runMachine } from './run.js';
import { mm_alloc } from '../mm/mm_struct.js';
import { pte_table } from '../mm/pgtable.js';
import { pte_pfn, pte_index, SWP_ENTRY } from '../mm/pte.js';
import { get_page } from '../mm/page_ref.js';
import { do_mmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED } from '../vm/mmap.js';
import { do_fork, mmput } from '../vm/fork.js';
import { user_write_word } from '../vm/access.js';
import { trylock_page } from '../sync/pagelock.js';
import { SITE } from '../sync/classes.js';
import { VM } from '../machine/vmstat.js';
import { RMAP_SCHEMES } from '../config.js';
import { SWAP_SUCCESS } from '../rmap/types.js';
import { median } from './median.js'; // the upper median, as every table of this report has used

const P = 4096;
const MiB = 1 << 20;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const BASE = 0x40000000; // 4 MiB aligned: regions fill whole pte tables
type Scheme = (typeof RMAP_SCHEMES)[number];

function machine(rmap: Scheme, cfg: Record<string, unknown>): Cpu {
  const m = bootMachine({ swap: 0, cpus: 1, locks: 'split', lockdep: false, debug: false, populate: true, ...cfg, rmap });
  return makeCpu(m, 0);
}

/** An mm with `pages` written anonymous pages at BASE. */
function populated(cpu: Cpu, pages: number): number {
  const mm = mm_alloc(cpu, cpu.mmCache);
  if (do_mmap(cpu, mm, BASE, pages * P, RW, ANON | MAP_FIXED, -1, 0) !== BASE) throw new Error('mmap failed');
  for (let i = 0; i < pages; i++) if (user_write_word(cpu, mm, BASE + i * P, i) !== 0) throw new Error(`write fault failed at page ${i}`);
  return mm;
}

const pfnAt = (cpu: Cpu, mm: number, a: number) => pte_pfn(cpu.w[cpu.l.frames + (pte_table(cpu, mm, a) << 10) + pte_index(a)]!);
const vmstat = (cpu: Cpu, k: keyof typeof VM) => cpu.w[cpu.vm + VM[k]]!;
/** struct page word the scheme uses per physical page (PG_RMAP): not counted in metadataBytes */
const PAGE_WORD: Record<Scheme, number> = { scan: 0, ptechain: 4, vmnode: 4, ptechain25: 4, hint: 4, objrmap: 0, anonmm: 0 };

/* ---- 1. metadata bytes per mapped pte ---- */
export function metadata(schemes: readonly Scheme[]) {
  const pages = 4096; // 16 MiB: four full pte tables
  return schemes.map((rmap) => {
    const cpu = machine(rmap, { mem: '96M', maxMm: 16 });
    const mm = populated(cpu, pages);
    const one = cpu.rmap.metadataBytes(cpu);
    for (let k = 0; k < 3; k++) if (do_fork(cpu, mm) < 0) throw new Error('fork failed');
    const four = cpu.rmap.metadataBytes(cpu);
    return { scheme: rmap, bytesPerPte1: one / pages, bytesPerPte4: four / (4 * pages), pageWordBytes: PAGE_WORD[rmap] };
  });
}

/* ---- 2. fork + exit of a large RSS ---- */
export function forkExit(schemes: readonly Scheme[], rssMiB: number, reps: number) {
  const pages = (rssMiB * MiB) / P;
  // every scheme's machine first, then the repetitions interleaved across schemes (drift hits all alike)
  const ms = schemes.map((rmap) => {
    const cpu = machine(rmap, { mem: `${rssMiB * 3 + 32}M`, maxMm: 16 });
    return { rmap, cpu, parent: populated(cpu, pages), fork: [] as number[], exit: [] as number[] };
  });
  for (let i = 0; i < reps + 2; i++) {
    for (const x of ms) {
      const t0 = performance.now();
      const kid = do_fork(x.cpu, x.parent);
      const t1 = performance.now();
      if (kid < 0) throw new Error(`${x.rmap}: fork failed`);
      mmput(x.cpu, kid);
      const t2 = performance.now();
      if (i >= 2) {
        x.fork.push(t1 - t0);
        x.exit.push(t2 - t1);
      }
    }
  }
  const rows = ms.map((x) => ({ scheme: x.rmap, forkMs: median(x.fork), exitMs: median(x.exit), forkExitMs: median(x.fork) + median(x.exit) }));
  const scan = rows.find((r) => r.scheme === 'scan')!;
  return rows.map((r) => ({ ...r, forkVsScan: r.forkMs / scan.forkMs, forkExitVsScan: r.forkExitMs / scan.forkExitMs }));
}

/* ---- 3. try_to_unmap of pages mapped by N processes ---- */
export function unmapN(schemes: readonly Scheme[], ns: number[], pagesPerRun: number, budgetMs: number) {
  const rows: { scheme: Scheme; n: number; usPerPage: number; pagesTimed: number; vsN1: number; vsScan: number }[] = [];
  for (const n of ns) {
    const ms = schemes.map((rmap) => {
      const cpu = machine(rmap, { mem: '96M', swap: '1M', maxMm: n + 8, maxVma: 2 * n + 64 });
      const parent = populated(cpu, pagesPerRun);
      for (let k = 1; k < n; k++) if (do_fork(cpu, parent) < 0) throw new Error(`${rmap}: fork ${k} of ${n} failed`);
      const pfns = Array.from({ length: pagesPerRun }, (_, i) => pfnAt(cpu, parent, BASE + i * P));
      for (let i = 0; i < pagesPerRun; i++) {
        cpu.w[cpu.l.swapMap + 1 + i] = 1; // a swap slot per page, as add_to_swap leaves it (the swap cache's count)
        get_page(cpu, pfns[i]!); // reclaim's reference
        if (!trylock_page(cpu, pfns[i]!, SITE.shrink_list)) throw new Error('page lock');
      }
      return { rmap, cpu, pfns, times: [] as number[], spent: 0 };
    });
    // page i of every scheme in turn; the first page of each is the warm-up, not timed
    for (let i = 0; i < pagesPerRun; i++) {
      for (const x of ms) {
        if (i > 1 && x.spent > budgetMs) continue;
        const t0 = performance.now();
        const r = x.cpu.rmap.try_to_unmap(x.cpu, x.pfns[i]!, SWP_ENTRY(0, 1 + i));
        const dt = performance.now() - t0;
        if (r !== SWAP_SUCCESS) throw new Error(`${x.rmap}: try_to_unmap = ${r} with N = ${n}`);
        if (i > 0) {
          x.times.push(dt);
          x.spent += dt;
        }
      }
    }
    for (const x of ms) rows.push({ scheme: x.rmap, n, usPerPage: median(x.times) * 1000, pagesTimed: x.times.length, vsN1: 0, vsScan: 0 });
  }
  for (const r of rows) {
    r.vsN1 = r.usPerPage / rows.find((x) => x.scheme === r.scheme && x.n === ns[0])!.usPerPage;
    r.vsScan = r.usPerPage / rows.find((x) => x.scheme === 'scan' && x.n === r.n)!.usPerPage;
  }
  return rows;
}

/* ---- 4. the anon_vma worst case ---- */
export function anonVmaWorst(schemes: readonly Scheme[], children: number, pagesPerChild: number, budgetMs: number) {
  const rows = schemes.map((rmap) => {
    const frames = pagesPerChild * (children + 1) + children * 4 + 4096;
    const cpu = machine(rmap, { mem: `${Math.ceil((frames * P) / MiB) + 16}M`, maxMm: children + 8, maxVma: 2 * children + 64 });
    const parent = populated(cpu, pagesPerChild);
    const kids: number[] = [];
    const tf = performance.now();
    for (let k = 0; k < children; k++) {
      const kid = do_fork(cpu, parent);
      if (kid < 0) throw new Error(`${rmap}: fork ${k} failed`);
      kids.push(kid);
    }
    const forkMs = performance.now() - tf;
    const t0 = performance.now();
    for (const kid of kids) for (let i = 0; i < pagesPerChild; i++) user_write_word(cpu, kid, BASE + i * P, kid);
    const cowMs = performance.now() - t0;
    // reclaim: page_referenced over every child's (private, singly mapped) pages, in child order
    const total = children * pagesPerChild;
    const vma0 = vmstat(cpu, 'rmap_walk_vma');
    const fb0 = vmstat(cpu, 'rmap_hint_fallback');
    let walked = 0;
    let young = 0;
    const t1 = performance.now();
    outer: for (let i = 0; i < pagesPerChild; i++) {
      for (const kid of kids) {
        young += cpu.rmap.page_referenced(cpu, pfnAt(cpu, kid, BASE + i * P));
        walked++;
        if ((walked & 63) === 0 && performance.now() - t1 > budgetMs) break outer;
      }
    }
    const walkMs = performance.now() - t1;
    if (young !== walked) throw new Error(`${rmap}: ${young} young of ${walked} freshly written pages`);
    return {
      scheme: rmap,
      pages: total,
      forkMs,
      cowFaultsPerSec: (total / cowMs) * 1000,
      walkedPages: walked,
      usPerPageWalk: (walkMs * 1000) / walked,
      vmasPerPage: (vmstat(cpu, 'rmap_walk_vma') - vma0) / walked,
      hintFallbacks: vmstat(cpu, 'rmap_hint_fallback') - fb0,
      projectedWalkAllSec: (walkMs / walked) * total / 1000,
      vsScan: 0,
    };
  });
  const scan = rows.find((r) => r.scheme === 'scan');
  if (scan) for (const r of rows) r.vsScan = r.usPerPageWalk / scan.usPerPageWalk;
  return rows;
}

/* ---- 5. page_fault1 on real worker CPUs ---- */
export async function pageFault1(schemes: readonly Scheme[], cpuCounts: number[], regionMiB: number, ops: number, reps: number) {
  const rows: { scheme: Scheme; cpus: number; faultsPerSec: number; median: number; runs: number[]; vsScan: number; scaling: number }[] = [];
  for (const rmap of schemes) for (const cpus of cpuCounts) rows.push({ scheme: rmap, cpus, faultsPerSec: 0, median: 0, runs: [], vsScan: 0, scaling: 0 });
  // repetitions interleaved across schemes and CPU counts. On a shared 2-core host a 2-CPU run
  // is often disturbed (a third runnable thread steals a core): the best run counts, the median is kept too
  for (let rep = 0; rep < reps; rep++) {
    for (const row of rows) {
      const r = await runMachine({
        config: { mem: `${regionMiB * 2 * row.cpus + 48}M`, swap: 0, cpus: row.cpus, rmap: row.scheme, locks: 'split', lockImpl: 'ticket', maxVma: 256, populate: true },
        spec: { name: 'page_fault1_processes', regionBytes: regionMiB * MiB },
        opsPerCpu: ops,
      });
      if (r.error) throw new Error(`${row.scheme} ${row.cpus} CPUs: cpu ${r.error.cpu} failed in ${r.error.op}: ${r.error.message}`);
      if (!r.checker.ok) throw new Error(`${row.scheme} ${row.cpus} CPUs: ${r.checker.violations[0]}`);
      const faults = r.perCpu.reduce((a, c) => a + c.units, 0);
      row.runs.push((faults / r.durationMs) * 1000);
    }
  }
  for (const r of rows) {
    r.faultsPerSec = Math.max(...r.runs);
    r.median = median(r.runs);
  }
  for (const r of rows) {
    r.vsScan = r.faultsPerSec / rows.find((x) => x.scheme === 'scan' && x.cpus === r.cpus)!.faultsPerSec;
    r.scaling = r.faultsPerSec / rows.find((x) => x.scheme === r.scheme && x.cpus === cpuCounts[0])!.faultsPerSec;
  }
  return rows;
}
