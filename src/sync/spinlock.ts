/*
 * spinlock.ts — spin_lock / spin_unlock / spin_trylock: the one entry point
 * for every spinning lock, whatever its implementation.
 *
 * The implementation (tas, ttas, ticket, mcs, futex) is chosen when the
 * machine is built (config.lockImpl) and read from cpu.lockImpl; the switch is
 * on a constant per run, so the branch predicts perfectly and each call site
 * stays monomorphic. Around the raw lock this adds lock_stat (contentions,
 * bounces, wait time measured only when the fast path failed), optional hold
 * time, and lockdep.
 *
 * Every lock is LOCK_WORDS words at word offset `off` (layout.ts LK_*).
 * Locking rule for LK_LAST / LK_HOLDER: written only by the holder.
 */
import type { CpuBase } from '../machine/cpu.js';
import { LK_HOLDER, MCS_LEVELS } from '../machine/layout.js';
import { tas_lock, tas_trylock, tas_unlock } from './tas.js';
import { ttas_lock, ttas_trylock, ttas_unlock } from './ttas.js';
import { ticket_lock, ticket_trylock, ticket_unlock } from './ticket.js';
import { mcs_lock, mcs_trylock, mcs_unlock } from './mcs.js';
import { futex_lock, futex_trylock, futex_unlock } from './futex.js';
import { lockstatAcquired, lockstatHeld } from './lockstat.js';
import { lockdepAcquire, lockdepRelease } from './lockdep.js';
import { LOCK_CLASSES } from './classes.js';

export const IMPL_TAS = 0;
export const IMPL_TTAS = 1;
export const IMPL_TICKET = 2;
export const IMPL_MCS = 3;
export const IMPL_FUTEX = 4;

function mcsNode(cpu: CpuBase): number {
  const free = cpu.mcsFree;
  if (free === 0) throw new Error(`cpu ${cpu.id}: more than ${MCS_LEVELS} MCS locks held at once`);
  const level = 31 - Math.clz32(free & -free);
  cpu.mcsFree = free & ~(1 << level);
  return cpu.id * MCS_LEVELS + level;
}

/** Raw acquire: returns spins (0 = got it at once). */
export function raw_lock(cpu: CpuBase, off: number): number {
  const w = cpu.w;
  switch (cpu.lockImpl) {
    case IMPL_TAS:
      return tas_lock(w, off);
    case IMPL_TTAS:
      return ttas_lock(w, off);
    case IMPL_TICKET:
      return ticket_lock(w, off);
    case IMPL_MCS:
      return mcs_lock(w, off, cpu.l, mcsNode(cpu));
    default:
      return futex_lock(w, off);
  }
}

export function raw_trylock(cpu: CpuBase, off: number): boolean {
  const w = cpu.w;
  switch (cpu.lockImpl) {
    case IMPL_TAS:
      return tas_trylock(w, off);
    case IMPL_TTAS:
      return ttas_trylock(w, off);
    case IMPL_TICKET:
      return ticket_trylock(w, off);
    case IMPL_MCS: {
      const node = mcsNode(cpu);
      if (mcs_trylock(w, off, cpu.l, node)) return true;
      cpu.mcsFree |= 1 << node % MCS_LEVELS;
      return false;
    }
    default:
      return futex_trylock(w, off);
  }
}

export function raw_unlock(cpu: CpuBase, off: number): void {
  const w = cpu.w;
  switch (cpu.lockImpl) {
    case IMPL_TAS:
      tas_unlock(w, off);
      return;
    case IMPL_TTAS:
      ttas_unlock(w, off);
      return;
    case IMPL_TICKET:
      ticket_unlock(w, off);
      return;
    case IMPL_MCS: {
      const node = mcs_unlock(w, off, cpu.l);
      cpu.mcsFree |= 1 << node % MCS_LEVELS;
      return;
    }
    default:
      futex_unlock(w, off);
  }
}

/** Bookkeeping shared by every lock type once the lock is held. */
export function acquired(cpu: CpuBase, off: number, cls: number, read: number, site: number, t0: number, spins: number): void {
  // spins: 0 = uncontended; > 0 spun that often; < 0 contended without counting spins
  lockstatAcquired(cpu, off, cls, read, site, spins !== 0 ? performance.now() - t0 : -1, spins < 0 ? 0 : spins);
  if (cpu.holdTime) cpu.holdStart[Math.max(0, heldTop(cpu))] = performance.now();
  if (cpu.debug && read === 0) cpu.w[off + LK_HOLDER] = cpu.id + 1;
}

function heldTop(cpu: CpuBase): number {
  return cpu.w[cpu.pc + 4 /* PC_LOCKDEP_DEPTH */]! - 1;
}

/** Bookkeeping before a release. */
export function releasing(cpu: CpuBase, off: number, cls: number, read: number): void {
  if (cpu.debug && read === 0) cpu.w[off + LK_HOLDER] = 0;
  if (cpu.lockdep || cpu.holdTime) {
    const slot = lockdepRelease(cpu, cls);
    if (cpu.holdTime) lockstatHeld(cpu, cls, read, performance.now() - cpu.holdStart[slot]!);
  }
}

/** Called before blocking: lockdep must see the order before a deadlock can happen. */
export function acquiring(cpu: CpuBase, cls: number, site: number, trylock: boolean): void {
  if (cpu.lockdep || cpu.holdTime) lockdepAcquire(cpu, cls, site, trylock);
}

export function spin_lock(cpu: CpuBase, off: number, cls: number, site: number): void {
  acquiring(cpu, cls, site, false);
  if (raw_trylock(cpu, off)) {
    acquired(cpu, off, cls, 0, site, 0, 0);
    return;
  }
  // contended: only now pay for the clock (lock_stat times waits, not acquisitions)
  const t0 = performance.now();
  const spins = raw_lock(cpu, off);
  acquired(cpu, off, cls, 0, site, t0, spins === 0 ? -1 : spins);
}

export function spin_trylock(cpu: CpuBase, off: number, cls: number, site: number): boolean {
  if (!raw_trylock(cpu, off)) return false;
  acquiring(cpu, cls, site, true);
  acquired(cpu, off, cls, 0, site, 0, 0);
  return true;
}

export function spin_unlock(cpu: CpuBase, off: number, cls: number): void {
  releasing(cpu, off, cls, 0);
  raw_unlock(cpu, off);
}

/** Debug-build contract check: "called with the lock held" (lockdep_assert_held). */
export function assertHeld(cpu: CpuBase, off: number, cls: number): void {
  if (cpu.debug && cpu.w[off + LK_HOLDER] !== cpu.id + 1) {
    throw new Error(`assertHeld: cpu ${cpu.id} does not hold ${LOCK_CLASSES[cls]!.name} @${off}`);
  }
}
