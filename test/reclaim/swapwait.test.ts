/*
 * Write-out holds the page lock across the (simulated) I/O, so another CPU
 * faulting the page finds it in the swap cache and sleeps on its lock until
 * the write is done (issue 6; seed 003). Deterministic handshake through
 * shared memory: CPU 0 (this thread) holds the page locked in the swap cache
 * mid-write-out; CPU 1 (a worker) faults on it; we wait until CPU 1 is parked
 * on the page's lock word, check it has not finished, finish the write and
 * unlock; CPU 1 then maps the cached page (no read from swap) and sees the data.
 */
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { check_invariants } from '../../src/sim/checker.js';
import { PG_LOCKWORD, PG_PRIVATE, pageStruct } from '../../src/machine/layout.js';
import { SWAP_SUCCESS } from '../../src/rmap/types.js';
import { trylock_page, unlock_page } from '../../src/sync/pagelock.js';
import { pte_pfn } from '../../src/mm/pte.js';
import { mmput } from '../../src/vm/fork.js';
import { add_to_swap, lru_add_drain } from '../../src/reclaim/index.js';
import { isolate_lru_page, putback_lru_pages } from '../../src/reclaim/lru.js';
import { swap_writepage } from '../../src/reclaim/page_io.js';
import { bootR, vmsum, newProc, mapAnon, put, pteOf, isSwapPte } from './helpers.js';

describe('swap write-out and the page lock', () => {
  it('a CPU faulting a page under write-out waits on its lock, then maps it from the swap cache', async () => {
    const { m, cpu } = bootR({ cpus: 2, locks: 'split', policy: '2q', swapIoUs: 0 });
    const mm = newProc(cpu);
    const a = mapAnon(cpu, mm, 1);
    put(cpu, mm, a, 0x1234567);
    lru_add_drain(cpu);
    const pfn = pte_pfn(pteOf(cpu, mm, a));
    // shrink_page up to the write: isolate, lock, swap cache, unmap
    expect(isolate_lru_page(cpu, pfn, false)).toBe(true);
    expect(trylock_page(cpu, pfn, 0)).toBe(true);
    expect(add_to_swap(cpu, pfn)).toBe(true);
    expect(cpu.rmap.try_to_unmap(cpu, pfn, m.w[pageStruct(m.layout, pfn) + PG_PRIVATE]!)).toBe(SWAP_SUCCESS);
    expect(isSwapPte(pteOf(cpu, mm, a))).toBe(true);
    const ctl = new Int32Array(new SharedArrayBuffer(16));
    const worker = new Worker(new URL('./swapwait.worker.mjs', import.meta.url), {
      workerData: { sab: m.sab, ctl: ctl.buffer, mm, addr: a },
    });
    let failure: Error | undefined;
    worker.on('error', (e) => (failure = e));
    const exited = new Promise((r) => worker.once('exit', r));
    // wait without blocking this thread's event loop (the worker's loader needs it)
    const until = async (cond: () => boolean, what: string) => {
      for (const end = Date.now() + 20_000; !cond(); await new Promise((r) => setTimeout(r, 1))) {
        if (failure) throw failure;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      }
    };
    try {
      await until(() => Atomics.load(ctl, 0) === 1, 'CPU 1 to start');
      // CPU 1 is parked on the page lock once the futex word says "locked, waiters" (2)
      const lockWord = pageStruct(m.layout, pfn) + PG_LOCKWORD;
      await until(() => Atomics.load(m.w, lockWord) === 2, 'CPU 1 to sleep on the page lock');
      expect(Atomics.load(ctl, 1)).toBe(0); // still waiting for our "I/O"
      expect(swap_writepage(cpu, pfn)).toBe(true);
      unlock_page(cpu, pfn);
      await until(() => Atomics.load(ctl, 1) === 1, 'CPU 1 to finish its fault');
      expect(ctl[3]).toBe(0);
      expect(ctl[2]).toBe(0x1234567);
      expect(vmsum(m, 'pswpin')).toBe(0); // found in the swap cache, not read
      expect(vmsum(m, 'pswpout')).toBe(1);
      expect(isSwapPte(pteOf(cpu, mm, a))).toBe(false);
    } finally {
      if (Atomics.load(ctl, 1) === 0) await worker.terminate();
      await exited;
    }
    putback_lru_pages(cpu, Int32Array.of(pfn), 1);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });
});
