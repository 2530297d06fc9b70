/*
 * detsched.ts — deterministic mode: several simulated CPUs interleaved on
 * the main thread by a seeded scheduler, one whole operation at a time.
 *
 * Every CPU has its own context (vm/cpu.ts) and its own random operation
 * stream; the scheduler's xorshift picks which CPU runs its next operation,
 * so a seed reproduces a run exactly, including the interleaving. No
 * operation runs concurrently with another, so locks are taken but never
 * contended: this mode checks the MM logic, the worker runtime checks the
 * locking. Used by the property tests.
 */
import type { Machine } from '../machine/machine.js';
import { makeCpu, type Cpu } from '../vm/cpu.js';
import { newStream, stepRandom, endStream, type Stream, type RandomParams, DEFAULT_RANDOM } from '../workload/random.js';
import { newOracle } from '../workload/oracle.js';
import { createFiles } from '../mm/files.js';
import { check_invariants, type CheckResult } from './checker.js';
import { truncate_inode_pages } from '../mm/filemap.js';
import { drain_all_pages } from '../mm/pcp.js';

export interface DetRun {
  m: Machine;
  cpus: Cpu[];
  streams: Stream[];
  files: number[];
  rng: number;
}

export function detSetup(m: Machine, seed: number, nFiles = 3, p: RandomParams = DEFAULT_RANDOM): DetRun {
  const cpus: Cpu[] = [];
  for (let i = 0; i < m.cfg.cpus; i++) cpus.push(makeCpu(m, i));
  const files = createFiles(cpus[0]!, nFiles);
  const shared = new Map<number, number>();
  const streams = cpus.map((c) => newStream(c, seed, files, newOracle(c.id, shared), p));
  return { m, cpus, streams, files, rng: (seed ^ 0xdeadbeef) >>> 0 || 1 };
}

/** Run `ops` operations, the CPU for each chosen by the seeded scheduler. */
export function detRun(r: DetRun, ops: number): void {
  for (let i = 0; i < ops; i++) {
    let x = r.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    r.rng = x >>> 0 || 1;
    const s = r.streams[r.rng % r.streams.length]!;
    stepRandom(s);
  }
}

/** All failures the streams and their oracles recorded. */
export function detFailures(r: DetRun): string[] {
  const out: string[] = [];
  for (const s of r.streams) out.push(...s.failures, ...s.oracle.failures);
  return out;
}

/** Exit every task, drop the page cache, and check that every frame is free again. */
export function detTeardown(r: DetRun): CheckResult {
  for (const s of r.streams) endStream(s);
  const c = r.cpus[0]!;
  for (const ino of r.files) truncate_inode_pages(c, ino);
  drain_all_pages(c);
  return check_invariants(c, { expectEmpty: true });
}
