/*
 * scenarios.ts — what a simulated CPU does in a sync test. Each scenario runs
 * synchronously inside a worker thread (lock-worker.ts) as CPU `cpu.id`, over
 * the machine the test built; it synchronizes with the other CPU and with the
 * test's main thread only through words in the buffer (testmem.ts): a start
 * gate, command words, progress marks. Every wait has a deadline so a broken
 * lock makes the test fail instead of hanging it.
 */
import type { CpuBase } from '../../src/machine/cpu.js';
import { seeded, randInt } from '../rng.js';
import { spin_lock, spin_unlock, spin_trylock } from '../../src/sync/spinlock.js';
import { down_read, up_read, down_write, up_write, down_read_trylock } from '../../src/sync/rwsem.js';
import { lock_page, unlock_page, pte_chain_lock, pte_chain_unlock } from '../../src/sync/pagelock.js';
import { mm_free, mmCache } from '../../src/mm/mm_struct.js';
import type { Machine } from '../../src/machine/machine.js';
import { makeCpu } from '../../src/vm/cpu.js';
import { do_mremap } from '../../src/vm/mmap.js';
import { C_TEST_A, C_TEST_B, C_TEST_RWSEM, SITE, type LockSiteName } from '../../src/sync/classes.js';
import {
  testMem,
  A_CNT,
  A_OWNER,
  B_X,
  B_Y,
  B_INSIDE,
  B_WRITER_IN,
  CTL_GATE,
  CTL_READY,
  CTL_CMD,
  CTL_MARK,
  CTL_PROG,
  CTL_SEQ,
  CTL_ORDER,
  CTL_ORDER_MAX,
} from './testmem.js';

export const DEADLINE_MS = 15_000;

/** Block until w[i] satisfies `ok`, sleeping in Atomics.wait between changes (the writer notifies). */
function waitWord(w: Int32Array, i: number, ok: (v: number) => boolean, what: string): number {
  const end = performance.now() + DEADLINE_MS;
  for (;;) {
    const v = Atomics.load(w, i);
    if (ok(v)) return v;
    const left = end - performance.now();
    if (left <= 0) throw new Error(`timed out waiting for ${what} (word ${i} = ${v})`);
    Atomics.wait(w, i, v, Math.min(left, 50));
  }
}

function setWord(w: Int32Array, i: number, v: number): void {
  Atomics.store(w, i, v);
  Atomics.notify(w, i);
}

/** Start barrier: the last of `nr` CPUs to check in opens the gate. */
function startBarrier(cpu: CpuBase, nr: number): void {
  const { ctl } = testMem(cpu.l);
  const w = cpu.w;
  if (Atomics.add(w, ctl + CTL_READY, 1) === nr - 1) setWord(w, ctl + CTL_GATE, 1);
  else waitWord(w, ctl + CTL_GATE, (v) => v === 1, 'the start gate');
}

export type LockKindArg = 'spin' | 'page' | 'chain';

/**
 * N increments of a plain counter under one lock, with a mutual-exclusion
 * check (an owner word that must read 0 on entry and ours on exit). Records
 * whether the other CPU made progress while this one ran (the run really
 * overlapped).
 */
function counter(cpu: CpuBase, args: { n: number; lock: LockKindArg; nr: number }) {
  const w = cpu.w;
  const { lockA, ctl } = testMem(cpu.l);
  const me = cpu.id + 1;
  const site = SITE.test;
  const other = ctl + CTL_PROG + (1 - cpu.id);
  startBarrier(cpu, args.nr);
  const p0 = Atomics.load(w, other);
  let violations = 0;
  const t0 = performance.now();
  for (let i = 0; i < args.n; i++) {
    if (args.lock === 'spin') spin_lock(cpu, lockA, C_TEST_A, site);
    else if (args.lock === 'page') lock_page(cpu, 0, site);
    else pte_chain_lock(cpu, 0, site);
    if (w[lockA + A_OWNER] !== 0) violations++;
    w[lockA + A_OWNER] = me;
    const v = w[lockA + A_CNT]!;
    w[lockA + A_CNT] = v + 1;
    if (w[lockA + A_OWNER] !== me) violations++;
    w[lockA + A_OWNER] = 0;
    if (args.lock === 'spin') spin_unlock(cpu, lockA, C_TEST_A);
    else if (args.lock === 'page') unlock_page(cpu, 0);
    else pte_chain_unlock(cpu, 0);
    if ((i & 63) === 0) Atomics.store(w, ctl + CTL_PROG + cpu.id, i + 1);
  }
  const ms = performance.now() - t0;
  Atomics.store(w, ctl + CTL_PROG + cpu.id, args.n);
  const p1 = Atomics.load(w, other);
  return { violations, overlapped: p1 > p0, ms };
}

/** Mark "about to lock", take lock A, log our turn in the order log, release. */
function orderedWaiter(cpu: CpuBase) {
  const w = cpu.w;
  const { lockA, ctl } = testMem(cpu.l);
  setWord(w, ctl + CTL_MARK + cpu.id, 1);
  spin_lock(cpu, lockA, C_TEST_A, SITE.test);
  const k = Atomics.add(w, ctl + CTL_SEQ, 1);
  if (k < CTL_ORDER_MAX) w[ctl + CTL_ORDER + k] = cpu.id;
  spin_unlock(cpu, lockA, C_TEST_A);
  setWord(w, ctl + CTL_MARK + cpu.id, 2);
  return k;
}

/** Hold the rwsem for reading, counted in B_INSIDE, until the main thread says go. */
function readerPair(cpu: CpuBase) {
  const w = cpu.w;
  const { lockB, ctl } = testMem(cpu.l);
  down_read(cpu, lockB, C_TEST_RWSEM, SITE.test);
  const inside = Atomics.add(w, lockB + B_INSIDE, 1) + 1;
  Atomics.notify(w, lockB + B_INSIDE);
  try {
    waitWord(w, ctl + CTL_CMD + cpu.id, (v) => v === 1, 'the main thread to release the readers');
  } finally {
    Atomics.sub(w, lockB + B_INSIDE, 1);
    up_read(cpu, lockB, C_TEST_RWSEM);
  }
  return { inside };
}

/** Take the rwsem for writing (mark 1 before, 2 inside), hold it until told, release (mark 3). */
function writerHold(cpu: CpuBase) {
  const w = cpu.w;
  const { lockB, ctl } = testMem(cpu.l);
  setWord(w, ctl + CTL_MARK + cpu.id, 1);
  down_write(cpu, lockB, C_TEST_RWSEM, SITE.test);
  setWord(w, ctl + CTL_MARK + cpu.id, 2);
  try {
    waitWord(w, ctl + CTL_CMD + cpu.id, (v) => v === 1, 'the main thread to release the writer');
  } finally {
    up_write(cpu, lockB, C_TEST_RWSEM);
    setWord(w, ctl + CTL_MARK + cpu.id, 3);
  }
  return true;
}

/** Take the rwsem for reading (mark 1 before, 2 inside) and drop it. */
function readerOnce(cpu: CpuBase) {
  const w = cpu.w;
  const { lockB, ctl } = testMem(cpu.l);
  setWord(w, ctl + CTL_MARK + cpu.id, 1);
  down_read(cpu, lockB, C_TEST_RWSEM, SITE.test);
  setWord(w, ctl + CTL_MARK + cpu.id, 2);
  up_read(cpu, lockB, C_TEST_RWSEM);
  return true;
}

function readTrylock(cpu: CpuBase) {
  const { lockB } = testMem(cpu.l);
  const got = down_read_trylock(cpu, lockB, C_TEST_RWSEM, SITE.test);
  if (got) up_read(cpu, lockB, C_TEST_RWSEM);
  return got;
}

/**
 * Random mix of readers and writers (1 in 4 writes). Writers bump x then y
 * and flag themselves inside; readers check x == y and no writer inside, and
 * record how many readers they saw inside at once.
 */
function rwMixed(cpu: CpuBase, args: { n: number; seed: number; nr: number }) {
  const w = cpu.w;
  const { lockB } = testMem(cpu.l);
  const rng = seeded(args.seed * 2654435761 + cpu.id * 40503 + 1);
  let writes = 0;
  let torn = 0;
  let writerSeen = 0;
  let maxInside = 0;
  startBarrier(cpu, args.nr);
  for (let i = 0; i < args.n; i++) {
    if (randInt(rng, 0, 3) === 0) {
      down_write(cpu, lockB, C_TEST_RWSEM, SITE.test);
      if (w[lockB + B_WRITER_IN] !== 0 || Atomics.load(w, lockB + B_INSIDE) !== 0) writerSeen++;
      w[lockB + B_WRITER_IN] = 1;
      w[lockB + B_X] = w[lockB + B_X]! + 1;
      w[lockB + B_Y] = w[lockB + B_Y]! + 1;
      w[lockB + B_WRITER_IN] = 0;
      up_write(cpu, lockB, C_TEST_RWSEM);
      writes++;
    } else {
      down_read(cpu, lockB, C_TEST_RWSEM, SITE.test);
      const inside = Atomics.add(w, lockB + B_INSIDE, 1) + 1;
      if (inside > maxInside) maxInside = inside;
      if (w[lockB + B_WRITER_IN] !== 0) writerSeen++;
      if (w[lockB + B_X] !== w[lockB + B_Y]) torn++;
      Atomics.sub(w, lockB + B_INSIDE, 1);
      up_read(cpu, lockB, C_TEST_RWSEM);
    }
  }
  return { writes, torn, writerSeen, maxInside };
}

const lockOf = (cpu: CpuBase, which: 'A' | 'B') => {
  const t = testMem(cpu.l);
  return which === 'A' ? { off: t.lockA, cls: C_TEST_A } : { off: t.lockB, cls: C_TEST_B };
};

/** Take `first` then `second` (nested, at the given sites), release both. `trySecond`: spin_trylock the inner one. */
function lockPair(
  cpu: CpuBase,
  args: { first: 'A' | 'B'; second: 'A' | 'B'; s1: LockSiteName; s2: LockSiteName; trySecond?: boolean },
) {
  const a = lockOf(cpu, args.first);
  const b = lockOf(cpu, args.second);
  spin_lock(cpu, a.off, a.cls, SITE[args.s1]);
  let got = true;
  if (args.trySecond) got = spin_trylock(cpu, b.off, b.cls, SITE[args.s2]);
  else spin_lock(cpu, b.off, b.cls, SITE[args.s2]);
  if (got) spin_unlock(cpu, b.off, b.cls);
  spin_unlock(cpu, a.off, a.cls);
  return got;
}

/** lock_page (sleeping) inside a spinlock: the bug lockdep must report. `pageFirst` takes them in the right order. */
function pageAndSpin(cpu: CpuBase, args: { pageFirst: boolean }) {
  const { lockA } = testMem(cpu.l);
  if (args.pageFirst) {
    lock_page(cpu, 1, SITE.lock_page);
    spin_lock(cpu, lockA, C_TEST_A, SITE.test);
    spin_unlock(cpu, lockA, C_TEST_A);
    unlock_page(cpu, 1);
  } else {
    spin_lock(cpu, lockA, C_TEST_A, SITE.test);
    lock_page(cpu, 1, SITE.lock_page);
    unlock_page(cpu, 1);
    spin_unlock(cpu, lockA, C_TEST_A);
  }
  return true;
}

/** Release a lock this CPU does not hold: lockdep must refuse (bad unlock balance). */
function badUnlock(cpu: CpuBase) {
  const { lockA } = testMem(cpu.l);
  try {
    spin_unlock(cpu, lockA, C_TEST_A);
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

/**
 * mm_free of args.mm (test/mm/mm_struct.test.ts, on a booted machine whose
 * global lines are all the kernel's): word args.mark goes to 1 on entry and
 * to 2 once the mm, its pgd included, is freed.
 */
function mmFree(cpu: CpuBase, args: { mm: number; mark: number }) {
  setWord(cpu.w, args.mark, 1);
  mm_free(cpu, mmCache(cpu), args.mm);
  setWord(cpu.w, args.mark, 2);
}

/**
 * do_mremap of [args.old, +args.len) in args.mm to twice the length, moved
 * (test/vm/mremap-flip-race.test.ts, on a booted machine): this CPU as a
 * full VM CPU (makeCpu over the attached machine `m`); word args.mark goes
 * to 1 just before. Returns the new address or -errno. args.warm: only load
 * the modules (the first call pays tsx's start-up).
 */
function mremap(cpu: CpuBase, args: { mm: number; old: number; len: number; mark: number; warm?: boolean }, m: Machine) {
  const vcpu = makeCpu(m, cpu.id);
  if (args.warm) return 0;
  setWord(cpu.w, args.mark, 1);
  return do_mremap(vcpu, args.mm, args.old, args.len, 2 * args.len, true);
}

export const SCENARIOS = {
  counter,
  orderedWaiter,
  readerPair,
  writerHold,
  readerOnce,
  readTrylock,
  rwMixed,
  lockPair,
  pageAndSpin,
  badUnlock,
  mmFree,
  mremap,
} as const;

export type ScenarioName = keyof typeof SCENARIOS;
