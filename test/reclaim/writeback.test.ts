/*
 * Asynchronous clustered swap write-out (issue 18 item 2, reclaim/
 * writeback.ts): a page faulted or redirtied while its write is in flight is
 * never lost. Deterministically on the main thread (a device slow enough
 * that nothing completes until the test says so), then on worker CPUs with
 * kswapd and the content oracle under the host and the virtual clock.
 */
import { describe, it, expect } from 'vitest';
import { check_invariants } from '../../src/sim/checker.js';
import { pageStruct, PG_FLAGS } from '../../src/machine/layout.js';
import { PG_writeback } from '../../src/machine/page.js';
import { pte_present } from '../../src/mm/pte.js';
import { mmput } from '../../src/vm/fork.js';
import { shrink_all_memory, lru_add_drain, sys_swapoff } from '../../src/reclaim/index.js';
import { wb_complete } from '../../src/reclaim/writeback.js';
import { bootR, vmsum, newProc, mapAnon, put, get, pteOf, isSwapPte, rmapNames, usePool, oracleRun } from './helpers.js';

const RMAP = rmapNames().includes('ptechain') ? 'ptechain' : 'scan';
const N = 96;

/** pages of the machine under PG_writeback */
const underWriteback = (m: ReturnType<typeof bootR>['m']) => {
  let n = 0;
  for (let pfn = 1; pfn < m.layout.nrFrames; pfn++) if ((m.w[pageStruct(m.layout, pfn) + PG_FLAGS]! & PG_writeback) !== 0) n++;
  return n;
};

describe('async write-out, deterministic', () => {
  for (const policy of ['2q', 'clock', 'swapout'] as const) {
    it(`${policy}: pages faulted and redirtied under write-back keep their latest data; freed only after the device completes`, () => {
      // a 10 s device: nothing completes unless wb_complete(all) says so
      const { m, cpu } = bootR({ swapWriteout: 'async', swapLatencyUs: 1e7, policy, rmap: RMAP });
      const mm = newProc(cpu);
      const a = mapAnon(cpu, mm, N);
      for (let i = 0; i < N; i++) put(cpu, mm, a + i * 4096, 1000 + i);
      lru_add_drain(cpu);
      // swapout's virtual scan unmaps on one pass and writes on a later one
      for (let k = 0; k < 4; k++) shrink_all_memory(cpu, N);
      const wb = underWriteback(m);
      expect(wb).toBeGreaterThan(8);
      expect(vmsum(m, 'swap_wb_req')).toBeGreaterThan(0);
      expect(vmsum(m, 'swap_wb_req')).toBeLessThan(wb); // clustered: fewer requests than pages
      expect(vmsum(m, 'pswpout')).toBe(0); // nothing completed yet
      expect(check_invariants(cpu).violations).toEqual([]);
      // fault every page back; rewrite every third one (its swap-cache page is under write-back: do_wp_page copies)
      let swapped = 0;
      for (let i = 0; i < N; i++) {
        if (isSwapPte(pteOf(cpu, mm, a + i * 4096))) swapped++;
        expect(get(cpu, mm, a + i * 4096)).toBe(1000 + i);
        if (i % 3 === 0) put(cpu, mm, a + i * 4096, 5000 + i);
      }
      expect(swapped).toBeGreaterThan(0);
      expect(vmsum(m, 'swap_wb_fault')).toBeGreaterThan(0);
      // reclaim again while the writes are in flight: pages under write-back are kept
      for (let k = 0; k < 4; k++) shrink_all_memory(cpu, N);
      expect(check_invariants(cpu).violations).toEqual([]);
      for (let i = 0; i < N; i++) expect(get(cpu, mm, a + i * 4096)).toBe(i % 3 === 0 ? 5000 + i : 1000 + i);
      // the device completes; later passes write the redirtied copies and free what is clean
      expect(wb_complete(cpu, true)).toBeGreaterThan(0);
      expect(vmsum(m, 'pswpout')).toBeGreaterThan(0);
      for (let k = 0; k < 4; k++) {
        shrink_all_memory(cpu, N);
        wb_complete(cpu, true);
      }
      expect(check_invariants(cpu).violations).toEqual([]);
      for (let i = 0; i < N; i++) expect(get(cpu, mm, a + i * 4096)).toBe(i % 3 === 0 ? 5000 + i : 1000 + i);
      expect(check_invariants(cpu).violations).toEqual([]);
      mmput(cpu, mm);
      expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
    });
  }

  it('swapoff waits for the writes in flight, then brings every page back', () => {
    const { m, cpu } = bootR({ swapWriteout: 'async', swapLatencyUs: 20_000, policy: '2q', rmap: RMAP });
    const mm = newProc(cpu);
    const a = mapAnon(cpu, mm, N);
    for (let i = 0; i < N; i++) put(cpu, mm, a + i * 4096, 7000 + i);
    lru_add_drain(cpu);
    shrink_all_memory(cpu, N);
    expect(underWriteback(m)).toBeGreaterThan(0);
    expect(sys_swapoff(cpu)).toBe(0);
    expect(vmsum(m, 'swap_wb_wait')).toBeGreaterThan(0);
    expect(underWriteback(m)).toBe(0);
    for (let i = 0; i < N; i++) {
      const pte = pteOf(cpu, mm, a + i * 4096);
      expect(pte_present(pte)).toBe(true);
      expect(get(cpu, mm, a + i * 4096)).toBe(7000 + i);
    }
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });
});

describe('async write-out on worker CPUs with kswapd, content oracle', () => {
  const pool = usePool();

  for (const clock of ['host', 'virtual'] as const) {
    it(`${clock} clock: pages faulted and redirtied during write-back read their latest data; checker clean`, async () => {
      await oracleRun(
        `${clock} clock`,
        {
          config: {
            mem: '2M',
            swap: '16M',
            cpus: 2,
            policy: '2q',
            rmap: RMAP,
            locks: 'split',
            lockdep: true,
            debug: clock === 'host',
            clock,
            swapWriteout: 'async',
            swapLatencyUs: clock === 'host' ? 50_000 : 2000, // long enough that faults and writes meet pages in flight
          },
          spec: { name: 'pressure', pattern: 'uniform', writeRatio: 0.5 },
          durationMs: clock === 'host' ? 2500 : 200, // virtual: 100 ms gave 4-22 swap-ins over 8 seeds, 40 ms none for one
          pool: pool(),
        },
        // pswpin (a swap-in read from the device) needs a page written, then reclaimed from the swap
        // cache, then faulted: on the host clock each I/O wait is 50 ms of host time, and 2.5 s read
        // 0-2 swap-ins in 8 of 10 runs (2026-12-07); the virtual case shows the read-back path
        clock === 'host' ? ['swap_wb_req', 'pswpout', 'swap_wb_fault'] : ['swap_wb_req', 'pswpout', 'swap_wb_fault', 'pswpin'],
        clock === 'host' ? ['pswpin', 'pgrotated'] : ['pgrotated'],
      );
    }, 120_000);
  }
});
