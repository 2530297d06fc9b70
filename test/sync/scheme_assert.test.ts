/*
 * scheme_assert.test.ts — the "caller holds" checks of sync/scheme.ts (and
 * filemap's cache_assert_locked) under every lock scheme: each throws when
 * this CPU does not hold the lock the scheme maps the contract to, passes
 * while it does, and is a no-op with config.debug off. Then a few asserted
 * functions called without their lock (the buddy allocator, the LRU, the
 * page cache, a reverse-map chain) fail the same way.
 */
import { describe, it, expect } from 'vitest';
import { createMachine, type Machine } from '../../src/machine/machine.js';
import { makeCpuBase, type CpuBase } from '../../src/machine/cpu.js';
import { SITE } from '../../src/sync/classes.js';
import {
  mmap_read_lock,
  mmap_read_unlock,
  mmap_write_lock,
  mmap_write_unlock,
  mmap_assert_locked,
  mmap_assert_write_locked,
  pte_lock,
  pte_unlock,
  pte_assert_locked,
  mm_ptl_lock,
  mm_ptl_unlock,
  mm_ptl_assert_locked,
  lru_lock,
  lru_unlock,
  lru_assert_locked,
  zone_lock,
  zone_unlock,
  zone_assert_locked,
  swap_lock,
  swap_unlock,
  swap_assert_locked,
  mapping_lock,
  mapping_unlock,
  mapping_assert_locked,
  chain_lock,
  chain_unlock,
  chain_assert_locked,
  mmlist_lock,
  mmlist_unlock,
  scheme_assert_spin_locked,
} from '../../src/sync/scheme.js';
import { C_MMLIST_LOCK } from '../../src/sync/classes.js';
import { G_MMLIST, globalLine } from '../../src/machine/layout.js';
import { cache_lock, cache_unlock, cache_assert_locked, __find_page } from '../../src/mm/filemap.js';
import { SWAPPER_SPACE, mappingOfInode } from '../../src/machine/page.js';
import { __rmqueue } from '../../src/mm/page_alloc.js';
import { lru_tail } from '../../src/reclaim/lru.js';
import { pte_link } from '../../src/rmap/ptechain.js';

const MM = 0;
const PT = 5; // a page-table page's pfn (the split scheme's lock lives in its struct page)
const PFN = 7;
const INODE = 0;

function machine(locks: string, extra: Record<string, unknown> = {}): Machine {
  return createMachine({ cpus: 2, mem: '4M', swap: '1M', lockImpl: 'ticket', lockdep: true, debug: true, locks, ...extra });
}
/** The main thread as a CPU: the kswapd slot, unused here. */
const cpuOf = (m: Machine): CpuBase => makeCpuBase(m, 2);

/** [name, assert, lock, unlock] for each contract */
const contracts: [string, (c: CpuBase) => void, (c: CpuBase) => void, (c: CpuBase) => void][] = [
  ['mmap_assert_locked (read)', (c) => mmap_assert_locked(c, MM), (c) => mmap_read_lock(c, MM, SITE.exit_mmap), (c) => mmap_read_unlock(c, MM)],
  ['mmap_assert_write_locked', (c) => mmap_assert_write_locked(c, MM), (c) => mmap_write_lock(c, MM, SITE.exit_mmap), (c) => mmap_write_unlock(c, MM)],
  ['pte_assert_locked', (c) => pte_assert_locked(c, MM, PT), (c) => void (ptl = pte_lock(c, MM, PT, SITE.swap_out)), (c) => pte_unlock(c, ptl)],
  ['mm_ptl_assert_locked', (c) => mm_ptl_assert_locked(c, MM), (c) => mm_ptl_lock(c, MM, SITE.exit_mmap), (c) => mm_ptl_unlock(c, MM)],
  ['lru_assert_locked', lru_assert_locked, (c) => lru_lock(c, SITE.shrink_list), lru_unlock],
  ['zone_assert_locked', zone_assert_locked, (c) => zone_lock(c, SITE.free_pages_bulk), zone_unlock],
  ['swap_assert_locked', swap_assert_locked, (c) => swap_lock(c, SITE.free_pages_bulk), swap_unlock],
  ['mapping_assert_locked', (c) => mapping_assert_locked(c, INODE), (c) => mapping_lock(c, INODE, SITE.add_to_page_cache), (c) => mapping_unlock(c, INODE)],
  ['chain_assert_locked', (c) => chain_assert_locked(c, PFN), (c) => chain_lock(c, PFN, SITE.page_add_rmap), (c) => chain_unlock(c, PFN)],
  [
    'scheme_assert_spin_locked (mmlist_lock)',
    (c) => scheme_assert_spin_locked(c, globalLine(c.l, G_MMLIST), C_MMLIST_LOCK),
    (c) => mmlist_lock(c, SITE.free_pages_bulk),
    mmlist_unlock,
  ],
  [
    'cache_assert_locked (file mapping)',
    (c) => cache_assert_locked(c, mappingOfInode(INODE)),
    (c) => cache_lock(c, mappingOfInode(INODE), SITE.add_to_page_cache),
    (c) => cache_unlock(c, mappingOfInode(INODE)),
  ],
  ['cache_assert_locked (swapper_space)', (c) => cache_assert_locked(c, SWAPPER_SPACE), (c) => cache_lock(c, SWAPPER_SPACE, SITE.add_to_page_cache), (c) => cache_unlock(c, SWAPPER_SPACE)],
];
let ptl = 0;

describe.each(['bkl', '2.4', 'split'])('under the %s scheme', (locks) => {
  it.each(contracts)('%s: throws unless held, passes while held', (_name, check, lock, unlock) => {
    const m = machine(locks);
    const c = cpuOf(m);
    const other = makeCpuBase(m, 0);
    expect(() => check(c)).toThrow(/does not hold/);
    lock(c);
    check(c);
    expect(() => check(other), 'another CPU passes the check').toThrow(/does not hold/);
    unlock(c);
    expect(() => check(c)).toThrow(/does not hold/);
  });

  it.each(contracts)('%s: a no-op with config.debug off', (_name, check) => {
    const c = cpuOf(machine(locks, { debug: false }));
    check(c);
  });

  it('asserted functions called without their lock throw: __rmqueue, lru_tail, __find_page, pte_link', () => {
    const m = machine(locks);
    const c = cpuOf(m);
    expect(() => __rmqueue(c, 0)).toThrow(/does not hold/);
    expect(() => lru_tail(c, false)).toThrow(/does not hold/);
    expect(() => __find_page(c, mappingOfInode(INODE), 0)).toThrow(/does not hold/);
    expect(() => pte_link(c, PFN, 0x1000)).toThrow(/does not hold/);
    zone_lock(c, SITE.free_pages_bulk);
    expect(__rmqueue(c, 0)).toBeGreaterThanOrEqual(0);
    zone_unlock(c);
  });
});

describe('planted bugs', () => {
  it('no_zone_lock / no_lru_lock: the lock is never taken, so there is nothing to assert', () => {
    const c = cpuOf(machine('2.4', { inject: 'no_zone_lock' }));
    zone_assert_locked(c);
    const d = cpuOf(machine('2.4', { inject: 'no_lru_lock' }));
    lru_assert_locked(d);
  });
});
