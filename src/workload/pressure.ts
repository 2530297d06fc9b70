/*
 * pressure.ts — the `pressure` workload: a working set larger than RAM,
 * spread over several processes per CPU, touched in one of four patterns,
 * with the content oracle on every page (issue 6).
 *
 * Each CPU runs `processes` processes (default 4), each with one private
 * anonymous region; together they span `wsBytes` (default 1.5 × RAM / cpus,
 * so the whole machine wants 1.5 × its memory). One step() is `touches`
 * accesses (default 32); each writes a fresh stamp with probability
 * `writeRatio` (default 0.5) or reads and checks the page — against the
 * stamp last written there, or zeros. The page touched next is chosen by
 * `pattern` over the CPU's whole working set (pages numbered process by
 * process):
 *
 *   uniform     every page equally likely
 *   zipf        rank r with probability ∝ 1/r^zipfS (default 1.0), ranks
 *               scattered over the pages by a fixed permutation
 *   looping     page 0, 1, …, N−1, 0, 1, … — the LRU-killer loop
 *   sequential  a use-once stream: pages in order, and each time the stream
 *               comes back to a process's region it is unmapped and mapped
 *               fresh: every page is written or read once, never reused
 *
 * `shared: true` makes the processes of a CPU one family: the first writes
 * its whole region, then the others are forked from it, so every page
 * starts shared by all of them (copy-on-write from the first write on).
 *
 * `shmem: true` (issue 18) makes the working set one MAP_SHARED|MAP_ANONYMOUS
 * region per CPU (a shmem inode; config.filePages must hold it), mapped by
 * all of the CPU's processes (the first maps it, the others are its forks):
 * each touch picks a process at random, and a read must see the stamp last
 * written to that page through any of them — across swap-out and swap-in
 * through the inode (reclaim/shmem_swap.ts). A killed process is replaced by
 * a fork of a live one (the region's data stays); if all died, the region
 * starts over.
 *
 * A process killed by the OOM killer or by SIGBUS (reclaim/oom.ts: MM_KILLED,
 * or an access failing with VM_FAULT_OOM / VM_FAULT_SIGBUS) is exited and
 * started afresh with an empty region: the run goes on. Kills are reported
 * in result().extra.
 *
 * Usable with run / scale / profile like any workload (spec.pattern etc.).
 * CPU-local state only; bookkeeping is allocated at create(), not per step.
 */
import { NIL, PAGE_SIZE, PAGE_SHIFT, MM_KILLED, mmBase } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { mm_alloc } from '../mm/mm_struct.js';
import { do_mmap, do_munmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS } from '../vm/mmap.js';
import { do_fork, mmput } from '../vm/fork.js';
import { user_access, ACCESS_OK } from '../vm/access.js';
import { VM_FAULT_OOM, VM_FAULT_SIGBUS } from '../vm/fault.js';
import type { Cpu } from '../vm/cpu.js';
import { newOracle, makeStamp, checkRead, nextVersion, ORACLE_WORDS, KEY_ANY, type Oracle } from './oracle.js';
import { z } from 'zod';
import { int, num, size, oneOf } from '../config.js';
import type { Workload, WorkloadInstance } from './types.js';

export const PRESSURE_PATTERNS = ['uniform', 'zipf', 'looping', 'sequential'] as const;
export type PressurePattern = (typeof PRESSURE_PATTERNS)[number];

/** The spec (--pattern sets `pattern`); wsBytes defaults to 1.5 × mem / cpus (pressureParams), seed to config.seed. */
export const PRESSURE_SPEC = z
  .object({
    processes: int(1, 1024).default(4),
    // the working set in bytes (rounded up to whole pages per process)
    wsBytes: size(PAGE_SIZE, 64 * 1024 * 1024 * 1024, false).optional(),
    pattern: oneOf(PRESSURE_PATTERNS).default('uniform'),
    touches: int(1, 1 << 16).default(32),
    writeRatio: num(0, 1).default(0.5),
    zipfS: num(0, 10).default(1),
    shared: z.boolean().default(false),
    shmem: z.boolean().default(false),
    seed: int(0, 0x7fffffff).optional(),
  })
  .strict();
export type PressureSpec = z.output<typeof PRESSURE_SPEC>;

interface Proc {
  mm: number;
  addr: number;
  /** version last written per page, 0 = never (reads zeros) */
  versions: Int32Array;
}

export interface PressureParams {
  processes: number;
  pagesPerProcess: number;
  pattern: PressurePattern;
  touches: number;
  writeRatio: number;
  zipfS: number;
  shared: boolean;
  shmem: boolean;
  seed: number;
}

/** The parameters of a pressure spec on a machine with `memBytes` of RAM and `cpus` CPUs. */
export function pressureParams(spec: PressureSpec, memBytes: number, cpus: number, seed: number): PressureParams {
  const ws = spec.wsBytes ?? Math.floor((1.5 * memBytes) / cpus);
  return {
    processes: spec.processes,
    pagesPerProcess: Math.max(1, Math.ceil(ws / PAGE_SIZE / spec.processes)),
    pattern: spec.pattern,
    touches: spec.touches,
    writeRatio: spec.writeRatio,
    zipfS: spec.zipfS,
    shared: spec.shared,
    shmem: spec.shmem,
    seed: spec.seed ?? seed,
  };
}

/** A pressure spec from partial fields (tests and benchmarks that build an instance directly). */
export const pressureSpec = (fields: Record<string, unknown>): PressureSpec => PRESSURE_SPEC.parse(fields);

export interface PressureInstance extends WorkloadInstance {
  readonly procs: Proc[];
  readonly oracle: Oracle;
}

/** Build one CPU's pressure instance (also used directly by tests and benchmarks). */
export function createPressure(cpu: Cpu, p: PressureParams): PressureInstance {
  const total = p.processes * p.pagesPerProcess;
  // shmem: one region of every page, shared by all the processes
  const pages = p.shmem ? total : p.pagesPerProcess;
  const len = pages * PAGE_SIZE;
  const oracle = newOracle(cpu.id);
  const buf = new Int32Array(ORACLE_WORDS);
  const failures: string[] = [];
  const procs: Proc[] = [];
  let rng = (p.seed * 2654435761 + 0x9e3779b9 * (cpu.id + 1)) >>> 0 || 1;
  const rnd = () => {
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    rng >>>= 0;
    return rng;
  };
  let cursor = 0;
  let units = 0;
  let killed = 0;
  let sigbus = 0;
  let respawned = 0;
  let spawnDeferred = 0;

  // zipf: cumulative weights over ranks, and a permutation rank → page
  let cdf: Float64Array | undefined;
  let perm: Int32Array | undefined;
  if (p.pattern === 'zipf') {
    cdf = new Float64Array(total);
    let acc = 0;
    for (let r = 0; r < total; r++) cdf[r] = acc += 1 / Math.pow(r + 1, p.zipfS);
    perm = new Int32Array(total);
    for (let i = 0; i < total; i++) perm[i] = i;
    for (let i = total - 1; i > 0; i--) {
      const j = rnd() % (i + 1);
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
  }

  const fail = (msg: string) => {
    if (failures.length < 20) failures.push(`pressure cpu ${cpu.id}: ${msg}`);
  };

  function mapRegion(pr: Proc): void {
    const a = do_mmap(cpu, pr.mm, 0, len, PROT_READ | PROT_WRITE, (p.shmem ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
    if (a < 0) throw new Error(`pressure: mmap of ${len} bytes failed (${a}) on cpu ${cpu.id}`);
    pr.addr = a;
    pr.versions.fill(0);
  }

  /**
   * A new process in slot i. At set-up a full mm table is a failure; after a
   * death (mayFail) it is what fork's EAGAIN is to a program under memory
   * pressure: the slot stays empty (mm NIL) and step() tries again.
   */
  function spawn(i: number, mayFail = false): boolean {
    const mm = mm_alloc(cpu, cpu.mmCache);
    if (mm === NIL) {
      if (!mayFail) throw new Error(`pressure: cannot allocate an mm on cpu ${cpu.id}`);
      if (procs[i]) procs[i]!.mm = NIL;
      spawnDeferred++;
      return false;
    }
    const pr: Proc = procs[i] ?? { mm, addr: 0, versions: new Int32Array(pages) };
    pr.mm = mm;
    procs[i] = pr;
    mapRegion(pr);
    return true;
  }

  function respawn(pr: Proc): void {
    mmput(cpu, pr.mm);
    respawned++;
    if (p.shmem) {
      const live = procs.find((q) => q !== pr && q.mm !== NIL && Atomics.load(cpu.w, mmBase(cpu.l, q.mm) + MM_KILLED) === 0);
      const child = live === undefined ? NIL : do_fork(cpu, live.mm);
      if (child !== NIL) {
        pr.mm = child;
        return;
      }
      pr.mm = NIL;
      if (live !== undefined) return; // no memory for a fork now: this process stays gone until the next death
      if (spawn(procs.indexOf(pr), true)) forkEmpty(pr);
      return;
    }
    spawn(procs.indexOf(pr), true);
  }

  /** shmem: the other empty slots become forks of pr (they share its new region). */
  function forkEmpty(pr: Proc): void {
    for (const q of procs) {
      if (q === pr || q.mm !== NIL) continue;
      const c = do_fork(cpu, pr.mm);
      if (c !== NIL) {
        q.mm = c;
        q.addr = pr.addr;
      }
    }
  }

  /** shmem: every process is gone (their respawns found no mm): start the family again. */
  function respawn_family(): void {
    if (spawn(0, true)) forkEmpty(procs[0]!);
  }

  /** A failed access or a flag: the process died (OOM / SIGBUS) — or it is a real failure. */
  function died(pr: Proc, rc: number): boolean {
    const sig = Atomics.load(cpu.w, mmBase(cpu.l, pr.mm) + MM_KILLED);
    if (sig === 0 && rc !== VM_FAULT_OOM) return false;
    if (sig === 7 || rc === VM_FAULT_SIGBUS) sigbus++;
    else killed++;
    respawn(pr);
    return true;
  }

  /** Touch page g (process g / pages, page g % pages; shmem: page g through a random process). */
  function touch(g: number): void {
    let pr = procs[p.shmem ? rnd() % procs.length : (g / pages) | 0]!;
    if (pr.mm === NIL) pr = procs.find((q) => q.mm !== NIL) ?? pr;
    if (pr.mm === NIL) return;
    const i = g % pages;
    const addr = pr.addr + i * PAGE_SIZE;
    if (rnd() / 4294967296 < p.writeRatio) {
      const v = nextVersion(oracle);
      makeStamp(oracle, buf, addr >>> PAGE_SHIFT, v);
      const rc = user_access(cpu, pr.mm, addr, true, buf, 4);
      if (rc !== ACCESS_OK) {
        if (!died(pr, rc)) fail(`write at 0x${addr.toString(16)} failed: ${rc}`);
        return;
      }
      pr.versions[i] = v;
      return;
    }
    const rc = user_access(cpu, pr.mm, addr, false, buf, ORACLE_WORDS);
    if (rc !== ACCESS_OK) {
      if (!died(pr, rc)) fail(`read at 0x${addr.toString(16)} failed: ${rc}`);
      return;
    }
    if (!checkRead(oracle, buf, pr.versions[i]!, KEY_ANY, -1, 0, false, `pressure cpu ${cpu.id} mm ${pr.mm} 0x${addr.toString(16)}`)) {
      cpu.w[cpu.vm + VM.oracle_fail]!++;
    }
  }

  function next(): number {
    switch (p.pattern) {
      case 'uniform':
        return rnd() % total;
      case 'zipf': {
        const x = (rnd() / 4294967296) * cdf![total - 1]!;
        let lo = 0;
        let hi = total - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (cdf![mid]! < x) lo = mid + 1;
          else hi = mid;
        }
        return perm![lo]!;
      }
      case 'looping':
        return cursor++ % total;
      default: {
        // sequential: a use-once stream — coming back to a region, the stream
        // finds it unmapped and mapped fresh (its old data is never read again)
        const g = cursor % total;
        if (cursor >= total && g % pages === 0 && !p.shmem) {
          const pr = procs[(g / pages) | 0]!;
          if (do_munmap(cpu, pr.mm, pr.addr, len) < 0) fail('munmap failed');
          mapRegion(pr);
        }
        cursor++;
        return g;
      }
    }
  }

  // the processes (shared: one writes everything, the rest are its forks)
  spawn(0);
  if (p.shmem) {
    const pr0 = procs[0]!;
    for (let k = 1; k < p.processes; k++) {
      const child = do_fork(cpu, pr0.mm);
      if (child === NIL) throw new Error(`pressure: fork failed on cpu ${cpu.id}`);
      procs[k] = { mm: child, addr: pr0.addr, versions: pr0.versions }; // one region, one record of it
    }
  } else if (p.shared) {
    const pr0 = procs[0]!;
    for (let i = 0; i < pages; i++) {
      const addr = pr0.addr + i * PAGE_SIZE;
      const v = nextVersion(oracle);
      makeStamp(oracle, buf, addr >>> PAGE_SHIFT, v);
      if (user_access(cpu, pr0.mm, addr, true, buf, 4) === ACCESS_OK) pr0.versions[i] = v;
    }
    for (let k = 1; k < p.processes; k++) {
      const child = do_fork(cpu, pr0.mm);
      if (child === NIL) throw new Error(`pressure: fork failed on cpu ${cpu.id}`);
      procs[k] = { mm: child, addr: pr0.addr, versions: pr0.versions.slice() };
    }
  } else {
    for (let k = 1; k < p.processes; k++) spawn(k);
  }

  return {
    procs,
    oracle,
    step() {
      for (const pr of procs) if (pr.mm !== NIL && Atomics.load(cpu.w, mmBase(cpu.l, pr.mm) + MM_KILLED) !== 0) died(pr, 0);
      // slots left empty by a failed respawn: private processes retry one by one, a shared family from its first
      if (p.shmem) {
        if (procs.every((q) => q.mm === NIL)) respawn_family();
      } else for (let i = 0; i < procs.length; i++) if (procs[i]!.mm === NIL) spawn(i, true);
      for (let t = 0; t < p.touches; t++) {
        touch(next());
      }
      units += p.touches;
      return p.touches;
    },
    end() {
      for (const pr of procs) if (pr.mm !== NIL) mmput(cpu, pr.mm);
      procs.length = 0;
    },
    result() {
      return {
        units,
        failures: [...failures, ...oracle.failures],
        extra: { oracleChecks: oracle.checks, oomKilled: killed, sigbus, respawned, spawnDeferred, pages: total },
      };
    },
  };
}

export const PRESSURE_WORKLOAD: Workload = {
  name: 'pressure',
  description: 'working set > RAM over several processes per CPU (--pattern uniform|zipf|looping|sequential), content oracle',
  spec: PRESSURE_SPEC,
  minMemPerCpu: () => 1 << 20,
  setup() {
    return { files: [], sharedMm: -1, sharedFiles: [] };
  },
  create(cpu, spec) {
    return createPressure(cpu, pressureParams(spec as unknown as PressureSpec, cpu.m.cfg.mem, cpu.m.cfg.cpus, cpu.m.cfg.seed));
  },
  teardown() {},
};

