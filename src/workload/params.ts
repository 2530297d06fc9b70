/*
 * params.ts — reading a workload's numeric parameters out of its spec.
 *
 * Each workload keeps its parameters as one plain typed object with its
 * defaults in one place (`XX_DEFAULTS`), and reads the spec through
 * paramInt / paramSize, which reject a value out of range with a
 * WorkloadParamError naming the field ("workload.size: must be >= 16 (got
 * -5)"). The CLI turns that into its one-line error, exit 2, before any
 * worker starts (Workload.validate). Main thread and workers; no shared
 * memory.
 */
import { z } from 'zod';
import { parseSize } from '../config.js';
import type { WorkloadSpec } from './types.js';

export class WorkloadParamError extends Error {
  override name = 'WorkloadParamError';
}

function bad(field: string, msg: string): never {
  throw new WorkloadParamError(`workload.${field}: ${msg}`);
}

/** An integer parameter in [min, max], or its default when absent. */
export function paramInt(spec: WorkloadSpec, field: string, dflt: number, min: number, max: number): number {
  const v = spec[field];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) bad(field, `not an integer: ${JSON.stringify(v)}`);
  if (v < min) bad(field, `must be >= ${min} (got ${v})`);
  if (v > max) bad(field, `must be <= ${max} (got ${v})`);
  return v;
}

/** A size in bytes ("64K", 4096) in [min, max], or its default when absent. */
export function paramSize(spec: WorkloadSpec, field: string, dflt: number, min: number, max: number): number {
  const v = spec[field];
  if (v === undefined) return dflt;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-/.test(v) ? -parseSize(v.replace('-', '')) : parseSize(v as string);
  if (typeof n !== 'number' || !Number.isFinite(n) || !Number.isInteger(n)) bad(field, `not a size: ${JSON.stringify(v)} (use e.g. 64K)`);
  if (n < min) bad(field, `must be at least ${min} bytes (got ${n})`);
  if (n > max) bad(field, `must be at most ${max} bytes (got ${n})`);
  return n;
}

/**
 * The spec schema of a workload whose parameters are read with paramInt /
 * paramSize: exactly these fields (an unknown one is refused, naming it),
 * each a number or a size string; the ranges are checked by the workload's
 * validate(), which names the field too.
 */
export function paramFields(fields: string[]) {
  return z.object(Object.fromEntries(fields.map((f) => [f, z.union([z.number(), z.string()]).optional()]))).strict();
}
