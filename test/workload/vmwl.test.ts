/*
 * Issue 20's workloads on real worker CPUs: every new workload (will-it-scale
 * brk1/2, malloc1/2, mmap2, tlb_flush1/2/3 in both variants; fork, fork_big,
 * exec, shared_file) runs under every rmap scheme and every lock scheme —
 * six runs per workload, the rmap schemes in turn, each paired with a lock
 * scheme so that each workload also meets all three — with lockdep, a
 * stop-the-world check during the run, the content oracle, and every frame
 * free at the end. Sizes are small so the matrix stays within seconds. A
 * failure prints the seed that reproduces it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Piscina } from 'piscina';
import { runMachine, createRunPool } from '../../src/sim/run.js';
import { RMAP_SCHEMES, LOCK_SCHEMES } from '../../src/config.js';
import { runProblems } from '../helpers.js';

const VARIANTS = (base: string) => [`${base}_processes`, `${base}_threads`];
const WORKLOADS: [string, Record<string, unknown>][] = [
  ...['brk1', 'brk2'].flatMap(VARIANTS).map((n): [string, Record<string, unknown>] => [n, {}]),
  ...VARIANTS('malloc1').map((n): [string, Record<string, unknown>] => [n, { size: 1 << 20 }]),
  ...VARIANTS('malloc2').map((n): [string, Record<string, unknown>] => [n, {}]),
  ...VARIANTS('mmap2').map((n): [string, Record<string, unknown>] => [n, { regionBytes: 1 << 20 }]),
  ...['tlb_flush1', 'tlb_flush2', 'tlb_flush3'].flatMap(VARIANTS).map((n): [string, Record<string, unknown>] => [n, { regionBytes: 64 << 10 }]),
  ['fork', {}],
  ['fork_big', { residentBytes: 1 << 20 }],
  ['exec', {}],
  ['shared_file', { filePages: 32, processes: 3 }],
];

let pool: Piscina;
beforeAll(() => {
  pool = createRunPool(3);
});
afterAll(async () => {
  await pool.destroy();
});

describe('issue 20 workloads under every rmap and lock scheme (2 worker CPUs, checker + oracle)', () => {
  for (const [name, params] of WORKLOADS) {
    it(name, async () => {
      for (let i = 0; i < RMAP_SCHEMES.length; i++) {
        const rmap = RMAP_SCHEMES[i]!;
        const locks = LOCK_SCHEMES[i % LOCK_SCHEMES.length]!;
        const seed = 2000 + i;
        const r = await runMachine({
          config: { mem: '16M', swap: 0, cpus: 2, rmap, locks, lockdep: true, debug: true, seed, filePages: 256, maxFiles: 8 },
          spec: { name, ...params },
          opsPerCpu: name.startsWith('brk') || name.startsWith('malloc2') ? 400 : 6,
          checkpoints: 1,
          checkEmpty: true,
          pool,
        });
        const p = runProblems(r, { lockdep: true });
        if (p.length) console.error(`${name} rmap ${rmap} locks ${locks} failed; reproduce with seed ${seed}:\n${p.slice(0, 5).join('\n')}`);
        expect(p, `${name} ${rmap}/${locks} seed ${seed}`).toEqual([]);
        expect(r.perCpu.every((c) => c.units > 0)).toBe(true);
        const checks = r.perCpu.reduce((s, c) => s + (c.extra.oracleChecks ?? 0), 0);
        if (!name.startsWith('brk') && !name.startsWith('mmap2')) expect(checks, `${name}: oracle reads`).toBeGreaterThan(0);
      }
    }, 60_000);
  }
});
