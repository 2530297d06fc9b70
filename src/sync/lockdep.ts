/*
 * lockdep.ts — the lock validator: a class dependency graph built as locks
 * nest, on every CPU (after kernel/locking/lockdep.c, much reduced).
 *
 * Each CPU keeps its stack of held (class, site) in its per-CPU area. When it
 * acquires class B while holding class A (A != B), the edge A→B is recorded in
 * the shared class×class matrix (word = site of B's acquisition + 1, set once
 * with compareExchange, so the hot path only reads a line that stops changing).
 * A new edge triggers a search for a path B→…→A: if one exists the order is
 * inverted somewhere (ABBA) and a report is written with both sites. Taking a
 * sleeping lock while holding a spinning one is reported too.
 *
 * Trylock acquisitions are pushed on the held stack but add no edge: a trylock
 * cannot deadlock (that is why reclaim uses them against the fault path's order).
 *
 * Locking: the matrix words are written with Atomics.compareExchange; the
 * report area is claimed with Atomics.add on LD_NR_REPORTS. The held stack is
 * CPU-local.
 */
import type { CpuBase } from '../machine/cpu.js';
import {
  MAX_LOCK_CLASSES,
  LOCKDEP_DEPTH,
  PC_LOCKDEP_DEPTH,
  PC_LOCKDEP_STACK,
  PC_LOCKDEP_VIOL,
  LD_NR_REPORTS,
  LD_FIRST_KIND,
  LD_FIRST_A,
  LD_FIRST_B,
  LD_FIRST_SITE_AB,
  LD_FIRST_SITE_BA,
  LD_FIRST_CPU,
} from '../machine/layout.js';
import { LOCK_CLASSES, LockKind } from './classes.js';

export const LD_ABBA = 1;
export const LD_SLEEP_IN_SPIN = 2;

const reportBase = (cpu: CpuBase) => cpu.l.lockdep + MAX_LOCK_CLASSES * MAX_LOCK_CLASSES;

function report(cpu: CpuBase, kind: number, a: number, b: number, siteAB: number, siteBA: number): void {
  const w = cpu.w;
  const r = reportBase(cpu);
  cpu.w[cpu.pc + PC_LOCKDEP_VIOL]!++;
  if (Atomics.add(w, r + LD_NR_REPORTS, 1) === 0) {
    w[r + LD_FIRST_KIND] = kind;
    w[r + LD_FIRST_A] = a;
    w[r + LD_FIRST_B] = b;
    w[r + LD_FIRST_SITE_AB] = siteAB;
    w[r + LD_FIRST_SITE_BA] = siteBA;
    w[r + LD_FIRST_CPU] = cpu.id;
  }
}

/** Is there a path from `from` to `to` in the dependency graph? (iterative DFS, scratch-free: ≤32 classes) */
function reaches(cpu: CpuBase, from: number, to: number): number {
  const w = cpu.w;
  const g = cpu.l.lockdep;
  let seen = 1 << from;
  let frontier = 1 << from;
  while (frontier !== 0) {
    let next = 0;
    for (let a = 0; a < MAX_LOCK_CLASSES; a++) {
      if ((frontier & (1 << a)) === 0) continue;
      for (let b = 0; b < MAX_LOCK_CLASSES; b++) {
        if (w[g + a * MAX_LOCK_CLASSES + b] !== 0 && (seen & (1 << b)) === 0) {
          if (b === to) return w[g + a * MAX_LOCK_CLASSES + b]!;
          seen |= 1 << b;
          next |= 1 << b;
        }
      }
    }
    frontier = next;
  }
  return 0;
}

/** Record an acquisition of `cls` at `site` (before blocking on it: lockdep checks before the deadlock). */
export function lockdepAcquire(cpu: CpuBase, cls: number, site: number, trylock: boolean): void {
  const w = cpu.w;
  const depth = w[cpu.pc + PC_LOCKDEP_DEPTH]!;
  const stack = cpu.pc + PC_LOCKDEP_STACK;
  const g = cpu.l.lockdep;
  const sleeping = LOCK_CLASSES[cls]!.kind !== LockKind.Spin;
  for (let i = 0; i < depth; i++) {
    const held = w[stack + 2 * i]!;
    if (sleeping && LOCK_CLASSES[held]!.kind === LockKind.Spin && !trylock) {
      report(cpu, LD_SLEEP_IN_SPIN, held, cls, w[stack + 2 * i + 1]!, site);
    }
    if (held === cls || trylock) continue;
    const e = g + held * MAX_LOCK_CLASSES + cls;
    if (w[e] === 0 && Atomics.compareExchange(w, e, 0, site + 1) === 0) {
      const back = reaches(cpu, cls, held);
      if (back !== 0) report(cpu, LD_ABBA, held, cls, site, back - 1);
    }
  }
  if (depth < LOCKDEP_DEPTH) {
    w[stack + 2 * depth] = cls;
    w[stack + 2 * depth + 1] = site;
  }
  w[cpu.pc + PC_LOCKDEP_DEPTH] = depth + 1;
}

/** Pop `cls` from the held stack (the innermost entry of that class). Returns its stack slot. */
export function lockdepRelease(cpu: CpuBase, cls: number): number {
  const w = cpu.w;
  const depth = w[cpu.pc + PC_LOCKDEP_DEPTH]!;
  const stack = cpu.pc + PC_LOCKDEP_STACK;
  let i = Math.min(depth, LOCKDEP_DEPTH) - 1;
  while (i >= 0 && w[stack + 2 * i] !== cls) i--;
  if (i < 0) throw new Error(`lockdep: releasing ${LOCK_CLASSES[cls]!.name} which is not held (cpu ${cpu.id})`);
  for (let j = i; j < Math.min(depth, LOCKDEP_DEPTH) - 1; j++) {
    w[stack + 2 * j] = w[stack + 2 * j + 2]!;
    w[stack + 2 * j + 1] = w[stack + 2 * j + 3]!;
    cpu.holdStart[j] = cpu.holdStart[j + 1]!;
  }
  w[cpu.pc + PC_LOCKDEP_DEPTH] = depth - 1;
  return i;
}

/** Number of locks this CPU holds (when lockdep or hold-time tracking is on). */
export const heldDepth = (cpu: CpuBase) => cpu.w[cpu.pc + PC_LOCKDEP_DEPTH]!;

export interface LockdepReport {
  count: number;
  first?: { kind: 'ABBA' | 'sleep-in-spin'; a: string; b: string; siteAB: number; siteBA: number; cpu: number };
}

export function readLockdepReport(w: Int32Array, lockdepBase: number): LockdepReport {
  const r = lockdepBase + MAX_LOCK_CLASSES * MAX_LOCK_CLASSES;
  const count = w[r + LD_NR_REPORTS]!;
  if (count === 0) return { count };
  return {
    count,
    first: {
      kind: w[r + LD_FIRST_KIND] === LD_ABBA ? 'ABBA' : 'sleep-in-spin',
      a: LOCK_CLASSES[w[r + LD_FIRST_A]!]!.name,
      b: LOCK_CLASSES[w[r + LD_FIRST_B]!]!.name,
      siteAB: w[r + LD_FIRST_SITE_AB]!,
      siteBA: w[r + LD_FIRST_SITE_BA]!,
      cpu: w[r + LD_FIRST_CPU]!,
    },
  };
}
