/*
 * The conductor's failure paths (src/timing/conductor.ts), with scripted
 * CPUs (vt.worker.ts) under runMachine: a simulated ABBA deadlock is
 * reported with every CPU's held and awaited locks instead of hanging, and a
 * CPU that throws stops the run at once, named with its operation and
 * virtual time — also when it throws holding a lock the other CPU waits for
 * (that CPU is woken and leaves; no deadlock is reported, no hang).
 */
import { describe, it, expect } from 'vitest';
import { Piscina } from 'piscina';
import { fileURLToPath } from 'node:url';
import { runMachine } from '../../src/sim/run.js';
import { parseSpec, workloadByName, type WorkloadSpec } from '../../src/workload/index.js';
import { makeConfig } from '../../src/config.js';

const pool = () =>
  new Piscina({ filename: fileURLToPath(new URL('./vt.worker.ts', import.meta.url)), minThreads: 2, maxThreads: 2, execArgv: ['--import', 'tsx'] });

const cfg = { clock: 'virtual', mem: '8M', swap: 0, cpus: 2, seed: 3, lockdep: true, quantum: 0 };

/** A parsed page_fault1 spec carrying the scripted worker's `script` (vt.worker.ts reads it; no workload schema knows it). */
function scripted(script: string): WorkloadSpec {
  const r = parseSpec(workloadByName('page_fault1_processes')!, { regionBytes: 1 << 20 }, makeConfig({ ...cfg, clock: 'host' }));
  if (!r.ok) throw r.error;
  return Object.assign(r.spec, { script });
}

describe('conductor', () => {
  it('reports a simulated deadlock with every CPU’s held and awaited locks, never hangs', async () => {
    const p = pool();
    const t0 = Date.now();
    try {
      const r = await runMachine({ config: cfg, spec: scripted('abba'), opsPerCpu: 1, kswapd: false, pool: p });
      expect(r.error?.op).toBe('deadlock');
      const msg = r.error!.message;
      console.log(msg);
      expect(msg).toMatch(/^simulated deadlock: every CPU left is parked/);
      expect(msg).toMatch(/cpu 0 \(parked, in mmap, at \d+ ns\) parked since \d+ ns on word \d+/);
      expect(msg).toMatch(/cpu 1 \(parked, in mmap, at \d+ ns\) parked since/);
      expect(msg).toMatch(/cpu 0 [^;]*; held \(the last is awaited\): test_lock_a@test > test_lock_b@test/);
      expect(msg).toMatch(/cpu 1 [^;]*; held \(the last is awaited\): test_lock_b@test > test_lock_a@test/);
      expect(Date.now() - t0).toBeLessThan(60_000);
    } finally {
      await p.destroy();
    }
  }, 120_000);

  for (const [script, message] of [
    ['throw', 'planted: cpu 1 gives up'],
    ['throw_held', 'planted: cpu 1 gives up holding the lock'],
  ] as const) {
    it(`stops the run at once when a CPU throws, naming the CPU, its operation and virtual time (${script})`, async () => {
      const p = pool();
      const t0 = Date.now();
      try {
        const r = await runMachine({ config: cfg, spec: scripted(script), opsPerCpu: 1, kswapd: false, pool: p });
        expect(r.error).toMatchObject({ cpu: 1, op: 'munmap', message });
        expect(r.error!.atNs).toBeGreaterThan(20 * 800);
        // CPU 0 was stopped where it was (running, or parked on the lock CPU 1 held), not run to its end
        const cpu0 = r.perCpu.find((c) => c.cpu === 0)!;
        expect(cpu0.error?.message).toBe('stopped: the run was aborted');
        expect(cpu0.ops).toBeLessThan(50);
        expect(Date.now() - t0).toBeLessThan(60_000);
      } finally {
        await p.destroy();
      }
    }, 120_000);
  }
});
