/*
 * randomwl.ts — the random operation streams (random.ts) as a runtime
 * workload: each CPU runs its own processes over its own files, with its own
 * content oracle, so several CPUs contend on every shared MM structure
 * (allocator, page cache, LRU, the rmap of shared files is per CPU) while
 * their oracles stay CPU-local.
 */
import { createFiles } from '../mm/files.js';
import { newOracle } from './oracle.js';
import { newStream, stepRandom, endStream, DEFAULT_RANDOM, type Stream, type RandomParams } from './random.js';
import type { Workload, WorkloadSetup } from './types.js';

export const RANDOM_WORKLOAD: Workload = {
  name: 'random',
  description: 'seeded random mmap/munmap/mremap/fork/exit/exec/touch streams with the content oracle',
  minMemPerCpu: () => 2 << 20,
  setup(monitor, spec, cpus) {
    const n = Number(spec.filesPerCpu ?? 2);
    const files: number[][] = [];
    for (let c = 0; c < cpus; c++) files.push(createFiles(monitor, n));
    return { files, sharedMm: -1, sharedFiles: [] };
  },
  create(cpu, spec, setup: WorkloadSetup) {
    const seed = Number(spec.seed ?? cpu.m.cfg.seed);
    // spec may override the stream's shape (the reclaim stress tests make it memory-hungry)
    const p = { ...DEFAULT_RANDOM };
    for (const k of Object.keys(p) as (keyof RandomParams)[]) if (typeof spec[k] === 'number') p[k] = spec[k] as number;
    const s: Stream = newStream(cpu, seed, setup.files[cpu.id] ?? [], newOracle(cpu.id), p);
    return {
      step() {
        stepRandom(s);
        return 1;
      },
      end() {
        endStream(s);
      },
      result() {
        return {
          units: s.ops,
          failures: [...s.failures, ...s.oracle.failures],
          extra: { oracleChecks: s.oracle.checks, segv: s.segv, enomem: s.oom, killed: s.killed },
        };
      },
    };
  },
  teardown() {},
};
