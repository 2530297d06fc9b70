/*
 * Property test (issue 2): thousands of seeded random operation sequences on
 * a deterministic multi-CPU machine; after each, the invariant checker and the
 * content oracle must be clean and, once every process has exited, every
 * frame must be free again. A planted bug proves the oracles can fail.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { bootMachine } from '../../src/sim/boot.js';
import { detSetup, detRun, detFailures, detTeardown } from '../../src/sim/detsched.js';
import { check_invariants } from '../../src/sim/checker.js';
import { PG_MAPCOUNT, pageStruct } from '../../src/machine/layout.js';
import type { RmapScheme } from '../../src/rmap/types.js';

function runSeed(seed: number, ops: number, cfg: Record<string, unknown> = {}) {
  const m = bootMachine({ mem: '4M', swap: 0, cpus: 2, seed, lockdep: true, debug: true, filePages: 64, maxVma: 512, maxMm: 32, ...cfg });
  const r = detSetup(m, seed);
  detRun(r, ops);
  const mid = check_invariants(r.cpus[0]!);
  const failures = detFailures(r);
  const end = detTeardown(r);
  return { mid, failures, end, r };
}

describe('random operation streams (deterministic mode)', () => {
  it('keep the checker and the content oracle clean over 1500 seeded sequences', () => {
    let sequences = 0;
    let totalOps = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fffffff }), fc.integer({ min: 20, max: 80 }), (seed, ops) => {
        const { mid, failures, end, r } = runSeed(seed, ops);
        sequences++;
        totalOps += r.streams.reduce((a, s) => a + s.ops, 0);
        const problems = [...mid.violations, ...failures, ...end.violations];
        if (problems.length) throw new Error(`seed ${seed} ops ${ops}:\n${problems.slice(0, 8).join('\n')}`);
        return true;
      }),
      { numRuns: 1500, seed: 20261122 },
    );
    expect(sequences).toBe(1500);
    console.log(`property: ${sequences} sequences, ${totalOps} operations`);
  });

  it('a long sequence exercises every operation and still checks clean', () => {
    const { mid, failures, end, r } = runSeed(4242, 6000);
    expect([...mid.violations, ...failures, ...end.violations]).toEqual([]);
    const s = r.streams[0]!;
    expect(s.oracle.checks).toBeGreaterThan(1000);
    expect(s.segv).toBeGreaterThan(0);
    const vm = r.cpus[0]!.w;
    expect(vm.length).toBeGreaterThan(0);
  });

  it('a planted bug (one skipped _mapcount increment) is caught by the checker', () => {
    const m = bootMachine({ mem: '4M', swap: 0, cpus: 2, debug: true, seed: 7, filePages: 64, maxVma: 512, maxMm: 32 });
    const r = detSetup(m, 7);
    const real = r.cpus[0]!.rmap;
    let armed = 40;
    const buggy: RmapScheme = {
      ...real,
      add(cpu, pfn, pteAddr, vma, addr) {
        real.add(cpu, pfn, pteAddr, vma, addr);
        if (--armed === 0) Atomics.sub(cpu.w, pageStruct(cpu.l, pfn) + PG_MAPCOUNT, 1); // undo the increment once
      },
    };
    for (const c of r.cpus) (c as { rmap: RmapScheme }).rmap = buggy;
    // run until the bug has fired, then check at once (a later munmap could free the page)
    for (let i = 0; i < 5000 && armed > 0; i++) detRun(r, 1);
    expect(armed).toBeLessThanOrEqual(0);
    const res = check_invariants(r.cpus[0]!);
    expect(res.ok).toBe(false);
    expect(res.violations.join('\n')).toMatch(/_mapcount/);
  });

  it('a planted content bug (a stamp overwritten behind the task\'s back) is caught by the oracle', () => {
    const m = bootMachine({ mem: '4M', swap: 0, cpus: 1, debug: true, seed: 9, filePages: 64 });
    const r = detSetup(m, 9);
    detRun(r, 300);
    // corrupt the stamp word of every user page that holds one
    const w = m.w;
    for (let pfn = 1; pfn < m.layout.nrFrames; pfn++) {
      const f = m.layout.frames + pfn * 1024;
      if (w[f + 2] !== 0 && (w[f]! & 0xffff0000) === 0x57a40000) w[f + 2] = w[f + 2]! + 64;
    }
    detRun(r, 600);
    expect(detFailures(r).join('\n')).toMatch(/expected stamp/);
  });
});
