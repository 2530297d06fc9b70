/*
 * stats.ts — the reclaim gauges for results (nr_free_pages, LRU sizes, swap
 * usage): values at one moment, not event counters (those are vmstat's).
 * Any thread; exact when the machine is quiescent (after a run).
 */
import type { Machine } from '../machine/machine.js';
import { nr_free_pages, zone_info } from '../mm/page_alloc.js';
import { lru_sizes } from './lru.js';
import { swap_info } from './swapfile.js';

export interface ReclaimStats {
  nr_free_pages: number;
  /** watermarks, pages */
  pages_min: number;
  pages_low: number;
  pages_high: number;
  nr_active: number;
  nr_inactive: number;
  /** usable swap slots, slots in use */
  swap_total: number;
  swap_used: number;
  policy: string;
}

/** The reclaim gauges of machine m (for the results builder). */
export function reclaim_stats(m: Machine): ReclaimStats {
  const z = zone_info(m);
  const lru = lru_sizes(m);
  const sw = swap_info(m);
  return {
    nr_free_pages: nr_free_pages(m),
    pages_min: z.min,
    pages_low: z.low,
    pages_high: z.high,
    nr_active: lru.active,
    nr_inactive: lru.inactive,
    swap_total: sw.total,
    swap_used: sw.inuse,
    policy: m.cfg.policy,
  };
}
