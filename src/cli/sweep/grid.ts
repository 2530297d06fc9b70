/*
 * sweep/grid.ts — a sweep's grid file and its points.
 *
 * A grid names the fields every point shares and the axes it varies:
 *
 *   { "fixed": { "workload": "page_fault1_processes", "mem": "64M", "ops": 20, "seed": 7 },
 *     "axes":  { "cpus": [1, 2, 4], "locks": ["bkl", "2.4", "split"], "rmap": ["scan", "objrmap"] } }
 *
 * Every point is one `smpvm run --config` file: a field of config.ts, or one
 * of the run's own fields (workload, region, duration, ops). Points are the
 * cartesian product of the axes, in the order the file names them (the last
 * axis varies fastest), each with `fixed` underneath. A point is known by the
 * hash of its canonical JSON (keys sorted): that is its results file's name,
 * its job id on a queue, and what a resumed sweep looks for, so a point is
 * run once whatever its place in the grid or the order of its keys.
 *
 * Checked before anything runs, each a one-line error naming the field: the
 * file's shape, an unknown axis or fixed field, an empty axis, an axis also
 * fixed, and every value (config fields by the config schema; workloads by
 * the registry; region, duration and ops by their ranges). Pure; no locking.
 */
import { createHash } from 'node:crypto';
import { CONFIG_FIELDS } from '../../config.js';
import { WORKLOAD_NAMES } from '../../workload/index.js';

/** Fields of a point beyond config.ts: the run's own (as `--config` files take them). */
const RUN_FIELDS = ['workload', 'region', 'duration', 'ops'] as const;

export type Point = Record<string, unknown>;

export interface Grid {
  fixed: Point;
  axes: [string, unknown[]][];
}

export interface SweepPoint {
  /** 16 hex digits of sha256 over the canonical JSON */
  hash: string;
  /** the `run --config` object */
  config: Point;
  /** this point's value on each axis, in axis order */
  at: Record<string, unknown>;
}

export class GridError extends Error {
  override name = 'GridError';
}

const configFields = (): string[] => Object.keys(CONFIG_FIELDS);

/** JSON with object keys sorted at every level: the same point always prints the same. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export const pointHash = (p: Point): string => createHash('sha256').update(canonicalJson(p)).digest('hex').slice(0, 16);

const show = (v: unknown) => JSON.stringify(v);

/** Check one field's value as `run --config` would (the config schema, the workload registry, the run fields' ranges). */
function checkValue(where: string, field: string, v: unknown): void {
  if (field === 'workload') {
    if (typeof v !== 'string' || !WORKLOAD_NAMES.includes(v)) throw new GridError(`${where}: unknown workload ${show(v)} (known: ${WORKLOAD_NAMES.join(', ')})`);
    return;
  }
  if (field === 'duration') {
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new GridError(`${where}: seconds > 0 expected, got ${show(v)}`);
    return;
  }
  if (field === 'ops') {
    if (!Number.isInteger(v) || (v as number) < 1) throw new GridError(`${where}: an integer >= 1 expected, got ${show(v)}`);
    return;
  }
  if (field === 'region') {
    if (typeof v !== 'string' && typeof v !== 'number') throw new GridError(`${where}: a size expected (e.g. "16M"), got ${show(v)}`);
    return;
  }
  const r = (CONFIG_FIELDS as Record<string, { safeParse(x: unknown): { success: boolean; error?: { issues: { message: string }[] } } }>)[field]!.safeParse(v);
  if (!r.success) {
    const msg = r.error!.issues[0]?.message ?? 'invalid';
    throw new GridError(`${where}: ${msg}${msg.includes(show(v)) ? '' : ` (got ${show(v)})`}`);
  }
}

/** Parse and check a grid object (the file's JSON). */
export function parseGrid(j: unknown): Grid {
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw new GridError('grid: expected a JSON object with "axes" (and "fixed")');
  const { fixed = {}, axes, ...rest } = j as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new GridError(`grid: unknown field(s) ${extra.join(', ')} (a grid has "fixed" and "axes")`);
  if (!fixed || typeof fixed !== 'object' || Array.isArray(fixed)) throw new GridError('grid.fixed: expected an object of run fields');
  if (!axes || typeof axes !== 'object' || Array.isArray(axes)) throw new GridError('grid.axes: expected an object of field: [values]');
  const known = new Set<string>([...configFields(), ...RUN_FIELDS]);
  for (const [k, v] of Object.entries(fixed as Point)) {
    if (!known.has(k)) throw new GridError(`grid.fixed.${k}: unknown field (fields: ${[...known].join(', ')})`);
    checkValue(`grid.fixed.${k}`, k, v);
  }
  const out: [string, unknown[]][] = [];
  for (const [k, vs] of Object.entries(axes as Record<string, unknown>)) {
    if (!known.has(k)) throw new GridError(`grid.axes.${k}: unknown axis (fields: ${[...known].join(', ')})`);
    if (k in (fixed as Point)) throw new GridError(`grid.axes.${k}: also in grid.fixed; give it in one place`);
    if (!Array.isArray(vs) || vs.length === 0) throw new GridError(`grid.axes.${k}: expected a non-empty array of values`);
    vs.forEach((v, i) => checkValue(`grid.axes.${k}[${i}]`, k, v));
    if (new Set(vs.map(canonicalJson)).size !== vs.length) throw new GridError(`grid.axes.${k}: a value appears twice`);
    out.push([k, vs]);
  }
  if (out.length === 0) throw new GridError('grid.axes: empty grid (no axis to vary)');
  const f = fixed as Point;
  if ('duration' in f && 'ops' in f) throw new GridError('grid.fixed: duration and ops are exclusive: give one');
  return { fixed: f, axes: out };
}

/** Every point of the grid, the last axis varying fastest. */
export function gridPoints(g: Grid): SweepPoint[] {
  let acc: Record<string, unknown>[] = [{}];
  for (const [k, vs] of g.axes) acc = acc.flatMap((a) => vs.map((v) => ({ ...a, [k]: v })));
  return acc.map((at) => {
    const config = { ...g.fixed, ...at };
    if ('ops' in at && 'duration' in config) delete config.duration;
    if ('duration' in at && 'ops' in config) delete config.ops;
    return { hash: pointHash(config), config, at };
  });
}
