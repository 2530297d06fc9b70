/*
 * randomwl.ts — the random operation streams (random.ts) as a runtime
 * workload: each CPU runs its own processes over its own files, with its own
 * content oracle, so several CPUs contend on every shared MM structure
 * (allocator, page cache, LRU, the rmap of shared files is per CPU) while
 * their oracles stay CPU-local.
 */
import { createFiles } from '../mm/files.js';
import { newOracle } from './oracle.js';
import { z } from 'zod';
import { int } from '../config.js';
import { newStream, stepRandom, endStream, RANDOM_PARAMS, type Stream, type RandomParams } from './random.js';
import type { Workload, WorkloadSetup } from './types.js';

/** The spec: files per CPU, the stream's seed (default: config.seed) and its shape. */
export const RANDOM_SPEC = z.object({ filesPerCpu: int(0, 64).default(2), seed: int(0, 0x7fffffff).optional(), ...RANDOM_PARAMS }).strict();

export const RANDOM_WORKLOAD: Workload = {
  name: 'random',
  description: 'seeded random mmap/munmap/mremap/fork/exit/exec/touch streams with the content oracle',
  spec: RANDOM_SPEC,
  // the stress tests' sizes: small files and tables, so a random stream touches everything often
  machine: { filePages: 64, maxVma: 2048, maxMm: 64 },
  // with swap, reclaim makes room (the stress tests run 2 CPUs in 1 MiB); without, each CPU's tasks stay resident
  minMemPerCpu: (_spec, cfg) => (cfg.swap > 0 ? 512 << 10 : 2 << 20),
  setup(monitor, spec, cpus) {
    const n = spec.filesPerCpu as number;
    const files: number[][] = [];
    for (let c = 0; c < cpus; c++) files.push(createFiles(monitor, n));
    return { files, sharedMm: -1, sharedFiles: [] };
  },
  create(cpu, spec, setup: WorkloadSetup) {
    const seed = spec.seed as number;
    // the spec's stream shape (the reclaim stress tests make it memory-hungry)
    const p = spec as unknown as RandomParams;
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
          extra: {
            oracleChecks: s.oracle.checks,
            segv: s.segv,
            enomem: s.oom,
            killed: s.killed,
            ...(s.p.swapoffRate > 0 ? { swapoffs: s.swapoffs, swapoffNomem: s.swapoffNomem, swapoffBusy: s.swapoffBusy } : {}),
          },
        };
      },
    };
  },
  teardown() {},
};
