/*
 * rwsem.ts — read/write semaphore with writer preference: mm->mmap_sem
 * (2.4 include/linux/rwsem.h; the count-word-plus-waiters design of David
 * Howells' 2.4.4 rwsem, with the waiter queue replaced by Atomics.wait).
 *
 * Footprint (LOCK_WORDS at `off`):
 *   LK_STATE   the count word:
 *                bits 0..27  readers holding it       (RWSEM_READER_MASK)
 *                bit  28     a writer holds it        (RWSEM_WRITER_LOCKED)
 *                bit  29     somebody sleeps on it    (RWSEM_WAITERS)
 *   LK_AUX     writers waiting. While it is non-zero no new reader enters
 *              (writer preference: a stream of page faults cannot starve
 *              mmap/munmap). A reader already holding it must not down_read
 *              again (deadlock against a waiting writer, as in Linux).
 *   LK_LAST    lock_stat's last acquirer.
 *   LK_HOLDER  writer cpu + 1 (assertHeld; debugging).
 *
 * Waiting. A waiter first retries for RWSEM_SPIN rounds (holders are short),
 * then sleeps in Atomics.wait on the count word. The protocol that loses no
 * wake-up, the futex rule applied to a shared word:
 *
 *   waiter:  read c; if it could enter now, retry. Else v = c | WAITERS,
 *            publish v with compareExchange (retry if c changed), re-check
 *            the writer-waiting condition (a reader blocked only by LK_AUX
 *            must see it still set *after* publishing), then
 *            Atomics.wait(count, v).
 *   release: up_write exchanges the word for 0; the last up_read clears
 *            WAITERS. Whoever clears WAITERS notifies *all* sleepers, which
 *            re-evaluate (writers race, readers wait again behind a waiting
 *            writer). Acquisitions keep the WAITERS bit as they find it.
 *
 * A sleeper parked on v (which has WAITERS set) is woken by the release that
 * clears WAITERS; a release that happens before it parks changes the word,
 * so its Atomics.wait returns "not-equal". WAITERS is only ever set by a
 * thread that will acquire (and so release) or that waits for a holder or a
 * waiting writer that will release, so a set bit is always cleared — with
 * a notify — by some later release.
 *
 * Locking rule: the count word and LK_AUX are written only with Atomics;
 * the read fast path pre-reads both plainly (tear-free) before its CAS on the
 * count, which validates what it read; LK_HOLDER by the writer.
 */
import type { CpuBase } from '../machine/cpu.js';
import { LK_AUX, LK_HOLDER, LK_STATE } from '../machine/layout.js';
import { acquiring, acquired, releasing, spin_lock_init } from './spinlock.js';
import { clock_ms, vtOn, vt_park, vt_released, vt_sync_lock, vt_sync_release, PK_NE, K_SLEEP } from '../timing/conductor.js';

export const RWSEM_READER_MASK = 0x0fffffff;
export const RWSEM_WRITER_LOCKED = 1 << 28;
export const RWSEM_WAITERS = 1 << 29;
/** failed attempts before the first sleep */
export const RWSEM_SPIN = 64;

/** init_rwsem: zero a reused rwsem footprint (see spin_lock_init). */
export const init_rwsem = spin_lock_init;

/* ---- raw operations (no bookkeeping) ---- */

/** One read attempt: enters unless a writer holds it or waits. Retries only while the count moves under it. */
function read_trylock_raw(w: Int32Array, off: number): boolean {
  const o = off + LK_STATE;
  for (;;) {
    // plain reads (tear-free): the CAS validates c; LK_AUX is only the writer-preference hint
    const c = w[o]!;
    if ((c & RWSEM_WRITER_LOCKED) !== 0 || w[off + LK_AUX] !== 0) return false;
    if (Atomics.compareExchange(w, o, c, c + 1) === c) return true;
  }
}

/** One write attempt: enters if no reader and no writer holds it (the WAITERS bit is kept). */
function write_trylock_raw(w: Int32Array, off: number): boolean {
  const o = off + LK_STATE;
  for (;;) {
    const c = Atomics.load(w, o);
    if ((c & ~RWSEM_WAITERS) !== 0) return false;
    if (Atomics.compareExchange(w, o, c, c | RWSEM_WRITER_LOCKED) === c) return true;
  }
}

/**
 * Publish WAITERS on the count value `c` just read and sleep until a release
 * clears it. Returns 1 if it slept and was woken, 0 if the word moved first.
 */
function rwsem_sleep(w: Int32Array, off: number, c: number, reader: boolean): number {
  const o = off + LK_STATE;
  const v = c | RWSEM_WAITERS;
  if (v !== c && Atomics.compareExchange(w, o, c, v) !== c) return 0;
  // a reader waiting only for a *waiting* writer re-checks it after publishing
  if (reader && (v & RWSEM_WRITER_LOCKED) === 0 && Atomics.load(w, off + LK_AUX) === 0) return 0;
  if (vtOn) return vt_park(o, v, PK_NE | K_SLEEP) ? 1 : 0;
  return Atomics.wait(w, o, v) === 'ok' ? 1 : 0;
}

/* ---- the API ---- */

export function down_read_trylock(cpu: CpuBase, off: number, cls: number, site: number): boolean {
  vt_sync_lock(off);
  if (!read_trylock_raw(cpu.w, off)) return false;
  acquiring(cpu, cls, site, true);
  acquired(cpu, off, cls, 1, site, 0, 0);
  return true;
}

/** Take the rwsem for reading (mmap_read_lock); may sleep. */
export function down_read(cpu: CpuBase, off: number, cls: number, site: number): void {
  const w = cpu.w;
  acquiring(cpu, cls, site, false);
  vt_sync_lock(off);
  if (read_trylock_raw(w, off)) {
    acquired(cpu, off, cls, 1, site, 0, 0);
    return;
  }
  const t0 = clock_ms();
  let spins = 0;
  for (;;) {
    if (read_trylock_raw(w, off)) break;
    if (++spins < RWSEM_SPIN) continue;
    const c = Atomics.load(w, off + LK_STATE);
    if ((c & RWSEM_WRITER_LOCKED) === 0 && Atomics.load(w, off + LK_AUX) === 0) continue; // would enter now
    rwsem_sleep(w, off, c, true);
  }
  acquired(cpu, off, cls, 1, site, t0, spins || -1);
}

export function up_read(cpu: CpuBase, off: number, cls: number): void {
  releasing(cpu, off, cls, 1);
  vt_sync_release(off, 1, true);
  const w = cpu.w;
  const o = off + LK_STATE;
  const old = Atomics.sub(w, o, 1);
  if ((old & RWSEM_WAITERS) !== 0 && ((old - 1) & RWSEM_READER_MASK) === 0) {
    // last reader out and somebody sleeps: clear the bit, wake them all
    Atomics.and(w, o, ~RWSEM_WAITERS);
    Atomics.notify(w, o);
  }
  vt_released();
}

export function down_write_trylock(cpu: CpuBase, off: number, cls: number, site: number): boolean {
  vt_sync_lock(off);
  if (!write_trylock_raw(cpu.w, off)) return false;
  acquiring(cpu, cls, site, true);
  cpu.w[off + LK_HOLDER] = cpu.id + 1;
  acquired(cpu, off, cls, 0, site, 0, 0);
  return true;
}

/** Take the rwsem for writing (mmap_write_lock); may sleep. */
export function down_write(cpu: CpuBase, off: number, cls: number, site: number): void {
  const w = cpu.w;
  acquiring(cpu, cls, site, false);
  vt_sync_lock(off);
  if (write_trylock_raw(w, off)) {
    w[off + LK_HOLDER] = cpu.id + 1;
    acquired(cpu, off, cls, 0, site, 0, 0);
    return;
  }
  const t0 = clock_ms();
  Atomics.add(w, off + LK_AUX, 1); // from here on no new reader enters
  let spins = 0;
  for (;;) {
    if (write_trylock_raw(w, off)) break;
    if (++spins < RWSEM_SPIN) continue;
    const c = Atomics.load(w, off + LK_STATE);
    if ((c & ~RWSEM_WAITERS) === 0) continue; // free now
    rwsem_sleep(w, off, c, false);
  }
  Atomics.sub(w, off + LK_AUX, 1);
  w[off + LK_HOLDER] = cpu.id + 1;
  acquired(cpu, off, cls, 0, site, t0, spins || -1);
}

export function up_write(cpu: CpuBase, off: number, cls: number): void {
  releasing(cpu, off, cls, 0);
  vt_sync_release(off, 0, true);
  const w = cpu.w;
  w[off + LK_HOLDER] = 0;
  const old = Atomics.exchange(w, off + LK_STATE, 0);
  if ((old & RWSEM_WAITERS) !== 0) Atomics.notify(w, off + LK_STATE);
  vt_released();
}

/** Does a writer hold it (debug checks)? */
export const rwsem_is_write_locked = (w: Int32Array, off: number) =>
  (Atomics.load(w, off + LK_STATE) & RWSEM_WRITER_LOCKED) !== 0;
/** Readers holding it now. */
export const rwsem_nr_readers = (w: Int32Array, off: number) => Atomics.load(w, off + LK_STATE) & RWSEM_READER_MASK;
/** Writers waiting for it now. */
export const rwsem_nr_writers_waiting = (w: Int32Array, off: number) => Atomics.load(w, off + LK_AUX);
