/*
 * Property test (issue 5): seeded random operation sequences on a
 * deterministic 2-CPU machine under every rmap scheme × every lock scheme,
 * with a reclaim stand-in (probe.ts: page_referenced on mapped pages,
 * try_to_unmap of file pages) between operations. After each sequence the
 * invariant checker must be clean — its rmap_check demands that the
 * scheme's walk yields exactly the ptes a full page-table scan finds, and
 * the schemes' own checks (chain packing, pool accounting, anon_vma lists)
 * must hold — as must the content oracle, lockdep, and, once every process
 * has exited, "every frame free". A planted bug (one skipped scheme add)
 * must be caught. A failure names the seed that reproduces it.
 */
import { describe, it, expect } from 'vitest';
import { bootMachine } from '../../src/sim/boot.js';
import { detSetup, detRun, detFailures, detTeardown } from '../../src/sim/detsched.js';
import { check_invariants } from '../../src/sim/checker.js';
import { readLockdepReport, formatLockdepReport } from '../../src/sync/lockdep.js';
import { RMAP_SCHEMES, LOCK_SCHEMES } from '../../src/config.js';
import { PG_FLAGS, PG_MAPPING, PG_MAPCOUNT, pageStruct } from '../../src/machine/layout.js';
import { PG_anon } from '../../src/machine/page.js';
import { VM } from '../../src/machine/vmstat.js';
import type { RmapScheme } from '../../src/rmap/types.js';
import { probe, pick_mapped, newProbeStats } from './probe.js';
import { seeded } from '../rng.js';

const SEQUENCES = Number(process.env.SMPVM_RMAP_SEQS ?? 100); // per (rmap, locks) pair
const BASE_SEED = Number(process.env.SMPVM_RMAP_SEED ?? 20260505);

function runSeed(rmap: string, locks: string, seed: number, st = newProbeStats()) {
  const m = bootMachine({ mem: '4M', swap: 0, cpus: 2, seed, lockdep: true, debug: true, filePages: 64, maxVma: 512, maxMm: 32, rmap, locks });
  const r = detSetup(m, seed);
  const rng = seeded(seed);
  const ops = 40 + (seed % 41);
  const problems: string[] = [];
  for (let done = 0; done < ops; done += 4) {
    detRun(r, 4);
    for (let k = 0; k < 4; k++) {
      const pfn = pick_mapped(r.cpus[0]!, rng, 256);
      const why = pfn > 0 ? probe(r.cpus[0]!, pfn, st, true) : '';
      if (why) problems.push(why);
    }
  }
  const mid = check_invariants(r.cpus[0]!);
  problems.push(...mid.violations, ...detFailures(r));
  problems.push(...detTeardown(r).violations);
  const ld = readLockdepReport(m.w, m.layout.lockdep);
  if (ld.count) problems.push(formatLockdepReport(ld));
  return { problems, mapped: mid.stats.mapped, r };
}

describe('rmap schemes: random operation streams with reclaim probes (deterministic mode)', () => {
  for (const rmap of RMAP_SCHEMES) {
    for (const locks of LOCK_SCHEMES) {
      it(`${rmap} under ${locks}: ${SEQUENCES} sequences check clean`, () => {
        const st = newProbeStats();
        let mapped = 0;
        for (let i = 0; i < SEQUENCES; i++) {
          const seed = BASE_SEED + i;
          const res = runSeed(rmap, locks, seed, st);
          mapped += res.mapped;
          if (res.problems.length) {
            throw new Error(`rmap ${rmap} locks ${locks}: reproduce with seed ${seed}:\n${res.problems.slice(0, 8).join('\n')}`);
          }
        }
        // the walks really ran: pages were mapped at the checks and the probes unmapped file pages
        expect(mapped).toBeGreaterThan(SEQUENCES * 5);
        expect(st.referenced).toBeGreaterThan(SEQUENCES * 20);
        expect(st.unmapSuccess).toBeGreaterThan(SEQUENCES * 5);
        console.log(`${rmap}/${locks}: ${SEQUENCES} sequences, ${st.referenced} page_referenced (${st.young} young), ${st.unmapSuccess} file pages unmapped`);
      });
    }
  }
});

describe('planted bug: one skipped scheme add', () => {
  for (const rmap of RMAP_SCHEMES.filter((s) => s !== 'scan')) {
    it(`${rmap}: ${rmap === 'hint' ? 'a lost hint is survived by the fallback scan' : 'is caught by the checker'}`, () => {
      const m = bootMachine({ mem: '4M', swap: 0, cpus: 2, seed: 7, lockdep: true, debug: true, filePages: 64, maxVma: 512, maxMm: 32, rmap });
      const r = detSetup(m, 7);
      const real = r.cpus[0]!.rmap;
      let armed = 40;
      let skipped = -1;
      const buggy: RmapScheme = {
        ...real,
        add(cpu, pfn, pteAddr, vma, addr) {
          // objrmap's and anonmm's add only record the first mapping of an anonymous page: skip one of those
          const p = pageStruct(cpu.l, pfn);
          const anon = (cpu.w[p + PG_FLAGS]! & PG_anon) !== 0;
          const counts =
            rmap === 'objrmap' ? anon && cpu.w[p + PG_MAPPING] === 0 : rmap === 'anonmm' ? anon && cpu.w[p + PG_MAPCOUNT] === 0 : true;
          if (counts && --armed === 0) {
            skipped = pfn;
            return;
          }
          real.add(cpu, pfn, pteAddr, vma, addr);
        },
      };
      for (const c of r.cpus) (c as { rmap: RmapScheme }).rmap = buggy;
      // run until the bug has fired, then check at once (a later remove of that pte would trip over it)
      for (let i = 0; i < 5000 && armed > 0; i++) detRun(r, 1);
      expect(skipped).toBeGreaterThan(0);
      const res = check_invariants(r.cpus[0]!);
      if (rmap === 'hint') {
        // the hint is only a hint: the walk stays exact, through the fallback
        const before = r.cpus[0]!.w[r.cpus[0]!.vm + VM.rmap_hint_fallback]!;
        expect(res.violations).toEqual([]);
        expect(buggy.page_referenced(r.cpus[0]!, skipped)).toBeGreaterThanOrEqual(0);
        expect(r.cpus[0]!.w[r.cpus[0]!.vm + VM.rmap_hint_fallback]!).toBe(before + 1);
      } else {
        expect(res.ok).toBe(false);
        expect(res.violations.join('\n')).toMatch(new RegExp(`rmap ${rmap}: page ${skipped} walk found`));
      }
    });
  }
});
