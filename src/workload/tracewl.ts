/*
 * tracewl.ts — the `trace` workload: replay page-reference traces on the
 * SMP machine, one trace (or one slice of a trace) per simulated CPU
 * (issue 7, `smpvm replay --cpus N`).
 *
 * Each CPU runs one process with one private anonymous region of as many
 * pages as its trace has distinct keys (dense ids in order of first
 * reference, replay/ids.ts), and touches one page per reference: the first
 * reference to a page writes it (so that it takes a frame, as a page brought
 * in by a miss does in the one-CPU replay), later ones read (R) or write
 * (W). Every write stores a content-oracle stamp and every read checks it,
 * through swap-out, swap-in and whatever the policy does. A step replays up
 * to REFS_PER_STEP references; a CPU whose trace is done steps idle.
 *
 * The traces reach the workers through a SharedArrayBuffer per CPU: the
 * caller stages them on the main thread (stageTraces, before runMachine),
 * setup() copies each into shared memory, and every worker maps its own
 * slice without a copy. The spec carries only the staging key.
 *
 * CPU-local state only; nothing is allocated per reference.
 */
import { z } from 'zod';
import { NIL, PAGE_SIZE, PAGE_SHIFT, MM_KILLED, mmBase } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { mm_alloc } from '../mm/mm_struct.js';
import { TASK_SIZE, TASK_UNMAPPED_BASE } from '../mm/pte.js';
import { do_mmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../vm/mmap.js';
import { mmput } from '../vm/fork.js';
import { user_access, ACCESS_OK } from '../vm/access.js';
import { newOracle, makeStamp, checkRead, nextVersion, ORACLE_WORDS, KEY_ANY } from './oracle.js';
import type { Workload, WorkloadSetup } from './types.js';

/** References one step() replays. */
export const REFS_PER_STEP = 64;
/** Most distinct pages one CPU's trace may have: its region must fit the user address space. */
export const TRACE_MAX_PAGES = Math.floor((TASK_SIZE - TASK_UNMAPPED_BASE) / PAGE_SIZE) - 1024;

/** One CPU's trace, in dense ids. */
export interface TraceSlice {
  /** label for messages and results */
  name: string;
  /** dense page id of each reference */
  ids: Int32Array;
  /** OP_READ (0) / OP_WRITE (1) of each reference */
  ops: Uint8Array;
  /** distinct pages (ids are 0..nIds-1) */
  nIds: number;
}

/** What crosses into the workers: per CPU, the slice in shared memory. */
interface SharedSlice {
  name: string;
  n: number;
  nIds: number;
  /** n Int32 ids, then n Uint8 ops */
  sab: SharedArrayBuffer;
}

interface TraceSetup extends WorkloadSetup {
  traces: SharedSlice[];
}

const staged = new Map<string, TraceSlice[]>();
let nextKey = 1;

/**
 * Stage the traces of a run (main thread, before runMachine): returns the
 * key to put in the spec, { name: 'trace', traceKey }. One slice per CPU.
 */
export function stageTraces(slices: TraceSlice[]): string {
  for (const s of slices) {
    if (s.nIds > TRACE_MAX_PAGES) throw new RangeError(`trace ${s.name}: ${s.nIds} distinct pages do not fit one process (at most ${TRACE_MAX_PAGES})`);
  }
  const key = `trace-${process.pid}-${nextKey++}`;
  staged.set(key, slices);
  return key;
}

/** The steps a run needs so that every CPU replays its whole slice. */
export function traceSteps(slices: readonly TraceSlice[]): number {
  return Math.max(1, ...slices.map((s) => Math.ceil(s.ids.length / REFS_PER_STEP)));
}

export const TRACE_WORKLOAD: Workload = {
  name: 'trace',
  description: 'replay page-reference traces, one per CPU (smpvm replay --cpus N), content oracle',
  spec: z.object({ traceKey: z.string() }).strict(),
  internal: true,
  minMemPerCpu: () => 0,
  setup(_monitor, spec, cpus) {
    const slices = staged.get(String(spec.traceKey));
    if (!slices) throw new Error(`trace workload: no traces staged under ${JSON.stringify(spec.traceKey)} (smpvm replay stages them)`);
    if (slices.length !== cpus) throw new Error(`trace workload: ${slices.length} traces for ${cpus} CPUs`);
    const traces: SharedSlice[] = slices.map((s) => {
      const n = s.ids.length;
      const sab = new SharedArrayBuffer(n * 5);
      new Int32Array(sab, 0, n).set(s.ids);
      new Uint8Array(sab, n * 4, n).set(s.ops);
      return { name: s.name, n, nIds: s.nIds, sab };
    });
    const setup: TraceSetup = { files: [], sharedMm: -1, sharedFiles: [], traces };
    return setup;
  },
  create(cpu, _spec, setup) {
    const t = (setup as TraceSetup).traces[cpu.id];
    if (!t) throw new Error(`trace workload: no trace for cpu ${cpu.id}`);
    const ids = new Int32Array(t.sab, 0, t.n);
    const ops = new Uint8Array(t.sab, t.n * 4, t.n);
    const oracle = newOracle(cpu.id);
    const buf = new Int32Array(ORACLE_WORDS);
    const versions = new Int32Array(t.nIds); // 0 = never touched
    const failures: string[] = [];
    const mm = mm_alloc(cpu, cpu.mmCache);
    if (mm === NIL) throw new Error(`trace: cannot allocate an mm on cpu ${cpu.id}`);
    const base = do_mmap(cpu, mm, 0, t.nIds * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base < 0) throw new Error(`trace: mmap of ${t.nIds} pages failed (${base}) on cpu ${cpu.id}`);
    let cursor = 0;
    let dead = false;
    let units = 0;
    const fail = (msg: string) => {
      if (failures.length < 20) failures.push(`trace cpu ${cpu.id} (${t.name}): ${msg}`);
    };
    /** One reference: see the header. False if the process died (the trace stops here). */
    function ref(i: number): boolean {
      const page = ids[i]!;
      const addr = base + page * PAGE_SIZE;
      if (versions[page] === 0 || ops[i] !== 0) {
        const v = nextVersion(oracle);
        makeStamp(oracle, buf, addr >>> PAGE_SHIFT, v);
        const rc = user_access(cpu, mm, addr, true, buf, 4);
        if (rc !== ACCESS_OK) {
          fail(`reference ${i}: write of page ${page} failed (${rc}${Atomics.load(cpu.w, mmBase(cpu.l, mm) + MM_KILLED) ? ', killed' : ''})`);
          return false;
        }
        versions[page] = v;
        return true;
      }
      const rc = user_access(cpu, mm, addr, false, buf, ORACLE_WORDS);
      if (rc !== ACCESS_OK) {
        fail(`reference ${i}: read of page ${page} failed (${rc})`);
        return false;
      }
      if (!checkRead(oracle, buf, versions[page]!, KEY_ANY, -1, 0, false, `trace cpu ${cpu.id} ref ${i} page ${page}`)) {
        cpu.w[cpu.vm + VM.oracle_fail]!++;
      }
      return true;
    }
    return {
      step() {
        if (dead) return 0;
        const end = Math.min(t.n, cursor + REFS_PER_STEP);
        const from = cursor;
        while (cursor < end) {
          if (!ref(cursor)) {
            dead = true;
            break;
          }
          cursor++;
        }
        units += cursor - from;
        return cursor - from;
      },
      end() {
        mmput(cpu, mm);
      },
      result() {
        if (!dead && cursor < t.n) fail(`stopped after ${cursor} of ${t.n} references`);
        return { units, failures: [...failures, ...oracle.failures], extra: { oracleChecks: oracle.checks, refs: cursor, pages: t.nIds } };
      },
    };
  },
  teardown(_monitor, _setup) {},
};

/** Forget a run's staged traces (after runMachine). */
export function unstageTraces(key: string): void {
  staged.delete(key);
}

