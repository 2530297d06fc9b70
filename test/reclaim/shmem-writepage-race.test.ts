/*
 * shmem_writepage against a speculative read of its fresh slot (the CI
 * failure of 2026-12-07: "shmem_writepage: fresh swap entry … already
 * cached", 2.4, 2 CPUs + kswapd). get_swap_page hands out a slot whose count
 * is the caller's before anything is cached under it; another CPU's
 * swapin_readahead, reading the neighbours of its faulting slot, sees the
 * slot in use and caches a page under it first. 2.6's move_to_swap_cache
 * then fails with -EEXIST and shmem_writepage keeps the page in its inode
 * and gives the slot back; so does smpvm now, and add_to_swap (anonymous
 * pages) takes another slot, as 2.6's does. The race is made
 * deterministic here: get_swap_page is wrapped (vi.mock) so that the
 * speculative read happens right after it.
 */
import { describe, it, expect, vi } from 'vitest';
import { NIL, PG_COUNT, PG_PRIVATE, pageStruct, shmemSwpEntry } from '../../src/machine/layout.js';
import { alloc_page } from '../../src/mm/page_alloc.js';
import { __free_page } from '../../src/mm/page_ref.js';
import { SWAPPER_SPACE, mappingOfInode } from '../../src/machine/page.js';
import { shmem_inode_new, inode_put } from '../../src/mm/shmem.js';
import { page_cache_mapping } from '../../src/mm/filemap.js';
import { SITE } from '../../src/sync/classes.js';
import { trylock_page, unlock_page } from '../../src/sync/pagelock.js';
import { check_invariants } from '../../src/sim/checker.js';
import type { CpuBase } from '../../src/machine/cpu.js';
import { bootR, vmsum } from './helpers.js';
import { LOCK_SCHEMES } from '../../src/config.js';

const race = vi.hoisted(() => ({ on: false, entry: 0, readahead: -1, read: null as null | ((cpu: CpuBase, entry: number) => number) }));
vi.mock('../../src/reclaim/swapfile.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/reclaim/swapfile.js')>();
  return {
    ...mod,
    get_swap_page: (cpu: CpuBase) => {
      const entry = mod.get_swap_page(cpu);
      if (race.on && entry !== 0) {
        race.on = false;
        race.entry = entry;
        race.readahead = race.read!(cpu, entry); // another CPU's swapin_readahead
      }
      return entry;
    },
  };
});
const { shmem_writepage, SHMEM_BUSY, SHMEM_MOVED } = await import('../../src/reclaim/shmem_swap.js');
const { shmem_getpage } = await import('../../src/reclaim/shmem_swap.js');
const { put_page, lru_add_drain } = await import('../../src/reclaim/lru.js');
const { swap_count } = await import('../../src/reclaim/swapfile.js');
const { read_swap_cache_async, add_to_swap, delete_from_swap_cache } = await import('../../src/reclaim/swap_state.js');
race.read = (cpu, entry) => read_swap_cache_async(cpu, entry, NIL, true);

describe.each(LOCK_SCHEMES)('shmem_writepage and a speculative read of its fresh slot (%s)', (locks) => {
  it('keeps the page in its inode, gives the slot back, counts shmem_swapout_raced; the next write-out moves it', () => {
    const { m, cpu } = bootR({ mem: '2M', swap: '8M', filePages: 16, maxFiles: 4, locks });
    const ino = shmem_inode_new(cpu, 4);
    const mapping = mappingOfInode(ino);
    const pfn = shmem_getpage(cpu, ino, 0, NIL); // the inode cache's reference and ours
    expect(pfn).toBeGreaterThan(0);
    lru_add_drain(cpu); // the pagevec's reference: now _count is the cache's and ours, as shrink_list sees it
    expect(m.w[pageStruct(m.layout, pfn) + PG_COUNT]).toBe(2);
    expect(trylock_page(cpu, pfn, SITE.test)).toBe(true); // as shrink_list holds it

    race.on = true;
    expect(shmem_writepage(cpu, pfn)).toBe(SHMEM_BUSY); // threw "fresh swap entry … already cached"
    expect(race.readahead).toBeGreaterThan(0);
    expect(page_cache_mapping(cpu, pfn)).toBe(mapping); // still the inode's
    expect(m.w[pageStruct(m.layout, pfn) + PG_COUNT]).toBe(2); // the cache's and ours, as before
    expect(m.w[shmemSwpEntry(m.layout, ino, 0)]).toBe(0); // no entry recorded
    expect(page_cache_mapping(cpu, race.readahead)).toBe(SWAPPER_SPACE); // the stale copy, cached under the slot
    expect(swap_count(cpu, race.entry)).toBe(1); // its count alone: ours was given back
    expect(vmsum(m, 'shmem_swapout_raced')).toBe(1);

    // the next write-out gets another slot and moves the page
    expect(shmem_writepage(cpu, pfn)).toBe(SHMEM_MOVED);
    expect(page_cache_mapping(cpu, pfn)).toBe(SWAPPER_SPACE);
    expect(m.w[shmemSwpEntry(m.layout, ino, 0)]).not.toBe(0);
    unlock_page(cpu, pfn);
    put_page(cpu, pfn);
    put_page(cpu, race.readahead); // read_swap_cache_async's reference to the speculative copy
    expect(check_invariants(cpu).violations).toEqual([]);
    inode_put(cpu, ino);
  });

  it('add_to_swap takes another slot (2.6 add_to_swap: -EEXIST, "raced with speculative read_swap_cache_async")', () => {
    const { cpu } = bootR({ mem: '2M', swap: '8M', locks });
    const pfn = alloc_page(cpu, SITE.test);
    expect(trylock_page(cpu, pfn, SITE.test)).toBe(true);
    race.on = true;
    expect(add_to_swap(cpu, pfn)).toBe(true); // returned false (the page activated as if swap were full)
    const entry = cpu.w[pageStruct(cpu.l, pfn) + PG_PRIVATE]!;
    expect(page_cache_mapping(cpu, pfn)).toBe(SWAPPER_SPACE);
    expect(entry).not.toBe(race.entry);
    expect(swap_count(cpu, entry)).toBe(1); // the swap cache's
    expect(swap_count(cpu, race.entry)).toBe(1); // the speculative copy's
    delete_from_swap_cache(cpu, pfn);
    unlock_page(cpu, pfn);
    __free_page(cpu, pfn);
    put_page(cpu, race.readahead);
    expect(check_invariants(cpu).violations).toEqual([]);
  });
});
