/*
 * sync/lockstat_rows.ts — the lock_stat accounting of src/sync/lockstat.ts
 * read back as rows: one /proc/lock_stat row per (class, kind) with its
 * contention and contending points, and the `perf lock contention` rows
 * aggregated by caller. Data only; report/lockstat.ts prints them, and
 * sim/results.ts puts them in a run's results.
 *
 * Input: the per-CPU lock_stat blocks (LS_* fields per (class, kind), and
 * the contention-point table), summed over every CPU slot (the CPUs and
 * kswapd). Times are kept in milliseconds in the buffer; rows carry
 * microseconds as /proc/lock_stat prints them (kernel 2.6.3x+), contention
 * sites nanoseconds as perf does.
 *
 * Reads the buffer after the run (or at a stop-the-world point); no locking.
 */
import type { Machine } from '../machine/machine.js';
import { LS_FIELDS } from '../machine/layout.js';
import { LOCK_CLASSES, LOCK_SITES, CLASS_KIND, LockKind, NR_LOCK_CLASSES } from './classes.js';
import {
  LS_ACQ,
  LS_CON,
  LS_CON_BOUNCE,
  LS_ACQ_BOUNCE,
  LS_WAIT_MIN,
  LS_WAIT_MAX,
  LS_WAIT_TOTAL,
  LS_HOLD_MIN,
  LS_HOLD_MAX,
  LS_HOLD_TOTAL,
  LS_SPINS,
  LS_HOLD_N,
  LSP_KEY,
  LSP_COUNT,
  LSP_WAIT_TOTAL,
  LSP_WAIT_MAX,
  LSP_FIELDS,
  LSP_CONTENTION,
  NR_LS_POINTS,
  lockstatBase,
  lockstatPointsBase,
  lsPointClass,
  lsPointRead,
  lsPointSite,
  lsPointType,
} from './lockstat.js';

/** contention / contending points kept per class, as the kernel's LOCKSTAT_POINTS */
export const LOCKSTAT_POINTS = 4;

export interface LockStatPoint {
  site: string;
  contentions: number;
}

/** One /proc/lock_stat row; times in microseconds. */
export interface LockStatRow {
  /** as printed: the class name, with -W / -R when the class was taken both ways */
  'class name': string;
  class: string;
  /** which side of an rw class this row is ('' for exclusive-only classes) */
  rw: 'W' | 'R' | '';
  'con-bounces': number;
  contentions: number;
  'waittime-min': number;
  'waittime-max': number;
  'waittime-total': number;
  'waittime-avg': number;
  'acq-bounces': number;
  acquisitions: number;
  'holdtime-min': number;
  'holdtime-max': number;
  'holdtime-total': number;
  'holdtime-avg': number;
  /** iterations (sleeps, for sleeping locks) spent waiting; not a /proc column */
  spins: number;
  /** where acquirers waited (this row's kind), most contended first, at most LOCKSTAT_POINTS */
  'contention-points': LockStatPoint[];
  /** where the holders they waited for had taken the lock */
  'contending-points': LockStatPoint[];
}

/** One `perf lock contention` row (aggregated by caller); times in nanoseconds. */
export interface ContentionSite {
  caller: string;
  class: string;
  type: string;
  contended: number;
  total_wait_ns: number;
  max_wait_ns: number;
  avg_wait_ns: number;
}

interface PointAcc {
  cls: number;
  read: number;
  type: number;
  site: number;
  count: number;
  total: number;
  max: number;
}

/** Sum every CPU slot's contention-point tables. */
function collectPoints(m: Machine): PointAcc[] {
  const f = m.f64;
  const byKey = new Map<number, PointAcc>();
  for (let cpu = 0; cpu < m.layout.nrCpuSlots; cpu++) {
    const base = lockstatPointsBase(m.layout, cpu);
    for (let i = 0; i < NR_LS_POINTS; i++) {
      const e = base + i * LSP_FIELDS;
      const key = f[e + LSP_KEY]!;
      if (key === 0) continue;
      let a = byKey.get(key);
      if (!a) {
        a = { cls: lsPointClass(key), read: lsPointRead(key), type: lsPointType(key), site: lsPointSite(key), count: 0, total: 0, max: 0 };
        byKey.set(key, a);
      }
      a.count += f[e + LSP_COUNT]!;
      a.total += f[e + LSP_WAIT_TOTAL]!;
      a.max = Math.max(a.max, f[e + LSP_WAIT_MAX]!);
    }
  }
  return [...byKey.values()];
}

const siteName = (s: number): string => LOCK_SITES[s] ?? `site#${s}`;
const MS_TO_US = 1000;
const MS_TO_NS = 1e6;

function topPoints(points: PointAcc[], cls: number, read: number, type: number, classContentions: number): LockStatPoint[] {
  const mine = points.filter((p) => p.cls === cls && p.read === read && p.type === type).sort((a, b) => b.count - a.count || a.site - b.site);
  const out = mine.slice(0, LOCKSTAT_POINTS).map((p) => ({ site: siteName(p.site), contentions: p.count }));
  // contentions that found the per-CPU point table full
  const counted = mine.reduce((s, p) => s + p.count, 0);
  if (type === LSP_CONTENTION && classContentions > counted) out.push({ site: '(other)', contentions: classContentions - counted });
  return out;
}

/** lock_stat rows for every class taken during the run, most contended class first (kernel order). */
export function lockStatRows(m: Machine): LockStatRow[] {
  const f = m.f64;
  const l = m.layout;
  const points = collectPoints(m);
  const classes: { cls: number; con: number; rows: LockStatRow[] }[] = [];
  for (let cls = 0; cls < NR_LOCK_CLASSES; cls++) {
    const sums: number[][] = [];
    for (let read = 0; read < 2; read++) {
      const s = new Array<number>(LS_FIELDS).fill(0);
      let waitMin = Infinity;
      let holdMin = Infinity;
      for (let cpu = 0; cpu < l.nrCpuSlots; cpu++) {
        const b = lockstatBase(l, cpu) + (cls * 2 + read) * LS_FIELDS;
        for (const k of [LS_ACQ, LS_CON, LS_CON_BOUNCE, LS_ACQ_BOUNCE, LS_WAIT_TOTAL, LS_HOLD_TOTAL, LS_SPINS, LS_HOLD_N]) s[k]! += f[b + k]!;
        if (f[b + LS_CON]! > 0) waitMin = Math.min(waitMin, f[b + LS_WAIT_MIN]!);
        if (f[b + LS_HOLD_N]! > 0) holdMin = Math.min(holdMin, f[b + LS_HOLD_MIN]!);
        s[LS_WAIT_MAX] = Math.max(s[LS_WAIT_MAX]!, f[b + LS_WAIT_MAX]!);
        s[LS_HOLD_MAX] = Math.max(s[LS_HOLD_MAX]!, f[b + LS_HOLD_MAX]!);
      }
      s[LS_WAIT_MIN] = waitMin === Infinity ? 0 : waitMin;
      s[LS_HOLD_MIN] = holdMin === Infinity ? 0 : holdMin;
      sums.push(s);
    }
    const [wr, rd] = sums as [number[], number[]];
    if (wr[LS_ACQ] === 0 && rd[LS_ACQ] === 0) continue;
    const name = LOCK_CLASSES[cls]!.name;
    const both = wr[LS_ACQ]! > 0 && rd[LS_ACQ]! > 0;
    const rows: LockStatRow[] = [];
    for (let read = 0; read < 2; read++) {
      const s = sums[read]!;
      if (s[LS_ACQ] === 0) continue;
      const rw: LockStatRow['rw'] = read === 1 ? 'R' : CLASS_KIND[cls] === LockKind.RW ? 'W' : '';
      const con = s[LS_CON]!;
      const holdN = s[LS_HOLD_N]!;
      rows.push({
        'class name': read === 1 ? `${name}-R` : both ? `${name}-W` : name,
        class: name,
        rw,
        'con-bounces': s[LS_CON_BOUNCE]!,
        contentions: con,
        'waittime-min': s[LS_WAIT_MIN]! * MS_TO_US,
        'waittime-max': s[LS_WAIT_MAX]! * MS_TO_US,
        'waittime-total': s[LS_WAIT_TOTAL]! * MS_TO_US,
        'waittime-avg': con > 0 ? (s[LS_WAIT_TOTAL]! / con) * MS_TO_US : 0,
        'acq-bounces': s[LS_ACQ_BOUNCE]!,
        acquisitions: s[LS_ACQ]!,
        'holdtime-min': s[LS_HOLD_MIN]! * MS_TO_US,
        'holdtime-max': s[LS_HOLD_MAX]! * MS_TO_US,
        'holdtime-total': s[LS_HOLD_TOTAL]! * MS_TO_US,
        'holdtime-avg': holdN > 0 ? (s[LS_HOLD_TOTAL]! / holdN) * MS_TO_US : 0,
        spins: s[LS_SPINS]!,
        'contention-points': topPoints(points, cls, read, LSP_CONTENTION, con),
        'contending-points': topPoints(points, cls, read, 1 - LSP_CONTENTION, con),
      });
    }
    classes.push({ cls, con: wr[LS_CON]! + rd[LS_CON]!, rows });
  }
  classes.sort((a, b) => b.con - a.con || a.cls - b.cls);
  return classes.flatMap((c) => c.rows);
}


const perfType = (cls: number, read: number) => {
  switch (CLASS_KIND[cls]) {
    case LockKind.Spin:
    case LockKind.BitSpin:
      return 'spinlock';
    case LockKind.Sleep:
      return 'mutex';
    default:
      return read ? 'rwsem:R' : 'rwsem:W';
  }
};

/** Contention points aggregated by caller (site, class, kind), most total wait first, as perf lock contention. */
export function topContentionSites(m: Machine, limit = Infinity): ContentionSite[] {
  return collectPoints(m)
    .filter((p) => p.type === LSP_CONTENTION && p.count > 0)
    .map((p) => ({
      caller: siteName(p.site),
      class: LOCK_CLASSES[p.cls]!.name,
      type: perfType(p.cls, p.read),
      contended: p.count,
      total_wait_ns: p.total * MS_TO_NS,
      max_wait_ns: p.max * MS_TO_NS,
      avg_wait_ns: (p.total / p.count) * MS_TO_NS,
    }))
    .sort((a, b) => b.total_wait_ns - a.total_wait_ns || b.contended - a.contended)
    .slice(0, limit);
}
