/*
 * sweep/merge.ts — a sweep's merged results: one row per point, in grid
 * order, whoever ran it (the local pool or any queue worker).
 *
 * Written into the sweep's folder beside the per-point results
 * (points/HASH.json): `sweep.json` (kind "sweep": the grid, and per point
 * its axis values, hash, status, throughput and checks), `sweep.csv` (the
 * same as a table: one column per axis), and `report.html` (report/html.ts
 * over every point's results). Each point appears once, keyed by its hash.
 * Not shared memory; no locking.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Table from 'cli-table3';
import type { Grid, SweepPoint } from './grid.js';
import type { RunResults } from '../../sim/results.js';
import { RESULTS_VERSION, TOOL } from '../../sim/results.js';
import { buildReport } from '../../report/html.js';

export type PointState = { status: 'done'; results: RunResults } | { status: 'bad' | 'failed'; message: string };

export interface SweepRow {
  hash: string;
  at: Record<string, unknown>;
  status: 'done' | 'bad' | 'failed' | 'missing';
  /** results file, relative to the sweep folder */
  file?: string;
  cpus?: number;
  ops?: number;
  opsPerSec?: number;
  /** checker, oracle and no CPU error */
  ok?: boolean;
  message?: string;
}

export interface SweepResults {
  version: number;
  kind: 'sweep';
  tool: string;
  date: string;
  grid: { fixed: Record<string, unknown>; axes: Record<string, unknown[]> };
  points: SweepRow[];
}

export function sweepRows(points: SweepPoint[], states: Map<string, PointState>): SweepRow[] {
  return points.map((p) => {
    const s = states.get(p.hash);
    if (!s) return { hash: p.hash, at: p.at, status: 'missing' };
    if (s.status !== 'done') return { hash: p.hash, at: p.at, status: s.status, message: s.message };
    const r = s.results;
    return {
      hash: p.hash,
      at: p.at,
      status: 'done',
      file: `points/${p.hash}.json`,
      cpus: r.cpus,
      ops: r.ops,
      opsPerSec: r.opsPerSec,
      ok: r.checker.ok && r.oracle.ok && !r.error,
      ...(r.error ? { message: `cpu ${r.error.cpu} threw in ${r.error.op}: ${r.error.message}` } : {}),
    };
  });
}

const cell = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export function sweepCsv(g: Grid, rows: SweepRow[]): string {
  const axes = g.axes.map(([k]) => k);
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [[...axes, 'status', 'cpus', 'ops', 'ops_per_sec', 'ok', 'hash'].join(',')];
  for (const r of rows) {
    lines.push([...axes.map((k) => q(cell(r.at[k]))), r.status, r.cpus ?? '', r.ops ?? '', r.opsPerSec === undefined ? '' : Math.round(r.opsPerSec), r.ok === undefined ? '' : r.ok, r.hash].join(','));
  }
  return lines.join('\n') + '\n';
}

/** The terminal view of the merged rows. */
export function sweepTable(g: Grid, rows: SweepRow[]): string {
  const axes = g.axes.map(([k]) => k);
  const t = new Table({ head: [...axes, 'status', 'ops/s', 'checks'], style: { head: [], border: [] } });
  for (const r of rows) {
    t.push([
      ...axes.map((k) => cell(r.at[k])),
      r.status === 'done' ? 'done' : `${r.status}${r.message ? `: ${r.message}` : ''}`,
      r.opsPerSec === undefined ? '' : Math.round(r.opsPerSec).toLocaleString('en-US'),
      r.ok === undefined ? '' : r.ok ? 'ok' : 'FAILED',
    ]);
  }
  return t.toString() + '\n';
}

/** Write sweep.json, sweep.csv and report.html into `dir`; returns the merged object. */
export async function writeSweep(dir: string, g: Grid, points: SweepPoint[], states: Map<string, PointState>): Promise<SweepResults> {
  const rows = sweepRows(points, states);
  const merged: SweepResults = {
    version: RESULTS_VERSION,
    kind: 'sweep',
    tool: TOOL,
    date: new Date().toISOString(),
    grid: { fixed: g.fixed, axes: Object.fromEntries(g.axes) },
    points: rows,
  };
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(merged, null, 2) + '\n');
  writeFileSync(join(dir, 'sweep.csv'), sweepCsv(g, rows));
  const inputs = points.flatMap((p) => {
    const s = states.get(p.hash);
    return s?.status === 'done' ? [{ file: `points/${p.hash}.json`, results: s.results }] : [];
  });
  if (inputs.length) writeFileSync(join(dir, 'report.html'), (await buildReport(inputs, [])).html);
  return merged;
}
