/*
 * rwsem.ts — read/write semaphore with writer preference (mmap_sem).
 *
 * LK_STATE = count: n > 0 readers hold it, -1 a writer holds it, 0 free.
 * LK_AUX   = writers waiting. A reader enters only when count >= 0 and no
 * writer waits (writer preference: a stream of faults cannot starve mmap).
 * Waiters spin briefly, then sleep in Atomics.wait on the count word with the
 * value they saw; every release that could admit someone notifies all.
 * LK_HOLDER = writer cpu + 1 (for assertHeld).
 */
import type { CpuBase } from '../machine/cpu.js';
import { LK_AUX, LK_HOLDER } from '../machine/layout.js';
import { acquiring, acquired, releasing } from './spinlock.js';

const SPIN_BEFORE_SLEEP = 200;

function tryRead(w: Int32Array, off: number): boolean {
  const c = Atomics.load(w, off);
  return c >= 0 && Atomics.load(w, off + LK_AUX) === 0 && Atomics.compareExchange(w, off, c, c + 1) === c;
}

export function down_read_trylock(cpu: CpuBase, off: number, cls: number, site: number): boolean {
  if (!tryRead(cpu.w, off)) return false;
  acquiring(cpu, cls, site, true);
  acquired(cpu, off, cls, 1, site, 0, 0);
  return true;
}

export function down_read(cpu: CpuBase, off: number, cls: number, site: number): void {
  const w = cpu.w;
  acquiring(cpu, cls, site, false);
  if (tryRead(w, off)) {
    acquired(cpu, off, cls, 1, site, 0, 0);
    return;
  }
  const t0 = performance.now();
  let spins = 0;
  for (;;) {
    if (tryRead(w, off)) break;
    spins++;
    if (spins % SPIN_BEFORE_SLEEP === 0) {
      const c = Atomics.load(w, off);
      if (c < 0 || Atomics.load(w, off + LK_AUX) !== 0) Atomics.wait(w, off, c, 1);
    }
  }
  acquired(cpu, off, cls, 1, site, t0, spins);
}

export function up_read(cpu: CpuBase, off: number, cls: number): void {
  releasing(cpu, off, cls, 1);
  if (Atomics.sub(cpu.w, off, 1) === 1 && Atomics.load(cpu.w, off + LK_AUX) !== 0) Atomics.notify(cpu.w, off);
}

export function down_write_trylock(cpu: CpuBase, off: number, cls: number, site: number): boolean {
  if (Atomics.compareExchange(cpu.w, off, 0, -1) !== 0) return false;
  acquiring(cpu, cls, site, true);
  cpu.w[off + LK_HOLDER] = cpu.id + 1;
  acquired(cpu, off, cls, 0, site, 0, 0);
  return true;
}

export function down_write(cpu: CpuBase, off: number, cls: number, site: number): void {
  const w = cpu.w;
  acquiring(cpu, cls, site, false);
  if (Atomics.compareExchange(w, off, 0, -1) === 0) {
    w[off + LK_HOLDER] = cpu.id + 1;
    acquired(cpu, off, cls, 0, site, 0, 0);
    return;
  }
  const t0 = performance.now();
  Atomics.add(w, off + LK_AUX, 1);
  let spins = 0;
  for (;;) {
    const c = Atomics.compareExchange(w, off, 0, -1);
    if (c === 0) break;
    spins++;
    if (spins % SPIN_BEFORE_SLEEP === 0) Atomics.wait(w, off, c, 1);
  }
  Atomics.sub(w, off + LK_AUX, 1);
  w[off + LK_HOLDER] = cpu.id + 1;
  acquired(cpu, off, cls, 0, site, t0, spins);
}

export function up_write(cpu: CpuBase, off: number, cls: number): void {
  releasing(cpu, off, cls, 0);
  cpu.w[off + LK_HOLDER] = 0;
  Atomics.store(cpu.w, off, 0);
  Atomics.notify(cpu.w, off);
}

/** Does anybody hold it for writing (debug checks)? */
export const rwsem_is_write_locked = (w: Int32Array, off: number) => Atomics.load(w, off) === -1;
