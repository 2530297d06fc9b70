/*
 * The clock policy's freeable queue (issue 18 item 3, reclaim/freeable.ts):
 * reclaim parks clean unmapped pages, an allocation short of pages_min
 * takes one without reclaiming, a page looked up again is rescued with its
 * data; the checker keeps PG_freeable, FQ_NR and the queue in agreement.
 * Migration (compaction's, both methods) moves a parked page still parked:
 * the new frame carries PG_freeable and is queued, the old one comes back
 * without it, FQ_NR unchanged. Deterministically on the main thread, then
 * on worker CPUs with kswapd and the content oracle, and with compaction
 * racing the queue (the flip method once dropped PG_freeable with the old
 * frame and left FQ_NR counting a page nobody had parked).
 */
import { describe, it, expect } from 'vitest';
import { check_invariants } from '../../src/sim/checker.js';
import { makeConfig, ConfigError } from '../../src/config.js';
import { G_FREEABLE, FQ_NR, FQ_HEAD, FQ_TAIL, PG_FLAGS, PG_COUNT, globalLine, pageStruct } from '../../src/machine/layout.js';
import { PG_freeable, PG_lru } from '../../src/machine/page.js';
import { mmput } from '../../src/vm/fork.js';
import { __alloc_pages } from '../../src/mm/page_alloc.js';
import { __free_pages } from '../../src/mm/page_ref.js';
import { SITE } from '../../src/sync/classes.js';
import { LOCK_SCHEMES, MIGRATE_METHODS } from '../../src/config.js';
import { shrink_all_memory, lru_add_drain } from '../../src/reclaim/index.js';
import { migrate_page, MIGRATE_OK } from '../../src/reclaim/migrate.js';
import { bootR, vmsum, newProc, mapAnon, put, get, rmapNames, usePool, oracleRun, runProblems, pageWord } from './helpers.js';
import { runMachine } from '../../src/sim/run.js';

const RMAP = rmapNames().includes('ptechain') ? 'ptechain' : 'scan';

/** A clock-policy machine with the freeable queue, one process with 256 pages written (100 + i) and reclaimed: some parked. */
function parkSome(config: Record<string, unknown> = {}) {
  const { m, cpu } = bootR({ policy: 'clock', freeable: true, rmap: RMAP, ...config });
  const mm = newProc(cpu);
  const N = 256;
  const a = mapAnon(cpu, mm, N);
  for (let i = 0; i < N; i++) put(cpu, mm, a + i * 4096, 100 + i);
  lru_add_drain(cpu);
  shrink_all_memory(cpu, N);
  return { m, cpu, mm, a, N };
}

describe('freeable queue, deterministic', () => {
  it('is part of the clock policy only', () => {
    expect(() => makeConfig({ freeable: true, policy: '2q' })).toThrow(ConfigError);
    expect(() => makeConfig({ freeable: true, policy: '2q' })).toThrow(/^config\.freeable: the freeable queue is part of the clock policy/);
    expect(makeConfig({ freeable: true, policy: 'clock' }).freeable).toBe(true);
  });

  it('parks clean pages, rescues the ones looked up again, hands the rest to allocations; no data lost', () => {
    const { m, cpu, mm, a, N } = parkSome();
    const nr = () => m.w[globalLine(m.layout, G_FREEABLE) + FQ_NR]!;
    expect(vmsum(m, 'pgfreeable')).toBeGreaterThan(0);
    expect(nr()).toBeGreaterThan(0);
    expect(check_invariants(cpu).violations).toEqual([]);
    // a swap fault on a parked page finds it in the swap cache: rescued, no read
    const parked = nr();
    const pswpin = vmsum(m, 'pswpin');
    for (let i = 0; i < N; i++) expect(get(cpu, mm, a + i * 4096)).toBe(100 + i);
    expect(vmsum(m, 'pgrescued')).toBeGreaterThan(0);
    expect(nr()).toBeLessThan(parked);
    expect(check_invariants(cpu).violations).toEqual([]);
    // memory pressure from a second process: allocations below pages_min take parked pages
    shrink_all_memory(cpu, N);
    const mm2 = newProc(cpu);
    const M = 640; // 2.5 MiB on a 2 MiB machine
    const b = mapAnon(cpu, mm2, M);
    for (let i = 0; i < M; i++) put(cpu, mm2, b + i * 4096, 9000 + i);
    expect(vmsum(m, 'pgalloc_freeable')).toBeGreaterThan(0);
    expect(vmsum(m, 'alloc_slow')).toBeGreaterThan(0);
    expect(vmsum(m, 'oom_kill')).toBe(0);
    expect(check_invariants(cpu).violations).toEqual([]);
    for (let i = 0; i < N; i++) expect(get(cpu, mm, a + i * 4096)).toBe(100 + i);
    for (let i = 0; i < M; i++) expect(get(cpu, mm2, b + i * 4096)).toBe(9000 + i);
    expect(pswpin).toBeLessThanOrEqual(vmsum(m, 'pswpin'));
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
    mmput(cpu, mm2);
    expect(nr()).toBe(0);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });

  for (const method of MIGRATE_METHODS) {
    it(`migrateMethod ${method}: a parked page migrates parked; FQ_NR unchanged, the old frame comes back without PG_freeable`, () => {
      const { m, cpu, mm, a, N } = parkSome({ migrateMethod: method });
      const w = m.w;
      const g = globalLine(m.layout, G_FREEABLE);
      const parked: number[] = [];
      for (let pfn = 1; pfn < m.layout.nrFrames; pfn++) {
        if ((pageWord(m, pfn, PG_FLAGS) & (PG_freeable | PG_lru)) === (PG_freeable | PG_lru)) parked.push(pfn);
      }
      expect(parked.length).toBeGreaterThan(4);
      const nr = w[g + FQ_NR]!;
      expect(nr).toBe(parked.length);
      const moved: number[] = [];
      for (const old of parked.slice(0, 4)) {
        const to = __alloc_pages(cpu, 0, SITE.test);
        expect(to).toBeGreaterThan(0);
        expect(migrate_page(cpu, old, to), `page ${old}`).toBe(MIGRATE_OK);
        // the parked page is `to` now: flagged, queued; old is a fresh allocation of ours
        expect(pageWord(m, to, PG_FLAGS) & PG_freeable).toBe(PG_freeable);
        expect(pageWord(m, old, PG_FLAGS)).toBe(0);
        expect(pageWord(m, old, PG_COUNT)).toBe(1);
        __free_pages(cpu, old, 0);
        expect(w[g + FQ_NR], `after moving page ${old} to ${to}`).toBe(nr);
        moved.push(to);
      }
      // each new frame is queued (the ring may also hold stale entries naming it from an earlier life)
      const ring = new Set<number>();
      for (let i = w[g + FQ_HEAD]!; i !== w[g + FQ_TAIL]!; i = (i + 1) | 0) ring.add(w[m.layout.freeq + (i & (m.layout.wbqSize - 1))]!);
      for (const to of moved) expect(ring.has(to), `page ${to} queued`).toBe(true);
      expect(check_invariants(cpu).violations).toEqual([]);
      // the data moved with them: every page reads back (the moved ones rescued from the queue)
      const rescued = vmsum(m, 'pgrescued');
      for (let i = 0; i < N; i++) expect(get(cpu, mm, a + i * 4096)).toBe(100 + i);
      expect(vmsum(m, 'pgrescued')).toBeGreaterThanOrEqual(rescued + moved.length);
      for (const to of moved) expect(pageWord(m, to, PG_FLAGS) & PG_freeable).toBe(0);
      expect(check_invariants(cpu).violations).toEqual([]);
      mmput(cpu, mm);
      expect(w[g + FQ_NR]).toBe(0);
      expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
    });
  }
});

describe('freeable queue on worker CPUs with kswapd, content oracle', () => {
  const pool = usePool();

  for (const writeout of ['sync', 'async'] as const) {
    it(`${writeout} write-out: pages are taken from the queue and rescued from it; oracle and checker clean`, async () => {
      await oracleRun(
        writeout,
        {
          config: { mem: '2M', swap: '16M', cpus: 2, policy: 'clock', freeable: true, rmap: RMAP, locks: 'split', lockdep: true, debug: true, swapWriteout: writeout },
          spec: { name: 'pressure', pattern: 'uniform', wsBytes: 3 << 20 },
          durationMs: 1500,
          pool: pool(),
        },
        ['pgfreeable', 'pgalloc_freeable', 'pgrescued'],
        ['alloc_slow', 'pswpout'],
      );
    }, 120_000);
  }
});

describe('freeable queue under compaction, 2 worker CPUs + kswapd', () => {
  const pool = usePool();
  // the random streams of stress-writeout.test.ts, with high-order allocations that compact (compact.ts)
  const HUNGRY = { maxTasks: 5, maxRegions: 10, maxRegionPages: 96, touchesPerStep: 32, segvRate: 0.005, compactRate: 0.05 };

  it(`compaction migrates parked pages (default method) × {${LOCK_SCHEMES.join(', ')}}: FQ_NR and PG_freeable agree at the checkpoint and the end`, async () => {
    let moved = 0;
    for (const locks of LOCK_SCHEMES) {
      const seed = Number(process.env.SMPVM_SEED ?? 1 + Math.floor(Math.random() * 0x7ffffffe));
      const r = await runMachine({
        config: { mem: '1M', swap: '8M', cpus: 2, rmap: RMAP, locks, lockdep: true, debug: true, seed, filePages: 128, maxVma: 1024, maxMm: 64, policy: 'clock', freeable: true, swapWriteout: 'async' },
        spec: { name: 'random', filesPerCpu: 1, seed, ...HUNGRY },
        durationMs: 1000,
        checkpoints: 1,
        checkEmpty: true,
        pool: pool(),
      });
      const p = runProblems(r);
      const why = `${locks}: reproduce with SMPVM_SEED=${seed}`;
      if (p.length) console.error(`${why}\n${p.slice(0, 10).join('\n')}`);
      expect(p, why).toEqual([]);
      moved += vmsum(r.m, 'pgmigrate_freeable');
      console.log(`${locks} seed ${seed}: ${(['pgfreeable', 'pgalloc_freeable', 'pgrescued', 'pgmigrate_success', 'pgmigrate_freeable'] as const).map((k) => `${k} ${vmsum(r.m, k)}`).join(', ')}`);
    }
    expect(moved, 'compaction moved no parked page in any run').toBeGreaterThan(0);
  }, 120_000);
});
