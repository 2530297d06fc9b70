import { describe, it, expect } from 'vitest';
import { runMachine } from '../../src/sim/run.js';

describe('run orchestrator (real workers)', () => {
  it('runs page_fault1_processes on 2 CPUs from a barrier and collects per-CPU results', async () => {
    const r = await runMachine({
      config: { mem: '32M', swap: 0, cpus: 2, seed: 3 },
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
      config: { mem: '32M', swap: 0, cpus: 2, seed: 4, locks: 'split' },
      spec: { name: 'page_fault1_threads', regionBytes: 4 << 20 },
      opsPerCpu: 10,
      checkEmpty: true,
    });
    expect(r.error).toBeUndefined();
    expect(r.checker.violations).toEqual([]);
  });

  it('a worker that throws stops the run cleanly and names its CPU and operation', async () => {
    const r = await runMachine({
      config: { mem: '8M', swap: 0, cpus: 2, seed: 5 },
      // 16 MiB per CPU cannot fit in 8 MiB: the fault path runs out of memory and the workload throws
      spec: { name: 'page_fault1_processes', regionBytes: 16 << 20 },
      durationMs: 5000,
    });
    expect(r.error).toBeDefined();
    expect(r.error!.message).toMatch(/page_fault1_processes/);
    expect(r.error!.cpu).toBeGreaterThanOrEqual(0);
    expect(r.error!.op).toBe('page_fault1_processes');
  });
});
