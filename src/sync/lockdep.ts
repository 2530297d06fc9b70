/*
 * lockdep.ts — the lock validator: a class dependency graph built as locks
 * nest, on every CPU (after Ingo Molnar's kernel/locking/lockdep.c, much
 * reduced: no irq states, no chains cache, classes fixed in classes.ts).
 *
 * Each CPU keeps its stack of held (class, site) in its per-CPU area
 * (PC_LOCKDEP_STACK, PC_LOCKDEP_DEPTH). When it acquires class B while
 * holding class A (A != B) the edge A→B goes into the shared class×class
 * matrix (the word = B's acquisition site + 1, set once with
 * compareExchange, so after warm-up the hot path only reads lines that stop
 * changing). Only the CPU that adds a *new* edge checks it:
 *
 *   - A is a spinning lock and B a sleeping one (PG_locked, mmap_sem, a
 *     mutex): "sleep-in-spin" (the kernel's "BUG: sleeping function called
 *     from invalid context" / might_sleep), reported with A's and B's sites.
 *     Not for A = kernel_flag: the big kernel lock is dropped across
 *     schedule() (release_kernel_lock), so sleeping under it is legal;
 *     under the bkl scheme every sleeping lock is taken inside it;
 *   - a path B→…→A already exists: the order is inverted somewhere (ABBA),
 *     a possible deadlock, reported with the site of this acquisition of B
 *     under A and the site of the acquisition of A that closed the path.
 *
 * Two CPUs adding A→B and B→A at the same time cannot both miss: each CASes
 * its edge, then searches with sequentially consistent loads, so the later
 * of the two CASes is followed by a search that sees the earlier edge.
 *
 * Trylock acquisitions are pushed on the held stack but add no edge and are
 * never "sleep-in-spin" (a trylock neither waits nor sleeps): that is how
 * reclaim takes locks against the fault path's order (sync/index.ts).
 *
 * The first report of each run is kept in the report area (LD_FIRST_*); every
 * report counts in LD_NR_REPORTS and in the CPU's PC_LOCKDEP_VIOL.
 *
 * The held stack is also kept when only config.holdTime is on (hold times
 * are measured from it); the graph is only built with config.lockdep.
 *
 * Locking: matrix words are written with Atomics.compareExchange; the report
 * is claimed with Atomics.add on LD_NR_REPORTS; the held stack is CPU-local.
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
  percpuBase,
  type Layout,
} from '../machine/layout.js';
import { LOCK_CLASSES, LOCK_SITES, C_BKL, isSpinClass } from './classes.js';

export const LD_ABBA = 1;
export const LD_SLEEP_IN_SPIN = 2;

const reportBase = (lockdepBase: number) => lockdepBase + MAX_LOCK_CLASSES * MAX_LOCK_CLASSES;

function report(cpu: CpuBase, kind: number, a: number, b: number, siteAB: number, siteBA: number): void {
  const w = cpu.w;
  const r = reportBase(cpu.l.lockdep);
  w[cpu.pc + PC_LOCKDEP_VIOL]!++;
  if (Atomics.add(w, r + LD_NR_REPORTS, 1) === 0) {
    w[r + LD_FIRST_KIND] = kind;
    w[r + LD_FIRST_A] = a;
    w[r + LD_FIRST_B] = b;
    w[r + LD_FIRST_SITE_AB] = siteAB;
    w[r + LD_FIRST_SITE_BA] = siteBA;
    Atomics.store(w, r + LD_FIRST_CPU, cpu.id);
  }
}

/**
 * Is there a path from class `from` to class `to`? Breadth-first over class
 * bitmasks (at most 32 classes, so no scratch memory). Returns the matrix
 * word of the edge that reaches `to` (its site + 1), or 0.
 */
function reaches(cpu: CpuBase, from: number, to: number): number {
  const w = cpu.w;
  const g = cpu.l.lockdep;
  let seen = 1 << from;
  let frontier = 1 << from;
  while (frontier !== 0) {
    let next = 0;
    for (let a = 0; a < MAX_LOCK_CLASSES; a++) {
      if ((frontier & (1 << a)) === 0) continue;
      const row = g + a * MAX_LOCK_CLASSES;
      for (let b = 0; b < MAX_LOCK_CLASSES; b++) {
        if ((seen & (1 << b)) !== 0) continue;
        const e = Atomics.load(w, row + b);
        if (e === 0) continue;
        if (b === to) return e;
        seen |= 1 << b;
        next |= 1 << b;
      }
    }
    frontier = next;
  }
  return 0;
}

/**
 * Record an acquisition of `cls` at `site`: called *before* blocking on the
 * lock, so the order is checked before a deadlock can happen (and after
 * success for trylocks). Pushes (cls, site) on the CPU's held stack.
 */
export function lockdepAcquire(cpu: CpuBase, cls: number, site: number, trylock: boolean): void {
  const w = cpu.w;
  const depth = w[cpu.pc + PC_LOCKDEP_DEPTH]!;
  if (depth >= LOCKDEP_DEPTH) {
    throw new Error(`BUG: MAX_LOCK_DEPTH too low: cpu ${cpu.id} holds ${depth} locks taking ${LOCK_CLASSES[cls]!.name}`);
  }
  const stack = cpu.pc + PC_LOCKDEP_STACK;
  if (cpu.lockdep && !trylock) {
    const g = cpu.l.lockdep;
    const sleeping = !isSpinClass(cls);
    for (let i = 0; i < depth; i++) {
      const held = w[stack + 2 * i]!;
      if (held === cls) continue;
      const e = g + held * MAX_LOCK_CLASSES + cls;
      if (Atomics.load(w, e) !== 0 || Atomics.compareExchange(w, e, 0, site + 1) !== 0) continue;
      // a new dependency held -> cls: check it once
      if (sleeping && isSpinClass(held) && held !== C_BKL) {
        report(cpu, LD_SLEEP_IN_SPIN, held, cls, w[stack + 2 * i + 1]!, site);
      }
      const back = reaches(cpu, cls, held);
      if (back !== 0) report(cpu, LD_ABBA, held, cls, site, back - 1);
    }
  }
  w[stack + 2 * depth] = cls;
  w[stack + 2 * depth + 1] = site;
  w[cpu.pc + PC_LOCKDEP_DEPTH] = depth + 1;
}

/** Index in the held stack of the innermost held lock of class `cls` (throws if none). */
export function lockdepHeldIndex(cpu: CpuBase, cls: number): number {
  const w = cpu.w;
  const stack = cpu.pc + PC_LOCKDEP_STACK;
  let i = w[cpu.pc + PC_LOCKDEP_DEPTH]! - 1;
  while (i >= 0 && w[stack + 2 * i] !== cls) i--;
  if (i < 0) throw new Error(`lockdep: bad unlock balance: cpu ${cpu.id} releases ${LOCK_CLASSES[cls]!.name}, which it does not hold`);
  return i;
}

/** Does this CPU hold a lock of class `cls` (held stack; needs lockdep or holdTime)? */
export function lockdepHolds(cpu: CpuBase, cls: number): boolean {
  const w = cpu.w;
  const stack = cpu.pc + PC_LOCKDEP_STACK;
  for (let i = w[cpu.pc + PC_LOCKDEP_DEPTH]! - 1; i >= 0; i--) if (w[stack + 2 * i] === cls) return true;
  return false;
}

/** Remove held-stack entry `i` (and its hold start time), closing the gap. */
export function lockdepReleaseAt(cpu: CpuBase, i: number): void {
  const w = cpu.w;
  const depth = w[cpu.pc + PC_LOCKDEP_DEPTH]!;
  const stack = cpu.pc + PC_LOCKDEP_STACK;
  for (let j = i; j < depth - 1; j++) {
    w[stack + 2 * j] = w[stack + 2 * j + 2]!;
    w[stack + 2 * j + 1] = w[stack + 2 * j + 3]!;
    cpu.holdStart[j] = cpu.holdStart[j + 1]!;
  }
  w[cpu.pc + PC_LOCKDEP_DEPTH] = depth - 1;
}

/** Pop `cls` from the held stack (its innermost entry). Returns the stack slot it had. */
export function lockdepRelease(cpu: CpuBase, cls: number): number {
  const i = lockdepHeldIndex(cpu, cls);
  lockdepReleaseAt(cpu, i);
  return i;
}

/**
 * debug_show_held_locks: the held stack of CPU slot `slot` as text, outermost
 * first, "class@site"; the last entry may be a lock the CPU is still waiting
 * for (acquisitions are pushed before blocking). For the stuck-CPU watchdog
 * (the hung-task detector's lock dump): read from another thread while the
 * CPU is stuck, so a racing push or pop can only show a stale entry.
 * Empty without lockdep or hold-time tracking.
 */
export function debug_show_held_locks(w: Int32Array, l: Layout, slot: number): string {
  const pc = percpuBase(l, slot);
  const depth = Math.min(Atomics.load(w, pc + PC_LOCKDEP_DEPTH), LOCKDEP_DEPTH);
  const held: string[] = [];
  for (let i = 0; i < depth; i++) {
    const cls = w[pc + PC_LOCKDEP_STACK + 2 * i]!;
    held.push(`${LOCK_CLASSES[cls]?.name ?? `class#${cls}`}@${siteName(w[pc + PC_LOCKDEP_STACK + 2 * i + 1]!)}`);
  }
  return held.join(' > ');
}

/** Number of locks this CPU holds (when lockdep or hold-time tracking is on). */
export const heldDepth = (cpu: CpuBase) => cpu.w[cpu.pc + PC_LOCKDEP_DEPTH]!;

export interface LockdepReport {
  count: number;
  first?: {
    kind: 'ABBA' | 'sleep-in-spin';
    /** ABBA: the class held; sleep-in-spin: the spinlock held */
    a: string;
    /** ABBA: the class taken under `a`; sleep-in-spin: the sleeping lock taken */
    b: string;
    /** ABBA: where b was taken under a; sleep-in-spin: where a (the spinlock) was taken */
    siteAB: number;
    /** ABBA: where a was taken under b (the older, inverted edge); sleep-in-spin: where b was taken */
    siteBA: number;
    siteABName: string;
    siteBAName: string;
    cpu: number;
  };
}

const siteName = (s: number): string => LOCK_SITES[s] ?? `site#${s}`;

/** Read the lockdep report area (any thread; after the run, or racing benignly with a live one). */
export function readLockdepReport(w: Int32Array, lockdepBase: number): LockdepReport {
  const r = reportBase(lockdepBase);
  const count = Atomics.load(w, r + LD_NR_REPORTS);
  if (count === 0) return { count };
  const siteAB = w[r + LD_FIRST_SITE_AB]!;
  const siteBA = w[r + LD_FIRST_SITE_BA]!;
  return {
    count,
    first: {
      kind: w[r + LD_FIRST_KIND] === LD_ABBA ? 'ABBA' : 'sleep-in-spin',
      a: LOCK_CLASSES[w[r + LD_FIRST_A]!]!.name,
      b: LOCK_CLASSES[w[r + LD_FIRST_B]!]!.name,
      siteAB,
      siteBA,
      siteABName: siteName(siteAB),
      siteBAName: siteName(siteBA),
      cpu: Atomics.load(w, r + LD_FIRST_CPU),
    },
  };
}

/** The report as lockdep would print it (one paragraph; '' when clean). */
export function formatLockdepReport(rep: LockdepReport): string {
  const f = rep.first;
  if (!f) return '';
  const more = rep.count > 1 ? ` (${rep.count - 1} more report(s) not shown)` : '';
  if (f.kind === 'ABBA') {
    return (
      `WARNING: possible circular locking dependency detected (cpu ${f.cpu})${more}\n` +
      `  ${f.b} acquired at ${f.siteABName} while holding ${f.a};\n` +
      `  ${f.a} was acquired at ${f.siteBAName} while holding ${f.b} (or a chain from it).\n`
    );
  }
  return (
    `BUG: sleeping lock taken while holding a spinlock (cpu ${f.cpu})${more}\n` +
    `  ${f.b} acquired at ${f.siteBAName} while holding ${f.a} (taken at ${f.siteABName}).\n`
  );
}
