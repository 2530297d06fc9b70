/*
 * random.test.ts — the random operation streams (src/workload/random.ts)
 * record which operation their CPU is in (cpu.op for its own error report,
 * PC_OP for the coordinator's stuck-CPU report), so an error names `fork`,
 * not just the workload.
 */
import { describe, it, expect, vi } from 'vitest';
import { bootMachine } from '../../src/sim/boot.js';
import { detSetup, detRun, detFailures, detTeardown } from '../../src/sim/detsched.js';
import { DEFAULT_RANDOM } from '../../src/workload/random.js';
import { op_of } from '../../src/machine/cpu.js';

const planted = vi.hoisted(() => ({ armed: false }));
vi.mock('../../src/vm/fork.js', async (orig) => {
  const real = await orig<typeof import('../../src/vm/fork.js')>();
  return {
    ...real,
    do_fork: (...a: Parameters<typeof real.do_fork>) => {
      if (planted.armed) throw new Error('planted failure in do_fork');
      return real.do_fork(...a);
    },
  };
});

describe('random streams name the operation their CPU is in', () => {
  it('a throw inside fork leaves cpu.op and PC_OP saying fork', () => {
    const m = bootMachine({ mem: '16M', swap: 0, cpus: 2, debug: true, seed: 11 });
    const r = detSetup(m, 11);
    detRun(r, 50); // a few of everything first
    planted.armed = true;
    let thrown: unknown;
    for (let i = 0; i < 5000 && thrown === undefined; i++) {
      try {
        detRun(r, 1);
      } catch (e) {
        thrown = e;
      }
    }
    planted.armed = false;
    expect(String(thrown)).toMatch(/planted failure in do_fork/);
    const cpu = r.cpus.find((c) => c.op === 'fork');
    expect(cpu).toBeDefined();
    expect(op_of(m.w, m.layout, cpu!.id, 'random')).toBe('fork');
    // the other CPU is in whatever it last ran, never a stale "fork" of this one
    const other = r.cpus.find((c) => c !== cpu)!;
    expect(op_of(m.w, m.layout, other.id, 'random')).toBe(other.op);
  });
});

describe('random streams keep a shared mapping within the largest inode', () => {
  // maxRegionPages above config.filePages: a shared anonymous region that long has no shmem object
  // (do_mmap refuses it, EINVAL) and the stream does not ask for one; this once threw in inode_alloc
  it('regions longer than filePages: no throw, oracle and checker clean', () => {
    const m = bootMachine({ mem: '16M', swap: 0, cpus: 2, debug: true, seed: 12, filePages: 16 });
    const r = detSetup(m, 12, 3, { ...DEFAULT_RANDOM, maxRegionPages: 64 });
    detRun(r, 3000);
    expect(detFailures(r)).toEqual([]);
    expect(detTeardown(r).violations).toEqual([]);
  });
});
