import { describe, it, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { runMachine } from '../../src/sim/run.js';

/** the stuck-run tests' stop grace (STOP_GRACE_MS, 10 s, in real runs): a stuck CPU stays stuck */
const GRACE_MS = 2000;

describe('run orchestrator (real workers)', () => {
  it('runs page_fault1_processes on 2 CPUs from a barrier and collects per-CPU results', async () => {
    const r = await runMachine({
      config: { mem: '32M', swap: 0, cpus: 2, debug: true, seed: 3 },
      spec: { name: 'page_fault1_processes', regionBytes: 4 << 20 },
      opsPerCpu: 20,
      checkEmpty: true,
    });
    expect(r.error).toBeUndefined();
    expect(r.perCpu.map((c) => c.cpu)).toEqual([0, 1]);
    for (const c of r.perCpu) {
      expect(c.ops).toBe(20);
      expect(c.units).toBe(20 * 1024);
    }
    expect(r.checker.violations).toEqual([]);
  });

  it('page_fault1_threads shares one mm between the CPUs', async () => {
    const r = await runMachine({
      config: { mem: '32M', swap: 0, cpus: 2, debug: true, seed: 4, locks: 'split' },
      spec: { name: 'page_fault1_threads', regionBytes: 4 << 20 },
      opsPerCpu: 10,
      checkEmpty: true,
    });
    expect(r.error).toBeUndefined();
    expect(r.checker.violations).toEqual([]);
  });

  it('a worker that throws stops the run cleanly and names its CPU and operation', async () => {
    const r = await runMachine({
      config: { mem: '8M', swap: 0, cpus: 2, debug: true, seed: 5 },
      // 16 MiB per CPU cannot fit in 8 MiB: the fault path runs out of memory and the workload throws
      spec: { name: 'page_fault1_processes', regionBytes: 16 << 20 },
      durationMs: 5000,
    });
    expect(r.error).toBeDefined();
    expect(r.error!.message).toMatch(/page_fault1_processes/);
    expect(r.error!.cpu).toBeGreaterThanOrEqual(0);
    expect(r.error!.op).toBe('page_fault1_processes');
  });

  it('a CPU that dies holding a lock is the one reported, not the CPU left spinning on it; every held lock is listed', async () => {
    const pool = new Piscina({ filename: fileURLToPath(new URL('./stuck.worker.ts', import.meta.url)), minThreads: 2, maxThreads: 2, execArgv: ['--import', 'tsx'] });
    const r = await runMachine({
      config: { mem: '8M', swap: 0, cpus: 2, debug: true, seed: 6, lockdep: true, locks: 'split' },
      spec: { name: 'page_fault1_processes', regionBytes: 1 << 20 },
      durationMs: 100,
      kswapd: false,
      pool,
      stopGraceMs: GRACE_MS,
    });
    expect(r.error).toBeDefined();
    expect(r.error!.cpu).toBe(0);
    expect(r.error!.message).toMatch(/^cpu 0 died holding the lru lock \(and then cpu 1 \(in munmap\) did not stop within/);
    expect(r.error!.message).toMatch(/cpu 0: pagemap_lru_lock@test; cpu 1: pagemap_lru_lock@test/);
    expect(r.checker.violations).toEqual(['not checked: a CPU was stuck']);
  }, GRACE_MS * 10);

  it('a run whose CPUs stop completing operations (a lock leaked, nobody to stop them) is ended by the hung-task detector', async () => {
    const pool = new Piscina({ filename: fileURLToPath(new URL('./stuck.worker.ts', import.meta.url)), minThreads: 2, maxThreads: 2, execArgv: ['--import', 'tsx'] });
    const r = await runMachine({
      config: { mem: '8M', swap: 0, cpus: 2, debug: true, seed: 7, lockdep: true, locks: 'split' },
      spec: { name: 'page_fault1_processes', regionBytes: 1 << 20 },
      opsPerCpu: 1, // an operation budget: without the detector this waited for ever
      kswapd: false,
      pool,
      hungMs: 500,
      stopGraceMs: GRACE_MS,
    });
    expect(r.error).toBeDefined();
    expect(r.error!.message).toMatch(/^no CPU completed an operation or slept in 0\.5 s \([\d.]+ s after the gate\): the hung-task detector raised the stop flag, and cpu 1 \(in munmap\) did not stop within/);
    // the leaked lock is still on CPU 0's held stack; CPU 1's last is the one it waits for
    expect(r.error!.message).toMatch(/cpu 0: pagemap_lru_lock@test; cpu 1: pagemap_lru_lock@test/);
  }, GRACE_MS * 10);

  it('a CPU that sleeps on I/O for longer than the period without completing an operation is not hung', async () => {
    const pool = new Piscina({ filename: fileURLToPath(new URL('./sleeper.worker.ts', import.meta.url)), minThreads: 2, maxThreads: 2, execArgv: ['--import', 'tsx'] });
    const t0 = performance.now();
    const r = await runMachine({
      config: { mem: '8M', swap: 0, cpus: 2, seed: 8, locks: 'split', swapIoUs: 200_000 },
      spec: { name: 'page_fault1_processes', regionBytes: 1 << 20 },
      opsPerCpu: 1, // CPU 0 sleeps 4 x 200 ms in its one operation: 0.8 s against a 0.5 s period
      kswapd: false,
      pool,
      hungMs: 500,
    });
    await pool.destroy();
    expect(r.error).toBeUndefined();
    expect(performance.now() - t0).toBeGreaterThan(800);
  }, 30_000);
});
