/*
 * report/lockstat_brief.ts — lock_stat for a terminal: one row per lock
 * class (and rw side), the columns a reader looks at first, in under 100
 * columns. The kernel's /proc/lock_stat layout (report/lockstat.ts
 * formatLockStat, up to 285 columns wide) stays the one for files, pipes,
 * `--all` and the JSON rows; this view reads the same rows.
 *
 * Columns: contentions, acquisitions and acq-bounces (the lock's line came
 * from another CPU), total wait, average hold when measured (--hold-time),
 * and the contention point most waited at. Averages, minima, maxima and
 * con-bounces are in the kernel layout.
 * Pure function of the rows; no locking.
 */
import Table from 'cli-table3';
import type { LockStatRow } from '../sync/lockstat_rows.js';

const fmtUs = (us: number) => (us >= 1e6 ? `${(us / 1e6).toFixed(2)} s` : us >= 1e3 ? `${(us / 1e3).toFixed(2)} ms` : `${us.toFixed(2)} us`);
const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** Borderless: columns separated by two spaces, a rule under the header. */
const CHARS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '  ',
};

/** The terminal view of lock_stat rows (busiest first by total wait, then acquisitions); under 100 columns. */
export function formatLockStatBrief(rows: readonly LockStatRow[], holdTime: boolean): string {
  const head = ['class', 'contended', 'acquired', 'acq-bounces', 'wait total', ...(holdTime ? ['hold avg'] : []), 'most waited at'];
  const t = new Table({
    head,
    chars: CHARS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colAligns: ['left', 'right', 'right', 'right', 'right', ...(holdTime ? (['right'] as const) : []), 'left'],
  });
  const sorted = [...rows].sort((a, b) => b['waittime-total'] - a['waittime-total'] || b.acquisitions - a.acquisitions);
  for (const r of sorted) {
    const top = r['contention-points'][0];
    t.push([
      r['class name'].slice(0, 24),
      n(r.contentions),
      n(r.acquisitions),
      n(r['acq-bounces']),
      r.contentions ? fmtUs(r['waittime-total']) : '-',
      ...(holdTime ? [r.acquisitions ? fmtUs(r['holdtime-avg']) : '-'] : []),
      top ? top.site.slice(0, 24) : '',
    ]);
  }
  const lines = t.toString().split('\n');
  const rule = '-'.repeat(Math.max(...lines.map((l) => l.length)));
  return [lines[0], rule, ...lines.slice(1)].map((l) => l.trimEnd()).join('\n') + '\n';
}
