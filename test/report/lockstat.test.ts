/*
 * lockstat.test.ts — the lock_stat views: rows summed over CPUs from known
 * per-CPU counters, the /proc/lock_stat v0.4 text (header, column alignment,
 * row parse, contention points), and the perf lock contention table.
 */
import { describe, it, expect } from 'vitest';
import { createMachine } from '../../src/machine/machine.js';
import { makeCpuBase } from '../../src/machine/cpu.js';
import { globalLine } from '../../src/machine/layout.js';
import { lockstatAcquired, lockstatHeld } from '../../src/sync/lockstat.js';
import { C_MMAP_SEM, C_ZONE_LOCK, C_PAGE_LOCK, SITE } from '../../src/sync/classes.js';
import { lockStatRows, topContentionSites } from '../../src/sync/lockstat_rows.js';
import { formatLockStat, lockStatTime, formatPerfLockContention, perfTime } from '../../src/report/lockstat.js';

/** A machine whose lock_stat blocks hold a known history (times in ms, as the locks record them). */
function knownHistory() {
  const m = createMachine({ cpus: 2, mem: '4M', swap: 0 });
  const c0 = makeCpuBase(m, 0);
  const c1 = makeCpuBase(m, 1);
  const sem = globalLine(m.layout, 13);
  const zone = globalLine(m.layout, 14);
  const page = globalLine(m.layout, 15);
  // mmap_sem, write side: cpu0 uncontended at do_mmap, cpu1 waits 2.5 us at do_munmap
  lockstatAcquired(c0, sem, C_MMAP_SEM, 0, SITE.do_mmap, -1, 0);
  lockstatAcquired(c1, sem, C_MMAP_SEM, 0, SITE.do_munmap, 0.0025, 7);
  lockstatHeld(c0, C_MMAP_SEM, 0, 1.0);
  lockstatHeld(c1, C_MMAP_SEM, 0, 3.0);
  // read side: cpu0 waits 10 us at handle_mm_fault (behind cpu1's do_munmap), cpu1 reads uncontended
  lockstatAcquired(c0, sem, C_MMAP_SEM, 1, SITE.handle_mm_fault, 0.01, 3);
  lockstatAcquired(c1, sem, C_MMAP_SEM, 1, SITE.handle_mm_fault, -1, 0);
  // zone lock: 100 uncontended acquisitions on cpu0
  for (let i = 0; i < 100; i++) lockstatAcquired(c0, zone, C_ZONE_LOCK, 0, SITE.__alloc_pages, -1, 0);
  // page lock: one contended acquisition that slept 1.5 ms
  lockstatAcquired(c1, page, C_PAGE_LOCK, 0, SITE.lock_page, -1, 0);
  lockstatAcquired(c0, page, C_PAGE_LOCK, 0, SITE.do_swap_page, 1.5, 1);
  return m;
}

/** The 12 numeric fields of a lock_stat row, each right-aligned to the header's columns. */
const FIELD = (k: number) => [41 + 15 * k, 55 + 15 * k] as const;

describe('lockStatRows', () => {
  it('sums per-CPU blocks into kernel columns, times in microseconds, most contended class first', () => {
    const rows = lockStatRows(knownHistory());
    expect(rows.map((r) => r['class name'])).toEqual(['&mm->mmap_sem-W', '&mm->mmap_sem-R', 'PG_locked', '&zone->lock']);
    const [w, r, pg, zone] = rows;
    expect(w).toMatchObject({
      class: '&mm->mmap_sem',
      rw: 'W',
      'con-bounces': 1,
      contentions: 1,
      'acq-bounces': 1,
      acquisitions: 2,
      spins: 7,
      'contention-points': [{ site: 'do_munmap', contentions: 1 }],
      'contending-points': [{ site: 'do_mmap', contentions: 1 }],
    });
    expect(w!['waittime-min']).toBeCloseTo(2.5, 9);
    expect(w!['waittime-avg']).toBeCloseTo(2.5, 9);
    expect([w!['holdtime-min'], w!['holdtime-max'], w!['holdtime-total'], w!['holdtime-avg']]).toEqual([1000, 3000, 4000, 2000]);
    expect(r).toMatchObject({ rw: 'R', contentions: 1, 'con-bounces': 1, acquisitions: 2, 'acq-bounces': 2 });
    expect(r!['contending-points']).toEqual([{ site: 'do_munmap', contentions: 1 }]);
    expect(pg).toMatchObject({ rw: '', contentions: 1, acquisitions: 2, 'waittime-max': 1500 });
    expect(zone).toMatchObject({ rw: '', contentions: 0, acquisitions: 100, 'acq-bounces': 0, 'contention-points': [] });
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
  });
});

describe('formatLockStat (/proc/lock_stat v0.4)', () => {
  const text = formatLockStat(lockStatRows(knownHistory()));
  const lines = text.split('\n');

  it('prints the v0.4 header', () => {
    expect(lines[0]).toBe('lock_stat version 0.4');
    expect(lines[1]).toBe('-'.repeat(221));
    expect(lines[3]).toBe('-'.repeat(221));
    expect(lines[4]).toBe('');
    const h = lines[2]!;
    expect(h.slice(0, 40)).toBe('class name'.padStart(40));
    const names = [
      'con-bounces', 'contentions', 'waittime-min', 'waittime-max', 'waittime-total', 'waittime-avg',
      'acq-bounces', 'acquisitions', 'holdtime-min', 'holdtime-max', 'holdtime-total', 'holdtime-avg',
    ];
    names.forEach((n, k) => expect(h.slice(...FIELD(k))).toBe(n.padStart(14)));
    expect(h.length).toBe(220);
  });

  it('prints rows that parse back to the counters, aligned under the header', () => {
    const row = (name: string) => lines.find((l) => l.slice(0, 41).trim() === name)!;
    const parse = (l: string) => Array.from({ length: 12 }, (_, k) => l.slice(...FIELD(k)).trim());
    const w = row('&mm->mmap_sem-W:');
    expect(w.slice(0, 41)).toBe(`${'&mm->mmap_sem'.padStart(38)}-W:`);
    expect(parse(w)).toEqual(['1', '1', '2.50', '2.50', '2.50', '2.50', '1', '2', '1000.00', '3000.00', '4000.00', '2000.00']);
    expect(w.length).toBe(220);
    expect(parse(row('&mm->mmap_sem-R:'))).toEqual(['1', '1', '10.00', '10.00', '10.00', '10.00', '2', '2', '0.00', '0.00', '0.00', '0.00']);
    const zone = row('&zone->lock:');
    expect(zone.slice(0, 41)).toBe(`${'&zone->lock'.padStart(40)}:`);
    expect(parse(zone)).toEqual(['0', '0', '0.00', '0.00', '0.00', '0.00', '0', '100', '0.00', '0.00', '0.00', '0.00']);
    expect(parse(row('PG_locked:')).slice(1, 6)).toEqual(['1', '1500.00', '1500.00', '1500.00', '1500.00']);
  });

  it('lists contention and contending points after a contended class, then a dotted line', () => {
    const i = lines.findIndex((l) => l.slice(0, 41).trim() === '&mm->mmap_sem-R:');
    const namelen = '&mm->mmap_sem'.length + 2;
    expect(lines[i + 1]).toBe(' '.repeat(40 - namelen) + '-'.repeat(namelen));
    const point = /^\s*(\S+) +(\d+) +\[<([0-9a-f]{16})>\] (\S+)$/;
    const contention = [lines[i + 2], lines[i + 3]].map((l) => point.exec(l!)!.slice(1));
    expect(contention).toEqual([
      ['&mm->mmap_sem', '1', SITE.do_munmap.toString(16).padStart(16, '0'), 'do_munmap'],
      ['&mm->mmap_sem', '1', SITE.handle_mm_fault.toString(16).padStart(16, '0'), 'handle_mm_fault'],
    ]);
    expect(lines[i + 2]!.indexOf('&mm->mmap_sem')).toBe(40 - '&mm->mmap_sem'.length);
    expect(lines[i + 4]).toBe(lines[i + 1]); // contending points
    expect(point.exec(lines[i + 5]!)![4]).toMatch(/^do_m(un)?map$/);
    expect(lines[i + 7]).toBe('');
    expect(lines[i + 8]).toBe('.'.repeat(221));
    expect(lines[i + 9]).toBe('');
    // an uncontended class gets no point lines
    const z = lines.findIndex((l) => l.slice(0, 41).trim() === '&zone->lock:');
    expect(lines[z + 1] ?? '').toBe('');
  });

  it('rounds times as snprint_time does', () => {
    expect(lockStatTime(0)).toBe('0.00');
    expect(lockStatTime(2.5)).toBe('2.50');
    expect(lockStatTime(0.004)).toBe('0.00');
    expect(lockStatTime(0.005)).toBe('0.01');
    expect(lockStatTime(1234.5678)).toBe('1234.57');
  });
});

describe('perf lock contention', () => {
  it('scales times to a unit in a 12-column field', () => {
    expect(perfTime(999)).toBe('      999 ns');
    expect(perfTime(1500)).toBe('     1.50 us');
    expect(perfTime(2.5e6)).toBe('     2.50 ms');
    expect(perfTime(3e9)).toBe('     3.00 s ');
    expect(perfTime(90e9)).toBe('     1.50 m ');
  });

  it('lists callers by total wait with type and caller columns', () => {
    const sites = topContentionSites(knownHistory());
    expect(sites.map((s) => [s.caller, s.type, s.contended])).toEqual([
      ['do_swap_page', 'mutex', 1],
      ['handle_mm_fault', 'rwsem:R', 1],
      ['do_munmap', 'rwsem:W', 1],
    ]);
    const lines = formatPerfLockContention(sites).split('\n');
    expect(lines[0]).toBe(' contended   total wait     max wait     avg wait         type   caller');
    expect(lines[1]).toBe('');
    expect(lines[2]).toBe('         1      1.50 ms      1.50 ms      1.50 ms        mutex   do_swap_page');
    expect(lines[3]).toBe('         1     10.00 us     10.00 us     10.00 us      rwsem:R   handle_mm_fault');
    const row = /^ *(\d+) +([\d.]+) (ns|us|ms|s |m |h ) +([\d.]+) (ns|us|ms|s |m |h ) +([\d.]+) (ns|us|ms|s |m |h ) +(\S+) +(\S+)$/;
    expect(row.exec(lines[4]!)!.slice(1)).toEqual(['1', '2.50', 'us', '2.50', 'us', '2.50', 'us', 'rwsem:W', 'do_munmap']);
  });
});
