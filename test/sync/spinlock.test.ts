/*
 * spinlock.test.ts — every spinning-lock implementation on real worker
 * threads: mutual exclusion (2 CPUs x N increments of a plain counter end
 * exact), FIFO hand-over for ticket and MCS, and the futex mutex parking its
 * waiter in Atomics.wait. lock_stat's counters are checked exactly where the
 * handshake makes them known.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { LOCK_IMPLS } from '../../src/config.js';
import { LK_STATE } from '../../src/machine/layout.js';
import type { Machine } from '../../src/machine/machine.js';
import { spin_lock, spin_unlock, spin_trylock, spin_is_locked, spin_lock_init } from '../../src/sync/spinlock.js';
import { ticket_nr_queued } from '../../src/sync/ticket.js';
import { mcs_tail_cpu } from '../../src/sync/mcs.js';
import { FUTEX_CONTENDED } from '../../src/sync/futex.js';
import { C_TEST_A, C_TEST_B, SITE } from '../../src/sync/classes.js';
import { lockStatRows, type LockStatRow } from '../../src/sync/lockstat_rows.js';
import { startCpuWorker, until, testMachine, mainCpu, contendedCounter, type CpuWorker } from './harness.js';
import { makeCpuBase } from '../../src/machine/cpu.js';
import { testMem, A_CNT, CTL_MARK, CTL_SEQ, CTL_ORDER } from './testmem.js';

/** Busy-wait `ms` milliseconds (the lock is held; nothing to wait for but the clock). */
function holdFor(ms: number): void {
  const t = performance.now();
  while (performance.now() - t < ms);
}

const N = 10_000;
let cpus: CpuWorker[];

beforeAll(() => {
  cpus = [startCpuWorker(), startCpuWorker()];
});
afterAll(async () => {
  await Promise.all(cpus.map((c) => c.terminate()));
});

const rowOf = (m: Machine, cls: string): LockStatRow => {
  const r = lockStatRows(m).find((x) => x.class === cls);
  if (!r) throw new Error(`no lock_stat row for ${cls}`);
  return r;
};

describe.each(LOCK_IMPLS.map((impl) => [impl]))('spin_lock with lockImpl=%s', (impl) => {
  it(`2 CPUs x ${N} plain increments end exact`, async () => {
    const { m, res, n } = await contendedCounter(cpus, impl, 'spin', N);
    const { lockA } = testMem(m.layout);
    expect(res.map((r) => r.violations)).toEqual([0, 0]);
    expect(res.some((r) => r.overlapped), 'the two CPUs never ran at the same time').toBe(true);
    expect(m.w[lockA + A_CNT]).toBe(2 * n);
    expect(spin_is_locked(mainCpu(m), lockA), 'lock left held').toBe(false);
    // lock_stat after a contended run: exact acquisitions, sane ordering of the rest
    const r = rowOf(m, 'test_lock_a');
    expect(r.acquisitions).toBe(2 * n);
    expect(r.contentions).toBeLessThanOrEqual(r.acquisitions);
    expect(r['con-bounces']).toBeLessThanOrEqual(r.contentions);
    expect(r['acq-bounces']).toBeLessThanOrEqual(r.acquisitions);
    expect(r['acq-bounces']).toBeGreaterThan(0); // the runs overlapped, so the lock moved between CPUs
    if (r.contentions > 0) {
      expect(r['waittime-min']).toBeLessThanOrEqual(r['waittime-avg']);
      expect(r['waittime-avg']).toBeLessThanOrEqual(r['waittime-max']);
      expect(r['waittime-max']).toBeLessThanOrEqual(r['waittime-total']);
      expect(r['contention-points'][0]!.site).toBe('test');
    }
  });
});

describe('FIFO hand-over', () => {
  /**
   * The main thread (CPU 2) holds lock A; CPU x and then CPU y queue for it,
   * each enqueue confirmed in the lock word before the next starts; the main
   * thread releases and the order log must read [x, y]. Both orders, so it
   * is queue order, not CPU number.
   */
  async function fifoRounds(impl: 'ticket' | 'mcs') {
    const m = testMachine(impl);
    const me = mainCpu(m);
    const { lockA, ctl } = testMem(m.layout);
    const w = m.w;
    const rounds: [number, number][] = [
      [0, 1],
      [1, 0],
      [0, 1],
    ];
    const queuedBehind = (cpu: number, depth: number) =>
      impl === 'ticket' ? ticket_nr_queued(w, lockA) === depth : mcs_tail_cpu(w, lockA) === cpu;
    for (const [x, y] of rounds) {
      Atomics.store(w, ctl + CTL_SEQ, 0);
      spin_lock(me, lockA, C_TEST_A, SITE.test);
      const px = cpus[x]!.run<number>(m, x, 'orderedWaiter');
      await until(() => queuedBehind(x, 2), `cpu ${x} to queue on the ${impl} lock`);
      const py = cpus[y]!.run<number>(m, y, 'orderedWaiter');
      await until(() => queuedBehind(y, 3), `cpu ${y} to queue behind cpu ${x}`);
      expect(Atomics.load(w, ctl + CTL_SEQ), 'a waiter got in while the lock was held').toBe(0);
      expect(spin_trylock(me, lockA, C_TEST_A, SITE.test)).toBe(false);
      spin_unlock(me, lockA, C_TEST_A);
      expect(await Promise.all([px, py])).toEqual([0, 1]);
      expect([w[ctl + CTL_ORDER], w[ctl + CTL_ORDER + 1]]).toEqual([x, y]);
    }
    // every waiter's acquisition was contended by construction, and every
    // acquisition but the very first followed another CPU's
    const r = rowOf(m, 'test_lock_a');
    expect(r.acquisitions).toBe(3 * rounds.length);
    expect(r.contentions).toBe(2 * rounds.length);
    expect(r['con-bounces']).toBe(2 * rounds.length);
    expect(r['acq-bounces']).toBe(3 * rounds.length - 1);
    expect(r['waittime-min']).toBeGreaterThan(0);
    expect(r['contention-points']).toEqual([{ site: 'test', contentions: 2 * rounds.length }]);
    expect(r['contending-points']).toEqual([{ site: 'test', contentions: 2 * rounds.length }]);
  }

  it('ticket lock serves waiters in ticket order', () => fifoRounds('ticket'));
  it('MCS lock serves waiters in queue order', () => fifoRounds('mcs'));
});

describe('futex mutex', () => {
  it('parks a waiter in Atomics.wait instead of spinning', async () => {
    const m = testMachine('futex');
    const me = mainCpu(m);
    const { lockA, ctl } = testMem(m.layout);
    const w = m.w;
    spin_lock(me, lockA, C_TEST_A, SITE.test);
    const p = cpus[0]!.run<number>(m, 0, 'orderedWaiter');
    await until(() => Atomics.load(w, ctl + CTL_MARK) === 1, 'cpu 0 to start locking');
    await until(() => Atomics.load(w, lockA + LK_STATE) === FUTEX_CONTENDED, 'the waiter to mark the lock contended');
    // Atomics.notify returns how many agents it woke: 1 means the waiter was
    // parked in Atomics.wait on the lock word. Waking it while the lock is
    // still held is a spurious wake-up; it must go back to sleep, not spin.
    await until(() => Atomics.notify(w, lockA + LK_STATE, 1) === 1, 'the waiter to park in Atomics.wait');
    expect(Atomics.load(w, ctl + CTL_MARK), 'woken waiter took a held lock').toBe(1);
    await until(() => Atomics.notify(w, lockA + LK_STATE, 1) === 1, 'the woken waiter to park again');
    expect(Atomics.load(w, ctl + CTL_SEQ)).toBe(0);
    spin_unlock(me, lockA, C_TEST_A);
    expect(await p).toBe(0);
    expect(Atomics.load(w, lockA + LK_STATE)).toBe(0);
    const r = rowOf(m, 'test_lock_a');
    expect(r.acquisitions).toBe(2);
    expect(r.contentions).toBe(1);
    expect(r.spins, 'sleeps recorded for the waiter').toBeGreaterThanOrEqual(2);
  });
});

describe('hold time (config.holdTime)', () => {
  it('measures each lock from its own acquisition, also when released out of order', () => {
    const m = testMachine('ticket', { holdTime: true });
    const me = mainCpu(m);
    const { lockA, lockB } = testMem(m.layout);
    spin_lock(me, lockA, C_TEST_A, SITE.test);
    holdFor(0.4);
    spin_lock(me, lockB, C_TEST_B, SITE.test);
    holdFor(0.2);
    spin_unlock(me, lockA, C_TEST_A); // not the innermost: A's start must be read before B's slides down
    holdFor(0.2);
    spin_unlock(me, lockB, C_TEST_B);
    const a = rowOf(m, 'test_lock_a');
    const b = rowOf(m, 'test_lock_b');
    expect(a.acquisitions).toBe(1);
    expect(a['holdtime-min'], 'A held 0.4 + 0.2 ms').toBeGreaterThanOrEqual(600);
    expect(b['holdtime-min'], 'B held 0.2 + 0.2 ms').toBeGreaterThanOrEqual(400);
    expect(b['holdtime-total']).toBe(b['holdtime-max']);
  });
});

describe('spin_lock_init', () => {
  it('zeroes a lock footprint and rejects a misaligned or out-of-range one', () => {
    const m = testMachine('ticket');
    const { lockA } = testMem(m.layout);
    m.w.fill(7, lockA, lockA + 4);
    spin_lock_init(m.w, lockA);
    expect(Array.from(m.w.subarray(lockA, lockA + 4))).toEqual([0, 0, 0, 0]);
    expect(() => spin_lock_init(m.w, lockA + 2)).toThrow(/aligned/);
    expect(() => spin_lock_init(m.w, m.w.length - 2)).toThrow(/outside/);
    expect(() => spin_lock_init(m.w, -4)).toThrow(/outside/);
  });
});

describe('debug unlock check (lib/spinlock_debug.c debug_spin_unlock)', () => {
  it('an unlock by a CPU that is not the holder, or of a free lock, throws naming the lock; lockdep alone misses it', () => {
    const m = testMachine('ticket', { debug: true });
    const { lockA, lockB } = testMem(m.layout);
    const a = mainCpu(m);
    const b = makeCpuBase(m, 1);
    spin_lock(a, lockA, C_TEST_A, SITE.test);
    // the same class, another instance: lockdep pops by class and would let this pass
    expect(() => spin_unlock(a, lockB, C_TEST_A)).toThrow(/BUG: .* @\d+ already unlocked on cpu 2/);
    expect(() => spin_unlock(b, lockA, C_TEST_A)).toThrow(/wrong owner \(held by cpu 2\) on cpu 1/);
    expect(spin_is_locked(a, lockA)).toBe(true);
    expect(spin_is_locked(a, lockB)).toBe(false); // the bad unlock changed nothing
    spin_unlock(a, lockA, C_TEST_A);
    expect(spin_is_locked(a, lockA)).toBe(false);
  });
});
