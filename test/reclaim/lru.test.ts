/*
 * The LRU lists (issue 6): pagevec batching under `split`, direct insertion
 * under `2.4`, the mark_page_accessed state machine, release of listed pages,
 * and the checker's LRU membership check catching a corrupted list.
 */
import { describe, it, expect } from 'vitest';
import { check_invariants } from '../../src/sim/checker.js';
import { mmput } from '../../src/vm/fork.js';
import { PG_FLAGS, PG_COUNT, PC_PAGEVEC, PAGEVEC_SIZE, G_LRU, L_NR_ACTIVE, globalLine, pageStruct } from '../../src/machine/layout.js';
import { PG_lru, PG_active, PG_referenced } from '../../src/machine/page.js';
import { lru_sizes, lru_add_drain, mark_page_accessed, put_page } from '../../src/reclaim/index.js';
import { pte_pfn } from '../../src/mm/pte.js';
import { do_munmap } from '../../src/vm/mmap.js';
import { lsIndex, LS_ACQ } from '../../src/sync/lockstat.js';
import { C_LRU_LOCK } from '../../src/sync/classes.js';
import { bootR, newProc, mapAnon, put, pteOf } from './helpers.js';

const flags = (m: ReturnType<typeof bootR>['m'], pfn: number) => m.w[pageStruct(m.layout, pfn) + PG_FLAGS]!;

describe('LRU lists', () => {
  it('split: new pages wait in the per-CPU pagevec (holding a reference) and join the list PAGEVEC_SIZE at a time', () => {
    const { m, cpu } = bootR({ locks: 'split', policy: '2q' });
    const mm = newProc(cpu);
    const a = mapAnon(cpu, mm, 40);
    for (let i = 0; i < PAGEVEC_SIZE - 1; i++) put(cpu, mm, a + i * 4096, i);
    expect(lru_sizes(m).active).toBe(0);
    expect(m.w[cpu.pc + PC_PAGEVEC]).toBe(PAGEVEC_SIZE - 1);
    const pfn0 = pte_pfn(pteOf(cpu, mm, a));
    expect(m.w[pageStruct(m.layout, pfn0) + PG_COUNT]).toBe(2); // the pte + the pagevec
    expect(flags(m, pfn0) & PG_lru).toBe(0);
    put(cpu, mm, a + (PAGEVEC_SIZE - 1) * 4096, 99); // the 15th: the pagevec is added in one go
    expect(lru_sizes(m).active).toBe(PAGEVEC_SIZE);
    expect(m.w[cpu.pc + PC_PAGEVEC]).toBe(0);
    expect(m.w[pageStruct(m.layout, pfn0) + PG_COUNT]).toBe(1);
    expect(flags(m, pfn0) & (PG_lru | PG_active)).toBe(PG_lru | PG_active); // anonymous pages start active (2q)
    put(cpu, mm, a + PAGEVEC_SIZE * 4096, 1);
    lru_add_drain(cpu);
    expect(lru_sizes(m).active).toBe(PAGEVEC_SIZE + 1);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm); // every listed page comes off its list before the allocator gets it
    expect(lru_sizes(m)).toEqual({ active: 0, inactive: 0 });
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });

  it('2.4: every new page goes on the list at once under pagemap_lru_lock (no pagevecs)', () => {
    const { m, cpu } = bootR({ locks: '2.4', policy: 'swapout' });
    const mm = newProc(cpu);
    const a = mapAnon(cpu, mm, 5);
    for (let i = 0; i < 5; i++) put(cpu, mm, a + i * 4096, i);
    expect(lru_sizes(m)).toEqual({ active: 0, inactive: 5 }); // 2.4.17: new pages start inactive
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });

  it('mark_page_accessed: inactive,unreferenced → inactive,referenced → active,unreferenced → active,referenced', () => {
    const { m, cpu } = bootR({ locks: '2.4', policy: 'clock' });
    const mm = newProc(cpu);
    const a = mapAnon(cpu, mm, 1);
    put(cpu, mm, a, 1);
    const pfn = pte_pfn(pteOf(cpu, mm, a));
    const state = () => flags(m, pfn) & (PG_active | PG_referenced);
    expect(state()).toBe(0);
    mark_page_accessed(cpu, pfn);
    expect(state()).toBe(PG_referenced);
    mark_page_accessed(cpu, pfn);
    expect(state()).toBe(PG_active);
    expect(lru_sizes(m)).toEqual({ active: 1, inactive: 0 });
    mark_page_accessed(cpu, pfn);
    expect(state()).toBe(PG_active | PG_referenced);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
  });

  it('put_page of the last reference unlinks the page first (debug bad_page check stays quiet)', () => {
    const { m, cpu } = bootR({ locks: '2.4', debug: true });
    const mm = newProc(cpu);
    const a = mapAnon(cpu, mm, 3);
    for (let i = 0; i < 3; i++) put(cpu, mm, a + i * 4096, i);
    const pfn = pte_pfn(pteOf(cpu, mm, a + 4096));
    m.w[pageStruct(m.layout, pfn) + PG_COUNT]!++; // an extra pin, as a fault in flight would hold
    mmput(cpu, mm);
    expect(flags(m, pfn) & PG_lru).toBe(PG_lru); // still listed: our pin keeps it
    expect(lru_sizes(m).active + lru_sizes(m).inactive).toBe(1);
    put_page(cpu, pfn);
    expect(lru_sizes(m)).toEqual({ active: 0, inactive: 0 });
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });

  it('the LRU check catches a page that lost PG_lru while on a list, and a miscounted list', () => {
    const { m, cpu } = bootR({ locks: '2.4' });
    const mm = newProc(cpu);
    const a = mapAnon(cpu, mm, 4);
    for (let i = 0; i < 4; i++) put(cpu, mm, a + i * 4096, i);
    expect(check_invariants(cpu).violations).toEqual([]);
    const pfn = pte_pfn(pteOf(cpu, mm, a));
    Atomics.and(m.w, pageStruct(m.layout, pfn) + PG_FLAGS, ~PG_lru);
    const v = check_invariants(cpu).violations.join('\n');
    expect(v).toMatch(new RegExp(`lru: page ${pfn} on the \\w+ list lacks PG_lru`));
    Atomics.or(m.w, pageStruct(m.layout, pfn) + PG_FLAGS, PG_lru);
    expect(check_invariants(cpu).violations).toEqual([]);
    m.w[globalLine(m.layout, G_LRU) + L_NR_ACTIVE]!++;
    expect(check_invariants(cpu).violations.join('\n')).toMatch(/lru: nr_active \d+ but \d+ pages listed/);
  });
});

describe('release_pages at zap (2.6 free_pages_and_swap_cache)', () => {
  it('munmap frees listed pages with one lru-lock hold per pagevec, not one per page', () => {
    const { m, cpu } = bootR({ mem: '4M', locks: 'split', policy: '2q' });
    const mm = newProc(cpu);
    const n = 150;
    const a = mapAnon(cpu, mm, n);
    for (let i = 0; i < n; i++) put(cpu, mm, a + i * 4096, i);
    lru_add_drain(cpu);
    expect(lru_sizes(m).active).toBe(n);
    const acq = () => cpu.f64[lsIndex(cpu, C_LRU_LOCK, 0) + LS_ACQ]!;
    const before = acq();
    expect(do_munmap(cpu, mm, a, n * 4096)).toBe(0);
    const holds = acq() - before;
    expect(holds).toBeGreaterThan(0);
    expect(holds).toBeLessThanOrEqual(Math.ceil(n / PAGEVEC_SIZE));
    expect(lru_sizes(m)).toEqual({ active: 0, inactive: 0 });
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });
});
