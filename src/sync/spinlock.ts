/*
 * spinlock.ts — spin_lock / spin_trylock / spin_unlock: the one entry point
 * for every spinning lock, whatever its implementation, plus the bookkeeping
 * every lock type shares (lock_stat, hold time, lockdep, debug holder).
 *
 * The implementation (tas, ttas, ticket, mcs, futex) is chosen when the
 * machine is built (config.lockImpl) and read from cpu.lockImpl; the switch
 * is on a value constant for the run, so the branch predicts perfectly and
 * each call site stays monomorphic. The fast path is one trylock and the
 * lock_stat counters; the clock is read only when it fails (lock_stat times
 * waits, not acquisitions), and with config.holdTime.
 *
 * Footprint: every lock is LOCK_WORDS words, 16-byte aligned, at word offset
 * `off` (layout.ts LK_*): LK_STATE/LK_AUX belong to the implementation,
 * LK_LAST to lock_stat (last acquirer, for bounces), LK_HOLDER to the debug
 * holder check (assertHeld) and the rwsem writer.
 *
 * Locking rule for LK_LAST / LK_HOLDER: written only by the holder.
 * The hot path allocates nothing.
 */
import type { CpuBase } from '../machine/cpu.js';
import { LK_AUX, LK_HOLDER, LK_LAST, LK_STATE, LOCK_WORDS, MCS_LEVELS, PC_LOCKDEP_DEPTH } from '../machine/layout.js';
import { tas_lock, tas_trylock, tas_unlock } from './tas.js';
import { ttas_lock, ttas_trylock, ttas_unlock } from './ttas.js';
import { ticket_lock, ticket_trylock, ticket_unlock } from './ticket.js';
import { mcs_lock, mcs_trylock, mcs_unlock } from './mcs.js';
import { futex_lock, futex_trylock, futex_unlock } from './futex.js';
import { lockstatAcquired, lockstatHeld, lkLastCpu1 } from './lockstat.js';
import { clock_ms, vtOn, vt_acquired, vt_released, vt_sync_lock, vt_sync_release } from '../timing/conductor.js';
import { lockdepAcquire, lockdepHeldIndex, lockdepHolds, lockdepReleaseAt } from './lockdep.js';
import { LOCK_CLASSES, CLASS_KIND, LockKind, classSpins } from './classes.js';
import { trace_lock_acquired, trace_lock_release } from '../machine/trace.js';

/* indexes into config LOCK_IMPLS (H_LOCK_IMPL) */
export const IMPL_TAS = 0;
export const IMPL_TTAS = 1;
export const IMPL_TICKET = 2;
export const IMPL_MCS = 3;
export const IMPL_FUTEX = 4;

/** Take a free MCS queue node of this CPU (one per lock held or awaited at once). */
function mcsNode(cpu: CpuBase): number {
  const free = cpu.mcsFree;
  if (free === 0) throw new Error(`cpu ${cpu.id}: more than ${MCS_LEVELS} MCS locks held at once`);
  const level = 31 - Math.clz32(free & -free);
  cpu.mcsFree = free & ~(1 << level);
  return cpu.id * MCS_LEVELS + level;
}

/** Raw acquire: returns 0 if got at once, > 0 iterations (or sleeps) waited, < 0 contended uncounted. */
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
  vt_sync_lock(off);
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
  vt_sync_release(off, 0, cpu.lockImpl === IMPL_FUTEX);
  switch (cpu.lockImpl) {
    case IMPL_TAS:
      tas_unlock(w, off);
      break;
    case IMPL_TTAS:
      ttas_unlock(w, off);
      break;
    case IMPL_TICKET:
      ticket_unlock(w, off);
      break;
    case IMPL_MCS: {
      const node = mcs_unlock(w, off, cpu.l);
      cpu.mcsFree |= 1 << node % MCS_LEVELS;
      break;
    }
    default:
      futex_unlock(w, off);
  }
  vt_released();
}

/* ---- bookkeeping shared by every lock type ---- */

/** Called before blocking (lockdep must see the order before a deadlock can happen), after success for trylocks. */
export function acquiring(cpu: CpuBase, cls: number, site: number, trylock: boolean): void {
  if (cpu.lockdep || cpu.holdTime) lockdepAcquire(cpu, cls, site, trylock);
}

/**
 * lock_stat and hold-time start once a lock is held, without the debug
 * holder word (for locks whose footprint has no LK_HOLDER, PG_chainlock).
 * `spins`: 0 = uncontended (t0 unused); > 0 waited that often; < 0 contended, uncounted.
 */
export function lock_acquired(cpu: CpuBase, off: number, cls: number, read: number, site: number, t0: number, spins: number): void {
  // virtual clock: a release stamped later than this CPU's clock was waited for; the lock's line comes from its last acquirer
  // (a sleeping lock's waiter pays a wake-up: the sleeping classes, and spinlocks built as futex mutexes)
  const waitFrom = vtOn
    ? vt_acquired(lkLastCpu1(cpu.w[off + LK_LAST]!) - 1, off, read, !classSpins(cls, cpu.lockImpl === IMPL_FUTEX))
    : -1;
  if (waitFrom >= 0 && spins === 0) {
    t0 = waitFrom;
    spins = -1;
  }
  lockstatAcquired(cpu, off, cls, read, site, spins !== 0 ? clock_ms() - t0 : -1, spins < 0 ? 0 : spins);
  if (cpu.holdTime) cpu.holdStart[cpu.w[cpu.pc + PC_LOCKDEP_DEPTH]! - 1] = clock_ms();
  if (cpu.l.traceRing !== 0) trace_lock_acquired(cpu, off, cls, read, site, spins !== 0 ? t0 : 0);
}

/** Bookkeeping once the lock is held (see lock_acquired); debug builds record the holder. */
export function acquired(cpu: CpuBase, off: number, cls: number, read: number, site: number, t0: number, spins: number): void {
  lock_acquired(cpu, off, cls, read, site, t0, spins);
  if (cpu.debug && read === 0) cpu.w[off + LK_HOLDER] = cpu.id + 1;
}

/** Bookkeeping before a release, without the debug holder word: hold time, lockdep pop. */
export function lock_releasing(cpu: CpuBase, cls: number, read: number): void {
  if (cpu.l.traceRing !== 0) trace_lock_release(cpu, cls, read);
  if (cpu.lockdep || cpu.holdTime) {
    const i = lockdepHeldIndex(cpu, cls);
    if (cpu.holdTime) lockstatHeld(cpu, cls, read, clock_ms() - cpu.holdStart[i]!);
    lockdepReleaseAt(cpu, i);
  }
}

/**
 * Bookkeeping before a release (see lock_releasing); debug builds check the
 * releasing CPU is the holder and clear the holder word. The check is
 * lib/spinlock_debug.c's debug_spin_unlock ("wrong owner", "already
 * unlocked"): an unlock of another instance of the same class (mm A's
 * page_table_lock taken, mm B's released) passes lockdep, which pops by
 * class, and would leave A held by nobody and B's ticket ahead of its owner
 * for ever; here it throws where it happens, naming the lock.
 */
export function releasing(cpu: CpuBase, off: number, cls: number, read: number): void {
  if (cpu.debug && read === 0) {
    const h = cpu.w[off + LK_HOLDER]!;
    if (h !== cpu.id + 1) throw new Error(`BUG: ${LOCK_CLASSES[cls]!.name} @${off} ${h === 0 ? 'already unlocked' : `wrong owner (held by cpu ${h - 1})`} on cpu ${cpu.id}`);
    cpu.w[off + LK_HOLDER] = 0;
  }
  lock_releasing(cpu, cls, read);
}

/* ---- the API ---- */

/**
 * spin_lock_init: zero the LOCK_WORDS words of a lock at `off` (a reused
 * table slot). Checks the footprint lies in the buffer and is 16-byte
 * aligned. Not for a lock anyone may hold.
 */
export function spin_lock_init(w: Int32Array, off: number): void {
  if (!Number.isInteger(off) || off < 0 || off + LOCK_WORDS > w.length) throw new RangeError(`lock at word ${off}: outside the machine`);
  if (off % LOCK_WORDS !== 0) throw new RangeError(`lock at word ${off}: not ${LOCK_WORDS * 4}-byte aligned`);
  for (let i = 0; i < LOCK_WORDS; i++) Atomics.store(w, off + i, 0);
}

/** Acquire the spinning lock at `off` (class `cls`) for call site `site`. */
export function spin_lock(cpu: CpuBase, off: number, cls: number, site: number): void {
  acquiring(cpu, cls, site, false);
  if (raw_trylock(cpu, off)) {
    acquired(cpu, off, cls, 0, site, 0, 0);
    return;
  }
  // contended: only now pay for the clock
  const t0 = clock_ms();
  const spins = raw_lock(cpu, off);
  acquired(cpu, off, cls, 0, site, t0, spins === 0 ? -1 : spins);
}

/** Try once; true if now held. A failed trylock is not a contention (the kernel does not count it either). */
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

/** Is the lock at `off` held by anybody (spin_is_locked; diagnostics only)? */
export function spin_is_locked(cpu: CpuBase, off: number): boolean {
  if (cpu.lockImpl === IMPL_TICKET) return Atomics.load(cpu.w, off + LK_STATE) !== Atomics.load(cpu.w, off + LK_AUX);
  return Atomics.load(cpu.w, off + LK_STATE) !== 0;
}

/**
 * Debug-build contract check, "called with the lock held"
 * (lockdep_assert_held): the lock at `off` of class `cls` is held by this
 * CPU. Exclusive holds are checked on the lock itself (LK_HOLDER). A read
 * hold of an rwsem has no owner word; it is checked against this CPU's held
 * stack, i.e. per class (needs lockdep or holdTime; without them a read hold
 * cannot be checked and passes). No-op unless config.debug.
 */
export function assertHeld(cpu: CpuBase, off: number, cls: number): void {
  if (!cpu.debug) return;
  const me = cpu.id + 1;
  if (cpu.w[off + LK_HOLDER] === me) return;
  if (
    CLASS_KIND[cls] === LockKind.RW &&
    Atomics.load(cpu.w, off + LK_STATE) !== 0 &&
    (!(cpu.lockdep || cpu.holdTime) || lockdepHolds(cpu, cls))
  ) {
    return;
  }
  throw new Error(`assertHeld: cpu ${cpu.id} does not hold ${LOCK_CLASSES[cls]!.name} @${off}`);
}
