/*
 * The clock policy's freeable queue (issue 18 item 3, reclaim/freeable.ts):
 * reclaim parks clean unmapped pages, an allocation short of pages_min
 * takes one without reclaiming, a page looked up again is rescued with its
 * data; the checker keeps PG_freeable, FQ_NR and the queue in agreement.
 * Deterministically on the main thread, then on worker CPUs with kswapd and
 * the content oracle.
 */
import { describe, it, expect } from 'vitest';
import { check_invariants } from '../../src/sim/checker.js';
import { makeConfig, ConfigError } from '../../src/config.js';
import { G_FREEABLE, FQ_NR, globalLine } from '../../src/machine/layout.js';
import { mmput } from '../../src/vm/fork.js';
import { shrink_all_memory, lru_add_drain } from '../../src/reclaim/index.js';
import { bootR, vmsum, newProc, mapAnon, put, get, rmapNames, usePool, oracleRun } from './helpers.js';

const RMAP = rmapNames().includes('ptechain') ? 'ptechain' : 'scan';

describe('freeable queue, deterministic', () => {
  it('is part of the clock policy only', () => {
    expect(() => makeConfig({ freeable: true, policy: '2q' })).toThrow(ConfigError);
    expect(() => makeConfig({ freeable: true, policy: '2q' })).toThrow(/^config\.freeable: the freeable queue is part of the clock policy/);
    expect(makeConfig({ freeable: true, policy: 'clock' }).freeable).toBe(true);
  });

  it('parks clean pages, rescues the ones looked up again, hands the rest to allocations; no data lost', () => {
    const { m, cpu } = bootR({ policy: 'clock', freeable: true, rmap: RMAP });
    const nr = () => m.w[globalLine(m.layout, G_FREEABLE) + FQ_NR]!;
    const mm = newProc(cpu);
    const N = 256;
    const a = mapAnon(cpu, mm, N);
    for (let i = 0; i < N; i++) put(cpu, mm, a + i * 4096, 100 + i);
    lru_add_drain(cpu);
    shrink_all_memory(cpu, N);
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
