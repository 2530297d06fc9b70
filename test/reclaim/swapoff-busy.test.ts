/*
 * swapoff against an mm whose mmap_sem stays busy (reclaim/swapoff.ts,
 * "Locking"). CPU 1 (a worker) holds one process's mmap_sem for writing
 * from before swapoff starts and lets go only once swapoff sleeps on it —
 * or once swapoff has returned. try_to_unuse's read trylock fails on every
 * pass while it is held; swapoff must then unlock the page, sleep in
 * down_read and search the mm (2.6 unuse_mm). Skipping the busy mm, as it
 * once did, failed all MAX_PASSES passes: EBUSY, the slots still in use
 * (the CI flake of swapoff-load.test.ts). And the process exits while
 * swapoff holds its pin: its task's mmput is not the last, swapoff's is,
 * and swapoff tears the mm down.
 */
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { check_invariants } from '../../src/sim/checker.js';
import { mmput } from '../../src/vm/fork.js';
import { shrink_all_memory, sys_swapoff, swap_info } from '../../src/reclaim/index.js';
import { MM_GEN, MM_PGD, NIL, mmBase } from '../../src/machine/layout.js';
import { bootR, vmsum, newProc, mapAnon, put, get } from './helpers.js';

const PAGES = 40;

/** Two processes of PAGES written pages each, swapped out; swapoff with CPU 1 holding the first one's mmap_sem for writing. */
async function swapoffAgainstWriter(locks: string, exit: boolean) {
  const { m, cpu } = bootR({ mem: '2M', swap: '8M', cpus: 2, locks, policy: '2q', swapIoUs: 0 });
  const procs = [newProc(cpu), newProc(cpu)];
  const addrs = procs.map((mm) => mapAnon(cpu, mm, PAGES));
  procs.forEach((mm, p) => {
    for (let i = 0; i < PAGES; i++) expect(put(cpu, mm, addrs[p]! + i * 4096, (p << 16) | i)).toBe(0);
  });
  shrink_all_memory(cpu, 400);
  expect(swap_info(m).inuse).toBeGreaterThan(PAGES);
  const busy = procs[0]!;
  const gen = m.w[mmBase(m.layout, busy) + MM_GEN];
  const ctl = new Int32Array(new SharedArrayBuffer(16));
  const worker = new Worker(new URL('./swapoff-busy.worker.mjs', import.meta.url), { workerData: { sab: m.sab, ctl: ctl.buffer, mm: busy, exit } });
  let failure: Error | undefined;
  worker.on('error', (e) => (failure = e));
  const exited = new Promise((r) => worker.once('exit', r));
  for (const end = Date.now() + 30_000; Atomics.load(ctl, 0) !== 1; await new Promise((r) => setTimeout(r, 1))) {
    if (failure) throw failure;
    if (Date.now() > end) throw new Error('timed out waiting for CPU 1 to take mmap_sem');
  }
  const rc = sys_swapoff(cpu); // CPU 1 holds the busy process's mmap_sem for writing until we sleep on it
  Atomics.store(ctl, 1, 1);
  Atomics.notify(ctl, 1);
  await exited;
  if (failure) throw failure;
  expect(Atomics.load(ctl, 0)).toBe(2);
  return { m, cpu, procs, addrs, busy, gen, rc, slept: ctl[2], usersAfterExit: ctl[3] };
}

describe('swapoff when a writer holds an mm\'s mmap_sem across every trylock', () => {
  for (const locks of ['2.4', 'split']) {
    it(`${locks}: swapoff sleeps on the busy mm's mmap_sem and succeeds (was EBUSY after MAX_PASSES)`, async () => {
      const { m, cpu, procs, addrs, rc, slept } = await swapoffAgainstWriter(locks, false);
      expect(rc).toBe(0);
      expect(slept).toBe(1);
      expect(swap_info(m).inuse).toBe(0);
      for (let s = 0; s < m.layout.nrSwap; s++) expect(m.w[m.layout.swapMap + s]).toBe(0);
      expect(check_invariants(cpu).violations).toEqual([]);
      const pin = vmsum(m, 'pswpin');
      procs.forEach((mm, p) => {
        for (let i = 0; i < PAGES; i++) expect(get(cpu, mm, addrs[p]! + i * 4096)).toBe((p << 16) | i);
      });
      expect(vmsum(m, 'pswpin')).toBe(pin); // every page was resident
      for (const mm of procs) mmput(cpu, mm);
      expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
    }, 60_000);

    it(`${locks}: the process exits while swapoff pins its mm; swapoff's put is the last and tears it down`, async () => {
      const { m, cpu, procs, addrs, busy, gen, rc, slept, usersAfterExit } = await swapoffAgainstWriter(locks, true);
      expect(rc).toBe(0);
      expect(slept).toBe(1);
      expect(usersAfterExit).toBe(1); // the task's mmput left swapoff's pin: the mm lived on
      const b = mmBase(m.layout, busy);
      expect(m.w[b + MM_PGD] === NIL || m.w[b + MM_GEN] !== gen).toBe(true); // torn down by swapoff's mmput
      expect(vmsum(m, 'exit')).toBe(1); // the task's exit only: swapoff's put is no task exiting
      expect(swap_info(m).inuse).toBe(0);
      expect(check_invariants(cpu).violations).toEqual([]);
      for (let i = 0; i < PAGES; i++) expect(get(cpu, procs[1]!, addrs[1]! + i * 4096)).toBe((1 << 16) | i);
      mmput(cpu, procs[1]!);
      expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
    }, 60_000);
  }
});
