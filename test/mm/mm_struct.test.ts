/*
 * mm_struct.test.ts — the mm table (src/mm/mm_struct.ts): mm_alloc links an
 * mm at the head of the mmlist, mm_free unlinks it and, under mmlist_lock,
 * moves swap_out's cursor (K_SWAP_MM) off it, as 2.4's mmput does with
 * swap_mm. Without that move the cursor named a free slot; the next mm_alloc
 * of that slot zeroed an mmap_sem that swap_out had just trylocked, and its
 * up_read left the new mm's count at -1 (CI, reclaim/stress swapout ×
 * objrmap: a CPU waited for mmap_sem in do_mmap for ever, nobody holding it).
 *
 * The slot's locks are type-stable: a walker holding the page_table_lock of
 * a slot that is freed and handed out again keeps it, and the new mm's first
 * locker finds it held, then free (the migrate stress's hang: mm_alloc
 * zeroed a lock reclaim/flip.ts held, and its unlock left a ticket lock
 * held by nobody for ever).
 *
 * mm_free waits for the slot's page_table_lock before it frees the pgd
 * (spin_unlock_wait): a walker that trylocked it and read MM_PGD just before
 * mm_free set it to NIL reads that pgd's entries, not a reused frame's (the
 * migrate stress: a flip read a pgd entry of a freed and reused pgd, took
 * the pte lock of a table that was being freed and reallocated, and its
 * unlock found the lock zeroed by pgtable_page_ctor; a zap meanwhile put a
 * page the flip had frozen).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { G_KSWAPD, K_SWAP_MM, MM_PAGE_TABLE_LOCK, MM_PGD, NIL, PAGE_WORDS, PG_COUNT, PG_FLAGS, globalLine, mmBase, pageStruct } from '../../src/machine/layout.js';
import { PG_pgtable } from '../../src/machine/page.js';
import { makeCpuBase } from '../../src/machine/cpu.js';
import { mm_alloc, mm_free, mmlist_first, mmCache } from '../../src/mm/mm_struct.js';
import { startCpuWorker, until, type CpuWorker } from '../sync/harness.js';
import { __alloc_pages } from '../../src/mm/page_alloc.js';
import { mm_ptl_lock, mm_ptl_trylock, mm_ptl_unlock } from '../../src/sync/scheme.js';
import { spin_is_locked } from '../../src/sync/spinlock.js';
import { SITE } from '../../src/sync/classes.js';
import { boot } from '../helpers.js';

describe('mm_alloc / mm_free and the mmlist', () => {
  it('links at the head; mm_free moves swap_out\'s cursor to the next mm, or to the head at the end', () => {
    const { cpu } = boot({ locks: 'split' });
    const cursor = globalLine(cpu.l, G_KSWAPD) + K_SWAP_MM;
    const a = mm_alloc(cpu, cpu.mmCache);
    const b = mm_alloc(cpu, cpu.mmCache);
    const c = mm_alloc(cpu, cpu.mmCache);
    expect(mmlist_first(cpu)).toBe(c); // c → b → a
    cpu.w[cursor] = b + 1;
    mm_free(cpu, cpu.mmCache, c); // not the cursor: it stays
    expect(cpu.w[cursor]).toBe(b + 1);
    mm_free(cpu, cpu.mmCache, b);
    expect(cpu.w[cursor]).toBe(a + 1);
    mm_free(cpu, cpu.mmCache, a);
    expect(cpu.w[cursor]).toBe(0);
    expect(mmlist_first(cpu)).toBe(-1);
  });

  for (const debug of [true, false]) {
    it(`a page_table_lock taken in a freed slot stays held across the slot's reuse, then frees (ticket, debug ${debug})`, () => {
      const { m, cpu } = boot({ locks: '2.4', lockImpl: 'ticket', debug, cpus: 2 });
      const walker = makeCpuBase(m, 1);
      const mm = mm_alloc(cpu, cpu.mmCache);
      const ptl = mmBase(cpu.l, mm) + MM_PAGE_TABLE_LOCK;
      mm_free(cpu, cpu.mmCache, mm); // the owner exits after the walker found it under an rmap lock
      expect(mm_ptl_trylock(walker, mm, SITE.test)).toBe(true); // which trylocks it after dropping that lock
      expect(mm_alloc(cpu, cpu.mmCache)).toBe(mm); // and the slot is handed out again
      expect(spin_is_locked(cpu, ptl)).toBe(true); // still the walker's
      mm_ptl_unlock(walker, mm); // it finds MM_PGD not leading to its pte and lets go
      expect(spin_is_locked(cpu, ptl)).toBe(false);
      mm_ptl_lock(cpu, mm, SITE.test); // the new mm's first locker: zeroed under the walker, this spun for ever
      mm_ptl_unlock(cpu, mm);
      expect(spin_is_locked(cpu, ptl)).toBe(false);
    });
  }

  describe('mm_free and a walker holding page_table_lock (two CPUs)', () => {
    let worker: CpuWorker;
    afterAll(async () => {
      await worker?.terminate();
    });
    it('frees the pgd only once the walker lets go of the lock', async () => {
      worker = startCpuWorker();
      const { m, cpu: main } = boot({ locks: 'split', lockImpl: 'ticket', cpus: 2 });
      const w = main.w;
      const scratch = __alloc_pages(main, 0, SITE.test); // the handshake word: a frame of the test's own
      const mark = main.l.frames + scratch * PAGE_WORDS;
      const mm = mm_alloc(main, mmCache(main));
      const pgd = w[mmBase(main.l, mm) + MM_PGD]!;
      const pp = pageStruct(main.l, pgd);
      expect(Atomics.load(w, pp + PG_FLAGS) & PG_pgtable).toBe(PG_pgtable);
      expect(mm_ptl_trylock(main, mm, SITE.test)).toBe(true); // a flip's lock_one, about to read the pgd
      const job = worker.run(m, 1, 'mmFree', { mm, mark });
      await until(() => Atomics.load(w, mark) === 1, 'mm_free to start');
      await until(() => w[mmBase(main.l, mm) + MM_PGD] === NIL, 'mm_free to unlink the mm');
      await new Promise((r) => setTimeout(r, 50));
      // without the wait, the pgd went back to the allocator at once
      expect(Atomics.load(w, mark)).toBe(1);
      expect(Atomics.load(w, pp + PG_FLAGS) & PG_pgtable).toBe(PG_pgtable);
      expect(Atomics.load(w, pp + PG_COUNT)).toBeGreaterThan(0);
      mm_ptl_unlock(main, mm);
      await job;
      expect(Atomics.load(w, mark)).toBe(2);
      expect(Atomics.load(w, pp + PG_FLAGS) & PG_pgtable).toBe(0);
    });
  });
});
