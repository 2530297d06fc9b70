/*
 * SMP stress (issue 5): the random workload on 2 worker CPUs under every
 * rmap scheme × every lock scheme, while the main thread plays reclaim
 * concurrently (probe.ts: page_referenced on mapped pages, try_to_unmap of
 * file pages — the physical→virtual walks racing the workers' faults, forks,
 * munmaps and exits). Stop-the-world checkpoints and the end of the run must
 * pass the invariant checker (rmap_check: each scheme's walk yields exactly
 * the ptes a full scan finds; the schemes' structural checks) and the content
 * oracle; every frame must be free after everything exits; lockdep must
 * report no cycle. A failure prints the seed.
 *
 * The main thread needs the machine runMachine builds: bootMachine is
 * wrapped (vi.mock) to hand it over. The probes run on the monitor CPU slot
 * (the main thread's), between checkpoints, only while the workers run.
 * Every run of the file shares one pool of 3 workers (2 CPUs + kswapd).
 */
import { describe, it, expect, vi } from 'vitest';
import { H_GATE, H_RUNNING, H_STOP, monitorCpu } from '../../src/machine/layout.js';
import type { Machine } from '../../src/machine/machine.js';
import { makeCpu } from '../../src/vm/cpu.js';
import { RMAP_SCHEMES, LOCK_SCHEMES } from '../../src/config.js';
import { probe, pick_mapped, newProbeStats } from './probe.js';
import { seeded } from '../rng.js';
import { runProblems, usePool } from '../helpers.js';
import { recordStressOps } from '../stress-ops.js';

const booted = vi.hoisted(() => ({ m: null as Machine | null }));
vi.mock('../../src/sim/boot.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/sim/boot.js')>();
  return { ...mod, bootMachine: (cfg: unknown) => (booted.m = mod.bootMachine(cfg)) };
});
const { runMachine } = await import('../../src/sim/run.js');

/**
 * Operations per CPU. The checkpoints come 100 ms and 200 ms after the gate
 * (sim/run.ts), so a run must last well past that on warm shared workers:
 * at 1500 the quickest split and 2.4 runs took 105-130 ms (one checkpoint);
 * at 8000 they take 0.35 s and more here. Under bkl every fault and every
 * probe queues on kernel_flag and 1500 already lasts 0.4-2.5 s.
 */
const OPS_PER_CPU = Number(process.env.SMPVM_RMAP_STRESS_OPS ?? 8000);
const BKL_OPS_PER_CPU = Number(process.env.SMPVM_RMAP_STRESS_BKL_OPS ?? 1500);
const opsFor = (locks: string) => (locks === 'bkl' ? BKL_OPS_PER_CPU : OPS_PER_CPU);

describe('SMP stress: 2 worker CPUs + a concurrent reclaim walker, every rmap × lock scheme', () => {
  const pool = usePool();
  for (const rmap of RMAP_SCHEMES) {
    for (const locks of LOCK_SCHEMES) {
      it(`${rmap} under ${locks}`, async () => {
        const seed = 5000 + RMAP_SCHEMES.indexOf(rmap) * 10 + LOCK_SCHEMES.indexOf(locks);
        booted.m = null;
        const st = newProbeStats();
        const rng = seeded(seed);
        let concurrent = 0;
        // the reclaim walker: batches of probes on the main thread while the workers run
        const timer = setInterval(() => {
          const m = booted.m;
          if (!m || Atomics.load(m.w, H_GATE) === 0) return;
          const cpu = (walker ??= makeCpu(m, monitorCpu(m.layout)));
          // a third thread on two cores: under bkl, where it stops both workers, keep it light
          const batch = locks === 'bkl' ? 4 : 40;
          for (let i = 0; i < batch; i++) {
            if (Atomics.load(m.w, H_RUNNING) === 0 || Atomics.load(m.w, H_STOP) !== 0) return;
            const pfn = pick_mapped(cpu, rng, 64);
            if (pfn > 0) {
              probe(cpu, pfn, st, false);
              concurrent++;
            }
          }
        }, 1);
        let walker: ReturnType<typeof makeCpu> | undefined;
        let r;
        try {
          r = await runMachine({
            config: { mem: '16M', swap: 0, cpus: 2, rmap, locks, lockImpl: (process.env.SMPVM_RMAP_IMPL ?? 'ticket') as 'ticket', lockdep: true, debug: true, seed, filePages: 64, maxVma: 2048, maxMm: 64 },
            spec: { name: 'random', filesPerCpu: 2, seed },
            opsPerCpu: opsFor(locks),
            checkpoints: 2,
            checkEmpty: true,
            pool: pool(),
          });
        } finally {
          clearInterval(timer);
        }
        const p = runProblems(r, { stack: true, lockdep: true });
        if (p.length) console.error(`rmap ${rmap} locks ${locks} failed; reproduce with seed ${seed}:\n${p.slice(0, 10).join('\n')}`);
        expect(p).toEqual([]);
        const ops = r.perCpu.reduce((a, c) => a + c.ops, 0);
        recordStressOps(`rmap/stress ${rmap}/${locks}`, ops, seed);
        console.log(
          `stress ${rmap}/${locks}: ${ops} ops on 2 CPUs, ${r.checkpoints.done} checkpoints; walker: ${concurrent} probes, ` +
            `${st.young} young, unmap ${st.unmapSuccess} ok / ${st.unmapAgain} again (seed ${seed})`,
        );
        expect(ops).toBe(opsFor(locks) * 2);
        expect(r.checkpoints.done).toBeGreaterThan(0);
        expect(concurrent).toBeGreaterThan(0);
      });
    }
  }
});
