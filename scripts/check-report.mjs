#!/usr/bin/env node
// check-report.mjs — open a `smpvm report` page in headless Chromium (Debian's
// `chromium`, driven by playwright-core), take a screenshot of every section,
// and fail unless every chart drew.
//
//   npm run check:report                  # runs a short scale + profile + pressure run first
//   npm run check:report -- REPORT.html   # or checks an existing report
//   options: --out DIR (default results/report-check), --chromium PATH (default /usr/bin/chromium)
//
// "Drew" means: every <figure class="chart"> holds an <svg> with a non-zero
// size on screen and at least one data mark (an element vega tagged
// role="graphics-symbol"); the page raised no error, logged no console
// error, and asked for nothing from the network (the report is
// self-contained: any request but the page itself is refused and counted).
// Needs: apt-get install chromium; npm run build (for the default runs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, scriptArgs, withChromium } from './headless.mjs';

const { args, die, outDir, chromiumPath } = scriptArgs('check-report', 'report-check');
mkdirSync(outDir, { recursive: true });

let report = args[0] ? resolve(args[0]) : undefined;
if (!report) {
  const cli = join(root, 'dist', 'src', 'cli.js');
  if (!existsSync(cli)) die('dist/src/cli.js is missing: npm run build');
  const smpvm = (...a) => {
    const r = spawnSync(process.execPath, [cli, ...a], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) die(`smpvm ${a.join(' ')} exited ${r.status}`);
  };
  console.log('check-report: a short scale, profile and pressure run ...');
  smpvm('scale', '--cpus', '1,2', '--duration', '0.2', '--mem', '64M', '--json', join(outDir, 'scale.json'));
  smpvm('profile', '--cpus', '2', '--duration', '0.2', '--mem', '64M', '--json', join(outDir, 'profile.json'), '--trace', join(outDir, 'trace.json'), '--folded', join(outDir, 'wait.folded'));
  smpvm('run', '--workload', 'pressure', '--policy', 'clockpro', '--cpus', '1', '--ops', '400', '--mem', '16M', '--swap', '32M', '--json', join(outDir, 'pressure.json'));
  report = join(outDir, 'report.html');
  smpvm('report', join(outDir, 'scale.json'), join(outDir, 'profile.json'), join(outDir, 'pressure.json'), '-o', report);
}
if (!existsSync(report)) die(`no report ${report}`);

const pageUrl = pathToFileURL(report).href;
let failed;
await withChromium(chromiumPath, { width: 1200, height: 900 }, async (ctx) => {
  try {
    const requests = [];
    await ctx.route('**/*', (route) => {
      if (route.request().url() === pageUrl) return route.continue();
      requests.push(route.request().url());
      return route.abort();
    });
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(pageUrl);
    const sections = await page.evaluate(() =>
      [...document.querySelectorAll('section')].map((s) => ({
        id: s.id,
        charts: [...s.querySelectorAll('figure.chart')].map((f) => {
          const svg = f.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          return {
            name: f.dataset.chart,
            svg: !!svg,
            width: box?.width ?? 0,
            height: box?.height ?? 0,
            marks: svg ? svg.querySelectorAll('[role="graphics-symbol"]').length : 0,
            titles: svg ? svg.querySelectorAll('title').length : 0,
          };
        }),
        empty: !!s.querySelector('p.empty'),
      })),
    );
    const bad = [];
    let charts = 0;
    for (const s of sections) {
      for (const c of s.charts) {
        charts++;
        if (!c.svg || c.width < 50 || c.height < 50 || c.marks === 0) bad.push(`${c.name} (svg ${c.svg}, ${Math.round(c.width)}x${Math.round(c.height)}, ${c.marks} marks)`);
      }
      const png = join(outDir, `report-${s.id}.png`);
      await page.locator(`section#${s.id}`).screenshot({ path: png });
      console.log(`check-report: section ${s.id}: ${s.charts.length} charts${s.empty ? ' (empty: says so)' : ''}, screenshot ${png}`);
    }
    if (charts === 0) bad.push('no chart at all');
    if (bad.length) throw new Error(`charts that did not draw: ${bad.join('; ')}`);
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    if (requests.length) throw new Error(`the report asked for ${requests.length} other resources (${requests.slice(0, 3).join(', ')}): not self-contained`);
    console.log(`check-report: ok: ${charts} charts drew in ${sections.length} sections, no errors, no requests`);
  } catch (e) {
    failed = e instanceof Error ? e.message : String(e);
  }
});
if (failed) die(failed);
