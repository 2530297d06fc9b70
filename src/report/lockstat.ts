/*
 * report/lockstat.ts — lock_stat views of a finished run: the /proc/lock_stat
 * v0.4 text and a `perf lock contention` table of the top contention points,
 * printed from the rows src/sync/lockstat_rows.ts reads out of the buffer
 * (JSON first: the rows are what a run's results carry).
 *
 * Input: LockStatRow / ContentionSite rows (times in microseconds /
 * nanoseconds); nothing here reads the machine.
 *
 * The text layouts follow the kernel sources:
 *   - kernel/locking/lockdep_proc.c (seq_header, seq_stats, seq_lock_time,
 *     snprint_time): 40-column class names, 14-column numbers, "-W"/"-R"
 *     rows for classes taken both ways, up to LOCKSTAT_POINTS contention and
 *     contending points per class, a dotted line after each class with points;
 *   - tools/perf/builtin-lock.c (print_header_stdio, print_lock_stat_stdio,
 *     lock_stat_key_print_time): "contended" (10) and time keys (12) then
 *     type (10) and caller, sorted by total wait.
 * Call sites have no addresses here; the "[<...>]" column carries the site
 * number (classes.ts LOCK_SITES) in hex and the symbol column its name.
 *
 * Pure formatting of results; no locking.
 */
import { LOCK_SITES } from '../sync/classes.js';
import { LOCKSTAT_POINTS, type LockStatRow, type LockStatPoint, type ContentionSite } from '../sync/lockstat_rows.js';

/* ---- /proc/lock_stat text ---- */

const LINE_LEN = 40 + 1 + 12 * (14 + 1);
const padL = (s: string | number, n: number) => String(s).padStart(n);
const seqLine = (c: string, offset: number, length: number) => ' '.repeat(Math.max(0, offset)) + c.repeat(Math.max(0, length)) + '\n';

/** snprint_time: microseconds as "%lld.%02d" of (ns + 5) / 1000, the kernel's rounding. */
export function lockStatTime(us: number): string {
  const ns = Math.round(us * 1000) + 5;
  const div = Math.trunc(ns / 1000);
  const rem = ns - div * 1000;
  return `${div}.${String(Math.trunc(rem / 10)).padStart(2, '0')}`;
}

const seqLockTime = (nr: number, min: number, max: number, total: number, avg: number) =>
  padL(nr, 14) + [min, max, total, avg].map((t) => ' ' + padL(lockStatTime(t), 14)).join('');

/** The 40-column class-name field ("%40s:" or "%38s-W:"/"%38s-R:"), names cut as the kernel's 38-byte buffer does. */
function nameField(row: LockStatRow, both: boolean): string {
  const name = row.class.slice(0, 37);
  if (row.rw === 'R') return `${padL(name, 38)}-R:`;
  if (both) return `${padL(name, 38)}-W:`;
  return `${padL(name, 40)}:`;
}

function mergePoints(rows: LockStatRow[], which: 'contention-points' | 'contending-points'): LockStatPoint[] {
  const acc = new Map<string, number>();
  for (const r of rows) for (const p of r[which]) if (p.site !== '(other)') acc.set(p.site, (acc.get(p.site) ?? 0) + p.contentions);
  return [...acc.entries()]
    .map(([site, contentions]) => ({ site, contentions }))
    .sort((a, b) => b.contentions - a.contentions)
    .slice(0, LOCKSTAT_POINTS);
}

const ipOf = (site: string) => {
  const i = (LOCK_SITES as readonly string[]).indexOf(site);
  return `[<${(i < 0 ? 0 : i).toString(16).padStart(16, '0')}>]`;
};

/** /proc/lock_stat, version 0.4 layout, from lockStatRows(). */
export function formatLockStat(rows: LockStatRow[]): string {
  let out = 'lock_stat version 0.4\n';
  out += seqLine('-', 0, LINE_LEN);
  out +=
    padL('class name', 40) +
    ['con-bounces', 'contentions', 'waittime-min', 'waittime-max', 'waittime-total', 'waittime-avg', 'acq-bounces', 'acquisitions', 'holdtime-min', 'holdtime-max', 'holdtime-total', 'holdtime-avg']
      .map((h) => ' ' + padL(h, 14))
      .join('') +
    '\n';
  out += seqLine('-', 0, LINE_LEN);
  out += '\n';
  for (let i = 0; i < rows.length; ) {
    let j = i;
    while (j < rows.length && rows[j]!.class === rows[i]!.class) j++;
    const group = rows.slice(i, j);
    i = j;
    const both = group.length === 2;
    for (const r of group) {
      out += nameField(r, both);
      out += padL(r['con-bounces'], 14) + ' ';
      out += seqLockTime(r.contentions, r['waittime-min'], r['waittime-max'], r['waittime-total'], r['waittime-avg']);
      out += ' ' + padL(r['acq-bounces'], 14) + ' ';
      out += seqLockTime(r.acquisitions, r['holdtime-min'], r['holdtime-max'], r['holdtime-total'], r['holdtime-avg']);
      out += '\n';
    }
    if (group.reduce((s, r) => s + r.contentions, 0) === 0) continue;
    const name = group[0]!.class.slice(0, 37);
    const namelen = name.length + (group.some((r) => r.rw === 'R') ? 2 : 0);
    let printed = 0;
    for (const which of ['contention-points', 'contending-points'] as const) {
      const pts = mergePoints(group, which);
      pts.forEach((p, k) => {
        if (k === 0) out += seqLine('-', 40 - namelen, namelen);
        out += `${padL(name, 40)} ${padL(p.contentions, 14)} ${padL(ipOf(p.site), 29)} ${p.site}\n`;
      });
      printed = pts.length;
    }
    if (printed > 0) out += '\n' + seqLine('.', 0, LINE_LEN) + '\n';
  }
  return out;
}

/* ---- perf lock contention ---- */
/** lock_stat_key_print_time: nanoseconds scaled to h/m/s/ms/us, or whole ns, in a `len`-wide field. */
export function perfTime(ns: number, len = 12): string {
  const table: [number, string][] = [
    [1e9 * 3600, 'h '],
    [1e9 * 60, 'm '],
    [1e9, 's '],
    [1e6, 'ms'],
    [1e3, 'us'],
  ];
  for (const [base, unit] of table) if (ns >= base) return `${(ns / base).toFixed(2).padStart(len - 3)} ${unit}`;
  return `${String(Math.round(ns)).padStart(len - 3)} ns`;
}

/** The `perf lock contention` table (default fields: contended, total wait, max wait, avg wait; type, caller). */
export function formatPerfLockContention(rows: ContentionSite[]): string {
  let out = `${padL('contended', 10)} ${padL('total wait', 12)} ${padL('max wait', 12)} ${padL('avg wait', 12)} `;
  out += `  ${padL('type', 10)}   caller\n\n`;
  for (const r of rows) {
    if (r.total_wait_ns <= 0) continue; // perf skips entries that never waited
    out += `${padL(r.contended, 10)} ${perfTime(r.total_wait_ns)} ${perfTime(r.max_wait_ns)} ${perfTime(r.avg_wait_ns)} `;
    out += `  ${padL(r.type, 10)}   ${r.caller}\n`;
  }
  return out;
}
