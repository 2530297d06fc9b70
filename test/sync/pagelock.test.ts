/*
 * pagelock.test.ts — the struct page locks on real worker threads: PG_locked
 * (a futex mutex on its own word, with the flag bit mirrored) and
 * PG_chainlock (a bit spinlock in the flags word) keep 2 CPUs x N plain
 * increments exact; trylock and the debug holder checks.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { PG_FLAGS, PG_LOCKWORD, pageStruct } from '../../src/machine/layout.js';
import { PG_chainlock, PG_locked, PG_referenced } from '../../src/machine/page.js';
import {
  lock_page,
  unlock_page,
  trylock_page,
  PageLocked,
  assertPageLocked,
  pte_chain_lock,
  pte_chain_unlock,
  pte_chain_trylock,
  assertChainLocked,
} from '../../src/sync/pagelock.js';
import { SITE } from '../../src/sync/classes.js';
import { lockStatRows } from '../../src/sync/lockstat_rows.js';
import { makeCpuBase } from '../../src/machine/cpu.js';
import { startCpuWorker, testMachine, mainCpu, contendedCounter, type CpuWorker } from './harness.js';
import { testMem, A_CNT } from './testmem.js';

const N = 10_000;
let cpus: CpuWorker[];

beforeAll(() => {
  cpus = [startCpuWorker(), startCpuWorker()];
});
afterAll(async () => {
  await Promise.all(cpus.map((c) => c.terminate()));
});

describe.each([
  ['PG_locked (lock_page)', 'page', 'PG_locked'],
  ['PG_chainlock (pte_chain_lock)', 'chain', 'PG_chainlock'],
] as const)('%s', (_title, lock, cls) => {
  it(`2 CPUs x ${N} plain increments end exact`, async () => {
    const { m, res, n } = await contendedCounter(cpus, 'ticket', lock, N);
    expect(res.map((r) => r.violations)).toEqual([0, 0]);
    expect(res.some((r) => r.overlapped), 'the two CPUs never ran at the same time').toBe(true);
    expect(m.w[testMem(m.layout).lockA + A_CNT]).toBe(2 * n);
    const p = pageStruct(m.layout, 0);
    expect(m.w[p + PG_FLAGS]! & (PG_locked | PG_chainlock), 'lock bit left set').toBe(0);
    expect(m.w[p + PG_LOCKWORD], 'page lock word left held').toBe(0);
    const r = lockStatRows(m).find((x) => x.class === cls)!;
    expect(r.acquisitions).toBe(2 * n);
    expect(r['acq-bounces']).toBeGreaterThan(0);
    expect(r['con-bounces']).toBeLessThanOrEqual(r.contentions);
  });
});

describe('page locks on one CPU', () => {
  it('trylock fails while held, flags mirror PG_locked, other flag bits survive', () => {
    const m = testMachine('ticket', { debug: true });
    const a = mainCpu(m);
    const b = makeCpuBase(m, 0);
    const p = pageStruct(m.layout, 5);
    Atomics.or(m.w, p + PG_FLAGS, PG_referenced);
    lock_page(a, 5, SITE.lock_page);
    expect(PageLocked(m.w, m.layout, 5)).toBe(true);
    assertPageLocked(a, 5);
    expect(() => assertPageLocked(b, 5)).toThrow(/does not hold PG_locked/);
    expect(trylock_page(b, 5, SITE.lock_page)).toBe(false);
    pte_chain_lock(a, 5, SITE.page_add_rmap);
    assertChainLocked(a, 5);
    expect(() => assertChainLocked(b, 5)).toThrow(/does not hold PG_chainlock/);
    expect(pte_chain_trylock(b, 5, SITE.try_to_unmap)).toBe(false);
    pte_chain_unlock(a, 5);
    expect(() => assertChainLocked(a, 5)).toThrow();
    unlock_page(a, 5);
    expect(PageLocked(m.w, m.layout, 5)).toBe(false);
    expect(trylock_page(b, 5, SITE.lock_page)).toBe(true);
    expect(pte_chain_trylock(b, 5, SITE.try_to_unmap)).toBe(true);
    pte_chain_unlock(b, 5);
    unlock_page(b, 5);
    expect(m.w[p + PG_FLAGS]).toBe(PG_referenced);
  });
});
