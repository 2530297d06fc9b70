/*
 * bench/micro.ts — the micro-benchmarks: each a loop over one operation,
 * timed by benny (Benchmark.js underneath: calibrated loops, samples until
 * the margin settles, ops/s ± margin), on the main thread with one simulated
 * CPU, debug and lockdep off:
 *
 *   locks    spin_lock + spin_unlock of one uncontended lock, per lock
 *            implementation (tas, ttas, ticket, mcs, futex); lock_stat
 *            accounting included, as in every acquisition
 *   nr       on a 64 MiB machine's nr_bucket table (one bucket line per
 *            call): remember_page; remember_page then recently_evicted of
 *            the same key (a hit, which claims the cookie); recently_evicted
 *            of a key never remembered (a miss: the whole bucket compared)
 *   rmap     page_remove_rmap + page_add_rmap of one mapped anonymous page
 *            (with the scheme's prealloc), per rmap scheme, pte lock held
 *            as the contract says
 *   replay   the trace-replay engine over a 64 Ki-reference looping trace
 *            at 1/2 of its pages, per policy; the table gives ns per reference
 *
 * Each suite's results go to results/bench-micro-<suite>.json (benny's JSON:
 * ops/s, margin, samples per case) beside the other benchmarks' results.
 * Contended locks (1 vs 2 workers) stay in bench/locks.ts, the miss ratios
 * and the large-trace rates in bench/replay.ts.
 *
 * Run: npm run build && node dist/bench/micro.js [--suite locks,nr,rmap,replay] [--max-time S]
 */
import b from 'benny';
import { createMachine } from '../src/machine/machine.js';
import { makeCpuBase } from '../src/machine/cpu.js';
import { mappingOfInode } from '../src/machine/page.js';
import { LOCK_IMPLS, RMAP_SCHEMES, makeConfig } from '../src/config.js';
import { spin_lock, spin_unlock } from '../src/sync/spinlock.js';
import { pte_lock, pte_unlock } from '../src/sync/scheme.js';
import { C_TEST_A, SITE } from '../src/sync/classes.js';
import { computeLayout, globalLine } from '../src/machine/layout.js';
import { nrTableAt, nr_init, nr_table_words, remember_page, recently_evicted } from '../src/reclaim/nonresident.js';
import { bootMachine } from '../src/sim/boot.js';
import { makeCpu } from '../src/vm/cpu.js';
import { mm_alloc } from '../src/mm/mm_struct.js';
import { find_vma } from '../src/mm/vma.js';
import { pte_table } from '../src/mm/pgtable.js';
import { pte_pfn, pte_index, pteAddrOf } from '../src/mm/pte.js';
import { do_mmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED } from '../src/vm/mmap.js';
import { user_write_word } from '../src/vm/access.js';
import { page_add_rmap, page_remove_rmap } from '../src/rmap/index.js';
import { densify, runPolicy, REPLAY_POLICIES, type ReplayOptions } from '../src/reclaim/replay/index.js';
import { OP_READ } from '../src/reclaim/page_trace.js';
import { textTable } from '../src/report/table.js';
import { benchArgs, benchMain, fmtRate } from './common.js';

const SUITES = ['locks', 'nr', 'rmap', 'replay'] as const;
type Summary = Awaited<ReturnType<typeof b.suite>>;

const run = (name: string, maxTime: number, cases: ReturnType<typeof b.add>[]) =>
  b.suite(`micro-${name}`, b.configure({ cases: { maxTime, minSamples: 5 } }), ...cases, b.save({ file: `bench-micro-${name}`, folder: 'results', format: 'json', version: null }));

function lockCases() {
  return LOCK_IMPLS.map((impl) =>
    b.add(impl, () => {
      const m = createMachine({ cpus: 1, mem: '1M', swap: 0, lockImpl: impl, lockdep: false, debug: false });
      const cpu = makeCpuBase(m, 0);
      const lock = globalLine(m.layout, 13);
      return () => {
        spin_lock(cpu, lock, C_TEST_A, SITE.test);
        spin_unlock(cpu, lock, C_TEST_A);
      };
    }),
  );
}

function nrCases() {
  const l = computeLayout(makeConfig({ mem: '64M' }));
  const t = nrTableAt(0, l.nrBuckets, 64);
  const w = new Int32Array(new SharedArrayBuffer(nr_table_words(t) * 4));
  nr_init(w, t);
  const mapping = mappingOfInode(3);
  let i = 0;
  return [
    b.add('remember_page', () => {
      remember_page(w, t, mapping, i++ & 0xfffff, 3);
    }),
    b.add('remember_page + recently_evicted (hit)', () => {
      const k = i++ & 0xfffff;
      remember_page(w, t, mapping, k, 3);
      if (recently_evicted(w, t, mapping, k, 3) < 0) throw new Error('nr: a key just remembered was not found');
    }),
    b.add('recently_evicted (miss)', () => {
      recently_evicted(w, t, mapping, i++ & 0xfffff, 4); // inode 4 was never remembered
    }),
  ];
}

function rmapCases() {
  const BASE = 0x40000000;
  const held: (() => void)[] = [];
  const cases = RMAP_SCHEMES.map((rmap) =>
    b.add(rmap, () => {
      const cpu = makeCpu(bootMachine({ mem: '16M', swap: 0, cpus: 1, rmap, locks: 'split', lockdep: false, debug: false }), 0);
      const mm = mm_alloc(cpu, cpu.mmCache);
      if (do_mmap(cpu, mm, BASE, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !== BASE) throw new Error('mmap');
      if (user_write_word(cpu, mm, BASE, 1) !== 0) throw new Error('fault');
      const pt = pte_table(cpu, mm, BASE);
      const pteAddr = pteAddrOf(pt, pte_index(BASE));
      const pfn = pte_pfn(cpu.w[cpu.l.frames + pteAddr]!);
      const vma = find_vma(cpu, mm, BASE);
      const ptl = pte_lock(cpu, mm, pt, SITE.test);
      held.push(() => pte_unlock(cpu, ptl));
      return () => {
        page_remove_rmap(cpu, cpu.rmap, pfn, pteAddr, vma, BASE);
        if (!cpu.rmap.prealloc(cpu)) throw new Error(`${rmap}: prealloc failed`);
        page_add_rmap(cpu, cpu.rmap, pfn, pteAddr, vma, BASE);
      };
    }),
  );
  return { cases, release: () => held.forEach((f) => f()) };
}

const REPLAY_REFS = 1 << 16;
function replayCases() {
  const pagesInTrace = 4096;
  const keys = new Float64Array(REPLAY_REFS);
  for (let i = 0; i < REPLAY_REFS; i++) keys[i] = i % pagesInTrace;
  const dense = densify(keys);
  const ops = new Uint8Array(REPLAY_REFS).fill(OP_READ);
  return REPLAY_POLICIES.map((policy) => {
    const opts: ReplayOptions = { policy, pages: [pagesInTrace / 2] };
    return b.add(policy, () => {
      runPolicy(dense, ops, pagesInTrace / 2, opts);
    });
  });
}

function report(s: Summary, perOp: number, unit: string) {
  console.log(
    textTable(
      ['case', 'ops/s', '± %', 'samples', unit],
      s.results.map((r) => [r.name, fmtRate(r.ops), r.margin.toFixed(2), r.samples, (1e9 / r.ops / perOp).toFixed(1)]),
      `\n${s.name} (benny)`,
    ),
  );
}

export async function main(argv: string[]) {
  const a = benchArgs('micro', argv, { suite: { kind: 'list', dflt: [...SUITES] }, 'max-time': { kind: 'number', dflt: 1, min: 0.05 } });
  const bad = a.suite.filter((s) => !(SUITES as readonly string[]).includes(s));
  if (bad.length) throw new Error(`bench/micro: --suite ${bad.join(',')}: expected some of ${SUITES.join(',')}`);
  const t = a['max-time'];
  const out: Record<string, Summary> = {};
  const quiet = { log: console.log };
  console.log = () => {}; // benny prints a line per cycle; the tables below say it once
  try {
    if (a.suite.includes('locks')) out.locks = await run('locks', t, lockCases());
    if (a.suite.includes('nr')) out.nr = await run('nr', t, nrCases());
    if (a.suite.includes('rmap')) {
      const r = rmapCases();
      out.rmap = await run('rmap', t, r.cases);
      r.release();
    }
    if (a.suite.includes('replay')) out.replay = await run('replay', t, replayCases());
  } finally {
    console.log = quiet.log;
  }
  if (out.locks) report(out.locks, 1, 'ns per lock+unlock');
  if (out.nr) report(out.nr, 1, 'ns per call');
  if (out.rmap) report(out.rmap, 1, 'ns per remove+add');
  if (out.replay) report(out.replay, REPLAY_REFS, 'ns per reference');
  console.log(`wrote ${Object.keys(out).map((s) => `results/bench-micro-${s}.json`).join(', ')}`);
  return out;
}

benchMain(import.meta.url, main);
