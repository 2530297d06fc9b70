/*
 * Helpers for the reclaim tests: a machine with reclaim installed (every
 * scheme and policy registered, as in a run), processes with anonymous
 * regions written and read with oracle stamps, and vmstat sums.
 */
import { pte_index } from '../../src/mm/pte.js';
import { bootMachine } from '../../src/sim/boot.js';
import { makeCpu, type Cpu } from '../../src/vm/cpu.js';
import type { Machine } from '../../src/machine/machine.js';
import { mm_alloc } from '../../src/mm/mm_struct.js';
import { do_mmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../src/vm/mmap.js';
import { user_access, ACCESS_OK } from '../../src/vm/access.js';
import { pte_table } from '../../src/mm/pgtable.js';
import { PAGE_WORDS, pageStruct } from '../../src/machine/layout.js';
import { registeredRmapSchemes } from '../../src/rmap/index.js';
import { expect } from 'vitest';
import { runMachine, type RunOptions, type RunOutcome } from '../../src/sim/run.js';
import { vmstatSum } from '../../src/sim/results.js';
import type { VmstatName } from '../../src/machine/vmstat.js';

export const POLICY_NAMES = ['swapout', 'clock', '2q'] as const;

/** rmap schemes registered in this build. */
export const rmapNames = registeredRmapSchemes;

export function bootR(cfg: Record<string, unknown> = {}): { m: Machine; cpu: Cpu; cpus: Cpu[] } {
  const m = bootMachine({ mem: '2M', swap: '8M', cpus: 1, lockdep: true, debug: true, swapIoUs: 0, ...cfg });
  const cpus: Cpu[] = [];
  for (let i = 0; i < m.cfg.cpus; i++) cpus.push(makeCpu(m, i));
  return { m, cpu: cpus[0]!, cpus };
}

/** Sum of a vmstat counter over every CPU slot. */
export { vmstatSum as vmsum };

export function newProc(cpu: Cpu): number {
  const mm = mm_alloc(cpu, cpu.mmCache);
  if (mm < 0) throw new Error('mm_alloc failed');
  return mm;
}

export function mapAnon(cpu: Cpu, mm: number, pages: number): number {
  const a = do_mmap(cpu, mm, 0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a < 0) throw new Error(`mmap failed ${a}`);
  return a;
}

const buf = new Int32Array(8);

/** Write value v (and v ^ 0x5a5a5a5a) at the start of the page at addr. Returns the access result. */
export function put(cpu: Cpu, mm: number, addr: number, v: number): number {
  buf[0] = v;
  buf[1] = v ^ 0x5a5a5a5a;
  return user_access(cpu, mm, addr, true, buf, 2);
}

/** Read the page's first word; throws if the page's two words disagree or the access fails. */
export function get(cpu: Cpu, mm: number, addr: number): number {
  const rc = user_access(cpu, mm, addr, false, buf, 2);
  if (rc !== ACCESS_OK) throw new Error(`read at 0x${addr.toString(16)} failed: ${rc}`);
  if (buf[1] !== ((buf[0]! ^ 0x5a5a5a5a) | 0) && !(buf[0] === 0 && buf[1] === 0)) throw new Error(`torn page at 0x${addr.toString(16)}`);
  return buf[0]!;
}

export function tryGet(cpu: Cpu, mm: number, addr: number): number {
  return user_access(cpu, mm, addr, false, buf, 2);
}

/** The pte for addr in mm (0 if no table), read lock-free. */
export function pteOf(cpu: Cpu, mm: number, addr: number): number {
  const pt = pte_table(cpu, mm, addr);
  if (pt < 0) return 0;
  return Atomics.load(cpu.w, cpu.l.frames + pt * PAGE_WORDS + pte_index(addr));
}

export const isSwapPte = (pte: number) => pte !== 0 && (pte & 1) === 0;
export const swapOffset = (pte: number) => pte >>> 8;
export const pageWord = (m: Machine, pfn: number, k: number) => m.w[pageStruct(m.layout, pfn) + k]!;

export { usePool } from '../helpers.js';

/** Everything a worker run found wrong: a CPU's throw, the checkpoints' and the final checker's violations, the workloads' failures. */
export const runProblems = (r: RunOutcome): string[] => [
  ...(r.error ? [`cpu ${r.error.cpu} threw in ${r.error.op}: ${r.error.message}`] : []),
  ...r.checkpoints.violations,
  ...r.checker.violations,
  ...r.perCpu.flatMap((c) => c.failures),
];

/**
 * A run on worker CPUs under the content oracle with a fresh random seed,
 * named in every failed expectation and in the log line: no CPU threw, the
 * checkpoint, final (empty) checker and oracle found nothing, and every
 * counter of `counted` moved. Logs `label: seed S: name value, ...` for
 * `counted` then `shown`.
 */
export async function oracleRun(
  label: string,
  opts: Omit<RunOptions, 'config'> & { config: Record<string, unknown> },
  counted: readonly VmstatName[],
  shown: readonly VmstatName[] = [],
): Promise<RunOutcome> {
  const seed = 1 + Math.floor(Math.random() * 1e6);
  const r = await runMachine({ checkpoints: 1, checkEmpty: true, ...opts, config: { ...opts.config, seed } });
  const why = `seed ${seed}`;
  expect(r.error, why).toBeUndefined();
  expect(runProblems(r), why).toEqual([]);
  expect(vmstatSum(r.m, 'oracle_fail'), why).toBe(0);
  for (const k of counted) expect(vmstatSum(r.m, k), `${why}: ${k}`).toBeGreaterThan(0);
  console.log(`${label}: seed ${seed}: ${[...counted, ...shown].map((k) => `${k} ${vmstatSum(r.m, k)}`).join(', ')}`);
  return r;
}
