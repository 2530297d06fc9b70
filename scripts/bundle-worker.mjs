// Bundles the CPU worker (workers/cpu.ts and everything it imports, zod
// included) into one ES module with esbuild, straight from the TypeScript
// sources. A worker then loads one file instead of ~215 modules: starting a
// worker measured ~300 ms of host CPU unbundled against ~90 ms bundled on
// this 2-core VM, so a 64-CPU virtual-clock pool starts in ~4 s instead of
// ~12 s (README "Speed and size"). TOOLCHAIN.md names the bundle as one way
// to run compiled workers.
//
//   node scripts/bundle-worker.mjs [OUTFILE]     (default dist/workers/cpu.bundle.js)
//
// `npm run build` runs it after tsc; vitest.config.ts runs bundleWorker() into
// node_modules/.cache so the tests' workers run the sources under test (not a
// stale dist/) without tsx. sim/run.ts workerFile() chooses the file. Under
// `vitest` in watch mode the bundle is the one built when vitest started: an
// edit to the sources reaches the tests' main thread, not their workers,
// until vitest is restarted (`npm test` and `vitest run` build it afresh).
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Bundle workers/cpu.ts into `outfile` (an ES module; a linked source map
 * beside it); returns its absolute path. Each file is written aside and
 * renamed into place, so a worker of another run loading it meanwhile reads
 * the old bundle or the new one, never half of one.
 */
export function bundleWorker(outfile) {
  const out = resolve(root, outfile);
  const r = buildSync({
    absWorkingDir: root,
    entryPoints: ['workers/cpu.ts'],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    write: false,
  });
  mkdirSync(dirname(out), { recursive: true });
  for (const f of r.outputFiles) {
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  bundleWorker(process.argv[2] ?? 'dist/workers/cpu.bundle.js');
}
