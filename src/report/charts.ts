/*
 * report/charts.ts — the vega-lite specifications of the HTML report
 * (`smpvm report`): each function turns part of one or more results objects
 * (sim/results.ts) into one chart, as data plus an encoding. Nothing here
 * draws: report/html.ts compiles the specs with vega-lite and renders them to
 * SVG with vega's headless View, so every mark on the page is the library's.
 *
 * The views follow how kernel engineers read these results:
 * - scaling curves as will-it-scale's graphs draw them (throughput against
 *   tasks, processes and threads as separate lines, a linear reference), and
 *   the same as a fraction of linear; one line per configuration, the host
 *   and the virtual clock told apart by the stroke;
 * - lock_stat sorted by total wait time, as `/proc/lock_stat` readers sort it;
 * - folded lock-wait stacks as a flame graph (Brendan Gregg's layout: one
 *   row per stack depth, widths proportional to the wait, parents below);
 * - Rik van Riel's /proc/refaults histogram;
 * - the vmstat counters that moved.
 *
 * Every number comes from the results JSON (or a folded file `smpvm profile`
 * wrote); nothing is estimated. Not shared memory; no locking.
 */
import type { RunResults, ScaleResults, Vmstat } from '../sim/results.js';
import type { LockStatRow } from '../sync/lockstat_rows.js';
import type { RefaultReport } from '../reclaim/workingset.js';

/** A vega-lite top-level spec (kept as plain JSON: vega-lite checks it when it compiles). */
export type VlSpec = Record<string, unknown>;

const WIDTH = 560;

/** The clock a run was timed in ("host" before the virtual clock existed). */
export function clockOf(r: RunResults): string {
  const c = (r.config as unknown as { clock?: unknown }).clock;
  return typeof c === 'string' ? c : 'host';
}

/** The configuration a curve belongs to: rmap scheme, lock scheme and implementation, policy, clock. */
export function seriesOf(r: RunResults): string {
  const c = r.config;
  return `${c.rmap} · ${c.locks}/${c.lockImpl} · ${clockOf(r)}`;
}

/** will-it-scale test name and mode of a workload name (page_fault1_threads → page_fault1, threads). */
export function testAndMode(workload: string): { test: string; mode: string } {
  const m = /^(.*)_(processes|threads)$/.exec(workload);
  return m ? { test: m[1]!, mode: m[2]! } : { test: workload, mode: 'run' };
}

export interface ScalingPoint {
  test: string;
  mode: string;
  series: string;
  clock: string;
  cpus: number;
  opsPerSec: number;
  /** opsPerSec / (the series' smallest-CPU throughput per CPU × cpus) */
  ofLinear: number;
  source: string;
  /** the curve the point is on: mode · configuration (· file, where two files measured the same curve) */
  line: string;
}

/** Every run of every input as a point of a scaling curve, with its fraction of linear. */
export function scalingPoints(inputs: { file: string; runs: RunResults[] }[]): ScalingPoint[] {
  const pts: ScalingPoint[] = [];
  for (const { file, runs } of inputs) {
    for (const r of runs) {
      const { test, mode } = testAndMode(r.workload.name);
      pts.push({ test, mode, series: seriesOf(r), clock: clockOf(r), cpus: r.cpus, opsPerSec: r.opsPerSec, ofLinear: 0, source: file, line: '' });
    }
  }
  // linear reference per (test, mode, series): the smallest CPU count's throughput per CPU
  const base = new Map<string, ScalingPoint>();
  for (const p of pts) {
    const k = `${p.test}\0${p.mode}\0${p.series}`;
    const b = base.get(k);
    if (!b || p.cpus < b.cpus) base.set(k, p);
  }
  for (const p of pts) {
    const b = base.get(`${p.test}\0${p.mode}\0${p.series}`)!;
    const lin = (b.opsPerSec / b.cpus) * p.cpus;
    p.ofLinear = lin > 0 ? p.opsPerSec / lin : 0;
  }
  // a line is (test, mode, configuration); where two files measured the same line at the same CPU count
  // (two scale runs of one configuration), each file gets its own line rather than a zig-zag through both
  const seen = new Map<string, string>();
  const split = new Set<string>();
  for (const p of pts) {
    const k = `${p.test}\0${p.mode}\0${p.series}`;
    const at = `${k}\0${p.cpus}`;
    const f = seen.get(at);
    if (f !== undefined && f !== p.source) split.add(k);
    seen.set(at, p.source);
  }
  for (const p of pts) p.line = split.has(`${p.test}\0${p.mode}\0${p.series}`) ? `${p.mode} · ${p.series} · ${p.source}` : `${p.mode} · ${p.series}`;
  return pts.sort((a, b) => a.test.localeCompare(b.test) || a.line.localeCompare(b.line) || a.cpus - b.cpus);
}

/** The runs inside a results object: a run is itself, a scale is every point's processes and threads run. */
export function runsOf(x: RunResults | ScaleResults): RunResults[] {
  if (x.kind === 'run') return [x];
  const out: RunResults[] = [];
  for (const p of x.runs) {
    if (p.processes) out.push(p.processes);
    if (p.threads) out.push(p.threads);
  }
  return out;
}

const lineLayer = (field: 'opsPerSec' | 'ofLinear', title: string, format: string, log: boolean) => ({
  mark: { type: 'line', point: true },
  encoding: {
    x: { field: 'cpus', type: 'quantitative', title: 'CPUs', scale: log ? { type: 'log', base: 2 } : { zero: false }, axis: { tickMinStep: 1, format: 'd' } },
    y: { field, type: 'quantitative', title, axis: { format } },
    color: { field: 'line', type: 'nominal', title: 'mode · rmap · locks/impl · clock', legend: { orient: 'bottom', columns: 1, labelLimit: 480, titleLimit: 480 } },
    strokeDash: { field: 'clock', type: 'nominal', title: 'clock', sort: ['host', 'virtual'] },
    description: { field: 'label', type: 'nominal' },
  },
});

/** Throughput and fraction-of-linear curves of one will-it-scale test, one line per mode × configuration. */
export function scalingSpecs(test: string, pts: ScalingPoint[]): { throughput: VlSpec; linear: VlSpec } {
  const values = pts
    .filter((p) => p.test === test)
    .map((p) => ({
      ...p,
      label: `${p.mode} ${p.series}: ${p.cpus} CPUs, ${Math.round(p.opsPerSec).toLocaleString('en-US')} ops/s, ${(p.ofLinear * 100).toFixed(1)}% of linear (${p.source})`,
    }));
  const cpus = new Set(values.map((v) => v.cpus));
  const log = cpus.size > 2 && Math.max(...cpus) / Math.min(...cpus) >= 8;
  return {
    throughput: {
      width: WIDTH,
      height: 260,
      title: `${test}: throughput`,
      data: { values },
      ...lineLayer('opsPerSec', 'operations / s', '~s', log),
    },
    linear: {
      width: WIDTH,
      height: 200,
      title: `${test}: fraction of linear scaling (1.0 = every CPU as fast as the smallest point's)`,
      data: { values },
      ...lineLayer('ofLinear', 'of linear', '.0%', log),
    },
  };
}

/** lock_stat of one run: classes sorted by total wait time; acquisitions, contentions and bounces in each bar's hover text. */
export function lockStatSpec(title: string, rows: LockStatRow[]): VlSpec | null {
  const values = rows
    .filter((r) => r.acquisitions > 0)
    .map((r) => ({
      cls: r['class name'],
      waitUs: r['waittime-total'],
      label:
        `${r['class name']}: wait ${r['waittime-total'].toFixed(2)} µs total, ` +
        `${r.contentions.toLocaleString('en-US')} contentions in ${r.acquisitions.toLocaleString('en-US')} acquisitions, ` +
        `${r['con-bounces'].toLocaleString('en-US')} con-bounces, ${r['acq-bounces'].toLocaleString('en-US')} acq-bounces`,
    }))
    .sort((a, b) => b.waitUs - a.waitUs);
  if (values.length === 0) return null;
  return {
    width: WIDTH - 160,
    height: { step: 16 },
    title,
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'cls', type: 'nominal', sort: '-x', title: null, axis: { labelLimit: 220 } },
      x: { field: 'waitUs', type: 'quantitative', title: 'total wait (µs)' },
      color: { value: '#c0504d' },
      description: { field: 'label', type: 'nominal' },
    },
  };
}

export interface FlameRect {
  name: string;
  stack: string;
  depth: number;
  x0: number;
  x1: number;
  value: number;
}

/**
 * Lay folded stacks ("a;b;c 1234" lines) out as a flame graph: frames merged
 * by path, each child placed inside its parent in name order, widths in the
 * stacks' own unit (ns of lock wait). Returns null for no samples.
 */
export function flameRects(folded: string[]): { rects: FlameRect[]; total: number } | null {
  interface Node {
    name: string;
    value: number;
    kids: Map<string, Node>;
  }
  const root: Node = { name: 'all', value: 0, kids: new Map() };
  for (const line of folded) {
    const m = /^(.*\S)\s+(\d+(?:\.\d+)?)$/.exec(line.trim());
    if (!m) continue;
    const v = Number(m[2]);
    if (!(v > 0)) continue;
    root.value += v;
    let n = root;
    for (const f of m[1]!.split(';')) {
      let k = n.kids.get(f);
      if (!k) n.kids.set(f, (k = { name: f, value: 0, kids: new Map() }));
      k.value += v;
      n = k;
    }
  }
  if (root.value === 0) return null;
  const rects: FlameRect[] = [];
  const place = (n: Node, depth: number, x0: number, path: string) => {
    rects.push({ name: n.name, stack: path, depth, x0, x1: x0 + n.value, value: n.value });
    let x = x0;
    for (const k of [...n.kids.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      place(k, depth + 1, x, path ? `${path};${k.name}` : k.name);
      x += k.value;
    }
  };
  place(root, 0, 0, '');
  return { rects, total: root.value };
}

/** A frame's label cut to what its width holds (about 6 px a character at 10 px), '' when not even a few fit. */
function frameText(name: string, px: number): string {
  const fit = Math.floor((px - 6) / 6);
  if (fit < 4) return '';
  return name.length <= fit ? name : `${name.slice(0, fit - 1)}…`;
}

/** A flame graph of folded lock-wait stacks (icicle rows from the bottom up, as flamegraph.pl draws them). */
export function flameSpec(title: string, folded: string[]): VlSpec | null {
  const f = flameRects(folded);
  if (!f) return null;
  const maxDepth = Math.max(...f.rects.map((r) => r.depth));
  const values = f.rects.map((r) => ({
    ...r,
    label: `${r.stack || 'all'}: ${(r.value / 1000).toFixed(1)} µs (${((r.value / f.total) * 100).toFixed(1)}%)`,
    text: frameText(r.name, ((r.x1 - r.x0) / f.total) * WIDTH),
  }));
  const x = { field: 'x0', type: 'quantitative', scale: { domain: [0, f.total] }, axis: null };
  const y = { field: 'depth', type: 'ordinal', sort: 'descending', axis: null, scale: { domain: Array.from({ length: maxDepth + 1 }, (_, i) => maxDepth - i) } };
  return {
    width: WIDTH,
    height: { step: 18 },
    title,
    data: { values },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x,
          x2: { field: 'x1' },
          y,
          color: { field: 'name', type: 'nominal', legend: null, scale: { scheme: 'oranges' } },
          description: { field: 'label', type: 'nominal' },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
        encoding: { x, y, text: { field: 'text' } },
      },
    ],
  };
}

/** Rik van Riel's /proc/refaults: how far back the refaulting pages were evicted (distance in evictions). */
export function refaultSpec(title: string, rf: RefaultReport): VlSpec | null {
  if (rf.lookups === 0) return null;
  const values = rf.rows.map((r, i) => ({
    i,
    bucket: r.to < 0 ? 'not found' : `${r.from}–${r.to}`,
    hits: r.hits,
    label: `${r.to < 0 ? 'not found (new or beyond the table)' : `distance ${r.from} to ${r.to}`}: ${r.hits.toLocaleString('en-US')} refaults`,
  }));
  return {
    width: WIDTH,
    height: 180,
    title: `${title}: ${rf.found.toLocaleString('en-US')} of ${rf.lookups.toLocaleString('en-US')} faults found in the nonresident table`,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'bucket', type: 'ordinal', sort: { field: 'i' }, title: 'refault distance (evictions)', axis: { labelAngle: -45, labelLimit: 90 } },
      y: { field: 'hits', type: 'quantitative', title: 'refaults' },
      color: { value: '#4f81bd' },
      description: { field: 'label', type: 'nominal' },
    },
  };
}

/** The vmstat counters that moved during a run, largest first (log scale: they span orders of magnitude). */
export function vmstatSpec(title: string, vm: Vmstat, most = 30): VlSpec | null {
  const values = Object.entries(vm)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, most)
    .map(([name, v]) => ({ name, v, label: `${name} ${v.toLocaleString('en-US')}` }));
  if (values.length === 0) return null;
  return {
    width: WIDTH - 160,
    height: { step: 14 },
    title,
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'name', type: 'nominal', sort: '-x', title: null, axis: { labelLimit: 220 } },
      x: { field: 'v', type: 'quantitative', title: 'count (log)', scale: { type: 'log' } },
      color: { value: '#9bbb59' },
      description: { field: 'label', type: 'nominal' },
    },
  };
}
