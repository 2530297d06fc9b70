/*
 * report/lockstat_brief.ts — lock_stat for a terminal: one row per lock
 * class (and rw side), the columns a reader looks at first, in under 100
 * columns. The kernel's /proc/lock_stat layout (report/lockstat.ts
 * formatLockStat, up to 285 columns wide) stays the one for files, pipes,
 * `--all` and the JSON rows; this view reads the same rows.
 *
 * Columns: contentions and acquisitions (and the bounces of each: the
 * line moved to another CPU), total and average wait, average hold when
 * measured (--hold-time), and the contention point most waited at.
 * Pure function of the rows; no locking.
 */
import Table from 'cli-table3';
import type { LockStatRow } from './lockstat.js';

const fmtUs = (us: number) => (us >= 1e6 ? `${(us / 1e6).toFixed(2)} s` : us >= 1e3 ? `${(us / 1e3).toFixed(2)} ms` : `${us.toFixed(2)} us`);
const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** The terminal view of lock_stat rows (busiest first by total wait, then acquisitions). */
export function formatLockStatBrief(rows: readonly LockStatRow[], holdTime: boolean): string {
  const t = new Table({
    head: ['class', 'contended', 'con-bounces', 'acquired', 'acq-bounces', 'wait total', 'wait avg', ...(holdTime ? ['hold avg'] : []), 'top contention point'],
    style: { head: [], border: [] },
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', ...(holdTime ? (['right'] as const) : []), 'left'],
  });
  const sorted = [...rows].sort((a, b) => b['waittime-total'] - a['waittime-total'] || b.acquisitions - a.acquisitions);
  for (const r of sorted) {
    const top = r['contention-points'][0];
    t.push([
      r['class name'].slice(0, 28),
      n(r.contentions),
      n(r['con-bounces']),
      n(r.acquisitions),
      n(r['acq-bounces']),
      r.contentions ? fmtUs(r['waittime-total']) : '-',
      r.contentions ? fmtUs(r['waittime-avg']) : '-',
      ...(holdTime ? [r.acquisitions ? fmtUs(r['holdtime-avg']) : '-'] : []),
      top ? `${top.site} (${n(top.contentions)})` : '',
    ]);
  }
  return t.toString() + '\n';
}
