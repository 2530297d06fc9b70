// headless.mjs — what the scripts that look at smpvm's output in a real
// browser share (check-viewer.mjs, check-report.mjs): their flags, their
// one-line failure, and Debian's headless Chromium driven by playwright-core
// in a throw-away profile, with no network (the caller routes requests).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The script's arguments: `--out DIR` (default results/DEFAULT_OUT) and
 * `--chromium PATH` (default /usr/bin/chromium) taken out, the rest left in
 * `args`; `die` prints "NAME: message" and exits 1.
 */
export function scriptArgs(name, defaultOut) {
  const args = process.argv.slice(2);
  const opt = (flag, dflt) => {
    const i = args.indexOf(flag);
    if (i < 0) return dflt;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const die = (msg) => {
    console.error(`${name}: ${msg}`);
    process.exit(1);
  };
  const outDir = resolve(opt('--out', join(root, 'results', defaultOut)));
  const chromiumPath = opt('--chromium', '/usr/bin/chromium');
  if (!existsSync(chromiumPath)) die(`no Chromium at ${chromiumPath} (apt-get install chromium, or --chromium PATH)`);
  return { args, die, outDir, chromiumPath };
}

/** Run `fn(ctx)` in a headless Chromium with a fresh profile, closed and removed after. */
export async function withChromium(chromiumPath, viewport, fn) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'smpvm-chromium-'));
  let ctx;
  try {
    // launchPersistentContext passes --user-data-dir=<userDataDir> itself
    ctx = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      viewport,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    return await fn(ctx);
  } finally {
    await ctx?.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
