/*
 * workload/index.ts — the workload registry (`--workload NAME`) and the one
 * place a workload spec is parsed (parseSpec: the workload's own schema,
 * workload/types.ts).
 */
import type { z } from 'zod';
import { WILL_IT_SCALE } from './willitscale.js';
import { BRK } from './brk.js';
import { MALLOC } from './malloc.js';
import { TLB_FLUSH } from './tlb_flush.js';
import { PROC_WORKLOADS } from './lat_proc.js';
import { SHARED_FILE } from './shared_file.js';
import { RANDOM_WORKLOAD } from './randomwl.js';
import { PRESSURE_WORKLOAD } from './pressure.js';
import { TRACE_WORKLOAD } from './tracewl.js';
import { LOCK_COUNTER } from './lockcount.js';
import { HIGHORDER } from './highorder.js';
import type { Config } from '../config.js';
import type { Workload, WorkloadSpec } from './types.js';

const ALL: Workload[] = [...WILL_IT_SCALE, ...BRK, ...MALLOC, ...TLB_FLUSH, ...PROC_WORKLOADS, SHARED_FILE, RANDOM_WORKLOAD, PRESSURE_WORKLOAD, TRACE_WORKLOAD, LOCK_COUNTER, HIGHORDER];

/** The names --workload accepts (internal workloads left out). */
export const WORKLOAD_NAMES = ALL.filter((w) => !w.internal).map((w) => w.name);

export function workloadByName(name: string): Workload | undefined {
  return ALL.find((w) => w.name === name);
}

/** Specs parseSpec returned: runMachine hands these to the workers as they are. */
const parsed = new WeakSet<object>();

export const isParsedSpec = (s: object): boolean => typeof s === 'object' && s !== null && parsed.has(s);

/**
 * Check and complete `fields` (a spec without its name) with `wl`'s schema;
 * the seed defaults to the machine's. The error, if any, is zod's (the
 * caller names the field: a flag, `config.workload.X`, or `spec.X`).
 */
export function parseSpec(wl: Workload, fields: Record<string, unknown>, cfg: Config): { ok: true; spec: WorkloadSpec } | { ok: false; error: z.ZodError } {
  const r = wl.spec.safeParse(fields);
  if (!r.success) return { ok: false, error: r.error };
  const spec: WorkloadSpec = { name: wl.name, ...r.data };
  const shape = (wl.spec as unknown as { shape?: Record<string, unknown> }).shape;
  if (shape && 'seed' in shape) spec.seed ??= cfg.seed;
  parsed.add(spec);
  return { ok: true, spec };
}

export type { Workload, WorkloadSpec, WorkloadSetup, WorkloadInstance, SpecSchema } from './types.js';
