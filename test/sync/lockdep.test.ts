/*
 * lockdep.test.ts — the lock validator across real worker threads: an ABBA
 * between test_lock_a and test_lock_b planted on two CPUs (one after the
 * other, no deadlock needed) is reported with both acquisition sites; a
 * trylock against the order is not; a sleeping lock taken under a spinlock
 * is; and an unbalanced unlock is refused.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readLockdepReport, formatLockdepReport } from '../../src/sync/lockdep.js';
import { PC_LOCKDEP_VIOL, percpuBase, LOCKDEP_DEPTH } from '../../src/machine/layout.js';
import { spin_lock } from '../../src/sync/spinlock.js';
import { C_TEST_A, SITE } from '../../src/sync/classes.js';
import { startCpuWorker, testMachine, mainCpu, type CpuWorker } from './harness.js';
import { testMem } from './testmem.js';

let cpus: CpuWorker[];

beforeAll(() => {
  cpus = [startCpuWorker(), startCpuWorker()];
});
afterAll(async () => {
  await Promise.all(cpus.map((c) => c.terminate()));
});

describe('lockdep', () => {
  it('reports a planted ABBA with both sites', async () => {
    const m = testMachine('ticket');
    await cpus[0]!.run(m, 0, 'lockPair', { first: 'A', second: 'B', s1: 'do_mmap', s2: 'do_munmap' });
    expect(readLockdepReport(m.w, m.layout.lockdep).count).toBe(0);
    await cpus[1]!.run(m, 1, 'lockPair', { first: 'B', second: 'A', s1: 'mremap', s2: 'exit_mmap' });
    const rep = readLockdepReport(m.w, m.layout.lockdep);
    expect(rep.count).toBe(1);
    expect(rep.first).toMatchObject({
      kind: 'ABBA',
      a: 'test_lock_b', // held ...
      b: 'test_lock_a', // ... while taking this one, at exit_mmap
      siteABName: 'exit_mmap',
      siteBAName: 'do_munmap', // the older edge: b taken under a on cpu 0
      cpu: 1,
    });
    expect(m.w[percpuBase(m.layout, 1) + PC_LOCKDEP_VIOL]).toBe(1);
    expect(formatLockdepReport(rep)).toMatch(/circular locking dependency[\s\S]*exit_mmap[\s\S]*do_munmap/);
    // the same inversion again adds no new edge and no new report
    await cpus[1]!.run(m, 1, 'lockPair', { first: 'B', second: 'A', s1: 'mremap', s2: 'exit_mmap' });
    expect(readLockdepReport(m.w, m.layout.lockdep).count).toBe(1);
  });

  it('does not report a trylock taken against the order', async () => {
    const m = testMachine('mcs');
    await cpus[0]!.run(m, 0, 'lockPair', { first: 'A', second: 'B', s1: 'do_mmap', s2: 'do_munmap' });
    const got = await cpus[1]!.run<boolean>(m, 1, 'lockPair', { first: 'B', second: 'A', s1: 'shrink_list', s2: 'try_to_unmap', trySecond: true });
    expect(got).toBe(true);
    expect(readLockdepReport(m.w, m.layout.lockdep)).toEqual({ count: 0 });
  });

  it('reports a sleeping lock taken inside a spinlock, not the other way round', async () => {
    const clean = testMachine('ticket');
    await cpus[0]!.run(clean, 0, 'pageAndSpin', { pageFirst: true });
    expect(readLockdepReport(clean.w, clean.layout.lockdep).count).toBe(0);
    const m = testMachine('ticket');
    await cpus[1]!.run(m, 1, 'pageAndSpin', { pageFirst: false });
    const rep = readLockdepReport(m.w, m.layout.lockdep);
    expect(rep.count).toBe(1);
    expect(rep.first).toMatchObject({ kind: 'sleep-in-spin', a: 'test_lock_a', b: 'PG_locked', siteABName: 'test', siteBAName: 'lock_page', cpu: 1 });
  });

  it('refuses an unbalanced unlock and a held stack deeper than LOCKDEP_DEPTH', async () => {
    const m = testMachine('ticket');
    expect(await cpus[0]!.run<string>(m, 0, 'badUnlock')).toMatch(/bad unlock balance.*test_lock_a/);
    const me = mainCpu(m);
    const { lockA } = testMem(m.layout);
    // a recursive lockdep stack (same class, distinct lock words) until it overflows
    expect(() => {
      for (let i = 0; i <= LOCKDEP_DEPTH; i++) spin_lock(me, lockA + 64 * 16 + 4 * i, C_TEST_A, SITE.test);
    }).toThrow(/MAX_LOCK_DEPTH/);
  });
});
