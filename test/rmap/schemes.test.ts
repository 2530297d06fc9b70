/*
 * Unit tests per rmap scheme (issue 5): add/remove/walk through real
 * faults, forks and munmaps; page_referenced test-and-clears the young bits;
 * try_to_unmap of a page mapped by N processes leaves no mapping and puts the
 * swap entry in every pte; the 2.5 pte_chain packing invariants; objrmap's
 * anon_vma across mremap, fork and split; pool exhaustion fails cleanly;
 * the hint falls back when it cannot prove exclusive access. Every machine
 * runs with lockdep on and must end with no report.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { boot } from '../helpers.js';
import { mm_alloc } from '../../src/mm/mm_struct.js';
import { do_mmap, do_munmap, do_mremap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS, MAP_FIXED } from '../../src/vm/mmap.js';
import { do_fork, mmput } from '../../src/vm/fork.js';
import { user_access, ACCESS_OK } from '../../src/vm/access.js';
import { VM_FAULT_OOM } from '../../src/vm/fault.js';
import { check_invariants } from '../../src/sim/checker.js';
import { createFiles } from '../../src/mm/files.js';
import { pte_table } from '../../src/mm/pgtable.js';
import { pte_pfn, pte_young, pte_present, SWP_ENTRY, pte_index } from '../../src/mm/pte.js';
import { swap_count } from '../../src/mm/swap_map.js';
import { get_page } from '../../src/mm/page_ref.js';
import { trylock_page, unlock_page } from '../../src/sync/pagelock.js';
import { SITE } from '../../src/sync/classes.js';
import { readLockdepReport, formatLockdepReport } from '../../src/sync/lockdep.js';
import { PG_MAPCOUNT, PG_COUNT, PG_RMAP, PG_FLAGS, PG_MAPPING, PG_INDEX, MM_RSS, mmBase, pageStruct } from '../../src/machine/layout.js';
import { PG_direct, anonOfMapping } from '../../src/machine/page.js';
import { VM } from '../../src/machine/vmstat.js';
import { RMAP_SCHEMES } from '../../src/config.js';
import { SWAP_SUCCESS } from '../../src/rmap/types.js';
import { poolInUse } from '../../src/rmap/pool.js';
import { pte_chain_check, NRPTE } from '../../src/rmap/ptechain25.js';
import { AV_NR, AV_HEAD } from '../../src/rmap/objrmap.js';
import { poolObj } from '../../src/rmap/pool.js';
import type { Machine } from '../../src/machine/machine.js';
import type { Cpu } from '../../src/vm/cpu.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const buf = new Int32Array(8);
const write = (cpu: Cpu, mm: number, a: number, v: number) => {
  buf[0] = v;
  return user_access(cpu, mm, a, true, buf, 1);
};
const read = (cpu: Cpu, mm: number, a: number) => {
  const r = user_access(cpu, mm, a, false, buf, 1);
  return r < 0 ? r : buf[0]!;
};
/** pte address and value of addr in mm */
const pteAddrOf = (cpu: Cpu, mm: number, a: number) => (pte_table(cpu, mm, a) << 10) | pte_index(a);
const pteOf = (cpu: Cpu, mm: number, a: number) => cpu.w[cpu.l.frames + pteAddrOf(cpu, mm, a)]!;
const pfnOf = (cpu: Cpu, mm: number, a: number) => pte_pfn(pteOf(cpu, mm, a));
const mapcount = (cpu: Cpu, pfn: number) => cpu.w[pageStruct(cpu.l, pfn) + PG_MAPCOUNT]! + 1;
const vm = (cpu: Cpu, name: keyof typeof VM) => cpu.w[cpu.vm + VM[name]]!;

/** The scheme's walk as a sorted list of "mm:addr:pte" strings. */
function walked(cpu: Cpu, pfn: number): string[] {
  const out = new Int32Array(3 * 4096);
  const n = cpu.rmap.walk(cpu, pfn, out);
  const r: string[] = [];
  for (let i = 0; i < n; i++) r.push(`${out[3 * i]}:${(out[3 * i + 1]! >>> 0).toString(16)}:${out[3 * i + 2]}`);
  return r.sort();
}
const expectWalk = (cpu: Cpu, pfn: number, maps: [number, number][]) =>
  expect(walked(cpu, pfn)).toEqual(maps.map(([mm, a]) => `${mm}:${(a >>> 0).toString(16)}:${pteAddrOf(cpu, mm, a)}`).sort());

let machines: Machine[] = [];
function mk(rmap: string, cfg: Record<string, unknown> = {}) {
  const b = boot({ rmap, ...cfg });
  machines.push(b.m);
  return b;
}
afterEach(() => {
  for (const m of machines) {
    const ld = readLockdepReport(m.w, m.layout.lockdep);
    expect(ld.count, formatLockdepReport(ld)).toBe(0);
  }
  machines = [];
});

for (const rmap of RMAP_SCHEMES) {
  describe(`rmap ${rmap}`, () => {
    it('add/remove/walk follow faults, forks, munmap and COW', () => {
      const { cpu } = mk(rmap);
      const parent = mm_alloc(cpu, cpu.mmCache);
      const a = do_mmap(cpu, parent, 0, 4 * P, RW, ANON, -1, 0);
      expect(write(cpu, parent, a, 1)).toBe(ACCESS_OK);
      const pfn = pfnOf(cpu, parent, a);
      expectWalk(cpu, pfn, [[parent, a]]);
      const kids = [do_fork(cpu, parent), do_fork(cpu, parent), do_fork(cpu, parent)];
      expect(mapcount(cpu, pfn)).toBe(4);
      expectWalk(cpu, pfn, [[parent, a], ...kids.map((k): [number, number] => [k, a])]);
      expect(do_munmap(cpu, kids[0]!, a, 4 * P)).toBe(0);
      expectWalk(cpu, pfn, [[parent, a], [kids[1]!, a], [kids[2]!, a]]);
      expect(write(cpu, kids[1]!, a, 2)).toBe(ACCESS_OK); // COW: a new page for kid 1
      const cow = pfnOf(cpu, kids[1]!, a);
      expect(cow).not.toBe(pfn);
      expectWalk(cpu, pfn, [[parent, a], [kids[2]!, a]]);
      expectWalk(cpu, cow, [[kids[1]!, a]]);
      expect(check_invariants(cpu).violations).toEqual([]);
      for (const k of kids) mmput(cpu, k);
      expectWalk(cpu, pfn, [[parent, a]]);
      mmput(cpu, parent);
      expect(check_invariants(cpu).violations).toEqual([]);
    });

    it('page_referenced test-and-clears the young bit of every mapping', () => {
      const { cpu } = mk(rmap);
      const files = createFiles(cpu, 1);
      const parent = mm_alloc(cpu, cpu.mmCache);
      const a = do_mmap(cpu, parent, 0, 2 * P, PROT_READ, MAP_SHARED, files[0]!, 5);
      expect(user_access(cpu, parent, a + P, false, buf, 1)).toBe(ACCESS_OK);
      const kids = [do_fork(cpu, parent), do_fork(cpu, parent)];
      const pfn = pfnOf(cpu, parent, a + P);
      for (const mm of [parent, ...kids]) expect(user_access(cpu, mm, a + P, false, buf, 1)).toBe(ACCESS_OK);
      expect(cpu.rmap.page_referenced(cpu, pfn)).toBe(3);
      for (const mm of [parent, ...kids]) {
        expect(pte_present(pteOf(cpu, mm, a + P))).toBe(true);
        expect(pte_young(pteOf(cpu, mm, a + P))).toBe(false);
      }
      expect(cpu.rmap.page_referenced(cpu, pfn)).toBe(0);
      expect(user_access(cpu, kids[1]!, a + P, false, buf, 1)).toBe(ACCESS_OK);
      expect(cpu.rmap.page_referenced(cpu, pfn)).toBe(1);
      expect(check_invariants(cpu).violations).toEqual([]);
    });

    it('try_to_unmap of a page mapped by N processes leaves no mapping and installs the swap entry', () => {
      const { cpu, m } = mk(rmap, { swap: '1M' });
      const N = 20;
      const parent = mm_alloc(cpu, cpu.mmCache);
      const a = do_mmap(cpu, parent, 0, 8 * P, RW, ANON, -1, 0);
      for (let i = 0; i < 8; i++) expect(write(cpu, parent, a + i * P, 100 + i)).toBe(ACCESS_OK);
      const mms = [parent];
      for (let i = 1; i < N; i++) mms.push(do_fork(cpu, parent));
      const pfn = pfnOf(cpu, parent, a + 3 * P);
      expect(mapcount(cpu, pfn)).toBe(N);
      const rss0 = cpu.w[mmBase(cpu.l, mms[7]!) + MM_RSS]!;
      // a fake swap slot: offset 9 of swap type 0, its count prepared as the swap cache's own
      const entry = SWP_ENTRY(0, 9);
      m.w[m.layout.swapMap + 9] = 1;
      get_page(cpu, pfn); // reclaim's reference (the page is on its isolated list)
      const count0 = cpu.w[pageStruct(cpu.l, pfn) + PG_COUNT]!;
      expect(trylock_page(cpu, pfn, SITE.shrink_list)).toBe(true);
      expect(cpu.rmap.try_to_unmap(cpu, pfn, entry)).toBe(SWAP_SUCCESS);
      unlock_page(cpu, pfn);
      expect(mapcount(cpu, pfn)).toBe(0);
      expect(cpu.w[pageStruct(cpu.l, pfn) + PG_COUNT]).toBe(count0 - N); // every mapping's reference dropped, ours kept
      expect(swap_count(m.w, m.layout, entry)).toBe(1 + N);
      for (const mm of mms) expect(pteOf(cpu, mm, a + 3 * P)).toBe(entry);
      expect(cpu.w[mmBase(cpu.l, mms[7]!) + MM_RSS]).toBe(rss0 - 1);
      expect(walked(cpu, pfn)).toEqual([]);
      // the other pages are untouched
      for (const mm of mms) expect(pfnOf(cpu, mm, a + 4 * P)).toBe(pfnOf(cpu, parent, a + 4 * P));
      if (rmap !== 'scan' && rmap !== 'hint' && rmap !== 'objrmap' && rmap !== 'anonmm') expect(cpu.w[pageStruct(cpu.l, pfn) + PG_RMAP]).toBe(-1);
    });
  });
}

describe('ptechain: LaHaise chains', () => {
  it('cost exactly one word per mapped pte when the tables are full', () => {
    const { cpu } = mk('ptechain', { mem: '16M' });
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, mm, 0x40000000, 4 << 20, RW, ANON | MAP_FIXED, -1, 0);
    for (let i = 0; i < 1024; i++) write(cpu, mm, a + i * P, i);
    const kid = do_fork(cpu, mm);
    expect(kid).toBeGreaterThanOrEqual(0);
    expect(cpu.rmap.metadataBytes(cpu) / 2048).toBe(4);
    expect(check_invariants(cpu).violations).toEqual([]);
  });
});

describe('ptechain25: the 2.5 pte_chain', () => {
  it('keeps the packing invariants: PG_direct, conversion, head-only free slots, freeing and collapse', () => {
    const { cpu } = mk('ptechain25', { mem: '16M', maxMm: 64 });
    const l = cpu.l;
    const parent = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, parent, 0, P, RW, ANON, -1, 0);
    write(cpu, parent, a, 1);
    const pfn = pfnOf(cpu, parent, a);
    const p = pageStruct(l, pfn);
    expect(cpu.w[p + PG_FLAGS]! & PG_direct).toBe(PG_direct);
    expect(cpu.w[p + PG_RMAP]).toBe(pteAddrOf(cpu, parent, a));
    const pool0 = poolInUse(cpu.w, l);
    const kids: number[] = [];
    for (let i = 1; i <= 40; i++) {
      kids.push(do_fork(cpu, parent));
      expect(pte_chain_check(cpu.w, l, pfn, i + 1)).toBe('');
      if (i === 1) expect(cpu.w[p + PG_FLAGS]! & PG_direct).toBe(0);
    }
    // 41 ptes = 11 in the head + 15 + 15: three blocks, the head's first 4 slots free
    expect(poolInUse(cpu.w, l) - pool0).toBeGreaterThanOrEqual(2);
    expect(check_invariants(cpu).violations).toEqual([]);
    // exits in a scrambled order: every removal keeps the chain packed
    const order = kids.map((k, i) => [(i * 17) % 41, k] as const).sort((x, y) => x[0] - y[0]);
    let left = 41;
    for (const [, k] of order) {
      mmput(cpu, k);
      left--;
      expect(pte_chain_check(cpu.w, l, pfn, left)).toBe('');
      expectWalk(cpu, pfn, [[parent, a], ...kids.filter((x) => cpu.w[mmBase(l, x)] !== -1 && order.findIndex((o) => o[1] === x) > order.findIndex((o) => o[1] === k)).map((x): [number, number] => [x, a])]);
    }
    // one mapping left, still as a 1-entry chain; page_referenced collapses it to PG_direct
    expect(cpu.w[p + PG_FLAGS]! & PG_direct).toBe(0);
    const used = poolInUse(cpu.w, l);
    cpu.rmap.page_referenced(cpu, pfn);
    expect(cpu.w[p + PG_FLAGS]! & PG_direct).toBe(PG_direct);
    expect(cpu.w[p + PG_RMAP]).toBe(pteAddrOf(cpu, parent, a));
    expect(poolInUse(cpu.w, l)).toBeLessThanOrEqual(used);
    expect(check_invariants(cpu).violations).toEqual([]);
    expect(NRPTE).toBe(15);
  });

  it('pool exhaustion fails fork with ENOMEM and leaks nothing', () => {
    const { cpu } = mk('ptechain25', { rmapPool: 2 });
    const parent = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, parent, 0, 4 * P, RW, ANON, -1, 0);
    for (let i = 0; i < 4; i++) write(cpu, parent, a + i * P, i);
    expect(do_fork(cpu, parent)).toBe(-1); // 4 shared pages need 4 blocks
    expect(check_invariants(cpu).violations).toEqual([]);
    expect(read(cpu, parent, a + 3 * P)).toBe(3);
    const kid = do_fork(cpu, parent);
    expect(kid).toBe(-1);
    mmput(cpu, parent);
    const res = check_invariants(cpu);
    expect(res.violations).toEqual([]);
  });
});

describe('vmnode: Hemment vm_nodes', () => {
  it('an exhausted node pool turns a write fault into VM_FAULT_OOM, then recovers', () => {
    const { cpu } = mk('vmnode', { rmapPool: 3 });
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, mm, 0, 8 * P, RW, ANON, -1, 0);
    for (let i = 0; i < 3; i++) expect(write(cpu, mm, a + i * P, i)).toBe(ACCESS_OK);
    expect(write(cpu, mm, a + 3 * P, 3)).toBe(VM_FAULT_OOM);
    expect(check_invariants(cpu).violations).toEqual([]);
    expect(do_munmap(cpu, mm, a, P)).toBe(0);
    expect(write(cpu, mm, a + 3 * P, 3)).toBe(ACCESS_OK);
    expect(read(cpu, mm, a + 2 * P)).toBe(2);
    expect(check_invariants(cpu).violations).toEqual([]);
  });
});

describe('hint: Linus hint map', () => {
  it('uses the hint for an exclusive page and falls back to the scan when it cannot prove exclusivity', () => {
    const { cpu } = mk('hint');
    const parent = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, parent, 0, P, RW, ANON, -1, 0);
    write(cpu, parent, a, 1);
    const pfn = pfnOf(cpu, parent, a);
    expect(cpu.w[pageStruct(cpu.l, pfn) + PG_RMAP]).toBe(pteAddrOf(cpu, parent, a));
    const fb0 = vm(cpu, 'rmap_hint_fallback');
    expect(cpu.rmap.page_referenced(cpu, pfn)).toBe(1);
    expect(vm(cpu, 'rmap_hint_fallback')).toBe(fb0); // mapcount 1 + hint: no scan
    const kid = do_fork(cpu, parent);
    read(cpu, parent, a);
    read(cpu, kid, a);
    expect(cpu.rmap.page_referenced(cpu, pfn)).toBe(2);
    expect(vm(cpu, 'rmap_hint_fallback')).toBe(fb0 + 1); // shared: the hint names one of two
    write(cpu, parent, a, 2); // the parent breaks COW: the hinted pte goes away
    expect(mapcount(cpu, pfn)).toBe(1);
    expect(cpu.w[pageStruct(cpu.l, pfn) + PG_RMAP]).toBe(-1); // "lost the information about what single mapping they had"
    read(cpu, kid, a);
    expect(cpu.rmap.page_referenced(cpu, pfn)).toBe(1);
    expect(vm(cpu, 'rmap_hint_fallback')).toBe(fb0 + 2);
    expectWalk(cpu, pfn, [[kid, a]]);
    expect(check_invariants(cpu).violations).toEqual([]);
  });
});

describe('objrmap: i_mmap and anon_vma', () => {
  it('finds anonymous pages after mremap moves them, after fork and COW, and after split', () => {
    const { cpu } = mk('objrmap');
    const l = cpu.l;
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, mm, 0, 8 * P, RW, ANON, -1, 0);
    for (let i = 0; i < 8; i++) write(cpu, mm, a + i * P, 10 + i);
    const blocker = do_mmap(cpu, mm, a + 8 * P, P, RW, ANON | MAP_FIXED, -1, 0); // forces mremap to move
    expect(blocker).toBe(a + 8 * P);
    const pfn = pfnOf(cpu, mm, a + 2 * P);
    const pg = pageStruct(l, pfn);
    const av = anonOfMapping(cpu.w[pg + PG_MAPPING]!);
    expect(cpu.w[pg + PG_INDEX]).toBe((a >>> 12) + 2);
    const b = do_mremap(cpu, mm, a, 8 * P, 16 * P, true);
    expect(b).not.toBe(a);
    expect(b).toBeGreaterThan(0);
    expect(pfnOf(cpu, mm, b + 2 * P)).toBe(pfn);
    expect(cpu.w[pg + PG_INDEX]).toBe((a >>> 12) + 2); // the linear index did not change ...
    expectWalk(cpu, pfn, [[mm, b + 2 * P]]); // ... and still finds the moved pte
    const kid = do_fork(cpu, mm);
    expectWalk(cpu, pfn, [[mm, b + 2 * P], [kid, b + 2 * P]]);
    expect(cpu.w[poolObj(l, av) + AV_NR]).toBe(2); // the moved VMA and the child's copy (the old VMA left with munmap)
    write(cpu, kid, b + 2 * P, 99); // the child's COW copy joins the same anon_vma
    const cow = pfnOf(cpu, kid, b + 2 * P);
    expect(anonOfMapping(cpu.w[pageStruct(l, cow) + PG_MAPPING]!)).toBe(av);
    expectWalk(cpu, cow, [[kid, b + 2 * P]]);
    expectWalk(cpu, pfn, [[mm, b + 2 * P]]);
    // split the parent's VMA by unmapping a page in the middle: both halves stay on the list
    expect(do_munmap(cpu, mm, b + 4 * P, P)).toBe(0);
    const high = pfnOf(cpu, mm, b + 6 * P);
    expectWalk(cpu, high, [[mm, b + 6 * P], [kid, b + 6 * P]]);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, kid);
    mmput(cpu, mm);
    expect(poolInUse(cpu.w, l)).toBe(0); // every anon_vma freed with its last VMA
    expect(check_invariants(cpu).violations).toEqual([]);
  });

  it('finds file pages through i_mmap at vm_start + ((index - vm_pgoff) << 12)', () => {
    const { cpu } = mk('objrmap');
    const files = createFiles(cpu, 1);
    const m1 = mm_alloc(cpu, cpu.mmCache);
    const m2 = mm_alloc(cpu, cpu.mmCache);
    const a1 = do_mmap(cpu, m1, 0, 4 * P, PROT_READ, MAP_SHARED, files[0]!, 10);
    const a2 = do_mmap(cpu, m2, 0x50000000, 8 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, files[0]!, 8);
    read(cpu, m1, a1 + 3 * P); // file index 13
    read(cpu, m2, a2 + 5 * P); // file index 13 again, through another VMA
    const pfn = pfnOf(cpu, m1, a1 + 3 * P);
    expect(pfnOf(cpu, m2, a2 + 5 * P)).toBe(pfn);
    expect(cpu.w[pageStruct(cpu.l, pfn) + PG_INDEX]).toBe(13);
    expectWalk(cpu, pfn, [[m1, a1 + 3 * P], [m2, a2 + 5 * P]]);
    const walks = vm(cpu, 'rmap_walk_vma');
    cpu.rmap.page_referenced(cpu, pfn);
    expect(vm(cpu, 'rmap_walk_vma') - walks).toBe(2);
    expect(check_invariants(cpu).violations).toEqual([]);
  });

  it('an exhausted anon_vma pool fails the first anonymous fault of a new VMA with OOM', () => {
    const { cpu } = mk('objrmap', { rmapPool: 1 });
    const mm = mm_alloc(cpu, cpu.mmCache);
    const a = do_mmap(cpu, mm, 0, 2 * P, RW, ANON, -1, 0);
    const b = do_mmap(cpu, mm, a + 4 * P, 2 * P, RW, ANON | MAP_FIXED, -1, 0); // not adjacent: its own VMA
    expect(write(cpu, mm, a, 1)).toBe(ACCESS_OK);
    expect(write(cpu, mm, b, 2)).toBe(VM_FAULT_OOM);
    expect(cpu.w[poolObj(cpu.l, 0) + AV_HEAD]).toBeGreaterThanOrEqual(0);
    expect(check_invariants(cpu).violations).toEqual([]);
    expect(do_munmap(cpu, mm, a, 2 * P)).toBe(0); // frees the only anon_vma
    expect(write(cpu, mm, b, 2)).toBe(ACCESS_OK);
    expect(check_invariants(cpu).violations).toEqual([]);
  });
});
