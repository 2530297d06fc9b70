/*
 * page_alloc.test.ts — the buddy allocator and the per-CPU lists
 * (src/mm/page_alloc.ts): split/coalesce, watermarks, pcp batching per lock
 * scheme, steal_specific_page, page references, and check_free_lists
 * catching planted corruption.
 */
import { describe, it, expect } from 'vitest';
import { seeded, randFloat } from '../rng.js';
import { createMachine, type Machine } from '../../src/machine/machine.js';
import { makeCpuBase, type CpuBase } from '../../src/machine/cpu.js';
import {
  G_ZONE,
  G_ZONE_AREA,
  Z_FREE,
  PC_PCP,
  PCP_COUNT,
  PCP_BATCH,
  PCP_HIGH,
  PCP_HEAD,
  PCP_TAIL,
  PG_FLAGS,
  PG_COUNT,
  PG_MAPCOUNT,
  PG_MAPPING,
  PG_ORDER,
  PG_PRIVATE,
  PG_LRU_NEXT,
  PG_LRU_PREV,
  NIL,
  globalLine,
  pageStruct,
} from '../../src/machine/layout.js';
import { PG_buddy, PG_pcp, PG_reserved, PG_compound, PG_lru, mappingOfAnon } from '../../src/machine/page.js';
import { VM } from '../../src/machine/vmstat.js';
import { C_ZONE_LOCK, SITE } from '../../src/sync/classes.js';
import { lsIndex, LS_ACQ } from '../../src/sync/lockstat.js';
import { mem_init, __alloc_pages, __free_pages_ok, steal_specific_page, zone_watermark_ok, zone_wmark, zone_info, nr_free_pages, free_area_counts, WMARK_MIN, WMARK_LOW, WMARK_HIGH } from '../../src/mm/page_alloc.js';
import { __free_pages, __free_page, put_page_testzero, get_page, get_page_unless_zero, page_count } from '../../src/mm/page_ref.js';
import { drain_local_pages, drain_all_pages, zone_batchsize } from '../../src/mm/pcp.js';
import { check_free_lists, FREE_BUDDY, FREE_PCP, FREE_NONE } from '../../src/mm/free_check.js';

const SITE_T = SITE.test;

function boot(cfg: Record<string, unknown> = {}): { m: Machine; cpu: CpuBase } {
  const m = createMachine({ mem: '16M', cpus: 2, debug: true, ...cfg });
  mem_init(m);
  return { m, cpu: makeCpuBase(m, 0) };
}

/** A seeded [0, 1) stream (test/rng.ts, pure-rand): deterministic shuffles. */
function rng(seed: number): () => number {
  const g = seeded(seed);
  return () => randFloat(g);
}

const vm = (cpu: CpuBase, name: keyof typeof VM) => cpu.w[cpu.vm + VM[name]]!;
const zoneLockAcq = (cpu: CpuBase) => cpu.f64[lsIndex(cpu, C_ZONE_LOCK, 0) + LS_ACQ]!;

describe('mem_init', () => {
  it('puts every frame but pfn 0 in maximal aligned blocks', () => {
    const { m } = boot({ mem: '64M' });
    const n = m.layout.nrFrames; // 16384
    expect(free_area_counts(m)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, n / 1024 - 1]);
    expect(zone_info(m).free).toBe(n - 1);
    expect(nr_free_pages(m)).toBe(n - 1);
    const p0 = pageStruct(m.layout, 0);
    expect(m.w[p0 + PG_FLAGS]! & PG_reserved).toBe(PG_reserved);
    expect(m.w[p0 + PG_COUNT]).toBe(1);
    const map = new Uint8Array(n);
    expect(check_free_lists(m, map)).toEqual([]);
    expect(map[0]).toBe(FREE_NONE);
    expect(map.subarray(1).every((v) => v === FREE_BUDDY)).toBe(true);
  });

  it('sets 2.6 watermarks: min from sqrt(16 * KiB), low 5/4, high 3/2', () => {
    const { m, cpu } = boot({ mem: '64M' });
    // 16383 pages = 65532 KiB; sqrt(65532 * 16) = 1023.9 -> 1023 KiB -> 255 pages
    expect(zone_wmark(cpu, WMARK_MIN)).toBe(255);
    expect(zone_wmark(cpu, WMARK_LOW)).toBe(255 + 63);
    expect(zone_wmark(cpu, WMARK_HIGH)).toBe(255 + 127);
    expect(zone_info(m)).toMatchObject({ min: 255, low: 318, high: 382, managed: 16383, firstPfn: 1 });
    // small machine: the 128 KiB floor
    const small = boot({ mem: '1M' });
    expect(zone_wmark(small.cpu, WMARK_MIN)).toBe(32);
  });

  it('sizes pcp batch/high as 2.6.16 zone_batchsize', () => {
    expect(zone_batchsize(16383)).toBe(3); // 64 MiB
    expect(zone_batchsize(131071)).toBe(31); // 512 MiB: capped at 512 KiB / 4
    expect(zone_batchsize(100)).toBe(1);
    const { m } = boot({ mem: '512M', cpus: 3 });
    for (let c = 0; c < m.layout.nrCpuSlots; c++) {
      const cpu = makeCpuBase(m, c);
      expect(m.w[cpu.pc + PC_PCP + PCP_BATCH]).toBe(31);
      expect(m.w[cpu.pc + PC_PCP + PCP_HIGH]).toBe(186);
      expect(m.w[cpu.pc + PC_PCP + PCP_HEAD]).toBe(NIL);
    }
  });

  it('refuses a second call', () => {
    const { m } = boot();
    expect(() => mem_init(m)).toThrow(/already/);
  });
});

describe('split and coalesce', () => {
  it('order 0 from a fresh zone takes the smallest blocks, then splits an order-10 block', () => {
    const { m, cpu } = boot({ mem: '64M', locks: '2.4' });
    const got: number[] = [];
    for (let i = 0; i < 1023; i++) got.push(__alloc_pages(cpu, 0, SITE_T));
    // pfns 1..1023 were blocks of orders 0..9; all consumed
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 1023 }, (_, i) => i + 1));
    expect(free_area_counts(m)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15]);
    const p = __alloc_pages(cpu, 0, SITE_T);
    expect(p).toBe(1024);
    // the block at 1024 was split: 1025 (o0), 1026 (o1), 1028 (o2) ... 1536 (o9)
    expect(free_area_counts(m)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 14]);
    for (let o = 0; o < 10; o++) {
      const q = pageStruct(m.layout, 1024 + (1 << o));
      expect(m.w[q + PG_FLAGS]! & PG_buddy).toBe(PG_buddy);
      expect(m.w[q + PG_ORDER]).toBe(o);
    }
    expect(check_free_lists(m)).toEqual([]);
    got.push(p);
    for (const pfn of got) __free_pages(cpu, pfn, 0);
    expect(free_area_counts(m)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 15]);
    expect(check_free_lists(m)).toEqual([]);
  });

  for (const locks of ['2.4', 'split', 'bkl'] as const) {
    it(`freeing everything in random order coalesces back (${locks})`, () => {
      const { m, cpu } = boot({ locks });
      const initial = free_area_counts(m);
      const total = nr_free_pages(m);
      const r = rng(0xc0a1e5ce);
      const held: number[] = [];
      for (;;) {
        const pfn = __alloc_pages(cpu, 0, SITE_T);
        if (pfn < 0) break;
        held.push(pfn);
      }
      expect(held.length).toBe(total); // order 0 ignores the watermarks: the zone empties
      expect(nr_free_pages(m)).toBe(0);
      expect(new Set(held).size).toBe(held.length);
      expect(held.includes(0)).toBe(false);
      for (let i = held.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [held[i], held[j]] = [held[j]!, held[i]!];
      }
      for (let i = 0; i < held.length; i++) {
        __free_page(cpu, held[i]!);
        if (i % 997 === 0) expect(check_free_lists(m)).toEqual([]);
      }
      expect(nr_free_pages(m)).toBe(total);
      drain_all_pages(cpu);
      expect(free_area_counts(m)).toEqual(initial);
      expect(check_free_lists(m)).toEqual([]);
    });
  }

  it('high-order blocks: aligned, compound tails, freed as a unit', () => {
    const { m, cpu } = boot();
    const initial = free_area_counts(m);
    const blocks: [number, number][] = [];
    for (let o = 1; o < 11; o++) {
      const pfn = __alloc_pages(cpu, o, SITE_T);
      expect(pfn).toBeGreaterThan(0);
      expect(pfn % (1 << o)).toBe(0);
      const p = pageStruct(m.layout, pfn);
      expect(m.w[p + PG_COUNT]).toBe(1);
      expect(m.w[p + PG_ORDER]).toBe(o);
      expect(m.w[p + PG_FLAGS]).toBe(PG_compound);
      const t = pageStruct(m.layout, pfn + (1 << o) - 1);
      expect(m.w[t + PG_FLAGS]).toBe(PG_compound);
      expect(m.w[t + PG_PRIVATE]).toBe(pfn);
      expect(m.w[t + PG_COUNT]).toBe(0);
      blocks.push([pfn, o]);
    }
    expect(vm(cpu, 'pgalloc_high_order')).toBe(10);
    expect(vm(cpu, 'pgalloc_normal')).toBe((1 << 11) - 2);
    expect(check_free_lists(m)).toEqual([]);
    for (const [pfn, o] of blocks) __free_pages(cpu, pfn, o);
    expect(free_area_counts(m)).toEqual(initial);
    expect(vm(cpu, 'pgfree')).toBe((1 << 11) - 2);
    expect(check_free_lists(m)).toEqual([]);
    const t = pageStruct(m.layout, blocks[3]![0] + 1);
    expect(m.w[t + PG_FLAGS]).toBe(0);
  });

  it('allocated page state is clean whatever the previous user left', () => {
    const { m, cpu } = boot({ locks: '2.4' });
    const pfn = __alloc_pages(cpu, 0, SITE_T);
    const p = pageStruct(m.layout, pfn);
    m.w[p + PG_MAPPING] = mappingOfAnon(3); // an anon page: allowed at free, cleared
    m.w[p + PG_FLAGS] = 1 << 4; // PG_dirty: not a bad-page flag
    __free_page(cpu, pfn);
    const again = __alloc_pages(cpu, 0, SITE_T);
    expect(again).toBe(pfn);
    expect(m.w[p + PG_FLAGS]).toBe(0);
    expect(m.w[p + PG_COUNT]).toBe(1);
    expect(m.w[p + PG_MAPCOUNT]).toBe(-1);
    expect(m.w[p + PG_MAPPING]).toBe(0);
    expect(m.w[p + PG_ORDER]).toBe(0);
    expect(m.w[p + PG_LRU_NEXT]).toBe(NIL);
  });

  it('bad orders throw', () => {
    const { cpu } = boot();
    expect(() => __alloc_pages(cpu, 11, SITE_T)).toThrow(/order/);
  });
});

describe('watermarks', () => {
  it('zone_watermark_ok follows 2.6: free - 2^order + 1 > mark, halving per lower order', () => {
    const { m, cpu } = boot({ mem: '4M', locks: '2.4' }); // 1023 pages, min 64
    const min = zone_wmark(cpu, WMARK_MIN);
    const free = zone_info(m).free;
    expect(zone_watermark_ok(cpu, 0, free - 1)).toBe(true);
    expect(zone_watermark_ok(cpu, 0, free)).toBe(false);
    // order 3: free - 8 + 1 must exceed the mark...
    expect(zone_watermark_ok(cpu, 3, free - 7)).toBe(false);
    expect(zone_watermark_ok(cpu, 3, free - 8)).toBe(true);
    expect(zone_watermark_ok(cpu, 3, min)).toBe(true);
  });

  it('order > 0 fails below min, order 0 runs the zone dry, then -1', () => {
    const { m, cpu } = boot({ mem: '4M', locks: '2.4' });
    const min = zone_wmark(cpu, WMARK_MIN);
    const held: number[] = [];
    while (zone_info(m).free > min + 2) held.push(__alloc_pages(cpu, 0, SITE_T));
    // min + 2 free: an order-1 request would leave free - 2 + 1 = min + 1 > min: ok once
    const two = __alloc_pages(cpu, 1, SITE_T);
    expect(two).toBeGreaterThan(0);
    expect(__alloc_pages(cpu, 1, SITE_T)).toBe(-1); // now at min
    expect(__alloc_pages(cpu, 2, SITE_T)).toBe(-1);
    for (let pfn = __alloc_pages(cpu, 0, SITE_T); pfn >= 0; pfn = __alloc_pages(cpu, 0, SITE_T)) held.push(pfn);
    expect(zone_info(m).free).toBe(0);
    expect(__alloc_pages(cpu, 0, SITE_T)).toBe(-1);
    expect(zone_watermark_ok(cpu, 0, 0)).toBe(false);
    expect(check_free_lists(m)).toEqual([]);
  });

  it('a fragmented zone fails high-order checks though plenty is free', () => {
    const { m, cpu } = boot({ mem: '4M', locks: '2.4' });
    const held: number[] = [];
    for (let pfn = __alloc_pages(cpu, 0, SITE_T); pfn >= 0; pfn = __alloc_pages(cpu, 0, SITE_T)) held.push(pfn);
    for (const pfn of held) if (pfn % 2 === 1) __free_page(cpu, pfn); // every odd page: order-0 holes only
    const free = zone_info(m).free;
    expect(free).toBe(held.filter((p) => p % 2 === 1).length);
    expect(free_area_counts(m)).toEqual([free, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const min = zone_wmark(cpu, WMARK_MIN);
    expect(free).toBeGreaterThan(4 * min);
    expect(zone_watermark_ok(cpu, 0, min)).toBe(true);
    expect(zone_watermark_ok(cpu, 1, min)).toBe(false);
    expect(__alloc_pages(cpu, 1, SITE_T)).toBe(-1);
    expect(__alloc_pages(cpu, 0, SITE_T)).toBeGreaterThan(0);
  });
});

describe('per-CPU lists', () => {
  it('split: refills batch pages per zone->lock, drains batch when count reaches high', () => {
    const { m, cpu } = boot({ mem: '64M', locks: 'split' });
    const pcp = cpu.pc + PC_PCP;
    const batch = m.w[pcp + PCP_BATCH]!;
    const high = m.w[pcp + PCP_HIGH]!;
    expect(batch).toBe(3);
    const acq0 = zoneLockAcq(cpu);
    const held: number[] = [];
    for (let i = 0; i < 10 * batch; i++) held.push(__alloc_pages(cpu, 0, SITE_T));
    expect(vm(cpu, 'pcp_refill')).toBe(10);
    expect(zoneLockAcq(cpu) - acq0).toBe(10);
    expect(m.w[pcp + PCP_COUNT]).toBe(0);
    expect(zone_info(m).free).toBe(16383 - 10 * batch);
    // pages come out of a refill in address order
    expect(held.slice(0, 3)).toEqual([1, 2, 3]);
    const acq1 = zoneLockAcq(cpu);
    for (let i = 0; i < high - 1; i++) __free_page(cpu, held.pop()!);
    expect(m.w[pcp + PCP_COUNT]).toBe(high - 1);
    expect(vm(cpu, 'pcp_drain')).toBe(0);
    expect(zoneLockAcq(cpu)).toBe(acq1); // frees to the pcp list take no lock
    __free_page(cpu, held.pop()!);
    expect(vm(cpu, 'pcp_drain')).toBe(1);
    expect(m.w[pcp + PCP_COUNT]).toBe(high - batch);
    expect(zoneLockAcq(cpu) - acq1).toBe(1);
    const map = new Uint8Array(m.layout.nrFrames);
    expect(check_free_lists(m, map)).toEqual([]);
    expect(map.filter((v) => v === FREE_PCP).length).toBe(high - batch);
    expect(nr_free_pages(m)).toBe(16383 - held.length);
    // the next allocation is the most recently freed page (hot), with no lock
    const acq2 = zoneLockAcq(cpu);
    const hot = m.w[pcp + PCP_HEAD]!;
    expect(__alloc_pages(cpu, 0, SITE_T)).toBe(hot);
    expect(zoneLockAcq(cpu)).toBe(acq2);
  });

  it('split: the drain returns the coldest pages (the list tail)', () => {
    const { m, cpu } = boot({ mem: '64M', locks: 'split' });
    const pcp = cpu.pc + PC_PCP;
    const high = m.w[pcp + PCP_HIGH]!;
    const batch = m.w[pcp + PCP_BATCH]!;
    const held: number[] = [];
    for (let i = 0; i < high; i++) held.push(__alloc_pages(cpu, 0, SITE_T));
    for (const pfn of held) __free_page(cpu, pfn); // first freed = coldest
    const map = new Uint8Array(m.layout.nrFrames);
    expect(check_free_lists(m, map)).toEqual([]);
    for (let i = 0; i < batch; i++) expect(map[held[i]!]).toBe(FREE_BUDDY);
    for (let i = batch; i < high; i++) expect(map[held[i]!]).toBe(FREE_PCP);
  });

  it('split: the pcp list ends in NIL at both ends (list_head sentinel): a push or pop never writes the cold tail', () => {
    const { m, cpu } = boot({ mem: '64M', locks: 'split' });
    const pcp = cpu.pc + PC_PCP;
    const held = [0, 1, 2, 3, 4, 5].map(() => __alloc_pages(cpu, 0, SITE_T));
    for (const pfn of held) __free_page(cpu, pfn);
    const tail = m.w[pcp + PCP_TAIL]!;
    const tp = pageStruct(m.layout, tail);
    expect(m.w[tp + PG_LRU_NEXT]).toBe(NIL);
    expect(m.w[pageStruct(m.layout, m.w[pcp + PCP_HEAD]!) + PG_LRU_PREV]).toBe(NIL);
    const tailWords = () => [m.w[tp + PG_LRU_NEXT], m.w[tp + PG_LRU_PREV], m.w[tp + PG_FLAGS]];
    const before = tailWords();
    const p = __alloc_pages(cpu, 0, SITE_T); // pops the head
    __free_page(cpu, p); // pushes it back
    expect(tailWords()).toEqual(before);
    expect(check_free_lists(m)).toEqual([]);
    m.w[pcp + PCP_TAIL] = m.w[pcp + PCP_HEAD]!; // a stale tail is reported
    expect(check_free_lists(m).join('\n')).toMatch(/tail .* but the list ends at/);
  });

  it('2.4: no pcp list, one zone->lock per page', () => {
    const { m, cpu } = boot({ mem: '64M', locks: '2.4' });
    const pcp = cpu.pc + PC_PCP;
    const acq0 = zoneLockAcq(cpu);
    const held: number[] = [];
    for (let i = 0; i < 30; i++) held.push(__alloc_pages(cpu, 0, SITE_T));
    expect(zoneLockAcq(cpu) - acq0).toBe(30);
    for (const pfn of held) __free_page(cpu, pfn);
    expect(zoneLockAcq(cpu) - acq0).toBe(60);
    expect(m.w[pcp + PCP_COUNT]).toBe(0);
    expect(vm(cpu, 'pcp_refill')).toBe(0);
    expect(vm(cpu, 'pcp_drain')).toBe(0);
    expect(vm(cpu, 'pgalloc_normal')).toBe(30);
    expect(vm(cpu, 'pgfree')).toBe(30);
    expect(zone_info(m).free).toBe(16383);
  });

  it('drain_all_pages empties every CPU slot', () => {
    const { m } = boot({ mem: '64M', cpus: 3, locks: 'split' });
    const cpus = [0, 1, 2, 3].map((c) => makeCpuBase(m, c));
    for (const c of cpus) {
      const ps = [0, 1, 2, 3, 4].map(() => __alloc_pages(c, 0, SITE_T));
      for (const p of ps) __free_page(c, p);
      expect(m.w[c.pc + PC_PCP + PCP_COUNT]).toBeGreaterThan(0);
    }
    drain_all_pages(cpus[0]!);
    for (const c of cpus) expect(m.w[c.pc + PC_PCP + PCP_COUNT]).toBe(0);
    expect(zone_info(m).free).toBe(16383);
    expect(check_free_lists(m)).toEqual([]);
  });
});

describe('steal_specific_page', () => {
  it('takes a chosen free page by splitting its block, and gives it back', () => {
    const { m, cpu } = boot({ mem: '64M', locks: '2.4' });
    const initial = free_area_counts(m);
    expect(steal_specific_page(cpu, 5000, 0, SITE_T)).toBe(true);
    const p = pageStruct(m.layout, 5000);
    expect(m.w[p + PG_COUNT]).toBe(1);
    expect(m.w[p + PG_FLAGS]).toBe(0);
    expect(zone_info(m).free).toBe(16382);
    // 5000 sat in the order-10 block at 4096: split into one block of each order 0..9
    expect(free_area_counts(m)).toEqual([1 + 1, 1 + 1, 1 + 1, 2, 2, 2, 2, 2, 2, 2, 14]);
    expect(check_free_lists(m)).toEqual([]);
    expect(steal_specific_page(cpu, 5000, 0, SITE_T)).toBe(false); // now allocated
    expect(steal_specific_page(cpu, 0, 0, SITE_T)).toBe(false); // reserved
    expect(steal_specific_page(cpu, 5008, 2, SITE_T)).toBe(true);
    expect(m.w[pageStruct(m.layout, 5011) + PG_PRIVATE]).toBe(5008);
    expect(steal_specific_page(cpu, 5008, 3, SITE_T)).toBe(false); // partly allocated
    expect(check_free_lists(m)).toEqual([]);
    __free_pages(cpu, 5008, 2);
    __free_page(cpu, 5000);
    expect(free_area_counts(m)).toEqual(initial);
    expect(vm(cpu, 'pgalloc_normal')).toBe(5);
    expect(() => steal_specific_page(cpu, 5001, 1, SITE_T)).toThrow(/aligned/);
  });

  it('does not take pages sitting on a pcp list until drained', () => {
    const { m, cpu } = boot({ mem: '64M', locks: 'split' });
    const pfn = __alloc_pages(cpu, 0, SITE_T);
    __free_page(cpu, pfn);
    expect(m.w[pageStruct(m.layout, pfn) + PG_FLAGS]).toBe(PG_pcp);
    expect(steal_specific_page(cpu, pfn, 0, SITE_T)).toBe(false);
    drain_local_pages(cpu);
    expect(steal_specific_page(cpu, pfn, 0, SITE_T)).toBe(true);
    expect(check_free_lists(m)).toEqual([]);
  });
});

describe('references', () => {
  it('get/put, testzero, get_page_unless_zero, reserved pages', () => {
    const { m, cpu } = boot({ locks: '2.4' });
    const pfn = __alloc_pages(cpu, 0, SITE_T);
    get_page(cpu, pfn);
    expect(page_count(cpu, pfn)).toBe(2);
    expect(get_page_unless_zero(cpu, pfn)).toBe(true);
    __free_page(cpu, pfn);
    __free_page(cpu, pfn);
    expect(page_count(cpu, pfn)).toBe(1);
    const free0 = zone_info(m).free;
    expect(put_page_testzero(cpu, pfn)).toBe(true); // last: the caller owns the free
    expect(zone_info(m).free).toBe(free0);
    __free_pages_ok(cpu, pfn, 0);
    expect(zone_info(m).free).toBe(free0 + 1);
    expect(get_page_unless_zero(cpu, pfn)).toBe(false);
    expect(() => __free_page(cpu, pfn)).toThrow(/free page/);
    __free_page(cpu, 0); // reserved: untouched
    expect(page_count(cpu, 0)).toBe(1);
    expect(check_free_lists(m)).toEqual([]);
  });

  it('debug builds refuse to free a page in use (bad_page)', () => {
    const { m, cpu } = boot({ locks: '2.4' });
    const pfn = __alloc_pages(cpu, 0, SITE_T);
    const p = pageStruct(m.layout, pfn);
    m.w[p + PG_MAPCOUNT] = 0; // still mapped
    expect(() => __free_page(cpu, pfn)).toThrow(/_mapcount 0/);
    const q = __alloc_pages(cpu, 0, SITE_T);
    Atomics.or(m.w, pageStruct(m.layout, q) + PG_FLAGS, PG_lru);
    expect(() => __free_page(cpu, q)).toThrow(/flags/);
    const r = __alloc_pages(cpu, 0, SITE_T);
    m.w[pageStruct(m.layout, r) + PG_MAPPING] = 5; // a file page still in the cache
    expect(() => __free_page(cpu, r)).toThrow(/page cache/);
    const s = __alloc_pages(cpu, 2, SITE_T);
    expect(() => __free_pages(cpu, s, 1)).toThrow(/order/);
  });
});

describe('check_free_lists', () => {
  const zoneFree = (m: Machine) => globalLine(m.layout, G_ZONE) + Z_FREE;
  const head = (m: Machine, o: number) => m.w[globalLine(m.layout, G_ZONE_AREA) + o]!;
  const plant: [string, (m: Machine, cpu: CpuBase) => void, RegExp][] = [
    ['a head without PG_buddy', (m) => (m.w[pageStruct(m.layout, head(m, 3)) + PG_FLAGS] = 0), /lacks PG_buddy/],
    ['a wrong order', (m) => (m.w[pageStruct(m.layout, head(m, 3)) + PG_ORDER] = 2), /has order 2/],
    ['nr_free off by one', (m) => m.w[globalLine(m.layout, G_ZONE_AREA + 1) + 5]!++, /nr_free/],
    ['Z_FREE off', (m) => m.w[zoneFree(m)]!--, /Z_FREE/],
    ['a stray PG_buddy inside a block', (m) => (m.w[pageStruct(m.layout, head(m, 10) + 5) + PG_FLAGS] = PG_buddy), /not on a free list/],
    [
      'overlapping blocks',
      (m) => {
        // claim that the order-2 block at 4 is order 3: it would cover 4..11, overlapping 8 (order 3)
        const h = head(m, 2);
        m.w[pageStruct(m.layout, h) + PG_ORDER] = 3;
      },
      /has order 3/,
    ],
    ['a free page with a count', (m) => (m.w[pageStruct(m.layout, head(m, 0)) + PG_COUNT] = 1), /_count 1/],
    [
      'a pcp page without PG_pcp',
      (m, cpu) => {
        const p = __alloc_pages(cpu, 0, SITE_T);
        __free_page(cpu, p);
        m.w[pageStruct(m.layout, p) + PG_FLAGS] = 0;
      },
      /want PG_pcp/,
    ],
    [
      'a pcp count mismatch',
      (m, cpu) => {
        const p = __alloc_pages(cpu, 0, SITE_T);
        __free_page(cpu, p);
        m.w[cpu.pc + PC_PCP + PCP_COUNT]!++;
      },
      /pages listed/,
    ],
    [
      'a pcp page spliced into a buddy list',
      (m, cpu) => {
        const p = __alloc_pages(cpu, 0, SITE_T);
        __free_page(cpu, p);
        let o = 0;
        while (head(m, o) === NIL) o++;
        const b = head(m, o);
        const pp = pageStruct(m.layout, p);
        m.w[pp + PG_LRU_NEXT] = b;
        m.w[pp + PG_LRU_PREV] = NIL;
        m.w[pageStruct(m.layout, b) + PG_LRU_PREV] = p;
        m.w[globalLine(m.layout, G_ZONE_AREA) + o] = p;
      },
      /lacks PG_buddy/,
    ],
    [
      'two CPUs sharing one pcp list',
      (m, cpu) => {
        const p = __alloc_pages(cpu, 0, SITE_T);
        __free_page(cpu, p);
        const other = makeCpuBase(m, 1);
        m.w[other.pc + PC_PCP + PCP_HEAD] = m.w[cpu.pc + PC_PCP + PCP_HEAD]!;
        m.w[other.pc + PC_PCP + PCP_COUNT] = m.w[cpu.pc + PC_PCP + PCP_COUNT]!;
      },
      /also free elsewhere/,
    ],
    ['a list cycle', (m) => (m.w[pageStruct(m.layout, head(m, 10)) + PG_LRU_NEXT] = head(m, 10)), /cycle|prev/],
  ];
  for (const [what, corrupt, re] of plant) {
    it(`catches ${what}`, () => {
      const { m, cpu } = boot({ mem: '64M', locks: 'split' });
      expect(check_free_lists(m)).toEqual([]);
      corrupt(m, cpu);
      const v = check_free_lists(m);
      expect(v.length).toBeGreaterThan(0);
      expect(v.join('\n')).toMatch(re);
    });
  }
});

describe('random alloc/free (fixed seeds)', () => {
  for (const [locks, seed] of [
    ['split', 1],
    ['2.4', 2],
    ['split', 3],
  ] as const) {
    it(`${locks} seed ${seed}: conservation and consistent lists`, () => {
      const { m } = boot({ mem: '8M', locks, cpus: 2 });
      const cpus = [makeCpuBase(m, 0), makeCpuBase(m, 1)];
      const total = nr_free_pages(m);
      const initial = free_area_counts(m);
      const r = rng(seed * 7919);
      const held: [number, number][] = [];
      let inUse = 0;
      for (let step = 0; step < 20000; step++) {
        const cpu = cpus[step & 1]!;
        if (held.length === 0 || r() < 0.55) {
          const order = r() < 0.8 ? 0 : Math.floor(r() * 6);
          const pfn = __alloc_pages(cpu, order, SITE_T);
          if (pfn >= 0) {
            held.push([pfn, order]);
            inUse += 1 << order;
          }
        } else {
          const i = Math.floor(r() * held.length);
          const [pfn, order] = held[i]!;
          held[i] = held[held.length - 1]!;
          held.pop();
          __free_pages(cpu, pfn, order);
          inUse -= 1 << order;
        }
        if (step % 2500 === 0) {
          const map = new Uint8Array(m.layout.nrFrames);
          expect(check_free_lists(m, map)).toEqual([]);
          for (const [pfn, order] of held) for (let k = 0; k < 1 << order; k++) expect(map[pfn + k]).toBe(FREE_NONE);
        }
        expect(nr_free_pages(m) + inUse).toBe(total);
      }
      for (const [pfn, order] of held) __free_pages(cpus[0]!, pfn, order);
      drain_all_pages(cpus[0]!);
      expect(free_area_counts(m)).toEqual(initial);
      expect(check_free_lists(m)).toEqual([]);
    });
  }
});
