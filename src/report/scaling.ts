/*
 * report/scaling.ts — views of a `scale` results object (sim/results.ts
 * ScaleResults): will-it-scale's CSV and a terminal chart.
 *
 * The CSV is runtest.py's format (github.com/antonblanchard/will-it-scale,
 * runtest.py): `tasks,processes,processes_idle,threads,threads_idle,linear`,
 * throughput in operations per second (faults/s for page_fault*), idle in %
 * and `linear` the first point's processes figure scaled by the task count.
 * Two ratio columns follow (throughput / the first CPU count's throughput,
 * per mode), so a runtest.py consumer reading the first six columns is
 * unaffected. The idle columns are the host's idle % over each run
 * (os.cpus() idle ticks / all ticks, every host core): what will-it-scale
 * reads from /proc/stat, but of the real host the simulated CPUs run on.
 * A mode that was not run (a workload without _processes/_threads
 * variants) leaves its columns empty.
 */
import * as asciichart from 'asciichart';
import type { ScaleResults, RunResults } from '../sim/results.js';
import { fmtRate } from './summary.js';

export const SCALE_CSV_COLUMNS = [
  'tasks',
  'processes',
  'processes_idle',
  'threads',
  'threads_idle',
  'linear',
  'processes_ratio',
  'threads_ratio',
] as const;

const num = (r: RunResults | undefined) => (r ? String(Math.round(r.opsPerSec)) : '');
const idle = (r: RunResults | undefined) => (r ? (r.hostIdlePct === null ? '' : r.hostIdlePct.toFixed(2)) : '');
const ratio = (x: number | null) => (x === null ? '' : x.toFixed(3));

/** Linear scaling from the first point: processes (or threads if no processes) per task × tasks. */
function linearOf(s: ScaleResults, tasks: number): number | null {
  const first = s.runs[0];
  if (!first) return null;
  const base = first.processes ?? first.threads;
  if (!base) return null;
  return (base.opsPerSec / first.tasks) * tasks;
}

export function scaleCsv(s: ScaleResults): string {
  const lines = [SCALE_CSV_COLUMNS.join(',')];
  s.runs.forEach((p, i) => {
    const lin = linearOf(s, p.tasks);
    const rt = s.ratios[i]!;
    lines.push(
      [p.tasks, num(p.processes), idle(p.processes), num(p.threads), idle(p.threads), lin === null ? '' : Math.round(lin), ratio(rt.processes), ratio(rt.threads)].join(','),
    );
  });
  return lines.join('\n') + '\n';
}

/**
 * A terminal chart of throughput against CPU count: processes, threads and
 * linear, each drawn through its measured points (straight lines between
 * them), `width` columns wide.
 */
export function scaleChart(s: ScaleResults, opts: { color?: boolean; width?: number; height?: number } = {}): string {
  const tasks = s.runs.map((p) => p.tasks);
  if (tasks.length === 0) return '';
  const width = Math.max(tasks.length, opts.width ?? 48);
  const series: { name: string; color: asciichart.Color; ys: number[] }[] = [];
  const procs = s.runs.map((p) => p.processes?.opsPerSec);
  const threads = s.runs.map((p) => p.threads?.opsPerSec);
  if (procs.every((v) => v !== undefined)) series.push({ name: 'processes', color: asciichart.green, ys: procs as number[] });
  if (threads.every((v) => v !== undefined)) series.push({ name: 'threads', color: asciichart.blue, ys: threads as number[] });
  const lin = tasks.map((t) => linearOf(s, t));
  if (lin.every((v) => v !== null)) series.push({ name: 'linear', color: asciichart.darkgray, ys: lin as number[] });
  if (series.length === 0) return '';
  const lo = tasks[0]!;
  const hi = tasks[tasks.length - 1]!;
  const xAt = (col: number) => (hi === lo ? lo : lo + ((hi - lo) * col) / (width - 1));
  const interp = (ys: number[], x: number) => {
    if (tasks.length === 1) return ys[0]!;
    let i = 0;
    while (i < tasks.length - 2 && x > tasks[i + 1]!) i++;
    const x0 = tasks[i]!;
    const x1 = tasks[i + 1]!;
    return ys[i]! + ((ys[i + 1]! - ys[i]!) * (x - x0)) / (x1 - x0);
  };
  const cols = Array.from({ length: width }, (_, c) => xAt(c));
  const data = series.map((sr) => cols.map((x) => interp(sr.ys, x)));
  const all = data.flat();
  const labelW = 10;
  const max = Math.max(...all) * 1.05 || 1;
  const chart = asciichart.plot(data, {
    height: opts.height ?? 10,
    min: 0,
    max,
    colors: opts.color ? series.map((sr) => sr.color) : undefined,
    format: (x: number) => `${fmtRate(x)}/s`.padStart(labelW),
  });
  // x axis: each CPU count under its column (the plot starts after the label and the axis char)
  const axis = Array.from({ length: width + 1 }, () => ' ');
  for (const t of tasks) {
    const col = hi === lo ? 0 : Math.round(((t - lo) / (hi - lo)) * (width - 1));
    const lab = String(t);
    for (let k = 0; k < lab.length && col + k < axis.length; k++) axis[col + k] = lab[k]!;
  }
  // name each series at the row where it ends (asciichart's own row arithmetic), so the
  // chart reads without colour too
  const height = opts.height ?? 10;
  const ratio = height / (max - 0);
  const rows = Math.round(max * ratio);
  const lines = chart.split('\n');
  const ends = new Map<number, string[]>();
  series.forEach((sr, i) => {
    const row = rows - Math.round(data[i]![width - 1]! * ratio);
    const name = opts.color ? asciichart.colored(sr.name, sr.color) : sr.name;
    ends.set(row, [...(ends.get(row) ?? []), name]);
  });
  for (const [row, names] of ends) if (lines[row] !== undefined) lines[row] += ` ${names.join(', ')}`;
  return `${lines.join('\n')}\n${' '.repeat(labelW + 2)}${axis.join('').trimEnd()}   (CPUs)\n`;
}
