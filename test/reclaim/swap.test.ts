/*
 * Swap through the swap cache (issue 6, seed 003), deterministically on the
 * main thread: swap-out / swap-in with the content oracle, shared pages
 * swapped once for all their mappers, COW of swapped pages, fork of swap
 * ptes, clustered slots and read-ahead, free_swap_and_cache, swapoff, and
 * the invariant checker's swap_map check catching a skipped swap_duplicate.
 * Every scenario runs under each policy and ends with a clean checker.
 */
import { describe, it, expect } from 'vitest';
import { check_invariants } from '../../src/sim/checker.js';
import { do_fork, mmput } from '../../src/vm/fork.js';
import { do_munmap } from '../../src/vm/mmap.js';
import { shrink_all_memory, sys_swapoff, sys_swapon, swap_info, swap_count, page_cluster } from '../../src/reclaim/index.js';
import { bootR, vmsum, newProc, mapAnon, put, get, pteOf, isSwapPte, swapOffset, POLICY_NAMES, rmapNames } from './helpers.js';

const clean = (cpu: Parameters<typeof check_invariants>[0]) => expect(check_invariants(cpu).violations).toEqual([]);

/** Swap out as much as the policy can (twice: a first pass may only age the pages). */
function reclaimAll(cpu: Parameters<typeof shrink_all_memory>[0]): number {
  return shrink_all_memory(cpu, 1 << 20) + shrink_all_memory(cpu, 1 << 20);
}

describe.each(POLICY_NAMES)('swap under the %s policy', (policy) => {
  it('swap-out and swap-in keep every page (content oracle), through major faults', () => {
    const { m, cpu } = bootR({ policy });
    const mm = newProc(cpu);
    const N = 300; // 1.2 MiB of a 2 MiB machine
    const a = mapAnon(cpu, mm, N);
    for (let i = 0; i < N; i++) expect(put(cpu, mm, a + i * 4096, 1000 + i)).toBe(0);
    const freed = reclaimAll(cpu);
    let swapped = 0;
    for (let i = 0; i < N; i++) if (isSwapPte(pteOf(cpu, mm, a + i * 4096))) swapped++;
    expect(freed).toBeGreaterThan(N / 2);
    expect(swapped).toBeGreaterThan(N / 2);
    expect(vmsum(m, 'pswpout')).toBeGreaterThanOrEqual(swapped);
    clean(cpu);
    for (let i = 0; i < N; i++) expect(get(cpu, mm, a + i * 4096)).toBe(1000 + i);
    expect(vmsum(m, 'pswpin')).toBeGreaterThan(0);
    expect(vmsum(m, 'pgmajfault')).toBeGreaterThan(0);
    clean(cpu);
    mmput(cpu, mm);
    expect(swap_info(m).inuse).toBe(0); // free_swap_and_cache released every slot
    clean(cpu);
  });

  it('a page shared by 4 processes is written once; all 4 ptes name one slot; read back once', () => {
    const { m, cpu } = bootR({ policy });
    const parent = newProc(cpu);
    const N = 64;
    const a = mapAnon(cpu, parent, N);
    for (let i = 0; i < N; i++) put(cpu, parent, a + i * 4096, 7000 + i);
    const mms = [parent, do_fork(cpu, parent), do_fork(cpu, parent), do_fork(cpu, parent)];
    reclaimAll(cpu);
    let out = 0;
    for (let i = 0; i < N; i++) {
      const ptes = mms.map((mm) => pteOf(cpu, mm, a + i * 4096));
      if (!ptes.every(isSwapPte)) continue;
      out++;
      expect(new Set(ptes).size).toBe(1); // one slot for all mappers
      expect(swap_count(cpu, ptes[0]!)).toBe(4); // 4 ptes, page no longer cached
    }
    expect(out).toBeGreaterThan(N / 2);
    expect(vmsum(m, 'pswpout')).toBe(out); // written once each, not once per mapper
    clean(cpu);
    const inBefore = vmsum(m, 'pswpin');
    for (const mm of mms) for (let i = 0; i < N; i++) expect(get(cpu, mm, a + i * 4096)).toBe(7000 + i);
    expect(vmsum(m, 'pswpin') - inBefore).toBe(out); // the first reader reads it, the others find it cached
    clean(cpu);
    for (const mm of mms) mmput(cpu, mm);
    expect(swap_info(m).inuse).toBe(0);
    clean(cpu);
  });

  it('copy-on-write of swapped pages: a writer gets its own copy, the others keep the original', () => {
    const { m, cpu } = bootR({ policy });
    const parent = newProc(cpu);
    const N = 48;
    const a = mapAnon(cpu, parent, N);
    for (let i = 0; i < N; i++) put(cpu, parent, a + i * 4096, 100 + i);
    const c1 = do_fork(cpu, parent);
    const c2 = do_fork(cpu, parent);
    reclaimAll(cpu);
    expect(vmsum(m, 'pswpout')).toBeGreaterThan(0);
    for (let i = 0; i < N; i += 2) expect(put(cpu, c1, a + i * 4096, 900 + i)).toBe(0); // COW through do_swap_page / do_wp_page
    clean(cpu);
    for (let i = 0; i < N; i++) {
      expect(get(cpu, c1, a + i * 4096)).toBe(i % 2 === 0 ? 900 + i : 100 + i);
      expect(get(cpu, parent, a + i * 4096)).toBe(100 + i);
      expect(get(cpu, c2, a + i * 4096)).toBe(100 + i);
    }
    // swap everything out again, COW copies included, and check once more
    reclaimAll(cpu);
    for (let i = 0; i < N; i++) {
      expect(get(cpu, c2, a + i * 4096)).toBe(100 + i);
      expect(get(cpu, c1, a + i * 4096)).toBe(i % 2 === 0 ? 900 + i : 100 + i);
    }
    clean(cpu);
    for (const mm of [parent, c1, c2]) mmput(cpu, mm);
    expect(swap_info(m).inuse).toBe(0);
    clean(cpu);
  });

  it('fork copies swap ptes with swap_duplicate; exit and munmap release them (free_swap_and_cache)', () => {
    const { m, cpu } = bootR({ policy });
    const parent = newProc(cpu);
    const N = 80;
    const a = mapAnon(cpu, parent, N);
    for (let i = 0; i < N; i++) put(cpu, parent, a + i * 4096, 300 + i);
    reclaimAll(cpu);
    const swappedAt = [...Array(N).keys()].filter((i) => isSwapPte(pteOf(cpu, parent, a + i * 4096)));
    expect(swappedAt.length).toBeGreaterThan(N / 2);
    const before = swappedAt.map((i) => swap_count(cpu, pteOf(cpu, parent, a + i * 4096)));
    const child = do_fork(cpu, parent);
    for (const [k, i] of swappedAt.entries()) {
      expect(pteOf(cpu, child, a + i * 4096)).toBe(pteOf(cpu, parent, a + i * 4096));
      expect(swap_count(cpu, pteOf(cpu, parent, a + i * 4096))).toBe(before[k]! + 1);
    }
    clean(cpu);
    for (let i = 0; i < N; i++) expect(get(cpu, child, a + i * 4096)).toBe(300 + i);
    mmput(cpu, child);
    clean(cpu);
    reclaimAll(cpu);
    const inuse = swap_info(m).inuse;
    expect(inuse).toBeGreaterThan(0);
    expect(do_munmap(cpu, parent, a, N * 4096)).toBe(0);
    expect(swap_info(m).inuse).toBe(0);
    clean(cpu);
    mmput(cpu, parent);
  });

  it('swapoff brings every page back into memory and empties the swap area', () => {
    const { m, cpu } = bootR({ policy, mem: '3M' });
    const p1 = newProc(cpu);
    const N = 200;
    const a = mapAnon(cpu, p1, N);
    for (let i = 0; i < N; i++) put(cpu, p1, a + i * 4096, 40000 + i);
    const p2 = do_fork(cpu, p1); // shares every page
    for (let i = 0; i < N; i += 3) put(cpu, p2, a + i * 4096, 50000 + i); // and owns some
    reclaimAll(cpu);
    expect(swap_info(m).inuse).toBeGreaterThan(N / 4);
    clean(cpu);
    expect(sys_swapoff(cpu)).toBe(0);
    expect(swap_info(m).inuse).toBe(0);
    for (let i = 0; i < N; i++) {
      expect(isSwapPte(pteOf(cpu, p1, a + i * 4096))).toBe(false);
      expect(isSwapPte(pteOf(cpu, p2, a + i * 4096))).toBe(false);
    }
    expect(vmsum(m, 'swapoff_pages')).toBeGreaterThan(0);
    clean(cpu);
    for (let i = 0; i < N; i++) {
      expect(get(cpu, p1, a + i * 4096)).toBe(40000 + i);
      expect(get(cpu, p2, a + i * 4096)).toBe(i % 3 === 0 ? 50000 + i : 40000 + i);
    }
    // while off, reclaim cannot swap; after swapon it can again
    const out = vmsum(m, 'pswpout');
    reclaimAll(cpu);
    expect(vmsum(m, 'pswpout')).toBe(out);
    sys_swapon(cpu);
    reclaimAll(cpu);
    expect(vmsum(m, 'pswpout')).toBeGreaterThan(out);
    clean(cpu);
    mmput(cpu, p1);
    mmput(cpu, p2);
    expect(swap_info(m).inuse).toBe(0);
    clean(cpu);
  });
});

describe.each(rmapNames())('the page-centric policies through the %s rmap', (rmap) => {
  it.each(['clock', '2q'])('%s: a page shared by 5 processes is unmapped from all of them at once and written once', (policy) => {
    const { m, cpu } = bootR({ policy, rmap });
    const parent = newProc(cpu);
    const N = 40;
    const a = mapAnon(cpu, parent, N);
    for (let i = 0; i < N; i++) put(cpu, parent, a + i * 4096, 60 + i);
    const mms = [parent];
    for (let k = 0; k < 4; k++) mms.push(do_fork(cpu, parent));
    reclaimAll(cpu);
    let out = 0;
    for (let i = 0; i < N; i++) {
      const ptes = mms.map((mm) => pteOf(cpu, mm, a + i * 4096));
      const swapped = ptes.filter(isSwapPte).length;
      expect(swapped === 0 || swapped === 5).toBe(true); // all mappers at once, or none
      if (swapped) {
        out++;
        expect(new Set(ptes).size).toBe(1);
      }
    }
    expect(out).toBeGreaterThan(N / 2);
    expect(vmsum(m, 'pswpout')).toBe(out);
    for (const mm of mms) for (let i = 0; i < N; i++) expect(get(cpu, mm, a + i * 4096)).toBe(60 + i);
    expect(check_invariants(cpu).violations).toEqual([]);
    for (const mm of mms) mmput(cpu, mm);
    expect(swap_info(m).inuse).toBe(0);
  });
});

describe('swap slots and read-ahead', () => {
  it('pages written out together get neighbouring slots (256-slot clusters); a fault reads its 2^page_cluster window ahead', () => {
    const { m, cpu } = bootR({ policy: '2q', mem: '2M' });
    const mm = newProc(cpu);
    const N = 64;
    const a = mapAnon(cpu, mm, N);
    for (let i = 0; i < N; i++) put(cpu, mm, a + i * 4096, i + 1);
    reclaimAll(cpu);
    const offs = [...Array(N).keys()].map((i) => pteOf(cpu, mm, a + i * 4096)).filter(isSwapPte).map(swapOffset);
    expect(offs.length).toBeGreaterThan(N / 2);
    const lo = Math.min(...offs);
    const hi = Math.max(...offs);
    expect(hi - lo + 1).toBe(offs.length); // one contiguous run of slots
    expect(hi).toBeLessThan(256 + 1); // inside the first cluster
    // fault in the page whose slot starts an aligned read-ahead window of 2^pc slots
    const pc = page_cluster(cpu);
    const win = 1 << pc;
    const startSlot = Math.ceil(lo / win) * win;
    const byOff = new Map<number, number>();
    for (let i = 0; i < N; i++) {
      const pte = pteOf(cpu, mm, a + i * 4096);
      if (isSwapPte(pte)) byOff.set(swapOffset(pte), i);
    }
    expect(byOff.has(startSlot) && byOff.has(startSlot + win - 1)).toBe(true);
    const in0 = vmsum(m, 'pswpin');
    const maj0 = vmsum(m, 'pgmajfault');
    expect(get(cpu, mm, a + byOff.get(startSlot)! * 4096)).toBe(byOff.get(startSlot)! + 1);
    expect(vmsum(m, 'pswpin') - in0).toBe(win); // the page and its window
    expect(vmsum(m, 'swap_ra')).toBe(win - 1);
    for (let s = startSlot + 1; s < startSlot + win; s++) expect(get(cpu, mm, a + byOff.get(s)! * 4096)).toBe(byOff.get(s)! + 1);
    expect(vmsum(m, 'pswpin') - in0).toBe(win); // no more reads: the window was cached
    expect(vmsum(m, 'pgmajfault') - maj0).toBe(1);
    expect(vmsum(m, 'swap_ra_hit')).toBe(win - 1);
    clean(cpu);
    mmput(cpu, mm);
    clean(cpu);
  });

  it('the checker catches a fork that skips one swap_duplicate (planted bug)', () => {
    const { cpu } = bootR({ policy: '2q', inject: 'no_swap_dup' });
    const parent = newProc(cpu);
    const a = mapAnon(cpu, parent, 64);
    for (let i = 0; i < 64; i++) put(cpu, parent, a + i * 4096, i + 5);
    reclaimAll(cpu);
    expect(check_invariants(cpu).violations).toEqual([]);
    do_fork(cpu, parent);
    const v = check_invariants(cpu).violations.join('\n');
    expect(v).toMatch(/swap: slot \d+: swap_map \d+ != \d+ swap ptes/);
  });
});
