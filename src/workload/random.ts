/*
 * random.ts — seeded random operation streams over several processes
 * (the machine issue's generator; the stress tests and `--workload random`).
 *
 * One stream per simulated CPU, with its own tasks (processes), files and
 * content oracle. Each step is one whole operation: mmap (anonymous private
 * or shared, file private or shared), munmap of a sub-range (splitting VMAs),
 * mremap (shrink, grow in place, move), fork, exit, exec, or a burst of
 * touches (stamped writes, checked reads), and — at `compactRate` per step,
 * off by default — a high-order kernel allocation that compacts a block
 * (reclaim/compact.ts: the pages in it migrate, racing the other CPU's
 * faults and reclaim; the oracle then reads them at their new frames),
 * and — at `swapoffRate` per step, off by default — swapoff then swapon
 * (reclaim/swapoff.ts): every swapped page, private or shmem, comes back
 * while the other CPUs fault and reclaim; ENOMEM (it would not fit) and
 * EBUSY (another CPU's swapoff runs) are counted, not failures.
 * A touch outside any mapping or a
 * write to a read-only one must be answered with SIGSEGV, which kills the
 * task cleanly (its mm is torn down); a SIGSEGV anywhere else is a failure.
 *
 * Everything a step allocates is model bookkeeping (JS objects), never the
 * MM hot path.
 */
import { mmap_read_lock, mmap_read_unlock } from '../sync/scheme.js';
import { SITE } from '../sync/classes.js';
import { NIL, PAGE_SIZE, VMA_FILE, MM_KILLED, vmaBase, mmBase } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { find_vma } from '../mm/vma.js';
import { mm_alloc } from '../mm/mm_struct.js';
import { TASK_SIZE } from '../mm/pte.js';
import { do_mmap, do_munmap, do_mremap, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS } from '../vm/mmap.js';
import { do_fork, do_exec, mmput } from '../vm/fork.js';
import { user_access, ACCESS_OK } from '../vm/access.js';
import { VM_FAULT_SIGSEGV, VM_FAULT_OOM } from '../vm/fault.js';
import type { Cpu } from '../vm/cpu.js';
import { enter_op, OP_MMAP, OP_MUNMAP, OP_MREMAP, OP_FORK, OP_KILL, OP_EXEC, OP_TOUCH, OP_COMPACT, OP_SWAPOFF } from '../machine/cpu.js';
import { compact_pages } from '../reclaim/compact.js';
import { sys_swapoff, sys_swapon, ENOMEM, EBUSY } from '../reclaim/swapoff.js';
import { __free_pages } from '../mm/page_ref.js';
import {
  newModel,
  forkModel,
  findRegion,
  unmapModel,
  moveModel,
  R_ANON,
  R_FILE_PRIVATE,
  R_FILE_SHARED,
  R_ANON_SHARED,
  type ProcModel,
  type Region,
} from './procmodel.js';
import { z } from 'zod';
import { int, num } from '../config.js';
import { type Oracle, makeStamp, checkRead, nextVersion, fileKey, ORACLE_WORDS, KEY_ANY } from './oracle.js';

export interface Task {
  mm: number;
  model: ProcModel;
}

/** The stream's shape (spec fields of `--workload random`; the defaults are the stress tests'). */
export const RANDOM_PARAMS = {
  maxTasks: int(1, 64).default(5),
  maxRegions: int(1, 1024).default(10),
  maxRegionPages: int(1, 1 << 16).default(24),
  touchesPerStep: int(1, 4096).default(6),
  /** probability (0..1) of a deliberate bad access (SIGSEGV) per touch burst */
  segvRate: num(0, 1).default(0.02),
  /** probability (0..1) per step of an order-1 or order-2 kernel allocation made by compaction (then freed) */
  compactRate: num(0, 1).default(0),
  /** probability (0..1) per step of a swapoff followed by swapon (issue 18) */
  swapoffRate: num(0, 1).default(0),
};

export type RandomParams = z.output<z.ZodObject<typeof RANDOM_PARAMS>>;

export const DEFAULT_RANDOM: RandomParams = z.object(RANDOM_PARAMS).parse({});

export interface Stream {
  cpu: Cpu;
  rng: number;
  seed: number;
  tasks: Task[];
  files: number[];
  filePages: number;
  oracle: Oracle;
  p: RandomParams;
  nextShareId: number;
  ops: number;
  segv: number;
  oom: number;
  /** tasks killed by the OOM killer or by SIGBUS (a swap slot lost): MM_KILLED */
  killed: number;
  /** swapoff outcomes: done, refused with ENOMEM, EBUSY (another CPU's) */
  swapoffs: number;
  swapoffNomem: number;
  swapoffBusy: number;
  /** model/kernel disagreements other than content */
  failures: string[];
  buf: Int32Array;
}

function rnd(s: Stream): number {
  let x = s.rng;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  s.rng = x >>> 0 || 1;
  return s.rng;
}
const below = (s: Stream, n: number) => rnd(s) % n;
const chance = (s: Stream, p: number) => rnd(s) / 4294967296 < p;

export function newStream(cpu: Cpu, seed: number, files: number[], oracle: Oracle, p: RandomParams = DEFAULT_RANDOM): Stream {
  return {
    cpu,
    rng: (seed * 2654435761 + 0x9e3779b9 * (cpu.id + 1)) >>> 0 || 1,
    seed,
    tasks: [],
    files,
    filePages: cpu.m.cfg.filePages,
    oracle,
    p,
    nextShareId: 1,
    ops: 0,
    segv: 0,
    oom: 0,
    killed: 0,
    swapoffs: 0,
    swapoffNomem: 0,
    swapoffBusy: 0,
    failures: [],
    buf: new Int32Array(ORACLE_WORDS),
  };
}

function fail(s: Stream, msg: string): void {
  if (s.failures.length < 20) s.failures.push(`cpu ${s.cpu.id} op ${s.ops} (seed ${s.seed}): ${msg}`);
}

function spawn(s: Stream): Task | undefined {
  const mm = mm_alloc(s.cpu, s.cpu.mmCache);
  if (mm === NIL) return undefined;
  const t = { mm, model: newModel() };
  s.tasks.push(t);
  return t;
}

function kill(s: Stream, t: Task): void {
  mmput(s.cpu, t.mm);
  s.tasks.splice(s.tasks.indexOf(t), 1);
}

/**
 * Did the task die? The OOM killer or a lost swap slot (SIGBUS) flags its mm
 * (reclaim/oom.ts: MM_KILLED), and a fault that finds no memory kills the
 * faulting task: it exits here, and that is no failure (its memory is freed;
 * its model goes with it).
 */
function task_died(s: Stream, t: Task, rc: number): boolean {
  if (Atomics.load(s.cpu.w, mmBase(s.cpu.l, t.mm) + MM_KILLED) === 0 && rc !== VM_FAULT_OOM) return false;
  s.killed++;
  kill(s, t);
  return true;
}

/** Exit every task whose mm was flagged killed since the last step. */
function reap(s: Stream): void {
  for (let i = s.tasks.length - 1; i >= 0; i--) {
    const t = s.tasks[i]!;
    if (Atomics.load(s.cpu.w, mmBase(s.cpu.l, t.mm) + MM_KILLED) !== 0) {
      s.killed++;
      kill(s, t);
    }
  }
}

function op_mmap(s: Stream, t: Task): void {
  if (t.model.regions.length >= s.p.maxRegions) return;
  const pages = 1 + below(s, s.p.maxRegionPages);
  const kind = s.files.length ? below(s, 4) : below(s, 2) * 3;
  const writable = !chance(s, 0.15);
  const prot = PROT_READ | (writable ? PROT_WRITE : 0);
  let file = -1;
  let pgoff = 0;
  let flags = MAP_PRIVATE;
  if (pages > s.filePages && kind !== R_ANON) return; // a file, or a shmem object, is at most filePages long
  if (kind === R_FILE_PRIVATE || kind === R_FILE_SHARED) {
    file = s.files[below(s, s.files.length)]!;
    pgoff = below(s, s.filePages - pages + 1);
    flags = kind === R_FILE_SHARED ? MAP_SHARED : MAP_PRIVATE;
  } else {
    flags = (kind === R_ANON_SHARED ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS;
  }
  const addr = do_mmap(s.cpu, t.mm, 0, pages * PAGE_SIZE, prot, flags, file, pgoff);
  if (addr < 0) {
    s.oom++;
    return;
  }
  const r: Region = { start: addr, end: addr + pages * PAGE_SIZE, kind, writable, file, pgoff, shareId: 0 };
  if (kind === R_ANON_SHARED) {
    r.shareId = s.nextShareId++ + s.cpu.id * 0x1000000;
    mmap_read_lock(s.cpu, t.mm, SITE.do_mmap); // find_vma's contract
    const v = find_vma(s.cpu, t.mm, addr);
    r.file = v >= 0 ? s.cpu.w[vmaBase(s.cpu.l, v) + VMA_FILE]! : -1;
    mmap_read_unlock(s.cpu, t.mm);
  }
  t.model.regions.push(r);
  t.model.regions.sort((a, b) => a.start - b.start);
}

function op_munmap(s: Stream, t: Task): void {
  const rs = t.model.regions;
  if (rs.length === 0) return;
  const r = rs[below(s, rs.length)]!;
  const pages = (r.end - r.start) >>> 12;
  const a = below(s, pages);
  const b = a + 1 + below(s, pages - a);
  const start = r.start + a * PAGE_SIZE;
  const end = r.start + b * PAGE_SIZE;
  const rc = do_munmap(s.cpu, t.mm, start, end - start);
  if (rc < 0) {
    s.oom++;
    return;
  }
  unmapModel(t.model, start, end);
}

function op_mremap(s: Stream, t: Task): void {
  const rs = t.model.regions.filter((r) => r.kind === R_ANON);
  if (rs.length === 0) return;
  const r = rs[below(s, rs.length)]!;
  const pages = (r.end - r.start) >>> 12;
  const newPages = 1 + below(s, s.p.maxRegionPages * 2);
  const old = r.start;
  const neu = do_mremap(s.cpu, t.mm, old, pages * PAGE_SIZE, newPages * PAGE_SIZE, true);
  if (neu < 0) {
    s.oom++;
    return;
  }
  if (newPages < pages) {
    unmapModel(t.model, old + newPages * PAGE_SIZE, r.end);
    return;
  }
  if (neu === old) {
    r.end = old + newPages * PAGE_SIZE;
    return;
  }
  moveModel(t.model, old, pages * PAGE_SIZE, neu);
  t.model.regions.splice(t.model.regions.indexOf(r), 1);
  t.model.regions.push({ ...r, start: neu, end: neu + newPages * PAGE_SIZE });
  t.model.regions.sort((a, b) => a.start - b.start);
}

function op_fork(s: Stream, t: Task): void {
  if (s.tasks.length >= s.p.maxTasks) return;
  const mm = do_fork(s.cpu, t.mm);
  if (mm === NIL) {
    s.oom++;
    return;
  }
  s.tasks.push({ mm, model: forkModel(t.model) });
}

function op_exec(s: Stream, t: Task): void {
  const mm = do_exec(s.cpu, t.mm);
  if (mm === NIL) {
    s.oom++;
    return;
  }
  t.mm = mm;
  t.model = newModel();
}

/** Expected content of the page at addr in region r: [version, key, ino, index, isFile]. */
function expectation(s: Stream, t: Task, r: Region, addr: number, out: Int32Array): void {
  const idx = r.pgoff + ((addr - r.start) >>> 12);
  const vpage = addr >>> 12;
  if (r.kind === R_ANON) {
    out[0] = t.model.priv.get(vpage) ?? 0;
    out[1] = KEY_ANY;
    out[4] = 0;
  } else if (r.kind === R_ANON_SHARED) {
    const k = -(r.shareId * 0x1000 + idx);
    out[0] = s.oracle.shared.get(k) ?? 0;
    out[1] = k;
    out[4] = 0;
  } else {
    const fk = fileKey(r.file, idx);
    const pv = r.kind === R_FILE_PRIVATE ? t.model.priv.get(vpage) : undefined;
    if (pv !== undefined) {
      out[0] = pv;
      out[1] = KEY_ANY;
    } else {
      out[0] = s.oracle.shared.get(fk) ?? 0;
      out[1] = fk;
    }
    out[4] = 1;
  }
  out[2] = r.file;
  out[3] = idx;
}

const exp = new Int32Array(5);

function touch(s: Stream, t: Task, addr: number, write: boolean): boolean {
  const r = findRegion(t.model, addr);
  const shouldFault = !r || (write && !r.writable);
  const buf = s.buf;
  if (write && r && !shouldFault) {
    const version = nextVersion(s.oracle);
    const idx = r.pgoff + ((addr - r.start) >>> 12);
    let key: number;
    if (r.kind === R_ANON || r.kind === R_FILE_PRIVATE) key = addr >>> 12;
    else if (r.kind === R_ANON_SHARED) key = -(r.shareId * 0x1000 + idx);
    else key = fileKey(r.file, idx);
    makeStamp(s.oracle, buf, key, version);
    const rc = user_access(s.cpu, t.mm, addr, true, buf, 4);
    if (rc !== ACCESS_OK) {
      if (task_died(s, t, rc)) return false;
      fail(s, `write at 0x${addr.toString(16)} in a writable mapping failed: ${rc}`);
      return false;
    }
    if (r.kind === R_ANON || r.kind === R_FILE_PRIVATE) t.model.priv.set(addr >>> 12, version);
    else s.oracle.shared.set(key, version);
    return true;
  }
  const rc = user_access(s.cpu, t.mm, addr, write, buf, write ? 4 : ORACLE_WORDS);
  if (shouldFault) {
    if (rc === VM_FAULT_SIGSEGV) {
      s.segv++;
      s.cpu.w[s.cpu.vm + VM.segv]!++;
      kill(s, t); // the task dies of SIGSEGV; its memory is freed
      return false;
    }
    fail(s, `${write ? 'write' : 'read'} at 0x${addr.toString(16)} should have raised SIGSEGV, got ${rc}`);
    return false;
  }
  if (rc !== ACCESS_OK) {
    if (task_died(s, t, rc)) return false;
    fail(s, `read at 0x${addr.toString(16)} failed: ${rc}`);
    return false;
  }
  expectation(s, t, r!, addr, exp);
  if (!checkRead(s.oracle, buf, exp[0]!, exp[1]!, exp[2]!, exp[3]!, exp[4] === 1, `cpu ${s.cpu.id} mm ${t.mm} 0x${addr.toString(16)}`)) {
    s.cpu.w[s.cpu.vm + VM.oracle_fail]!++;
  }
  return true;
}

function op_touch(s: Stream, t: Task): void {
  const rs = t.model.regions;
  for (let i = 0; i < s.p.touchesPerStep; i++) {
    if (chance(s, s.p.segvRate)) {
      // a wild access: an address in no region, or a write to a read-only one
      const ro = rs.filter((r) => !r.writable);
      if (ro.length && chance(s, 0.5)) {
        const r = ro[below(s, ro.length)]!;
        touch(s, t, r.start, true);
      } else {
        let a = 0x1000 * (1 + below(s, 0x3ffff));
        while (findRegion(t.model, a)) a += 0x1000;
        if (a < TASK_SIZE) touch(s, t, a, chance(s, 0.5));
      }
      return;
    }
    if (rs.length === 0) return;
    const r = rs[below(s, rs.length)]!;
    const addr = r.start + below(s, (r.end - r.start) >>> 12) * PAGE_SIZE;
    if (!touch(s, t, addr, r.writable && chance(s, 0.5))) return;
  }
}

/**
 * A high-order kernel allocation (an order-1 kernel stack, an order-2
 * buffer) that the buddy lists could not serve: compaction empties a block by
 * migrating its pages, and the block goes straight back.
 */
function op_compact(s: Stream): void {
  const order = 1 + below(s, 2);
  const pfn = compact_pages(s.cpu, order);
  if (pfn >= 0) __free_pages(s.cpu, pfn, order);
}

/**
 * swapoff, then swapon. An EBUSY swapon means another CPU's swapoff or swapon
 * holds swapon_sem: that one switches the area on when it is done.
 */
function op_swapoff(s: Stream): void {
  const r = sys_swapoff(s.cpu);
  if (r === EBUSY) {
    s.swapoffBusy++;
    return;
  }
  if (r === 0) s.swapoffs++;
  else if (r === ENOMEM) s.swapoffNomem++;
  else fail(s, `swapoff: error ${r}`);
  sys_swapon(s.cpu);
}

/** One operation of the stream. */
export function stepRandom(s: Stream): void {
  s.ops++;
  reap(s);
  if (s.p.compactRate > 0 && chance(s, s.p.compactRate)) {
    enter_op(s.cpu, OP_COMPACT);
    return op_compact(s);
  }
  if (s.p.swapoffRate > 0 && chance(s, s.p.swapoffRate)) {
    enter_op(s.cpu, OP_SWAPOFF);
    return op_swapoff(s);
  }
  if (s.tasks.length === 0 && !spawn(s)) {
    s.oom++;
    return;
  }
  const t = s.tasks[below(s, s.tasks.length)]!;
  const k = below(s, 100);
  const op = k < 14 ? OP_MMAP : k < 22 ? OP_MUNMAP : k < 27 ? OP_MREMAP : k < 31 ? OP_FORK : k < 34 ? OP_KILL : k < 36 ? OP_EXEC : OP_TOUCH;
  enter_op(s.cpu, op);
  switch (op) {
    case OP_MMAP:
      return op_mmap(s, t);
    case OP_MUNMAP:
      return op_munmap(s, t);
    case OP_MREMAP:
      return op_mremap(s, t);
    case OP_FORK:
      return op_fork(s, t);
    case OP_KILL:
      if (s.tasks.length > 1) kill(s, t);
      return;
    case OP_EXEC:
      return op_exec(s, t);
    default:
      return op_touch(s, t);
  }
}

/** Tear every task of the stream down. */
export function endStream(s: Stream): void {
  while (s.tasks.length) kill(s, s.tasks[s.tasks.length - 1]!);
}
