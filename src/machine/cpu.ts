/*
 * cpu.ts — a simulated CPU's context, the `current` of every MM function.
 *
 * One CpuBase object per simulated CPU, created once (in its worker, or on the
 * main thread in deterministic mode) with every field present, so all MM code
 * sees one object shape (monomorphic) and the hot path allocates nothing. It
 * carries the typed-array views, the CPU's per-CPU area offsets, the policy ids
 * chosen when the machine was built, and CPU-local scratch.
 *
 * Locking: the object is CPU-local (never shared). The per-CPU area it points
 * to is written only by this CPU (plain stores) and read by others only after
 * the run stops or at a stop-the-world checkpoint.
 */
import type { Machine } from './machine.js';
import { INJECTIONS, MIGRATE_METHODS } from '../config.js';
import type { Layout } from './layout.js';
import {
  percpuBase,
  PC_VMSTAT,
  PC_F64,
  PC_LOCKSTAT_F64_WORDS,
  PC_ID,
  PC_OP,
  LOCKDEP_DEPTH,
  MCS_LEVELS,
  H_LOCKS,
  H_LOCK_IMPL,
  H_RMAP,
  H_POLICY,
} from './layout.js';

export const LS_BKL = 0;
export const LS_24 = 1;
export const LS_SPLIT = 2;

export interface CpuBase {
  readonly id: number;
  readonly m: Machine;
  readonly w: Int32Array;
  readonly f64: Float64Array;
  readonly l: Layout;
  /** word offset of this CPU's per-CPU area */
  readonly pc: number;
  /** word offset of this CPU's vmstat block */
  readonly vm: number;
  /** Float64 index of this CPU's lock_stat block */
  readonly ls: number;
  /** Float64 index of this CPU's call-site contention block */
  readonly sites: number;
  /** lock scheme: LS_BKL, LS_24, LS_SPLIT */
  readonly lockScheme: number;
  readonly lockImpl: number;
  readonly rmapId: number;
  readonly policyId: number;
  readonly lockdep: boolean;
  readonly holdTime: boolean;
  readonly debug: boolean;
  /** lock hold start times, parallel to the lockdep held stack */
  readonly holdStart: Float64Array;
  /** CPU-local scratch for walks (pte addresses, pfns) */
  readonly scratch: Int32Array;
  readonly scratch2: Int32Array;
  /** xorshift32 state for CPU-local randomness (backoff jitter, workloads) */
  rng: number;
  /** the operation currently executing (for error reports) */
  op: string;
  /** nesting depth of mmu_gather-style deferred frees */
  tlbBatch: number;
  /** bitmask of this CPU's free MCS queue nodes */
  mcsFree: number;
  /** recursion depth of the big kernel lock (lock_depth) */
  bklDepth: number;
  /** planted bug (config.inject): INJECT_* */
  readonly inject: number;
  /** config.migrateMethod: 0 flip (rewrite the ptes), 1 swap (through the swap cache); reclaim/migrate_codes.ts */
  readonly migrateMethod: number;
}

export const INJECT_NONE = 0;
export const INJECT_NO_ZONE_LOCK = 1;
export const INJECT_NO_PTE_LOCK = 2;
export const INJECT_NO_LRU_LOCK = 3;

export function makeCpuBase(m: Machine, id: number): CpuBase {
  const l = m.layout;
  const pc = percpuBase(l, id);
  m.w[pc + PC_ID] = id;
  const f = (pc + PC_F64) >>> 1;
  return {
    id,
    m,
    w: m.w,
    f64: m.f64,
    l,
    pc,
    vm: pc + PC_VMSTAT,
    ls: f,
    sites: f + (PC_LOCKSTAT_F64_WORDS >>> 1),
    lockScheme: m.w[H_LOCKS]!,
    lockImpl: m.w[H_LOCK_IMPL]!,
    rmapId: m.w[H_RMAP]!,
    policyId: m.w[H_POLICY]!,
    lockdep: m.lockdep,
    holdTime: m.holdTime,
    debug: m.debug,
    holdStart: new Float64Array(LOCKDEP_DEPTH),
    scratch: new Int32Array(1 << 16),
    scratch2: new Int32Array(1 << 16),
    rng: (m.cfg.seed * 2654435761 + id * 40503 + 1) >>> 0 || 1,
    op: '',
    tlbBatch: 0,
    mcsFree: (1 << MCS_LEVELS) - 1,
    bklDepth: 0,
    inject: INJECTIONS.indexOf(m.cfg.inject),
    migrateMethod: MIGRATE_METHODS.indexOf(m.cfg.migrateMethod),
  };
}

/*
 * The operation a CPU is in, for error reports: cpu.op names it for the
 * CPU's own error, and PC_OP holds its code in the CPU's per-CPU line so the
 * coordinator can name the operation of a CPU that is stuck (it cannot read
 * the worker's cpu.op). OP_WORKLOAD is a workload's own step (its name).
 */
export const OP_IDLE = 0;
export const OP_SETUP = 1;
export const OP_WORKLOAD = 2;
export const OP_EXIT = 3;
export const OP_KSWAPD = 4;
export const OP_MMAP = 5;
export const OP_MUNMAP = 6;
export const OP_MREMAP = 7;
export const OP_FORK = 8;
export const OP_KILL = 9;
export const OP_EXEC = 10;
export const OP_TOUCH = 11;
export const OP_COMPACT = 12;
export const OP_SWAPOFF = 13;
export const OP_NAMES: readonly string[] = ['idle', 'setup', 'workload', 'exit', 'kswapd', 'mmap', 'munmap', 'mremap', 'fork', 'kill', 'exec', 'touch', 'compact', 'swapoff'];

/** Enter operation `code` (named `name`, by default its OP_NAMES entry). */
export function enter_op(cpu: CpuBase, code: number, name: string = OP_NAMES[code]!): void {
  cpu.op = name;
  cpu.w[cpu.pc + PC_OP] = code;
}

/** The name of the operation CPU slot `c` is in, read from its per-CPU line (`workload`: the workload's name). */
export function op_of(w: Int32Array, l: Layout, c: number, workload: string): string {
  const code = w[percpuBase(l, c) + PC_OP]!;
  return code === OP_WORKLOAD ? workload : (OP_NAMES[code] ?? `op ${code}`);
}

/** xorshift32: CPU-local pseudo-random 32-bit value. */
export function cpuRandom(cpu: CpuBase): number {
  let x = cpu.rng;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  cpu.rng = x >>> 0;
  return cpu.rng;
}
