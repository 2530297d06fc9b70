/*
 * lat_proc.ts — lmbench's process benchmarks (lat_proc.c) as workloads:
 *
 *   fork      lat_proc fork: the parent forks, the child exits at once,
 *             the parent waits. The child still runs a little: it returns
 *             from fork onto its stack (one copy-on-write fault) and reads
 *             one data page (shared with the parent until written).
 *   fork_big  the same with a large resident parent (residentBytes,
 *             default 32 MiB of written anonymous memory): fork copies
 *             every pte and adds a reverse mapping for each, exit removes
 *             them — where a per-pte rmap pays most (pte chains: lmbench's
 *             fork +25% on 2.5.65). The child writes one page of the region
 *             and reads another.
 *   exec      lat_proc exec: fork, then the child execs `hello`
 *             (binfmt.ts: text, data, bss, stack mapped from its file),
 *             which faults a few pages in (reads its text, writes data,
 *             bss, stack) and exits; the parent waits.
 *
 * Each CPU runs one parent: the lat_proc image (proc_image.ts), loaded and
 * started at create() (it has also grown its heap by heapPages with brk and
 * written them). The executables are two files every CPU maps (so their
 * text pages are shared by all parents, as one binary's page cache is).
 * step() = one fork+exit+wait (or fork+exec+exit+wait); its time (clock_ms:
 * host, or virtual under the virtual clock) goes to the per-operation latency
 * histogram (latency.ts: results' opLatency).
 * After each step the parent checks one of its own pages (rotating): the
 * child's writes must not have reached it.
 *
 * Parameters (spec fields, PROC_DEFAULTS): residentBytes, heapPages.
 * CPU-local state; bookkeeping allocated at create().
 */
import { NIL, PAGE_SIZE, PAGE_SHIFT } from '../machine/layout.js';
import { mm_alloc } from '../mm/mm_struct.js';
import { inode_alloc } from '../mm/files.js';
import { do_mmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../vm/mmap.js';
import { do_fork, mmput } from '../vm/fork.js';
import { load_image, do_execve, type Image } from '../vm/binfmt.js';
import { sys_brk } from '../vm/brk.js';
import { newOracle } from './oracle.js';
import { newLatency, record } from './latency.js';
import { clock_ms } from '../timing/index.js';
import { paramInt, paramSize, paramFields } from './params.js';
import { LAT_PROC_IMAGE, HELLO_IMAGE, imagePages, newView, writePage, checkPage, startProgram, type ProcView } from './proc_image.js';
import { MiB } from './wis.js';
import type { Cpu } from '../vm/cpu.js';
import type { Workload, WorkloadSpec, WorkloadSetup, WorkloadInstance } from './types.js';

export interface ProcParams {
  /** bytes of written anonymous memory the parent holds besides its image */
  residentBytes: number;
  /** pages the parent's heap grew by (brk) and wrote */
  heapPages: number;
}

const FORK = 0;
const FORK_BIG = 1;
const EXEC = 2;

export const PROC_DEFAULTS: Record<number, ProcParams> = {
  [FORK]: { residentBytes: 0, heapPages: 8 },
  [FORK_BIG]: { residentBytes: 32 * MiB, heapPages: 8 },
  [EXEC]: { residentBytes: 0, heapPages: 8 },
};

function params(kind: number, spec: WorkloadSpec): ProcParams {
  const d = PROC_DEFAULTS[kind]!;
  return {
    residentBytes: paramSize(spec, 'residentBytes', d.residentBytes, 0, 1024 * MiB),
    heapPages: paramInt(spec, 'heapPages', d.heapPages, 0, 4096),
  };
}

/** The files in setup.sharedFiles: [lat_proc, hello]. */
const imageOf = (ino: number, shape: typeof LAT_PROC_IMAGE | typeof HELLO_IMAGE): Image => ({ ino, ...shape });

function make(kind: number, name: string, description: string): Workload {
  return {
    name,
    description,
    spec: paramFields(['residentBytes', 'heapPages']),
    autoMem: true,
    validate: (spec) => void params(kind, spec),
    minMemPerCpu: (spec) => params(kind, spec).residentBytes + 2 * MiB,
    setup(monitor: Cpu): WorkloadSetup {
      const sharedFiles: number[] = [];
      for (const shape of [LAT_PROC_IMAGE, HELLO_IMAGE]) {
        const ino = inode_alloc(monitor, imagePages(shape), 0);
        if (ino < 0) throw new Error(`${name}: out of inodes (maxFiles)`);
        sharedFiles.push(ino);
      }
      return { files: [], sharedMm: -1, sharedFiles };
    },
    create(cpu: Cpu, spec: WorkloadSpec, setup: WorkloadSetup): WorkloadInstance {
      const p = params(kind, spec);
      const oracle = newOracle(cpu.id);
      const parent = mm_alloc(cpu, cpu.mmCache);
      if (parent === NIL) throw new Error(`${name}: cannot allocate the parent's mm on cpu ${cpu.id}`);
      const pv = newView(cpu, oracle, imageOf(setup.sharedFiles[0]!, LAT_PROC_IMAGE), `${name} parent`);
      if (load_image(cpu, parent, pv.img) < 0) throw new Error(`${name}: cannot load the parent's image on cpu ${cpu.id}`);
      startProgram(pv, parent, LAT_PROC_IMAGE.textPages, 2);
      // the parent's heap (malloc's first sbrk) and its resident data
      const heap = pv.at.brk;
      if (p.heapPages && sys_brk(cpu, parent, heap + p.heapPages * PAGE_SIZE) !== heap + p.heapPages * PAGE_SIZE)
        throw new Error(`${name}: the parent's brk failed on cpu ${cpu.id}`);
      for (let i = 0; i < p.heapPages; i++) writePage(pv, parent, heap + i * PAGE_SIZE);
      let big = 0;
      if (p.residentBytes > 0) {
        big = do_mmap(cpu, parent, 0, p.residentBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (big < 0) throw new Error(`${name}: cannot map the parent's ${p.residentBytes >> 20} MiB (${big}) on cpu ${cpu.id}`);
        for (let off = 0; off < p.residentBytes; off += PAGE_SIZE) writePage(pv, parent, big + off);
      }
      const bigPages = p.residentBytes >>> PAGE_SHIFT;
      const mine = [...pv.written.keys()].map((vp) => vp << PAGE_SHIFT);
      const cv: ProcView = { ...pv, written: new Map(), inherited: pv.written, name: `${name} child` };
      const hv = newView(cpu, oracle, imageOf(setup.sharedFiles[1]!, HELLO_IMAGE), `${name} hello`);
      const lat = newLatency();
      let ops = 0;
      return {
        step() {
          const t0 = clock_ms();
          const child = do_fork(cpu, parent);
          if (child === NIL) throw new Error(`${name}: fork failed (out of memory) on cpu ${cpu.id}`);
          if (kind === EXEC) {
            const mm = do_execve(cpu, child, hv.img);
            if (mm === NIL) throw new Error(`${name}: exec failed (out of memory) on cpu ${cpu.id}`);
            hv.written.clear();
            startProgram(hv, mm, HELLO_IMAGE.textPages, 1);
            checkPage(hv, mm, hv.at.data);
            mmput(cpu, mm);
          } else {
            // the child shares the parent's pages: it sees the parent's stamps until it writes
            cv.written.clear();
            writePage(cv, child, pv.at.stack + (LAT_PROC_IMAGE.stackPages - 1) * PAGE_SIZE);
            checkPage(cv, child, pv.at.data);
            if (bigPages) {
              writePage(cv, child, big + (ops % bigPages) * PAGE_SIZE);
              checkPage(cv, child, big + ((ops * 7 + 1) % bigPages) * PAGE_SIZE);
            }
            mmput(cpu, child);
          }
          record(lat, clock_ms() - t0);
          checkPage(pv, parent, mine[ops % mine.length]!);
          ops++;
          return 1;
        },
        end() {
          mmput(cpu, parent);
        },
        result() {
          return { units: ops, failures: oracle.failures, extra: { oracleChecks: oracle.checks }, latency: lat };
        },
      };
    },
    teardown() {},
  };
}

export const PROC_WORKLOADS: Workload[] = [
  make(FORK, 'fork', 'lmbench lat_proc fork: fork a small process, the child exits, the parent waits (per-op latency)'),
  make(FORK_BIG, 'fork_big', 'fork + exit + wait of a parent with 32 MiB resident (residentBytes) (per-op latency)'),
  make(EXEC, 'exec', 'lmbench lat_proc exec: fork, the child execs hello (text, data, bss, stack), faults a few pages, exits (per-op latency)'),
];
