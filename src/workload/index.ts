/*
 * workload/index.ts — the workload registry (`--workload NAME`).
 */
import { WILL_IT_SCALE } from './willitscale.js';
import { RANDOM_WORKLOAD } from './randomwl.js';
import { PRESSURE_WORKLOAD } from './pressure.js';
import { TRACE_WORKLOAD } from './tracewl.js';
import type { Workload } from './types.js';

const ALL: Workload[] = [...WILL_IT_SCALE, RANDOM_WORKLOAD, PRESSURE_WORKLOAD, TRACE_WORKLOAD];

export const WORKLOAD_NAMES = ALL.map((w) => w.name);

export function workloadByName(name: string): Workload | undefined {
  return ALL.find((w) => w.name === name);
}

export type { Workload, WorkloadSpec, WorkloadSetup, WorkloadInstance } from './types.js';
