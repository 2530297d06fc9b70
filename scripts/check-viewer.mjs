#!/usr/bin/env node
// check-viewer.mjs — open a `smpvm profile` trace in a real viewer and take a
// screenshot of every CPU track: speedscope (the npm package's static build)
// in headless Chromium (Debian's `chromium`, driven by playwright-core).
//
//   npm run check:viewer                 # profiles page_fault1_threads on 2 CPUs first
//   npm run check:viewer -- TRACE.json   # or checks an existing trace
//   options: --out DIR (default results/viewer), --chromium PATH (default /usr/bin/chromium)
//
// Files are served on 127.0.0.1 only; every other request is refused, so the
// check needs no network. It fails (exit 1) unless speedscope shows a track
// named "CPU n" for every CPU in the trace and the flame chart has drawn.
// Needs: apt-get install chromium; npm run build (the script runs it for the default profile).
import { createServer } from 'node:http';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, createReadStream } from 'node:fs';
import { join, resolve, extname } from 'node:path';
import { root, scriptArgs, withChromium } from './headless.mjs';

const { args, die, outDir, chromiumPath } = scriptArgs('check-viewer', 'viewer');
const speedscopeDir = join(root, 'node_modules', 'speedscope', 'dist', 'release');
if (!existsSync(join(speedscopeDir, 'index.html'))) die('speedscope is not installed (npm ci)');

mkdirSync(outDir, { recursive: true });
let traceFile = args[0] ? resolve(args[0]) : undefined;
if (!traceFile) {
  traceFile = join(outDir, 'trace.json');
  const cli = join(root, 'dist', 'src', 'cli.js');
  if (!existsSync(cli)) die('dist/src/cli.js is missing: npm run build');
  console.log('check-viewer: profiling page_fault1_threads on 2 CPUs ...');
  const r = spawnSync(
    process.execPath,
    [cli, 'profile', '--workload', 'page_fault1_threads', '--cpus', '2', '--duration', '0.3', '--trace', traceFile, '--folded', join(outDir, 'wait.folded')],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (r.status !== 0) die(`smpvm profile exited ${r.status}`);
}
if (!existsSync(traceFile)) die(`no trace file ${traceFile}`);

// the CPU tracks the trace declares (M thread_name events)
const trace = JSON.parse(readFileSync(traceFile, 'utf8'));
const tracks = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args.name);
if (tracks.length === 0) die('the trace has no thread_name metadata');
const slices = trace.traceEvents.filter((e) => e.ph === 'X').length;
console.log(`check-viewer: ${traceFile}: ${tracks.length} tracks (${tracks.join(', ')}), ${slices} slices, ${(statSync(traceFile).size / 1e6).toFixed(1)} MB`);

const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.png': 'image/png', '.wasm': 'application/wasm', '.woff2': 'font/woff2', '.ico': 'image/x-icon', '.txt': 'text/plain' };
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  let file;
  if (url.pathname === '/profile.json') file = traceFile;
  else if (url.pathname.startsWith('/speedscope/')) {
    file = resolve(speedscopeDir, '.' + decodeURIComponent(url.pathname.slice('/speedscope'.length)));
    if (!file.startsWith(speedscopeDir)) file = undefined;
  }
  if (!file || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
  createReadStream(file).pipe(res);
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${server.address().port}`;

let failed;
await withChromium(chromiumPath, { width: 1400, height: 800 }, async (ctx) => {
  try {
    await ctx.route('**/*', (route) => (route.request().url().startsWith(base + '/') ? route.continue() : route.abort()));
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/speedscope/index.html#profileURL=${encodeURIComponent(base + '/profile.json')}`);
    const shots = [];
    for (let i = 0; i < tracks.length; i++) {
      const name = tracks[i];
      // speedscope names each thread's profile after its thread_name; the toolbar shows it
      await page.getByText(name, { exact: false }).first().waitFor({ timeout: 30_000 }).catch(() => {
        throw new Error(`speedscope never showed the track "${name}"${errors.length ? ` (page errors: ${errors.join('; ')})` : ''}`);
      });
      await page.waitForTimeout(500); // let the flame chart canvas paint
      const drawn = await page.evaluate(() => [...document.querySelectorAll('canvas')].some((c) => c.width > 0 && c.height > 0));
      if (!drawn) throw new Error(`no flame chart canvas for "${name}"`);
      const png = join(outDir, `speedscope-${name.replace(/\W+/g, '_')}.png`);
      await page.screenshot({ path: png });
      shots.push(png);
      if (i + 1 < tracks.length) await page.keyboard.press('n'); // next profile (thread)
    }
    for (const s of shots) console.log(`check-viewer: screenshot ${s}`);
    console.log(`check-viewer: ok: speedscope shows ${tracks.length} CPU tracks`);
  } catch (e) {
    failed = e instanceof Error ? e.message : String(e);
    const page = ctx.pages()[0];
    if (page) {
      const png = join(outDir, 'speedscope-failure.png');
      await page.screenshot({ path: png }).then(() => (failed += ` (screenshot: ${png})`)).catch(() => {});
    }
  }
}).finally(() => server.close());
if (failed) die(failed);
