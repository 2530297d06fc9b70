import { defineConfig } from 'vitest/config';
// @ts-expect-error: a plain .mjs script, no type declarations
import { bundleWorker } from './scripts/bundle-worker.mjs';

// The tests' CPU workers run one esbuild bundle of the sources under test, built
// here once per vitest run (~0.3 s) and named to sim/run.ts workerFile() by
// SMPVM_WORKER_BUNDLE: a worker starts in ~90 ms instead of ~230-460 ms through tsx.
const bundle = bundleWorker('node_modules/.cache/smpvm/cpu.bundle.mjs');

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { SMPVM_WORKER_BUNDLE: bundle },
  },
});
