/*
 * workload/types.ts — what a workload is to the runtime.
 *
 * A workload is set up once on the main thread (files, a shared mm for the
 * _threads variants) with the monitor CPU's context; its setup result must be
 * plain data (it crosses into every worker). Each simulated CPU then builds
 * its own instance from (spec, setup) and calls step() — one whole operation —
 * until the run stops; end() releases what it holds, result() reports its
 * counts (and, for fork/exec/shared_file, a per-step latency histogram:
 * latency.ts). The oracle and checker state a workload keeps are CPU-local.
 *
 * Each workload declares the schema of its spec (`spec`: strict, every
 * default in it, built from config.ts's field types), so a spec from flags,
 * from a --config file or from a test is checked and completed the same way,
 * once (workload/index.ts parseSpec) before any worker sees it. A new
 * workload adds its fields there and nowhere else.
 */
import type { z } from 'zod';
import type { Cpu } from '../vm/cpu.js';
import type { Config, ConfigInput } from '../config.js';

export interface WorkloadSpec {
  name: string;
  /** size of each CPU's region in bytes (page_fault*, mmap1) */
  regionBytes?: number;
  /** random: nothing; fork: children per loop */
  children?: number;
  /** files each CPU gets (random, shared_file) */
  filesPerCpu?: number;
  /** extra numeric knobs */
  [k: string]: unknown;
}

export interface WorkloadSetup {
  /** files for each CPU (by cpu id) */
  files: number[][];
  /** the shared mm of a _threads workload, or -1 */
  sharedMm: number;
  /** files every CPU maps (shared_file) */
  sharedFiles: number[];
}

export interface WorkloadInstance {
  /** one whole operation; returns the number of "units" it did (faults, mmaps, ...) */
  step(): number;
  /** tear down what this CPU holds */
  end(): void;
  /** workload-specific counts and failures; latencyOf: what one latency sample times, singular (default "<workload> step") */
  result(): { units: number; failures: string[]; extra?: Record<string, number>; latency?: Float64Array; latencyOf?: string };
}

/** A workload's spec schema: its fields without `name` (input: what a file or the flags give). */
export type SpecSchema = z.ZodType<Record<string, unknown>, Record<string, unknown>>;

export interface Workload {
  readonly name: string;
  readonly description: string;
  /** the spec's fields (strict; defaults filled in; `seed` defaults to config.seed in parseSpec) */
  readonly spec: SpecSchema;
  /** machine fields this workload runs best with when the user sets none (under the file and the flags) */
  readonly machine?: ConfigInput;
  /** run only by another command (trace: `smpvm replay`), not offered to --workload */
  readonly internal?: boolean;
  /** bytes of simulated RAM one CPU needs at least on this machine (bad-input check; the parsed spec) */
  minMemPerCpu(spec: WorkloadSpec, cfg: Config): number;
  /** reject a parameter out of range the schema cannot express (params.ts WorkloadParamError), before any worker starts */
  validate?(spec: WorkloadSpec): void;
  /** the CLI may raise the default --mem to minMemPerCpu × cpus when the user gave none */
  autoMem?: boolean;
  setup(monitor: Cpu, spec: WorkloadSpec, cpus: number): WorkloadSetup;
  create(cpu: Cpu, spec: WorkloadSpec, setup: WorkloadSetup): WorkloadInstance;
  /** after every CPU's end(): release what setup() created (main thread) */
  teardown(monitor: Cpu, setup: WorkloadSetup): void;
}
