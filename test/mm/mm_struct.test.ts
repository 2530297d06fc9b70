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
 */
import { describe, it, expect } from 'vitest';
import { G_KSWAPD, K_SWAP_MM, MM_PAGE_TABLE_LOCK, globalLine, mmBase } from '../../src/machine/layout.js';
import { makeCpuBase } from '../../src/machine/cpu.js';
import { mm_alloc, mm_free, mmlist_first } from '../../src/mm/mm_struct.js';
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
    it(`a page_table_lock held across the slot's free and reuse stays held, then frees (ticket, debug ${debug})`, () => {
      const { m, cpu } = boot({ locks: '2.4', lockImpl: 'ticket', debug, cpus: 2 });
      const walker = makeCpuBase(m, 1);
      const mm = mm_alloc(cpu, cpu.mmCache);
      const ptl = mmBase(cpu.l, mm) + MM_PAGE_TABLE_LOCK;
      expect(mm_ptl_trylock(walker, mm, SITE.test)).toBe(true); // found under an rmap lock, locked after it
      mm_free(cpu, cpu.mmCache, mm); // the owner exits meanwhile
      expect(mm_alloc(cpu, cpu.mmCache)).toBe(mm); // and the slot is handed out again
      expect(spin_is_locked(cpu, ptl)).toBe(true); // still the walker's
      mm_ptl_unlock(walker, mm); // it finds MM_PGD not leading to its pte and lets go
      expect(spin_is_locked(cpu, ptl)).toBe(false);
      mm_ptl_lock(cpu, mm, SITE.test); // the new mm's first locker: zeroed under the walker, this spun for ever
      mm_ptl_unlock(cpu, mm);
      expect(spin_is_locked(cpu, ptl)).toBe(false);
    });
  }
});
