/*
 * brk.ts — will-it-scale's brk1 and brk2 (tests/brk1.c, brk2.c), each as
 * _processes and _threads:
 *
 *   brk1  addr = sbrk(0); loop { brk(addr + page); brk(addr) }: the heap is
 *         empty at the start, so each grow creates the heap VMA and each
 *         shrink unmaps it again
 *   brk2  addr = sbrk(page) + page; the same loop above a one-page heap:
 *         each grow extends the heap VMA (vma_merge), each shrink splits it
 *         back ("unshared": the first page never goes away)
 *
 * Neither touches the memory (no page is ever mapped), so the cost is VMA
 * work under mmap_sem; in _threads every CPU moves one shared break (each
 * from the break it saw at its start, as the C test's local addr). units =
 * brk calls (will-it-scale counts 2 per loop). A brk that does not move the
 * break where asked is a failure (brk2 asserts it).
 *
 * CPU-local state only.
 */
import { PAGE_SIZE } from '../machine/layout.js';
import { sys_brk, set_brk } from '../vm/brk.js';
import { mmput } from '../vm/fork.js';
import { MiB, wisSetup, wisMm, wisTeardown, wisName } from './wis.js';
import type { Cpu } from '../vm/cpu.js';
import type { Workload, WorkloadSpec, WorkloadSetup, WorkloadInstance } from './types.js';
import { paramFields } from './params.js';

/** start_brk of the simulated process: just above a small i386 executable (binfmt.ts puts text at 0x08048000) */
export const HEAP_BASE = 0x08100000;

function make(test: 1 | 2, threads: boolean, description: string): Workload {
  const name = wisName(`brk${test}`, threads);
  return {
    name,
    description,
    spec: paramFields([]),
    minMemPerCpu: () => MiB,
    setup(monitor: Cpu, _spec: WorkloadSpec, cpus: number): WorkloadSetup {
      const s = wisSetup(monitor, name, cpus, threads, 0);
      if (threads) set_brk(monitor, s.sharedMm, HEAP_BASE);
      return s;
    },
    create(cpu: Cpu, _spec: WorkloadSpec, setup: WorkloadSetup): WorkloadInstance {
      const mm = wisMm(cpu, name, setup);
      if (!threads) set_brk(cpu, mm, HEAP_BASE);
      let addr = sys_brk(cpu, mm, 0); // glibc's __curbrk = brk(0)
      if (test === 2) {
        // sbrk(page_size) + page_size
        const want = addr + PAGE_SIZE;
        addr = sys_brk(cpu, mm, want);
        if (addr !== want) throw new Error(`${name}: sbrk(${PAGE_SIZE}) failed on cpu ${cpu.id}`);
      }
      let units = 0;
      const failures: string[] = [];
      const check = (got: number, want: number) => {
        if (got !== want && failures.length < 20) failures.push(`${name} cpu ${cpu.id}: brk(0x${want.toString(16)}) returned 0x${got.toString(16)}`);
      };
      return {
        step() {
          check(sys_brk(cpu, mm, addr + PAGE_SIZE), addr + PAGE_SIZE);
          check(sys_brk(cpu, mm, addr), addr);
          units += 2;
          return 2;
        },
        end() {
          mmput(cpu, mm);
        },
        result() {
          return { units, failures };
        },
      };
    },
    teardown: wisTeardown,
  };
}

export const BRK: Workload[] = [];
for (const threads of [false, true]) {
  BRK.push(
    make(1, threads, 'brk up and down one page from an empty heap (creates and removes the heap VMA)'),
    make(2, threads, 'brk up and down one page above a one-page heap (extends and splits the heap VMA)'),
  );
}
