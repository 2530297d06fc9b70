/*
 * Device faults and the OOM killer (issue 6):
 *   - a swap write error leaves the page resident and dirty (counted); the
 *     next reclaim writes it out after all;
 *   - a swap read error SIGBUSes every process holding that slot — the
 *     parent and its forks — and nothing else (seed 004);
 *   - with nothing reclaimable the OOM killer kills a process and the
 *     machine goes on.
 */
import { describe, it, expect } from 'vitest';
import { check_invariants } from '../../src/sim/checker.js';
import { do_fork, mmput } from '../../src/vm/fork.js';
import { VM_FAULT_SIGBUS, VM_FAULT_OOM } from '../../src/vm/fault.js';
import { PG_FLAGS, PG_PRIVATE, pageStruct } from '../../src/machine/layout.js';
import { PG_swapcache, PG_dirty, PG_error } from '../../src/machine/page.js';
import { shrink_all_memory, try_to_free_pages, swap_inject_error, mm_killed, SIGBUS, SIGKILL, swap_info } from '../../src/reclaim/index.js';
import { bootR, vmsum, newProc, mapAnon, put, get, tryGet, pteOf, isSwapPte, swapOffset } from './helpers.js';

describe('swap device faults', () => {
  it('a write error leaves the page resident and dirty; it is written later', () => {
    const { m, cpu } = bootR({ policy: '2q' });
    const mm = newProc(cpu);
    const N = 40;
    const a = mapAnon(cpu, mm, N);
    for (let i = 0; i < N; i++) put(cpu, mm, a + i * 4096, 11 + i);
    swap_inject_error(m, 1, 'write'); // the first slot handed out (a fresh area starts its cluster at 1)
    expect(try_to_free_pages(cpu)).toBeGreaterThan(0); // one direct-reclaim round
    expect(vmsum(m, 'swap_write_error')).toBe(1);
    // the page of slot 1 is still in memory, in the swap cache, dirty, flagged
    let found = -1;
    for (let pfn = 1; pfn < m.layout.nrFrames; pfn++) {
      const p = pageStruct(m.layout, pfn);
      if ((m.w[p + PG_FLAGS]! & PG_swapcache) !== 0 && swapOffset(m.w[p + PG_PRIVATE]!) === 1) found = pfn;
    }
    expect(found).toBeGreaterThan(0);
    const f = m.w[pageStruct(m.layout, found) + PG_FLAGS]!;
    expect(f & PG_dirty).toBe(PG_dirty);
    expect(f & PG_error).toBe(PG_error);
    expect(check_invariants(cpu).violations).toEqual([]);
    for (let i = 0; i < N; i++) expect(get(cpu, mm, a + i * 4096)).toBe(11 + i);
    // no more injected errors: everything can go out now
    const out = vmsum(m, 'pswpout');
    shrink_all_memory(cpu, 1 << 20);
    shrink_all_memory(cpu, 1 << 20);
    expect(vmsum(m, 'pswpout')).toBeGreaterThan(out);
    for (let i = 0; i < N; i++) expect(get(cpu, mm, a + i * 4096)).toBe(11 + i);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
  });

  it('a read error SIGBUSes every process mapping the page and nothing else', () => {
    const { m, cpu } = bootR({ policy: 'clock' });
    const parent = newProc(cpu);
    const N = 32;
    const a = mapAnon(cpu, parent, N);
    for (let i = 0; i < N; i++) put(cpu, parent, a + i * 4096, 500 + i);
    const c1 = do_fork(cpu, parent);
    const c2 = do_fork(cpu, parent);
    const other = newProc(cpu); // unrelated: its own pages, swapped too
    const b = mapAnon(cpu, other, N);
    for (let i = 0; i < N; i++) put(cpu, other, b + i * 4096, 800 + i);
    shrink_all_memory(cpu, 1 << 20);
    shrink_all_memory(cpu, 1 << 20);
    const victim = [...Array(N).keys()].find((i) => isSwapPte(pteOf(cpu, parent, a + i * 4096)))!;
    expect(victim).toBeDefined();
    const slot = swapOffset(pteOf(cpu, parent, a + victim * 4096));
    expect(pteOf(cpu, c2, a + victim * 4096)).toBe(pteOf(cpu, parent, a + victim * 4096)); // shared slot
    swap_inject_error(m, slot, 'read');
    expect(tryGet(cpu, c1, a + victim * 4096)).toBe(VM_FAULT_SIGBUS);
    expect(vmsum(m, 'swap_read_error')).toBe(1);
    for (const mm of [parent, c1, c2]) expect(mm_killed(m.w, m.layout, mm)).toBe(SIGBUS);
    expect(mm_killed(m.w, m.layout, other)).toBe(0);
    expect(vmsum(m, 'sigbus')).toBe(3);
    // the unrelated process is untouched, every page intact
    for (let i = 0; i < N; i++) expect(get(cpu, other, b + i * 4096)).toBe(800 + i);
    expect(check_invariants(cpu).violations).toEqual([]);
    // the killed family exits; its slots are released
    for (const mm of [parent, c1, c2]) mmput(cpu, mm);
    mmput(cpu, other);
    expect(swap_info(m).inuse).toBe(0);
    expect(check_invariants(cpu).violations).toEqual([]);
  });
});

describe('out of memory', () => {
  it('with nothing reclaimable the faulting task is killed (oom_kill) and the machine goes on', () => {
    const { m, cpu } = bootR({ policy: '2q', mem: '1M', swap: 0 });
    const hog = newProc(cpu);
    const N = 400; // more than the 1 MiB machine
    const a = mapAnon(cpu, hog, N);
    let rc = 0;
    let i = 0;
    for (; i < N && rc === 0; i++) rc = put(cpu, hog, a + i * 4096, i);
    expect(rc).toBe(VM_FAULT_OOM);
    expect(i).toBeGreaterThan(150);
    expect(mm_killed(m.w, m.layout, hog)).toBe(SIGKILL);
    expect(vmsum(m, 'oom_kill')).toBe(1);
    expect(vmsum(m, 'allocstall_normal')).toBeGreaterThan(0);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, hog); // the task exits: its memory comes back
    const next = newProc(cpu);
    const b = mapAnon(cpu, next, 100);
    for (let k = 0; k < 100; k++) expect(put(cpu, next, b + k * 4096, k)).toBe(0);
    for (let k = 0; k < 100; k++) expect(get(cpu, next, b + k * 4096)).toBe(k);
    mmput(cpu, next);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });
});
