/*
 * Page migration through the swap cache (migrateMethod swap; flip.test.ts
 * has the default method) and compaction (src/reclaim/migrate.ts, compact.ts): a
 * COW-shared anonymous page and a shared file page move to another frame
 * under every rmap scheme and both processes read their data back through
 * minor faults; an anonymous page without swap stays put; a zone with plenty
 * free but no free order-1 block yields one through compaction, through the
 * allocator's own path, with the content checked and the checker clean.
 */
import { describe, it, expect } from 'vitest';
import { check_invariants } from '../../src/sim/checker.js';
import { do_fork, mmput } from '../../src/vm/fork.js';
import { do_mmap, PROT_READ, PROT_WRITE, MAP_SHARED } from '../../src/vm/mmap.js';
import { PG_FLAGS, PG_COUNT, PG_ORDER, pageStruct } from '../../src/machine/layout.js';
import { PG_swapcache, PG_compound } from '../../src/machine/page.js';
import { pte_pfn } from '../../src/mm/pte.js';
import { __alloc_pages, zone_watermark_ok } from '../../src/mm/page_alloc.js';
import { __free_pages } from '../../src/mm/page_ref.js';
import { drain_all_pages } from '../../src/mm/pcp.js';
import { inode_alloc } from '../../src/mm/files.js';
import { SITE } from '../../src/sync/classes.js';
import { lru_add_drain, alloc_pages_reclaim } from '../../src/reclaim/index.js';
import { migrate_page, MIGRATE_OK, MIGRATE_NOSWAP } from '../../src/reclaim/migrate.js';
import { compact_pages } from '../../src/reclaim/compact.js';
import { bootR, newProc, mapAnon, put, get, pteOf, isSwapPte, vmsum, rmapNames, pageWord } from './helpers.js';

const T = SITE.test;

describe('migrate_page', () => {
  for (const rmap of rmapNames()) {
    it(`${rmap}: a COW-shared anonymous page moves through the swap cache; parent and child read it back`, () => {
      const { m, cpu } = bootR({ rmap, mem: '4M', swap: '8M', migrateMethod: 'swap' });
      const mm = newProc(cpu);
      const a = mapAnon(cpu, mm, 4);
      for (let i = 0; i < 4; i++) expect(put(cpu, mm, a + i * 4096, 100 + i)).toBe(0);
      const child = do_fork(cpu, mm);
      expect(child).toBeGreaterThanOrEqual(0);
      lru_add_drain(cpu);
      const old = pte_pfn(pteOf(cpu, mm, a));
      expect(pte_pfn(pteOf(cpu, child, a))).toBe(old);
      const to = __alloc_pages(cpu, 0, T);
      expect(migrate_page(cpu, old, to)).toBe(MIGRATE_OK);
      expect(vmsum(m, 'pgmigrate_success')).toBe(1);
      // both ptes now hold the swap entry; the new frame sits in the swap cache
      expect(isSwapPte(pteOf(cpu, mm, a))).toBe(true);
      expect(isSwapPte(pteOf(cpu, child, a))).toBe(true);
      expect(pageWord(m, to, PG_FLAGS) & PG_swapcache).toBe(PG_swapcache);
      // the old frame is ours, as a fresh allocation
      expect(pageWord(m, old, PG_COUNT)).toBe(1);
      expect(pageWord(m, old, PG_FLAGS)).toBe(0);
      const majors = vmsum(m, 'pgmajfault');
      expect(get(cpu, mm, a)).toBe(100);
      expect(get(cpu, child, a)).toBe(100);
      expect(vmsum(m, 'pgmajfault')).toBe(majors); // minor faults: found in the swap cache
      expect(pte_pfn(pteOf(cpu, mm, a))).toBe(to);
      expect(pte_pfn(pteOf(cpu, child, a))).toBe(to);
      for (let i = 1; i < 4; i++) expect(get(cpu, child, a + i * 4096)).toBe(100 + i);
      __free_pages(cpu, old, 0);
      expect(check_invariants(cpu).violations).toEqual([]);
      // still COW-shared: the child's write copies, the parent keeps its data
      expect(put(cpu, child, a, 7)).toBe(0);
      expect(get(cpu, mm, a)).toBe(100);
      mmput(cpu, child);
      mmput(cpu, mm);
      expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
    });
  }

  it('a shared file page moves in the page cache; both mappers see the same frame afterwards', () => {
    const { m, cpu } = bootR({ mem: '4M', swap: '8M', filePages: 8, migrateMethod: 'swap' });
    const ino = inode_alloc(cpu, 8, 0);
    const p1 = newProc(cpu);
    const p2 = newProc(cpu);
    const a1 = do_mmap(cpu, p1, 0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ino, 0);
    const a2 = do_mmap(cpu, p2, 0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ino, 0);
    expect(put(cpu, p1, a1, 42)).toBe(0);
    expect(get(cpu, p2, a2)).toBe(42);
    lru_add_drain(cpu);
    const old = pte_pfn(pteOf(cpu, p1, a1));
    const to = __alloc_pages(cpu, 0, T);
    expect(migrate_page(cpu, old, to)).toBe(MIGRATE_OK);
    expect(pteOf(cpu, p1, a1)).toBe(0); // file ptes are just cleared
    expect(get(cpu, p2, a2)).toBe(42);
    expect(put(cpu, p1, a1 + 4, 43)).toBe(0);
    expect(pte_pfn(pteOf(cpu, p1, a1))).toBe(to);
    expect(pte_pfn(pteOf(cpu, p2, a2))).toBe(to);
    __free_pages(cpu, old, 0);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, p1);
    mmput(cpu, p2);
    expect(m.w[pageStruct(m.layout, to) + PG_COUNT]).toBe(1); // the page cache's
  });

  it('an anonymous page cannot move without swap: MIGRATE_NOSWAP, still mapped, the target still ours', () => {
    const { cpu } = bootR({ mem: '4M', swap: 0, migrateMethod: 'swap' });
    const mm = newProc(cpu);
    const a = mapAnon(cpu, mm, 1);
    expect(put(cpu, mm, a, 5)).toBe(0);
    lru_add_drain(cpu);
    const old = pte_pfn(pteOf(cpu, mm, a));
    const to = __alloc_pages(cpu, 0, T);
    expect(migrate_page(cpu, old, to)).toBe(MIGRATE_NOSWAP);
    expect(pte_pfn(pteOf(cpu, mm, a))).toBe(old);
    expect(get(cpu, mm, a)).toBe(5);
    __free_pages(cpu, to, 0);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });
});

describe('compaction', () => {
  /**
   * A zone where every free frame's buddy holds a user page: plenty free, no
   * free order-1 block. Returns the process and its pages' addresses/values.
   */
  function fragment(cfg: Record<string, unknown> = {}) {
    const r = bootR({ mem: '4M', swap: '8M', migrateMethod: 'swap', ...cfg });
    const { cpu } = r;
    const mm = newProc(cpu);
    const n = 150;
    const a = mapAnon(cpu, mm, n);
    expect(put(cpu, mm, a, 1000)).toBe(0); // the page table first
    // take every free frame; give back the odd ones (the process faults into them; plenty stay free,
    // above the watermarks: no reclaim moves anything meanwhile)
    drain_all_pages(cpu);
    const held: number[] = [];
    for (let p = __alloc_pages(cpu, 0, T); p >= 0; p = __alloc_pages(cpu, 0, T)) held.push(p);
    held.sort((x, y) => x - y);
    const odd = held.filter((p) => (p & 1) === 1);
    for (const p of odd) __free_pages(cpu, p, 0);
    for (let i = 1; i < n; i++) expect(put(cpu, mm, a + i * 4096, 1000 + i)).toBe(0);
    lru_add_drain(cpu);
    const user = new Set<number>();
    for (let i = 1; i < n; i++) user.add(pte_pfn(pteOf(cpu, mm, a + i * 4096)));
    expect([...user].every((p) => (p & 1) === 1)).toBe(true);
    // every held frame whose buddy is a user page goes back: free frames, none with a free buddy
    const kept: number[] = [];
    let freed = 0;
    for (const p of held) {
      if ((p & 1) === 1) continue;
      if (user.has(p ^ 1)) {
        __free_pages(cpu, p, 0);
        freed++;
      } else kept.push(p);
    }
    drain_all_pages(cpu);
    return { ...r, mm, a, n, kept, freed };
  }

  it('a fragmented zone: no free order-1 block, then compact_pages moves one page and returns an aligned order-1 block', () => {
    const { m, cpu, mm, a, n, kept, freed } = fragment();
    expect(freed).toBe(n - 1);
    expect(zone_watermark_ok(cpu, 1, 0)).toBe(false); // plenty free, but no order-1 block
    const pfn = compact_pages(cpu, 1);
    expect(pfn).toBeGreaterThan(0);
    expect(pfn & 1).toBe(0);
    expect(pageWord(m, pfn, PG_ORDER)).toBe(1);
    expect(pageWord(m, pfn, PG_FLAGS) & PG_compound).toBe(PG_compound);
    expect(vmsum(m, 'compact_success')).toBe(1);
    expect(vmsum(m, 'pgmigrate_success')).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < n; i++) expect(get(cpu, mm, a + i * 4096)).toBe(1000 + i);
    __free_pages(cpu, pfn, 1);
    for (const p of kept) __free_pages(cpu, p, 0);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });

  it('the allocator compacts before it reclaims: an order-1 request in the fragmented zone succeeds with no page reclaimed', () => {
    const { m, cpu, mm, a, n, kept } = fragment({ rmap: 'ptechain' });
    const pfn = alloc_pages_reclaim(cpu, 1, T, -1);
    expect(pfn).toBeGreaterThan(0);
    expect(vmsum(m, 'compact_stall')).toBe(1);
    expect(vmsum(m, 'compact_success')).toBe(1);
    expect(vmsum(m, 'allocstall_normal')).toBe(0);
    for (let i = 0; i < n; i++) expect(get(cpu, mm, a + i * 4096)).toBe(1000 + i);
    __free_pages(cpu, pfn, 1);
    for (const p of kept) __free_pages(cpu, p, 0);
    mmput(cpu, mm);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });

  it('without swap the anonymous pages cannot move: compaction fails and counts it', () => {
    const { m, cpu, mm, kept } = fragment({ swap: 0 });
    expect(compact_pages(cpu, 1)).toBe(-1);
    expect(vmsum(m, 'compact_fail')).toBe(1);
    for (const p of kept) __free_pages(cpu, p, 0);
    mmput(cpu, mm);
    expect(check_invariants(cpu, { expectEmpty: true }).violations).toEqual([]);
  });
});
