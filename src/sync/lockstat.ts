/*
 * lockstat.ts — per-CPU lock_stat accounting (Documentation/locking/lockstat).
 *
 * Each CPU keeps, per lock class and per kind (write/exclusive = 0, read = 1),
 * LS_FIELDS doubles in its own per-CPU area: acquisitions, contentions,
 * con-bounces, acq-bounces, wait min/max/total, hold min/max/total, spins.
 * Only the owning CPU writes its block (plain stores); report/ sums the
 * blocks after the run. A "bounce" is an acquisition whose previous acquirer
 * was another CPU (the lock's cache line moved): the lock's LK_LAST word,
 * written by the holder under the lock.
 *
 * Times are milliseconds from performance.now() (shared time origin across
 * workers); waits are only timed on the contended path, as in the kernel.
 */
import type { CpuBase } from '../machine/cpu.js';
import { LS_FIELDS, LK_LAST, MAX_LOCK_SITES } from '../machine/layout.js';

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

/** f64 index of (class, kind)'s block in a CPU's lock_stat area. */
export const lsIndex = (cpu: CpuBase, cls: number, read: number) => cpu.ls + (cls * 2 + read) * LS_FIELDS;

/**
 * Account one acquisition. `waitMs` < 0 means uncontended. Called with the
 * lock held (LK_LAST is guarded by the lock itself).
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
  const b = cpu.ls + (cls * 2 + read) * LS_FIELDS;
  f[b + LS_ACQ]!++;
  const last = cpu.w[off + LK_LAST]!;
  const bounced = last !== 0 && last !== cpu.id + 1;
  if (bounced) f[b + LS_ACQ_BOUNCE]!++;
  if (read === 0) cpu.w[off + LK_LAST] = cpu.id + 1;
  if (waitMs >= 0) {
    f[b + LS_CON]!++;
    if (bounced) f[b + LS_CON_BOUNCE]!++;
    if (f[b + LS_CON] === 1 || waitMs < f[b + LS_WAIT_MIN]!) f[b + LS_WAIT_MIN] = waitMs;
    if (waitMs > f[b + LS_WAIT_MAX]!) f[b + LS_WAIT_MAX] = waitMs;
    f[b + LS_WAIT_TOTAL]! += waitMs;
    f[b + LS_SPINS]! += spins;
    const s = cpu.sites + (site < MAX_LOCK_SITES ? site : 0) * 2;
    f[s]!++;
    f[s + 1]! += waitMs;
  }
}

export function lockstatHeld(cpu: CpuBase, cls: number, read: number, holdMs: number): void {
  const f = cpu.f64;
  const b = cpu.ls + (cls * 2 + read) * LS_FIELDS;
  f[b + LS_HOLD_N]!++;
  if (f[b + LS_HOLD_N] === 1 || holdMs < f[b + LS_HOLD_MIN]!) f[b + LS_HOLD_MIN] = holdMs;
  if (holdMs > f[b + LS_HOLD_MAX]!) f[b + LS_HOLD_MAX] = holdMs;
  f[b + LS_HOLD_TOTAL]! += holdMs;
}
