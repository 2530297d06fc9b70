/*
 * The virtual clock end to end (issue 17): real CPU workers under the
 * conductor (src/timing/conductor.ts).
 *
 * - determinism: one virtual-clock config run twice, the second time beside
 *   a CPU-burning child process, gives the same results JSON field by field
 *   apart from the host-time fields (HOST_TIME_FIELDS), the rmap metadata
 *   samples (taken at virtual times) included; another seed differs;
 * - random stress streams at 16 and 64 CPUs under every lock scheme, with the
 *   invariant checker at stop-the-world checkpoints every 50 virtual µs and,
 *   with the content oracle, at the end (every frame free);
 * - a checkpoint catches a planted bug (no_swap_dup) before the run ends;
 *   the seed is drawn afresh each run (SMPVM_VT_SEED reuses one) and printed;
 * - a planted bug (no_zone_lock) fails the same way, at the same virtual
 *   time, on two runs; the failing CPU and its operation are named.
 *
 * The 16- and 64-CPU points run the compiled build (dist/, which `npm test` builds
 * first) when it is there: 17 or 65 workers each compiling the TypeScript through
 * tsx take minutes of CPU on a 2-core host; compiled workers start in a
 * fraction of that.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as srcRun from '../../src/sim/run.js';
import * as srcResults from '../../src/sim/results.js';
import type { RunOptions } from '../../src/sim/run.js';

const distRun = new URL('../../dist/src/sim/run.js', import.meta.url);
const compiled = existsSync(distRun)
  ? { run: (await import(pathToFileURL(distRun.pathname).href)) as typeof srcRun, results: (await import(new URL('../../dist/src/sim/results.js', import.meta.url).href)) as typeof srcResults }
  : { run: srcRun, results: srcResults };
const { HOST_TIME_FIELDS } = srcResults;
import { runProblems } from '../helpers.js';

const SEED = Number(process.env.SMPVM_VT_SEED ?? 1 + Math.floor(Math.random() * 1e6));
/* one worker pool per size (a worker's start-up under tsx is the expensive part) */
const pools = new Map<number, ReturnType<typeof srcRun.createRunPool>>();
const impl = (threads: number) => (threads > 6 ? compiled : { run: srcRun, results: srcResults });
const poolFor = (threads: number) => {
  const need = threads <= 6 ? 6 : threads;
  if (!pools.has(need)) pools.set(need, impl(need).run.createRunPool(need));
  return pools.get(need)!;
};
afterAll(async () => {
  for (const p of pools.values()) await p.destroy();
});

const randomCfg = (cpus: number, locks: string, seed: number, extra: Record<string, unknown> = {}) => ({
  clock: 'virtual',
  mem: cpus > 16 ? '128M' : '48M',
  swap: 0,
  cpus,
  locks,
  lockdep: true,
  debug: true,
  seed,
  filePages: 64,
  maxVma: 4096,
  maxMm: 160,
  ...extra,
});

async function run(o: Omit<RunOptions, 'pool'> & { config: Record<string, unknown> }) {
  const threads = (o.config.cpus as number) + 1;
  const { run: rm, results: rs } = impl(threads);
  const r = await rm.runMachine({ ...o, pool: poolFor(threads) });
  return { r, res: rs.buildResults(r, { spec: o.spec, opsPerCpu: o.opsPerCpu }) };
}

/** The results object without the fields that depend on the host. */
function simulated(res: object): Record<string, unknown> {
  const o = JSON.parse(JSON.stringify(res)) as Record<string, unknown>;
  for (const k of HOST_TIME_FIELDS) delete o[k];
  return o;
}

describe('virtual clock', () => {
  it('gives the same results JSON twice, the second time beside a CPU burner; another seed differs', async () => {
    const o = { config: randomCfg(4, 'split', 11, { swap: '16M', mem: '16M' }), spec: { name: 'random', filesPerCpu: 2, seed: 11 }, opsPerCpu: 150, checkEmpty: true };
    const a = await run(o);
    const burner = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    let b;
    try {
      b = await run(o);
    } finally {
      burner.kill();
    }
    expect(runProblems(a.r)).toEqual([]);
    const sa = simulated(a.res);
    const sb = simulated(b.res);
    for (const k of Object.keys(sa)) expect(sb[k], `field ${k}`).toEqual(sa[k]);
    expect(Object.keys(sb).sort()).toEqual(Object.keys(sa).sort());
    expect(a.res.clock).toBe('virtual');
    expect(a.res.virtual?.cost.name).toBe('skylake-2s-112');
    expect(a.res.virtual?.cost.hash).toMatch(/^[0-9a-f]{16}$/);
    // the rmap metadata sampler runs at virtual-time intervals (part of the JSON compared above)
    expect(a.res.rmap.samples).toBeGreaterThan(0);
    expect(a.res.rmap.peakBytes).not.toBeNull();
    const c = await run({ ...o, config: { ...o.config, seed: 12 }, spec: { ...o.spec, seed: 12 } });
    expect(simulated(c.res)).not.toEqual(sa);
    console.log(`determinism: ${a.res.ops} ops, ${a.res.durationMs.toFixed(3)} virtual ms, ${a.res.virtual?.handoffs} hand-overs; host ${a.res.hostSeconds.toFixed(2)} s and ${b.res.hostSeconds.toFixed(2)} s beside the burner`);
  }, 240_000);

  it('times the per-operation latency of fork, exec and shared_file in virtual time: the same histogram twice', async () => {
    for (const name of ['fork', 'exec', 'shared_file']) {
      const o = { config: { clock: 'virtual', cpus: 2, mem: '32M', swap: 0, seed: 5 }, spec: { name }, opsPerCpu: 6 };
      const a = await run(o);
      const b = await run(o);
      expect(runProblems(a.r), name).toEqual([]);
      const l = a.res.opLatency!;
      expect(l.count, name).toBeGreaterThan(0);
      expect(b.res.opLatency, name).toEqual(l);
      // every timed operation lies inside the run: host time (the bug) read milliseconds for a run of microseconds
      expect(l.max / 1000, name).toBeLessThanOrEqual(a.res.durationMs * 1.04);
    }
  }, 120_000);

  for (const cpus of [16, 64]) {
    for (const locks of ['bkl', '2.4', 'split'] as const) {
      it(`random stress stays clean at ${cpus} CPUs under ${locks}`, async () => {
        const opsPerCpu = cpus === 64 ? 12 : 40;
        const { r, res } = await run({ config: randomCfg(cpus, locks, SEED, { checkpointUs: 50 }), spec: { name: 'random', filesPerCpu: 1, seed: SEED }, opsPerCpu, checkEmpty: true });
        const p = runProblems(r, { lockdep: true });
        expect(r.checkpoints.done, 'stop-the-world checkpoints taken').toBeGreaterThan(0);
        if (p.length) console.error(`virtual stress ${locks} at ${cpus} CPUs failed; reproduce with SMPVM_VT_SEED=${SEED}:\n${p.slice(0, 10).join('\n')}`);
        console.log(`virtual stress ${locks}: ${res.loops} random operations on ${cpus} CPUs in ${res.durationMs.toFixed(3)} virtual ms (${res.hostSeconds.toFixed(1)} host s), ${r.checkpoints.done} checkpoints, seed ${SEED}`);
        expect(p).toEqual([]);
        expect(res.loops).toBe(opsPerCpu * cpus);
      }, 300_000);
    }
  }

  it('catches a planted bug (no_swap_dup) at a stop-the-world checkpoint before the run ends', async () => {
    // reclaim/stress.test.ts's planted swap_duplicate bug, on the virtual clock: 1 MiB of memory, swapping
    const hungry = { maxTasks: 5, maxRegions: 10, maxRegionPages: 96, touchesPerStep: 32, segvRate: 0.005 };
    const config = randomCfg(2, 'split', 91, { mem: '1M', swap: '8M', policy: 'swapout', filePages: 128, maxVma: 1024, maxMm: 64, inject: 'no_swap_dup', checkpointUs: 100 });
    const { r, res } = await run({ config, spec: { name: 'random', filesPerCpu: 1, seed: 91, ...hungry }, opsPerCpu: 300, checkEmpty: true });
    const first = r.checkpoints.violations[0] ?? '';
    console.log(`planted no_swap_dup: ${r.checkpoints.done} checkpoints; first violation: ${first}; the run ended at ${res.durationMs} virtual ms${res.error ? ` (cpu ${res.error.cpu} threw at ${res.error.atNs} ns: ${res.error.message})` : ''}`);
    expect(first).toMatch(/^checkpoint at \d+ virtual ns: swap: slot \d+: swap_map/);
    const atNs = Number(/^checkpoint at (\d+)/.exec(first)![1]);
    expect(atNs).toBeLessThan(res.error?.atNs ?? res.durationMs * 1e6);
    // the same machine without the bug passes every checkpoint
    const clean = await run({ config: { ...config, inject: 'none' }, spec: { name: 'random', filesPerCpu: 1, seed: 91, ...hungry }, opsPerCpu: 300, checkEmpty: true });
    expect(clean.r.checkpoints.done).toBeGreaterThan(0);
    expect(runProblems(clean.r)).toEqual([]);
  }, 240_000);

  it('reports a planted bug (no_zone_lock) the same way at the same virtual time on two runs', async () => {
    // smpvm stress's sizes (cli/options.ts finishPlan for random); quantum 0 interleaves at every
    // free-list access, where the missing lock shows
    const o = { config: randomCfg(4, 'split', 7, { mem: '16M', maxVma: 2048, maxMm: 64, inject: 'no_zone_lock', quantum: 0 }), spec: { name: 'random' }, opsPerCpu: 300, checkEmpty: true };
    const a = await run(o);
    const b = await run(o);
    const pa = runProblems(a.r);
    expect(pa.length).toBeGreaterThan(0);
    expect(runProblems(b.r)).toEqual(pa);
    expect(b.res.error).toEqual(a.res.error);
    if (a.res.error) {
      expect(a.res.error.atNs).toBeGreaterThan(0);
      expect(a.res.error.op).not.toBe('');
    }
    console.log(`planted no_zone_lock, seed 7: ${pa[0]}${a.res.error ? ` at ${a.res.error.atNs} virtual ns` : ''}`);
  }, 240_000);
});
