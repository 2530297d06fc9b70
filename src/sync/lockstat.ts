/*
 * lockstat.ts — per-CPU lock_stat accounting (Documentation/locking/lockstat.rst,
 * Peter Zijlstra, 2.6.23; /proc/lock_stat is printed by src/report/lockstat.ts).
 *
 * Each CPU keeps, per lock class and per kind (write/exclusive = 0, read = 1),
 * LS_FIELDS doubles in its own per-CPU area (layout.ts PC_F64):
 * acquisitions, contentions, con-bounces, acq-bounces, wait min/max/total,
 * hold min/max/total, spins, hold count. Only the owning CPU writes its
 * block, with plain stores; report/ sums the blocks after the run.
 *
 * A *bounce* is an acquisition whose previous acquirer was another CPU: the
 * lock's cache line had to move (the kernel's lock->cpu test). The lock's
 * LK_LAST word holds the last acquirer, packed as
 * ((site + 1) << LK_LAST_SITE_SHIFT) | (cpu + 1); the site is what the kernel
 * keeps in lock->ip, so a contended acquirer knows where the holder it waited
 * for took the lock (a "contending point"). The word is written by the
 * acquirer only when it changes, on a line the acquire has just made
 * exclusive anyway. For exclusive locks it is written under the lock;
 * concurrent readers of an rwsem race on it benignly (a plain Int32 store is
 * tear-free), as the kernel's do.
 *
 * Contention points: the CPU's site block (PC_SITES_F64_WORDS words) holds an
 * open-addressed table of NR_LS_POINTS entries keyed by (class, kind,
 * point type, site), each {key, contentions, wait total, wait max}. Point
 * type 0 is a *contention point* (the waiter's own site, what perf lock
 * contention calls the caller), 1 a *contending point* (the site where the
 * lock's previous holder took it). Written only on the contended path (the
 * clock was already read there). If the table is full the contention still
 * counts in its class, just not at a point; the report shows the difference
 * as "(other)".
 *
 * Times are milliseconds from performance.now() (one time origin shared by
 * all workers); waits are only timed on the contended path, as in the kernel.
 */
import type { CpuBase } from '../machine/cpu.js';
import {
  LS_FIELDS,
  LK_LAST,
  MAX_LOCK_SITES,
  PC_F64,
  PC_LOCKSTAT_F64_WORDS,
  PC_SITES_F64_WORDS,
  percpuBase,
  type Layout,
} from '../machine/layout.js';

export const LS_ACQ = 0;
export const LS_CON = 1;
export const LS_CON_BOUNCE = 2;
export const LS_ACQ_BOUNCE = 3;
export const LS_WAIT_MIN = 4;
export const LS_WAIT_MAX = 5;
export const LS_WAIT_TOTAL = 6;
export const LS_HOLD_MIN = 7;
export const LS_HOLD_MAX = 8;
export const LS_HOLD_TOTAL = 9;
export const LS_SPINS = 10;
export const LS_HOLD_N = 11;

/* LK_LAST packing */
export const LK_LAST_SITE_SHIFT = 9; // cpu + 1 up to 511: 256 CPUs + kswapd + monitor
export const LK_LAST_CPU_MASK = (1 << LK_LAST_SITE_SHIFT) - 1;
export const lkLastPack = (cpu: number, site: number) => ((site + 1) << LK_LAST_SITE_SHIFT) | (cpu + 1);
/** cpu + 1 of the last acquirer (0: never taken). */
export const lkLastCpu1 = (v: number) => v & LK_LAST_CPU_MASK;
/** site of the last acquisition (-1: never taken). */
export const lkLastSite = (v: number) => (v >>> LK_LAST_SITE_SHIFT) - 1;

/* contention-point table entry */
export const LSP_KEY = 0; // lsPointKey(); 0 = empty
export const LSP_COUNT = 1;
export const LSP_WAIT_TOTAL = 2;
export const LSP_WAIT_MAX = 3;
export const LSP_FIELDS = 4;
export const NR_LS_POINTS = PC_SITES_F64_WORDS / 2 / LSP_FIELDS;
const LSP_HASH_SHIFT = 32 - Math.log2(NR_LS_POINTS);
if (!Number.isInteger(LSP_HASH_SHIFT)) throw new Error('lockstat.ts: NR_LS_POINTS must be a power of two');

/** Float64 index of CPU `cpu`'s lock_stat class block (same formula as makeCpuBase). */
export const lockstatBase = (l: Layout, cpu: number) => (percpuBase(l, cpu) + PC_F64) >>> 1;
/** Float64 index of CPU `cpu`'s contention-point table. */
export const lockstatPointsBase = (l: Layout, cpu: number) => lockstatBase(l, cpu) + (PC_LOCKSTAT_F64_WORDS >>> 1);

/** f64 index of (class, kind)'s block in a CPU's lock_stat area. */
export const lsIndex = (cpu: CpuBase, cls: number, read: number) => cpu.ls + (cls * 2 + read) * LS_FIELDS;

export const LSP_CONTENTION = 0;
export const LSP_CONTENDING = 1;
export const lsPointKey = (cls: number, read: number, type: number, site: number) =>
  ((cls * 2 + read) * 2 + type) * MAX_LOCK_SITES + (site >= 0 && site < MAX_LOCK_SITES ? site : 0) + 1;
export const lsPointClass = (key: number) => ((key - 1) / (4 * MAX_LOCK_SITES)) | 0;
export const lsPointRead = (key: number) => (((key - 1) / (2 * MAX_LOCK_SITES)) | 0) & 1;
export const lsPointType = (key: number) => (((key - 1) / MAX_LOCK_SITES) | 0) & 1;
export const lsPointSite = (key: number) => (key - 1) % MAX_LOCK_SITES;

/** Record one contention at a point (contended path only). */
function lockstatPoint(cpu: CpuBase, cls: number, read: number, type: number, site: number, waitMs: number): void {
  const f = cpu.f64;
  const key = lsPointKey(cls, read, type, site);
  let slot = Math.imul(key, 0x9e3779b1) >>> LSP_HASH_SHIFT;
  for (let probe = 0; probe < NR_LS_POINTS; probe++) {
    const e = cpu.sites + slot * LSP_FIELDS;
    const k = f[e + LSP_KEY]!;
    if (k === key || k === 0) {
      if (k === 0) f[e + LSP_KEY] = key;
      f[e + LSP_COUNT]!++;
      f[e + LSP_WAIT_TOTAL]! += waitMs;
      if (waitMs > f[e + LSP_WAIT_MAX]!) f[e + LSP_WAIT_MAX] = waitMs;
      return;
    }
    slot = (slot + 1) & (NR_LS_POINTS - 1);
  }
}

/**
 * Account one acquisition of the lock at word `off` (its LK_LAST word is
 * `off + LK_LAST`). `waitMs` < 0 means uncontended; `spins` is what the raw
 * lock reported (iterations, or sleeps for sleeping locks). Called with the
 * lock held.
 */
export function lockstatAcquired(
  cpu: CpuBase,
  off: number,
  cls: number,
  read: number,
  site: number,
  waitMs: number,
  spins: number,
): void {
  const f = cpu.f64;
  const w = cpu.w;
  const b = cpu.ls + (cls * 2 + read) * LS_FIELDS;
  const me = cpu.id + 1;
  f[b + LS_ACQ]!++;
  const last = w[off + LK_LAST]!;
  const lastCpu = last & LK_LAST_CPU_MASK;
  const bounced = lastCpu !== 0 && lastCpu !== me;
  const mine = ((site + 1) << LK_LAST_SITE_SHIFT) | me;
  if (last !== mine) w[off + LK_LAST] = mine;
  if (bounced) f[b + LS_ACQ_BOUNCE]!++;
  if (waitMs >= 0) {
    const n = ++f[b + LS_CON]!;
    if (bounced) f[b + LS_CON_BOUNCE]!++;
    if (n === 1 || waitMs < f[b + LS_WAIT_MIN]!) f[b + LS_WAIT_MIN] = waitMs;
    if (waitMs > f[b + LS_WAIT_MAX]!) f[b + LS_WAIT_MAX] = waitMs;
    f[b + LS_WAIT_TOTAL]! += waitMs;
    f[b + LS_SPINS]! += spins;
    lockstatPoint(cpu, cls, read, LSP_CONTENTION, site, waitMs);
    if (last !== 0) lockstatPoint(cpu, cls, read, LSP_CONTENDING, (last >>> LK_LAST_SITE_SHIFT) - 1, waitMs);
  }
}

/** Account one release after `holdMs` held (only with config.holdTime). */
export function lockstatHeld(cpu: CpuBase, cls: number, read: number, holdMs: number): void {
  const f = cpu.f64;
  const b = cpu.ls + (cls * 2 + read) * LS_FIELDS;
  const n = ++f[b + LS_HOLD_N]!;
  if (n === 1 || holdMs < f[b + LS_HOLD_MIN]!) f[b + LS_HOLD_MIN] = holdMs;
  if (holdMs > f[b + LS_HOLD_MAX]!) f[b + LS_HOLD_MAX] = holdMs;
  f[b + LS_HOLD_TOTAL]! += holdMs;
}
