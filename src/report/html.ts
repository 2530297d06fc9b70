/*
 * report/html.ts — `smpvm report`: one self-contained HTML page built from
 * results JSON (sim/results.ts) and folded lock-wait stacks.
 *
 * Sections, in the order a reader goes through a scaling study:
 *   runs      one row per run: what ran, in which clock, how fast, warnings
 *   scaling   per will-it-scale test: throughput and fraction of linear
 *   lockstat  per run: lock classes by total wait time
 *   flame     per folded file: lock-wait stacks as a flame graph
 *   refaults  per run that looked refaults up: the /proc/refaults histogram
 *   vmstat    per run: the counters that moved (all of them in a table)
 *   config    per run: every config field, the host's round trip and idle time
 *
 * Charts are vega-lite specs (report/charts.ts) compiled and rendered to SVG
 * in Node by vega's headless View: the page carries the SVG inline and loads
 * nothing (no script, no network at view time). Each mark keeps its vega
 * description as an SVG <title>, so a browser shows it on hover (a lock
 * class's acquisitions and bounces, a frame's wait).
 *
 * For a `scale` results object the per-run sections show its largest CPU
 * count of each mode (the point where contention is worst); the scaling
 * section shows every point. Not shared memory; no locking.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { RunResults, ScaleResults } from '../sim/results.js';
import {
  clockOf,
  flameSpec,
  lockStatSpec,
  refaultSpec,
  runsOf,
  scalingPoints,
  scalingSpecs,
  vmstatSpec,
  type VlSpec,
} from './charts.js';

export interface ReportInput {
  /** the file it came from, as the user named it */
  file: string;
  results: RunResults | ScaleResults;
  /** lock-wait stacks found beside a profile's results (trace.folded) */
  folded?: { file: string; lines: string[] };
}

export interface FoldedInput {
  file: string;
  lines: string[];
}

export interface ReportStats {
  /** charts drawn per section id */
  charts: Record<string, number>;
  runs: number;
}

const SECTIONS = [
  ['runs', 'Runs'],
  ['scaling', 'Scaling'],
  ['lockstat', 'lock_stat'],
  ['flame', 'Lock-wait flame graphs'],
  ['refaults', 'Refault distances'],
  ['vmstat', 'vmstat'],
  ['config', 'Configurations'],
] as const;
type SectionId = (typeof SECTIONS)[number][0];

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Render one vega-lite spec to SVG, every described mark given a hover <title>. */
export async function renderSvg(spec: VlSpec): Promise<string> {
  const compiled = vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: { font: 'sans-serif' }, ...spec } as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    // vega writes a mark's description as aria-label on a self-closed element: give it a <title> child
    return svg.replace(/<(path|rect|circle|line)\b([^>]*?\baria-label="([^"]*)"[^>]*?)\/>/g, '<$1$2><title>$3</title></$1>');
  } finally {
    view.finalize();
  }
}

/** The runs a per-run section shows: a run itself; of a scale, the largest CPU count of each mode. */
function shownRuns(x: RunResults | ScaleResults): RunResults[] {
  if (x.kind === 'run') return [x];
  const last = x.runs[x.runs.length - 1];
  return last ? ([last.processes, last.threads].filter(Boolean) as RunResults[]) : [];
}

const fmtOps = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k` : v.toFixed(0));
const runTitle = (file: string, r: RunResults) => `${r.workload.name} · ${r.cpus} CPU${r.cpus === 1 ? '' : 's'} · ${r.config.rmap} · ${r.config.locks}/${r.config.lockImpl} · ${clockOf(r)} clock — ${file}`;

/** Build the report page. */
export async function buildReport(inputs: ReportInput[], folded: FoldedInput[], date = new Date()): Promise<{ html: string; stats: ReportStats }> {
  const body: Record<SectionId, string[]> = { runs: [], scaling: [], lockstat: [], flame: [], refaults: [], vmstat: [], config: [] };
  const charts: Record<string, number> = {};
  let nChart = 0;
  const figure = async (section: SectionId, spec: VlSpec | null, caption: string) => {
    if (!spec) return;
    const svg = await renderSvg(spec);
    charts[section] = (charts[section] ?? 0) + 1;
    body[section].push(`<figure class="chart" data-chart="${section}-${nChart++}">${svg}<figcaption>${esc(caption)}</figcaption></figure>`);
  };

  // runs
  const rows: string[] = [];
  let nRuns = 0;
  for (const inp of inputs) {
    for (const r of runsOf(inp.results)) {
      nRuns++;
      rows.push(
        `<tr><td>${esc(inp.file)}</td><td>${esc(r.workload.name)}</td><td class="n">${r.cpus}</td><td>${esc(clockOf(r))}</td>` +
          `<td>${esc(r.config.rmap)}</td><td>${esc(`${r.config.locks}/${r.config.lockImpl}`)}</td><td>${esc(r.config.policy)}</td>` +
          `<td class="n">${fmtOps(r.opsPerSec)}</td><td class="n">${(r.durationMs / 1000).toFixed(2)} s</td>` +
          `<td>${r.checker.ok && r.oracle.ok && !r.error ? 'ok' : '<b>FAILED</b>'}</td><td>${r.warnings.map(esc).join('<br>')}</td></tr>`,
      );
    }
  }
  body.runs.push(
    `<table><thead><tr><th>file</th><th>workload</th><th>CPUs</th><th>clock</th><th>rmap</th><th>locks/impl</th><th>policy</th><th>ops/s</th><th>duration</th><th>checks</th><th>warnings</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
  );

  // scaling
  const pts = scalingPoints(inputs.map((i) => ({ file: i.file, runs: runsOf(i.results) })));
  for (const test of [...new Set(pts.map((p) => p.test))]) {
    const n = new Set(pts.filter((p) => p.test === test).map((p) => p.cpus)).size;
    if (n < 2) continue; // one CPU count is a point, not a curve: the runs table has it
    const s = scalingSpecs(test, pts);
    await figure('scaling', s.throughput, `${test}: operations per second against CPUs (solid: host clock, dashed: virtual clock)`);
    await figure('scaling', s.linear, `${test}: throughput as a fraction of linear scaling from each line's smallest CPU count`);
  }

  // per-run sections
  for (const inp of inputs) {
    for (const r of shownRuns(inp.results)) {
      const t = runTitle(inp.file, r);
      await figure('lockstat', lockStatSpec(t, r.lockStat), 'total wait time per lock class (hover a bar: contentions, acquisitions, bounces)');
      await figure('refaults', refaultSpec(t, r.refaults), 'refault distance histogram (/proc/refaults)');
      await figure('vmstat', vmstatSpec(t, r.vmstat), 'the largest non-zero vmstat counters of the run (log scale)');
      const nz = Object.entries(r.vmstat).filter(([, v]) => v !== 0);
      if (nz.length) {
        body.vmstat.push(
          `<details><summary>all ${nz.length} non-zero counters — ${esc(t)}</summary><table class="kv">${nz.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="n">${v}</td></tr>`).join('')}</table></details>`,
        );
      }
      // a resolved cost table is every per-operation cost: the virtual line below names it by name and hash
      const cfg = Object.entries(r.config).map(
        ([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(k === 'cost' && v && typeof v === 'object' ? `${(v as { name?: string }).name ?? 'table'} (see below)` : typeof v === 'object' ? JSON.stringify(v) : v)}</td></tr>`,
      );
      const host = [
        `host cores ${r.hostCores}`,
        r.hostIdlePct === null ? 'host idle not measured' : `host idle ${r.hostIdlePct.toFixed(1)}%`,
        r.hostLineRoundTripNs === null ? 'host cache-line round trip not measured' : `host cache-line round trip ${Math.round(r.hostLineRoundTripNs)} ns`,
        ...(r.virtual
          ? [`virtual clock: cost table ${r.virtual.cost.name} (hash ${r.virtual.cost.hash}), topology ${r.virtual.topology}, quantum ${r.virtual.quantumNs} ns, ${r.virtual.lineTransfers} line transfers, ${r.virtual.handoffs} hand-overs, ${r.virtual.parks} parks`]
          : []),
      ];
      body.config.push(
        `<h3>${esc(t)}</h3><p>${host.map(esc).join(' · ')}</p>${r.warnings.length ? `<ul class="warn">${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}<table class="kv">${cfg.join('')}</table>`,
      );
    }
    if (inp.folded) await figure('flame', flameSpec(`lock wait — ${inp.folded.file}`, inp.folded.lines), 'folded lock-wait stacks (hover a frame: its wait and share)');
  }
  for (const f of folded) await figure('flame', flameSpec(`lock wait — ${f.file}`, f.lines), 'folded lock-wait stacks (hover a frame: its wait and share)');

  const empty: Record<SectionId, string> = {
    runs: '',
    scaling: 'No curve: no test was run at two or more CPU counts.',
    lockstat: 'No lock was acquired.',
    flame: 'No lock-wait stacks: give the folded file of a `smpvm profile` run.',
    refaults: 'No run looked a refault up in the nonresident table.',
    vmstat: 'No counter moved.',
    config: '',
  };
  const sections = SECTIONS.map(
    ([id, title]) => `<section id="${id}"><h2>${esc(title)}</h2>${body[id].length ? body[id].join('\n') : `<p class="empty">${esc(empty[id])}</p>`}</section>`,
  );
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>smpvm report</title>
<style>
body{font:14px/1.4 sans-serif;margin:0 2em 4em;color:#222}
header{border-bottom:1px solid #ccc;margin-bottom:1em}
nav a{margin-right:1em}
table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
figure.chart{margin:1em 0}
figcaption{color:#555;font-size:12px}
.warn{color:#8a4b00}
.empty{color:#777;font-style:italic}
</style></head><body>
<header><h1>smpvm report</h1><p>${nRuns} run${nRuns === 1 ? '' : 's'} from ${inputs.length} results file${inputs.length === 1 ? '' : 's'}${folded.length ? ` and ${folded.length} folded file${folded.length === 1 ? '' : 's'}` : ''}, written ${esc(date.toISOString())}. Charts: vega-lite, rendered to SVG when the report was written; hover a mark for its figures.</p>
<nav>${SECTIONS.map(([id, title]) => `<a href="#${id}">${esc(title)}</a>`).join('')}</nav></header>
${sections.join('\n')}
</body></html>
`;
  return { html, stats: { charts, runs: nRuns } };
}
