/*
 * SMP stress for issue 18's write-out and freeable queue: the memory-hungry
 * random streams of stress.test.ts (fork, COW, mremap, swap-in, munmap,
 * exit with the content oracle) on 2 worker CPUs + kswapd, with
 * asynchronous clustered write-out (writeback.ts) under every policy of
 * the page-centric and virtual scans, and the clock policy with its
 * freeable queue (freeable.ts) — each under every lock scheme, a
 * checkpoint during the run, the full checker at the end. A fresh seed per
 * run, printed on failure (SMPVM_SEED reuses one).
 */
import { describe, it, expect } from 'vitest';
import { runMachine } from '../../src/sim/run.js';
import { LOCK_SCHEMES } from '../../src/config.js';
import { vmsum, rmapNames, usePool, runProblems } from './helpers.js';

const DURATION = Number(process.env.SMPVM_WRITEOUT_STRESS_MS ?? 1200);
const RMAP = rmapNames().includes('ptechain') ? 'ptechain' : 'scan';
const HUNGRY = { maxTasks: 5, maxRegions: 10, maxRegionPages: 96, touchesPerStep: 32, segvRate: 0.005 };

const VARIANTS = [
  { label: '2q async', config: { policy: '2q', swapWriteout: 'async' } },
  { label: 'swapout async', config: { policy: 'swapout', swapWriteout: 'async' } },
  { label: 'clock freeable async', config: { policy: 'clock', freeable: true, swapWriteout: 'async' } },
  { label: 'clock freeable sync', config: { policy: 'clock', freeable: true } },
];

describe('SMP stress: async write-out and the freeable queue, 2 worker CPUs + kswapd', () => {
  const pool = usePool();

  for (const v of VARIANTS) {
    it(`${v.label} × ${RMAP} × {${LOCK_SCHEMES.join(', ')}}: clean`, async () => {
      let written = 0;
      for (const locks of LOCK_SCHEMES) {
        const seed = Number(process.env.SMPVM_SEED ?? 1 + Math.floor(Math.random() * 0x7ffffffe));
        const r = await runMachine({
          config: { mem: '1M', swap: '8M', cpus: 2, rmap: RMAP, locks, lockdep: true, debug: true, seed, filePages: 128, maxVma: 1024, maxMm: 64, ...v.config },
          spec: { name: 'random', filesPerCpu: 1, seed, ...HUNGRY },
          durationMs: DURATION,
          checkpoints: 1,
          checkEmpty: true,
          pool: pool(),
        });
        const p = runProblems(r);
        const why = `${v.label}/${RMAP}/${locks}: reproduce with SMPVM_SEED=${seed}`;
        if (p.length) console.error(`${why}\n${p.slice(0, 10).join('\n')}`);
        expect(p, why).toEqual([]);
        written += vmsum(r.m, 'pswpout');
        console.log(`${v.label}/${locks} seed ${seed}: ${['pswpout', 'swap_wb_req', 'pgfreeable', 'pgalloc_freeable', 'pgrescued'].map((k) => `${k} ${vmsum(r.m, k as never)}`).join(', ')}`);
      }
      expect(written, `${v.label}: no page was written to swap in any run`).toBeGreaterThan(0);
    }, 120_000);
  }
});
