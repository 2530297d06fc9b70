/*
 * `smpvm report`: the HTML page built from results JSON (report/html.ts,
 * report/charts.ts, cli/report.ts). The fixtures under test/fixtures/report
 * are the JSON of real `scale`, `profile` and `pressure` runs.
 *
 * - the layouts the charts draw from (flame graph rectangles, fractions of
 *   linear, one line per configuration) are right;
 * - every section that has data holds charts, every chart is an inline SVG
 *   with data marks and hover titles; the page loads nothing and escapes
 *   what it prints;
 * - bad input is one line naming the file or flag, exit 2;
 * - in a real browser (headless Chromium): every chart drew, no console
 *   error, no request (scripts/check-report.mjs; needs /usr/bin/chromium,
 *   which .ci/run installs — under CI a missing Chromium fails the test).
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { flameRects, scalingPoints, runsOf } from '../../src/report/charts.js';
import { buildReport } from '../../src/report/html.js';
import { loadReportInputs } from '../../src/cli/report.js';
import { main } from '../../src/cli.js';
import { bufferIo } from '../../src/cli/io.js';
import type { RunResults, ScaleResults } from '../../src/sim/results.js';

const fx = (name: string) => fileURLToPath(new URL(`../fixtures/report/${name}`, import.meta.url));
const FIXTURES = ['scale.json', 'profile.json', 'pressure.json'].map(fx);

describe('chart layouts', () => {
  it('flame graph: children lie inside their parent, widths add up, frames merge by path', () => {
    const f = flameRects(['w;a;x 10', 'w;a;y 30', 'w;b 60', 'w;a;x 5', 'junk line', 'w;c 0'])!;
    expect(f.total).toBe(105);
    const at = (stack: string) => f.rects.find((r) => r.stack === stack)!;
    expect(at('w').x1 - at('w').x0).toBe(105);
    expect(at('w;a').x1 - at('w;a').x0).toBe(45);
    expect(at('w;a;x').x1 - at('w;a;x').x0).toBe(15); // two lines, one frame
    for (const r of f.rects.filter((r) => r.depth > 0)) {
      const parent = f.rects.find((p) => p.depth === r.depth - 1 && r.stack.startsWith(p.stack) && p.x0 <= r.x0 && r.x1 <= p.x1);
      expect(parent, r.stack).toBeDefined();
    }
    expect(f.rects.some((r) => r.stack === 'w;c')).toBe(false); // zero samples are not frames
    expect(flameRects(['no count here'])).toBeNull();
  });

  it('scaling points: fraction of linear from the smallest CPU count, separate lines where two files measured one curve', () => {
    const mk = (cpus: number, ops: number, workload = 'page_fault1_processes') =>
      ({ kind: 'run', cpus, opsPerSec: ops, workload: { name: workload }, config: { rmap: 'scan', locks: 'split', lockImpl: 'ticket' } }) as unknown as RunResults;
    const pts = scalingPoints([
      { file: 'a.json', runs: [mk(1, 100), mk(2, 150), mk(4, 200)] },
      { file: 'b.json', runs: [mk(2, 180)] },
      { file: 'c.json', runs: [mk(8, 400, 'page_fault1_threads')] },
    ]);
    const a4 = pts.find((p) => p.source === 'a.json' && p.cpus === 4)!;
    expect(a4.ofLinear).toBeCloseTo(0.5);
    expect(a4.clock).toBe('host');
    expect(pts.find((p) => p.source === 'b.json')!.line).toContain('b.json');
    expect(a4.line).toContain('a.json');
    expect(pts.find((p) => p.source === 'c.json')!.line).toBe('threads · scan · split/ticket · host');
  });
});

describe('the report page', () => {
  it('draws every section that has data as inline SVG charts with hover titles, loads nothing, escapes text', async () => {
    const { inputs, folded } = loadReportInputs(FIXTURES);
    expect(inputs[1]!.folded?.lines.length).toBeGreaterThan(0); // the profile's folded file found beside it
    const run = inputs[2]!.results as RunResults;
    run.warnings = [...run.warnings, '<script>alert(1)</script>'];
    const { html, stats } = await buildReport(inputs, folded, new Date(0));
    const scale = inputs[0]!.results as ScaleResults;
    expect(stats.runs).toBe(runsOf(scale).length + 2);
    expect(stats.charts).toEqual({ scaling: 2, lockstat: 4, refaults: 1, vmstat: 4, flame: 1 });
    const figures = html.match(/<figure class="chart"[\s\S]*?<\/figure>/g)!;
    expect(figures).toHaveLength(12);
    for (const f of figures) {
      expect(f).toMatch(/<svg [^>]*width="\d+"/);
      expect(f).toMatch(/role="graphics-symbol"/);
      expect(f).toMatch(/<title>[^<]+<\/title>/);
    }
    expect(html).not.toMatch(/<script|\bsrc=|href="http|url\(http/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // lock_stat hover text carries acquisitions and bounces
    expect(html).toMatch(/<title>&amp;zone-&gt;lock: wait [\d.]+ µs total, [\d,]+ contentions in [\d,]+ acquisitions, [\d,]+ con-bounces, [\d,]+ acq-bounces<\/title>/);
  });

  it("names a virtual run's cost table by name and hash, not by its every cost", async () => {
    const { inputs } = loadReportInputs([fx('pressure.json')]);
    const r = inputs[0]!.results as RunResults;
    (r.config as unknown as Record<string, unknown>).clock = 'virtual';
    (r.config as unknown as Record<string, unknown>).cost = { name: 'skylake-2s-112', ns: { clear_page: 123.456 } };
    r.virtual = { cost: { name: 'skylake-2s-112', hash: '6cc81c0638a4801f' }, quantumNs: 1000, topology: '2x28', handoffs: 10, handoffsBy: { acquire: 4, release: 0, park: 2, sleep: 0, done: 4, checkpoint: 0 }, parks: 2, lineTransfers: 0, lineTransferNs: 0 };
    const { html } = await buildReport(inputs, []);
    expect(html).toContain('virtual clock: cost table skylake-2s-112 (hash 6cc81c0638a4801f), topology 2x28, quantum 1000 ns');
    expect(html).not.toContain('123.456');
    expect(html).toContain('pressure · 1 CPU · scan · split/ticket · virtual clock');
  });

  it('says so where a section has nothing to show', async () => {
    const { inputs } = loadReportInputs([fx('pressure.json')]);
    const { html, stats } = await buildReport(inputs, []);
    expect(stats.charts.scaling).toBeUndefined();
    expect(html).toMatch(/<section id="scaling"><h2>Scaling<\/h2><p class="empty">No curve/);
    expect(html).toMatch(/<section id="flame">[^]*?<p class="empty">No lock-wait stacks/);
  });
});

describe('smpvm report: bad input is one line, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smpvm-report-'));
  writeFileSync(join(dir, 'junk.json'), '{"kind": "run", ');
  writeFileSync(join(dir, 'other.json'), JSON.stringify({ hello: 1 }));
  writeFileSync(join(dir, 'old.json'), JSON.stringify({ kind: 'run', version: 99, config: {} }));
  writeFileSync(join(dir, 'bad.folded'), 'not folded at all\n');
  writeFileSync(join(dir, 'ctl\x1b[31m.json'), '\x00\x01\x02');
  mkdirSync(join(dir, 'adir'));
  const cases: [string, string[], RegExp][] = [
    ['a missing file', [join(dir, 'nope.json')], /report: .*nope\.json: no such file$/],
    ['a directory', [join(dir, 'adir')], /report: .*adir: is a directory/],
    ['not JSON', [join(dir, 'junk.json')], /report: .*junk\.json: not JSON/],
    ['JSON but not results', [join(dir, 'other.json')], /report: .*other\.json: not smpvm results \(kind must be "run" or "scale"\)$/],
    ['another results version', [join(dir, 'old.json')], /report: .*old\.json: results version 99, this smpvm reads 1$/],
    ['a folded file without stacks', [join(dir, 'bad.folded')], /report: .*bad\.folded: not folded stacks/],
    ['control bytes in a name and in the content', [join(dir, 'ctl\x1b[31m.json')], /report: .*ctl\\u001b\[31m\.json: not JSON/],
    ['an output folder that does not exist', [fx('pressure.json'), '-o', join(dir, 'no', 'such', 'r.html')], /--out: .*r\.html: folder .* does not exist$/],
    ['an output path that is a directory', [fx('pressure.json'), '-o', join(dir, 'adir')], /--out: .*adir is a directory$/],
    ['no file at all', [], /missing required argument 'files'/],
  ];
  it.each(cases)('%s', async (_name, args, msg) => {
    const io = bufferIo();
    const code = await main(['report', ...args], io);
    expect(code).toBe(2);
    const err = io.stderr();
    expect(err.trimEnd().split('\n')).toHaveLength(1);
    expect(err.trimEnd()).toMatch(msg);
    expect(err).not.toMatch(/[\x00-\x08\x0b-\x1f]/);
    expect(io.stdout()).toBe('');
  });
});

describe('in a browser', () => {
  const chromium = '/usr/bin/chromium';
  const root = fileURLToPath(new URL('../..', import.meta.url));
  it.skipIf(!existsSync(chromium) && !process.env.CI)('headless Chromium draws every chart, with no console error and no request', async () => {
    expect(existsSync(chromium), `${chromium} is missing: .ci/run installs it (apt-get install chromium)`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'smpvm-report-view-'));
    const page = join(dir, 'report.html');
    const io = bufferIo();
    expect(await main(['report', ...FIXTURES, '-o', page], io)).toBe(0);
    expect(io.stdout()).toMatch(/report: .*report\.html \(\d+ runs, 12 charts/);
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'check-report.mjs'), page, '--out', dir], { encoding: 'utf8', timeout: 90_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/check-report: ok: 12 charts drew in 7 sections, no errors, no requests/);
    for (const s of ['runs', 'scaling', 'lockstat', 'flame', 'refaults', 'vmstat', 'config']) expect(existsSync(join(dir, `report-${s}.png`))).toBe(true);
    expect(readFileSync(join(dir, 'report-scaling.png')).length).toBeGreaterThan(10_000);
  });
});
