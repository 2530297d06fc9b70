/*
 * willitscale.ts — will-it-scale's VM tests (github.com/antonblanchard/
 * will-it-scale: tests/page_fault1.c, page_fault2.c, page_fault3.c, mmap1.c),
 * each as `_processes` (one mm per CPU) and `_threads` (one mm shared by all
 * CPUs, each working on its own region of it):
 *
 *   page_fault1  mmap 128 MiB anonymous, write one word per page, munmap
 *   page_fault2  mmap a file MAP_PRIVATE, write every page (COW of page-cache
 *                pages), munmap
 *   page_fault3  mmap a file MAP_SHARED, write every page (write faults on
 *                page-cache pages), munmap
 *   mmap1        mmap + munmap 128 MiB anonymous without touching it
 *   mmap2        mmap + munmap 128 MiB of a file (one per CPU, "separate
 *                file") MAP_PRIVATE read/write, without touching it
 *
 * One step() = one mmap/touch/munmap loop over the region; units = faults
 * (mmap1: mmap+munmap pairs), as will-it-scale counts iterations.
 */
import { PAGE_SIZE, PAGE_SHIFT } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { do_mmap, do_munmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS } from '../vm/mmap.js';
import { mmput } from '../vm/fork.js';
import { user_write_word } from '../vm/access.js';
import { MiB, regionOf, wisSetup, wisMm, wisTeardown, wisName, WILL_IT_SCALE_SPEC } from './wis.js';
import type { Cpu } from '../vm/cpu.js';
import type { Workload, WorkloadSpec, WorkloadSetup, WorkloadInstance } from './types.js';

const KIND_ANON = 0;
const KIND_FILE_PRIVATE = 1;
const KIND_FILE_SHARED = 2;
const KIND_MMAP_ONLY = 3;
const KIND_FILE_MMAP_ONLY = 4;

function make(base: string, kind: number, threads: boolean, description: string): Workload {
  const name = wisName(base, threads);
  const touches = kind !== KIND_MMAP_ONLY && kind !== KIND_FILE_MMAP_ONLY;
  const hasFile = kind === KIND_FILE_PRIVATE || kind === KIND_FILE_SHARED || kind === KIND_FILE_MMAP_ONLY;
  return {
    name,
    description,
    spec: WILL_IT_SCALE_SPEC,
    minMemPerCpu: (spec) => (touches ? regionOf(spec, 128 * MiB) + 2 * MiB : MiB),
    setup(monitor: Cpu, spec: WorkloadSpec, cpus: number): WorkloadSetup {
      return wisSetup(monitor, name, cpus, threads, hasFile ? regionOf(spec, 128 * MiB) >>> PAGE_SHIFT : 0);
    },
    create(cpu: Cpu, spec: WorkloadSpec, setup: WorkloadSetup): WorkloadInstance {
      const len = regionOf(spec, 128 * MiB);
      const mm = wisMm(cpu, name, setup);
      const file = setup.files[cpu.id]?.[0] ?? -1;
      const flags =
        kind === KIND_FILE_PRIVATE || kind === KIND_FILE_MMAP_ONLY ? MAP_PRIVATE : kind === KIND_FILE_SHARED ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS;
      let units = 0;
      const failures: string[] = [];
      return {
        step() {
          const a = do_mmap(cpu, mm, 0, len, PROT_READ | PROT_WRITE, flags, file, 0);
          if (a < 0) throw new Error(`${name}: mmap failed (${a}) on cpu ${cpu.id}`);
          let n = 1;
          if (touches) {
            n = 0;
            for (let off = 0; off < len; off += PAGE_SIZE) {
              const r = user_write_word(cpu, mm, a + off, off);
              if (r < 0) throw new Error(`${name}: write fault failed (${r}) at 0x${(a + off).toString(16)}`);
              n++;
            }
          }
          do_munmap(cpu, mm, a, len);
          units += n;
          return n;
        },
        end() {
          mmput(cpu, mm);
        },
        result() {
          return { units, failures, extra: { pgfault: cpu.w[cpu.vm + VM.pgfault]! } };
        },
      };
    },
    teardown: wisTeardown,
  };
}

export const WILL_IT_SCALE: Workload[] = [];
for (const threads of [false, true]) {
  WILL_IT_SCALE.push(
    make('page_fault1', KIND_ANON, threads, 'mmap 128 MiB anonymous, write every page, munmap'),
    make('page_fault2', KIND_FILE_PRIVATE, threads, 'mmap a file private, write every page (COW of page cache), munmap'),
    make('page_fault3', KIND_FILE_SHARED, threads, 'mmap a file shared, write every page, munmap'),
    make('mmap1', KIND_MMAP_ONLY, threads, 'mmap + munmap 128 MiB anonymous, untouched'),
    make('mmap2', KIND_FILE_MMAP_ONLY, threads, 'mmap + munmap 128 MiB of a file (one per CPU) private read/write, untouched'),
  );
}
