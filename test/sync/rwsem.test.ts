/*
 * rwsem.test.ts — the read/write semaphore (mmap_sem) on real worker
 * threads: two readers inside at once; a writer excluded by readers and
 * readers by a writer, each waiter seen asleep (RWSEM_WAITERS) before it is
 * let in; writer preference; and a random reader/writer mix whose readers
 * never see a half-done write.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  down_read,
  up_read,
  down_read_trylock,
  down_write_trylock,
  up_write,
  rwsem_nr_readers,
  rwsem_nr_writers_waiting,
  rwsem_is_write_locked,
  RWSEM_WAITERS,
} from '../../src/sync/rwsem.js';
import { LK_STATE } from '../../src/machine/layout.js';
import { C_TEST_RWSEM, SITE } from '../../src/sync/classes.js';
import { assertHeld } from '../../src/sync/spinlock.js';
import { lockStatRows } from '../../src/sync/lockstat_rows.js';
import { startCpuWorker, until, testMachine, mainCpu, type CpuWorker } from './harness.js';
import { testMem, B_X, B_Y, B_INSIDE, CTL_CMD, CTL_MARK } from './testmem.js';

let cpus: CpuWorker[];

beforeAll(() => {
  cpus = [startCpuWorker(), startCpuWorker()];
});
afterAll(async () => {
  await Promise.all(cpus.map((c) => c.terminate()));
});

const release = (w: Int32Array, i: number) => {
  Atomics.store(w, i, 1);
  Atomics.notify(w, i);
};

describe('rwsem', () => {
  it('admits two readers at once, and no writer while they are in', async () => {
    const m = testMachine('ticket');
    const me = mainCpu(m);
    const { lockB, ctl } = testMem(m.layout);
    const w = m.w;
    const readers = [0, 1].map((c) => cpus[c]!.run<{ inside: number }>(m, c, 'readerPair'));
    // each reader counts itself in B_INSIDE after down_read and out before up_read
    await until(() => Atomics.load(w, lockB + B_INSIDE) === 2, 'both readers inside');
    expect(rwsem_nr_readers(w, lockB)).toBe(2);
    expect(down_write_trylock(me, lockB, C_TEST_RWSEM, SITE.test)).toBe(false);
    release(w, ctl + CTL_CMD);
    release(w, ctl + CTL_CMD + 1);
    expect((await Promise.all(readers)).map((r) => r.inside).sort()).toEqual([1, 2]);
    expect(Atomics.load(w, lockB + LK_STATE) & ~RWSEM_WAITERS).toBe(0);
  });

  it('excludes a writer while a reader holds it and readers while the writer does', async () => {
    const m = testMachine('ticket', { debug: true });
    const me = mainCpu(m);
    const { lockB, ctl } = testMem(m.layout);
    const w = m.w;
    down_read(me, lockB, C_TEST_RWSEM, SITE.test);
    assertHeld(me, lockB, C_TEST_RWSEM);
    const writer = cpus[0]!.run(m, 0, 'writerHold');
    await until(() => rwsem_nr_writers_waiting(w, lockB) === 1, 'the writer to queue');
    await until(() => (Atomics.load(w, lockB + LK_STATE) & RWSEM_WAITERS) !== 0, 'the writer to go to sleep');
    expect(Atomics.load(w, ctl + CTL_MARK), 'writer entered past a reader').toBe(1);
    // writer preference: a new reader may not pass the waiting writer
    expect(await cpus[1]!.run<boolean>(m, 1, 'readTrylock')).toBe(false);
    up_read(me, lockB, C_TEST_RWSEM);
    await until(() => Atomics.load(w, ctl + CTL_MARK) === 2, 'the writer to get in');
    expect(rwsem_is_write_locked(w, lockB)).toBe(true);
    expect(rwsem_nr_writers_waiting(w, lockB)).toBe(0);
    expect(down_read_trylock(me, lockB, C_TEST_RWSEM, SITE.test)).toBe(false);
    expect(down_write_trylock(me, lockB, C_TEST_RWSEM, SITE.test)).toBe(false);
    expect(() => assertHeld(me, lockB, C_TEST_RWSEM)).toThrow(/does not hold test_rwsem/);
    // a reader behind the writer sleeps until the writer leaves
    const reader = cpus[1]!.run(m, 1, 'readerOnce');
    await until(() => Atomics.load(w, ctl + CTL_MARK + 1) === 1, 'the reader to start');
    await until(() => (Atomics.load(w, lockB + LK_STATE) & RWSEM_WAITERS) !== 0, 'the reader to go to sleep');
    expect(Atomics.load(w, ctl + CTL_MARK + 1), 'reader entered past the writer').toBe(1);
    release(w, ctl + CTL_CMD);
    await writer;
    await reader;
    expect(Atomics.load(w, ctl + CTL_MARK + 1)).toBe(2);
    expect(Atomics.load(w, lockB + LK_STATE)).toBe(0);
    // and the main thread can now write
    expect(down_write_trylock(me, lockB, C_TEST_RWSEM, SITE.test)).toBe(true);
    assertHeld(me, lockB, C_TEST_RWSEM);
    up_write(me, lockB, C_TEST_RWSEM);
    const rows = lockStatRows(m).filter((r) => r.class === 'test_rwsem');
    expect(rows.map((r) => r['class name'])).toEqual(['test_rwsem-W', 'test_rwsem-R']);
    expect(rows[0]!.contentions).toBe(1); // the writer waited for the reader
    expect(rows[1]!.contentions).toBe(1); // the reader waited for the writer
  });

  it('random reader/writer mix: readers never see a half-done write', async () => {
    const n = 20_000;
    const m = testMachine('ticket');
    const { lockB } = testMem(m.layout);
    const res = await Promise.all(
      [0, 1].map((c) =>
        cpus[c]!.run<{ writes: number; torn: number; writerSeen: number; maxInside: number }>(m, c, 'rwMixed', { n, seed: 7, nr: 2 }),
      ),
    );
    const writes = res[0]!.writes + res[1]!.writes;
    expect(writes).toBeGreaterThan(n / 8);
    expect(res.map((r) => r.torn)).toEqual([0, 0]);
    expect(res.map((r) => r.writerSeen)).toEqual([0, 0]);
    expect(m.w[lockB + B_X]).toBe(writes);
    expect(m.w[lockB + B_Y]).toBe(writes);
    expect(Atomics.load(m.w, lockB + LK_STATE)).toBe(0);
    const rows = lockStatRows(m).filter((r) => r.class === 'test_rwsem');
    expect(rows.find((r) => r.rw === 'W')!.acquisitions).toBe(writes);
    expect(rows.find((r) => r.rw === 'R')!.acquisitions).toBe(2 * n - writes);
  });
});
