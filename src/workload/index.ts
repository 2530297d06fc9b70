/*
 * workload/index.ts — the workload registry (`--workload NAME`).
 */
import { WILL_IT_SCALE } from './willitscale.js';
import { BRK } from './brk.js';
import { MALLOC } from './malloc.js';
import { TLB_FLUSH } from './tlb_flush.js';
import { PROC_WORKLOADS } from './lat_proc.js';
import { SHARED_FILE } from './shared_file.js';
import { RANDOM_WORKLOAD } from './randomwl.js';
import { PRESSURE_WORKLOAD } from './pressure.js';
import { TRACE_WORKLOAD } from './tracewl.js';
import type { Workload } from './types.js';

const ALL: Workload[] = [...WILL_IT_SCALE, ...BRK, ...MALLOC, ...TLB_FLUSH, ...PROC_WORKLOADS, SHARED_FILE, RANDOM_WORKLOAD, PRESSURE_WORKLOAD, TRACE_WORKLOAD];

export const WORKLOAD_NAMES = ALL.map((w) => w.name);

export function workloadByName(name: string): Workload | undefined {
  return ALL.find((w) => w.name === name);
}

export type { Workload, WorkloadSpec, WorkloadSetup, WorkloadInstance } from './types.js';
