/*
 * malloc.ts — will-it-scale's malloc1 and malloc2 (tests/malloc1.c,
 * malloc2.c): `p = malloc(SIZE); free(p)` in a loop, SIZE 128 MiB (malloc1:
 * above the mmap threshold, so every malloc is an mmap, a fault on the
 * chunk header, and every free a munmap) or 1 KiB (malloc2: a heap chunk
 * that goes to a bin and comes back, no system call after the first
 * sbrk). The allocator is ptmalloc.ts (main arena over brk in _processes, a
 * per-thread arena in _threads). units = malloc/free pairs; extra.syscalls
 * counts the brk/mmap/munmap/madvise calls the allocator made.
 *
 * Parameters (spec fields, MALLOC_TEST_DEFAULTS): size, and the allocator's
 * mmapThreshold / trimThreshold / topPad. Each test keeps to its side of the
 * mmap threshold — malloc1 measures mmap'd chunks, malloc2 heap chunks — so
 * a size on the wrong side is refused (Workload.validate) rather than
 * silently running the other test.
 *
 * CPU-local state; bookkeeping allocated at create().
 */
import { set_brk } from '../vm/brk.js';
import { mmput } from '../vm/fork.js';
import { newOracle } from './oracle.js';
import { newArena, malloc, free, request2size, MALLOC_DEFAULTS, DEFAULT_MMAP_THRESHOLD_MAX, type MallocParams } from './ptmalloc.js';
import { HEAP_BASE } from './brk.js';
import { paramSize, paramFields, WorkloadParamError } from './params.js';
import { MiB, wisSetup, wisMm, wisTeardown, wisName } from './wis.js';
import type { Cpu } from '../vm/cpu.js';
import type { Workload, WorkloadSpec, WorkloadSetup, WorkloadInstance } from './types.js';

interface MallocTestParams extends MallocParams {
  /** bytes per malloc */
  size: number;
}

const SIZE_DEFAULT = { 1: 128 * MiB, 2: 1024 } as const;
const KiB = 1024;

/** The test's parameters from its spec; WorkloadParamError names a field out of range. */
function params(test: 1 | 2, spec: WorkloadSpec): MallocTestParams {
  const mmapThreshold = paramSize(spec, 'mmapThreshold', MALLOC_DEFAULTS.mmapThreshold, 16, DEFAULT_MMAP_THRESHOLD_MAX);
  const trimThreshold = paramSize(spec, 'trimThreshold', MALLOC_DEFAULTS.trimThreshold, 0, 1024 * MiB);
  const topPad = paramSize(spec, 'topPad', MALLOC_DEFAULTS.topPad, 0, 64 * MiB);
  const size = paramSize(spec, 'size', SIZE_DEFAULT[test], 0, 1024 * MiB);
  const mmapped = request2size(size) >= mmapThreshold;
  if (test === 1 && !mmapped)
    throw new WorkloadParamError(`workload.size: malloc1 allocates above the mmap threshold; ${size} bytes is below mmapThreshold ${mmapThreshold / KiB} KiB (use malloc2)`);
  if (test === 2 && mmapped)
    throw new WorkloadParamError(`workload.size: malloc2 allocates from the heap; ${size} bytes is at or above mmapThreshold ${mmapThreshold / KiB} KiB (use malloc1, or raise mmapThreshold)`);
  return { size, mmapThreshold, trimThreshold, topPad };
}

function make(test: 1 | 2, threads: boolean, description: string): Workload {
  const name = wisName(`malloc${test}`, threads);
  return {
    name,
    description,
    spec: paramFields(['size', 'mmapThreshold', 'trimThreshold', 'topPad']),
    validate: (spec) => void params(test, spec),
    minMemPerCpu: () => 2 * MiB,
    setup(monitor: Cpu, _spec: WorkloadSpec, cpus: number): WorkloadSetup {
      return wisSetup(monitor, name, cpus, threads, 0);
    },
    create(cpu: Cpu, spec: WorkloadSpec, setup: WorkloadSetup): WorkloadInstance {
      const p = params(test, spec);
      const mm = wisMm(cpu, name, setup);
      if (!threads) set_brk(cpu, mm, HEAP_BASE);
      const oracle = newOracle(cpu.id);
      const arena = newArena(cpu, mm, !threads, p, oracle);
      let units = 0;
      return {
        step() {
          const ptr = malloc(arena, p.size);
          if (ptr === 0) throw new Error(`${name}: malloc(${p.size}) returned NULL on cpu ${cpu.id}`);
          free(arena, ptr);
          units++;
          return 1;
        },
        end() {
          mmput(cpu, mm);
        },
        result() {
          return { units, failures: oracle.failures, extra: { oracleChecks: oracle.checks, syscalls: arena.syscalls } };
        },
      };
    },
    teardown: wisTeardown,
  };
}

export const MALLOC: Workload[] = [];
for (const threads of [false, true]) {
  MALLOC.push(
    make(1, threads, 'malloc + free of 128 MiB (above the mmap threshold: mmap, a header fault, munmap)'),
    make(2, threads, 'malloc + free of 1 KiB (a heap chunk: no system call once the heap exists)'),
  );
}
