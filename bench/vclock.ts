/*
 * bench/vclock.ts — the virtual clock (issue 17): published many-CPU shapes
 * reproduced, what the conductor costs on the host, and the quantum's error.
 * Compiled JS, real piscina workers; run it under flock (README "Virtual
 * time"). Every virtual-clock figure is deterministic (same on any host);
 * the host-seconds figures are this host's, today.
 *
 *   collapse  lock_counter (a shared counter under one spinlock, 3 lines of
 *             critical section, 2 µs outside) under each lock implementation,
 *             1..48 CPUs on the amd-48 preset (Boyd-Wickizer et al. 2012):
 *             acquisitions per virtual second, and MCS / ticket at 48.
 *   quantum   the same at 48 CPUs, page_fault1_processes and threads from
 *             2 to 64 CPUs under 2.4 and split, and with futex mutexes, at
 *             quantum 0 (the default), 1000 ns and 10 µs: the relative
 *             differences, and their range at 1000 ns over every row.
 *   speed     page_fault1_processes under split at 1, 16, 64, 128 CPUs,
 *             with strict and with stamped releases (conductor.ts): simulated
 *             faults per host second, host seconds, process CPU seconds,
 *             hand-overs per fault (in all and by why the giver stopped),
 *             where the host time per fault went (conductor.ts hostProfile:
 *             in turn, of it the conductor's scans, and between turns), host
 *             RSS; at 64 CPUs also a larger quantum, a spin before sleeping
 *             on the turn word, 8 MiB per CPU, and the first 64-CPU stamped
 *             row again once the pool's workers are warm.
 *   validate  `smpvm calibrate`'s host table measured in the same run, then
 *             page_fault1 processes/threads under each lock scheme at 1 and 2
 *             CPUs on both clocks: virtual / host faults per second. Host
 *             points after a warm-up, each read against a reference run
 *             (1-CPU split processes, calibrate's fit) just before it, and
 *             the median of VALIDATE_REPS (default 5) such pairs taken in as many passes
 *             over the rows; the ratio printed raw and normalised by the
 *             reference (this VM's speed drifts by tens of %); a 2-CPU point has the line round trip
 *             measured just before and after it (retried if it moved by more
 *             than 1.5x) and its virtual run prices lines by their mean.
 *             Virtual points at quantum 0: the model, without the quantum's
 *             ordering error (which the quantum section measures). The
 *             2-CPU rows run again with `calibrate --corun`'s table (the
 *             fits measured with the other core running a copy of the run).
 *   spin      2-CPU page_fault1 at quantum 0 with the turn-word poll (the
 *             default with no more CPUs than host cores, sim/run.ts
 *             vtTuningFor) and without: host seconds per run.
 *   keepawake page_fault1_processes at 4, 16 and 64 CPUs, quantum 0, with
 *             the host's cores kept awake (sim/keepawake.ts, the default
 *             with more CPUs than cores) and without: host seconds per run.
 *   turncost  the speed section's warm 64-CPU quantum-1000 stamped row at 1,
 *             2, 4, 8, 16, 32 and 64 CPUs: host µs per fault in turn, of it
 *             the conductor's scans, and the rest per turn; where the
 *             in-turn time grows with the CPU count.
 *   zone      page_fault1_processes under split at 112 CPUs on the
 *             skylake-2s-112 preset with MCS spinlocks (qspinlock, as his
 *             kernels had), without and with Aaron Lu's free_pcppages_bulk
 *             change (config.pcpPrepick): the two most contended locks,
 *             their shares of CPU time, faults per virtual s.
 *
 * Run: npm run build && flock /tmp/bench.lock node dist/bench/vclock.js [sections,...]
 */
import { runMachine, createRunPool } from '../src/sim/run.js';
import { buildResults, type RunResults } from '../src/sim/results.js';
import type { Piscina } from 'piscina';
import { DEFAULT_QUANTUM_NS } from '../src/config.js';
import { writeResult, fmtRate, isMain, median } from './common.js';
import { calibrate, withRoundTrip, hostRate, type Calibration } from '../src/sim/calibrate.js';
import { lineRoundTripNs } from '../src/sim/hostprobe.js';
import { checkCostTable } from '../src/timing/cost.js';
import { IdleSampler } from '../src/cli/progress.js';
import type { VtTuning, VtHostProfile } from '../src/timing/conductor.js';

const MiB = 1 << 20;
const IMPLS = ['tas', 'ttas', 'ticket', 'mcs', 'futex'] as const;

interface Point {
  res: RunResults;
  units: number;
  perVirtualSec: number;
  hostS: number;
  handoffs: number;
  handoffsBy: Record<string, number>;
  /** runs the pool's workers had made before this one (0: fresh workers, their JIT cold) */
  poolRuns: number;
  /** process CPU seconds over the host seconds' span (every thread: the CPUs, V8's compiler and GC threads, the main thread) */
  cpuS: number;
  /** with vtTuning.hostProfile: the CPU threads' host profiles summed (timing/conductor.ts VtHostProfile) */
  vtHost?: VtHostProfile;
}

const pools = new Map<number, Piscina>();
const poolRuns = new Map<Piscina, number>();
function pool(threads: number): Piscina {
  let p = pools.get(threads);
  if (!p) {
    for (const [k, q] of pools) if (k < threads) void q.destroy().then(() => pools.delete(k));
    p = createRunPool(threads);
    pools.set(threads, p);
  }
  return p;
}

async function point(config: Record<string, unknown>, spec: { name: string; [k: string]: unknown }, opsPerCpu: number, vtTuning: VtTuning = {}): Promise<Point> {
  const cpus = config.cpus as number;
  const threads = [...pools.keys()].find((k) => k >= cpus + 1) ?? cpus + 1;
  const p = pool(threads);
  const runsBefore = poolRuns.get(p) ?? 0;
  poolRuns.set(p, runsBefore + 1);
  const o = await runMachine({ config: { clock: 'virtual', swap: 0, populate: true, ...config }, spec, opsPerCpu, pool: p, vtTuning });
  const res = buildResults(o, { spec, opsPerCpu });
  if (res.error || !res.checker.ok) throw new Error(`${spec.name} at ${cpus} CPUs: ${res.error?.message ?? res.checker.violations[0]}`);
  const units = res.ops;
  let vtHost: VtHostProfile | undefined;
  for (const r of [...o.perCpu, o.kswapd]) {
    if (!r?.vtHost) continue;
    vtHost ??= { turnMs: 0, conductorMs: 0, turns: 0, slept: 0 };
    vtHost.turnMs += r.vtHost.turnMs;
    vtHost.conductorMs += r.vtHost.conductorMs;
    vtHost.turns += r.vtHost.turns;
    vtHost.slept += r.vtHost.slept;
  }
  return {
    res,
    units,
    perVirtualSec: res.opsPerSec,
    hostS: res.hostSeconds,
    handoffs: res.virtual?.handoffs ?? 0,
    handoffsBy: res.virtual?.handoffsBy ?? {},
    poolRuns: runsBefore,
    cpuS: (o.cpuMs ?? NaN) / 1000,
    vtHost,
  };
}

const counter = (cpus: number, lockImpl: string, quantum?: number) =>
  point({ cpus, lockImpl, cost: 'amd-48', quantum, mem: 8 * MiB, maxMm: 8 }, { name: 'lock_counter', csLines: 3, thinkNs: 2000 }, 400);

async function collapse(): Promise<unknown> {
  const cpusList = [1, 2, 4, 8, 12, 16, 24, 32, 40, 48];
  const rows: Record<string, number[]> = {};
  console.log('\n## lock collapse: lock_counter, amd-48 preset, acquisitions per virtual second');
  console.log(`impl    ${cpusList.map((c) => String(c).padStart(8)).join('')}`);
  for (const impl of IMPLS) {
    rows[impl] = [];
    for (const c of cpusList) rows[impl]!.push((await counter(c, impl)).perVirtualSec);
    console.log(`${impl.padEnd(8)}${rows[impl]!.map((x) => fmtRate(x).padStart(8)).join('')}`);
  }
  const at = (impl: string) => rows[impl]![cpusList.length - 1]!;
  const peak = (impl: string) => Math.max(...rows[impl]!);
  const ratio = at('mcs') / at('ticket');
  console.log(`ticket: peak ${fmtRate(peak('ticket'))}/s at ${cpusList[rows.ticket!.indexOf(peak('ticket'))]} CPUs, ${fmtRate(at('ticket'))}/s at 48 (${((at('ticket') / peak('ticket')) * 100).toFixed(0)}% of peak)`);
  console.log(`MCS / ticket at 48 CPUs: ${ratio.toFixed(2)}x`);
  return { cpus: cpusList, rows, mcsOverTicketAt48: ratio };
}

/** The quantum the speed and quantum sections set against quantum 0 (the default, config.ts DEFAULT_QUANTUM_NS). */
const Q_1US = 1000;

async function quantum(): Promise<unknown> {
  const qs = [Q_1US, 10_000];
  console.log(`\n## quantum: ${qs.join(' and ')} ns against ${DEFAULT_QUANTUM_NS} (the default: strict discrete-event order)`);
  const out: Record<string, { q0: number; q: Record<number, number>; diffPct: Record<number, number> }> = {};
  const row = async (k: string, rate: (q: number) => Promise<number>) => {
    const q0 = await rate(0);
    const r: (typeof out)[string] = { q0, q: {}, diffPct: {} };
    for (const q of qs) {
      r.q[q] = await rate(q);
      r.diffPct[q] = ((r.q[q]! - q0) / q0) * 100;
    }
    out[k] = r;
    console.log(`${k.padEnd(44)} q=0 ${fmtRate(q0).padStart(8)}/s${qs.map((q) => `  q=${q} ${fmtRate(r.q[q]!).padStart(8)}/s ${r.diffPct[q]! >= 0 ? '+' : ''}${r.diffPct[q]!.toFixed(1)}%`).join('')}`);
  };
  const pf = (name: string, cpus: number, locks: string, o: { lockImpl?: string; mib?: number; ops?: number; region?: number; cost?: string } = {}) => (q: number) =>
    point({ cpus, locks, lockImpl: o.lockImpl ?? 'ticket', quantum: q, mem: Math.max(o.mib ?? 64, cpus * 3) * MiB, ...(o.cost ? { cost: o.cost } : {}) }, { name, regionBytes: o.region ?? MiB }, o.ops ?? 8).then((p) => p.perVirtualSec);
  for (const impl of IMPLS) for (const cpus of [16, 48]) await row(`lock_counter ${impl} ${cpus} CPUs`, async (q) => (await counter(cpus, impl, q)).perVirtualSec);
  for (const locks of ['split', 'bkl'] as const) await row(`page_fault1_processes ${locks} 16 CPUs`, pf('page_fault1_processes', 16, locks));
  // a few CPUs taking zone->lock twice a fault (2.4: no per-CPU page lists): where the quantum's error shows most; how it falls with the CPU count
  for (const cpus of [2, 4, 8, 16, 32]) {
    for (const locks of cpus >= 16 ? (['2.4'] as const) : (['2.4', 'split'] as const)) await row(`page_fault1_processes ${locks} ${cpus} CPUs`, pf('page_fault1_processes', cpus, locks));
  }
  // threads: the mm's own line, mmap_sem and the shared page-table lock move between every pair of faults
  for (const cpus of [2, 8, 16, 32, 64]) await row(`page_fault1_threads split ${cpus} CPUs`, pf('page_fault1_threads', cpus, 'split'));
  // npm start's virtual curve (cli/commands.ts START_VIRTUAL): 256 KiB regions, 4 loops, skylake-2s-112
  for (const mode of ['processes', 'threads'] as const) {
    for (const cpus of [8, 16, 64]) await row(`page_fault1_${mode} split 256K ${cpus} CPUs`, pf(`page_fault1_${mode}`, cpus, 'split', { mib: 256, ops: 4, region: 256 << 10, cost: 'skylake-2s-112' }));
  }
  // the same with futex mutexes for spinlocks: every wait a quantum's misordering invents is a sleep and a wake-up
  for (const cpus of [2, 16]) await row(`page_fault1_processes 2.4 futex ${cpus} CPUs`, pf('page_fault1_processes', cpus, '2.4', { lockImpl: 'futex', mib: 128, ops: 4 }));
  const errs = Object.values(out).map((r) => r.diffPct[Q_1US]!);
  console.log(`at ${Q_1US} ns against quantum 0: from ${Math.min(...errs).toFixed(1)}% to +${Math.max(...errs).toFixed(1)}% over ${errs.length} rows (the default, 0, is exact by definition)`);
  return { rows: out, q1usMinPct: Math.min(...errs), q1usMaxPct: Math.max(...errs) };
}

const rssMiB = () => process.memoryUsage().rss / MiB;

async function speed(): Promise<unknown> {
  console.log('\n## speed and size: page_fault1_processes, split, skylake-2s-112, 1 MiB region per CPU (8 MiB: the longer rows)');
  console.log('releases: strict (every release hands over if another clock is lower) or stamped (conductor.ts release stamps)');
  console.log('run: how many runs the pool\'s workers had made before (0: fresh workers, V8 compiles the fault path in each of them during the row)');
  console.log('CPU s: process CPU time over the host seconds (all threads: V8\'s compiler and GC threads too); host µs per fault = in turn (of it conductor scans) + between turns');
  console.log(
    'cpus  lock    region  quantum  releases  spin  run    faults  virtual faults/s  host s  CPU s  faults/host-s  hand-overs/fault  host µs/fault: turn (conductor) + between  µs/hand-over  host RSS MiB  hand-overs/fault by why',
  );
  const out = [];
  const Q = Q_1US;
  // [cpus, quantum, strict releases, spin before sleep, MiB per CPU, spinlock implementation, host profile]
  // spin null: the run's default (sim/run.ts vtTuningFor: poll before sleeping with no more CPUs than host cores)
  const cases: [number, number, boolean, number | null, number, string?, boolean?][] = [
    // the default: quantum 0 (strict order; releases are then strict too)
    [1, 0, true, null, 1],
    [2, 0, true, null, 1],
    [16, 0, true, null, 1],
    [64, 0, true, null, 1],
    [64, 0, true, null, 1],
    [128, 0, true, null, 1],
    [1, Q, true, 0, 1],
    [1, Q, false, 0, 1],
    [1, Q, false, 0, 8],
    [16, Q, true, 0, 1],
    [16, Q, false, 0, 1],
    [64, Q, true, 0, 1],
    [64, Q, false, 0, 1],
    [64, Q, false, 2000, 1],
    [64, 10_000, false, 0, 1],
    [64, Q, false, 0, 8],
    [64, Q, false, 2000, 8],
    // the headline row again, its workers' JIT warm: what the first runs of the pool paid for
    // compiling; once without the host profile (its performance.now() calls cost host time too)
    [64, Q, false, 0, 1, 'ticket', false],
    [64, Q, false, 0, 1],
    [128, Q, true, 0, 1],
    [128, Q, false, 0, 1],
    // MCS spinlocks: at 128 CPUs two collapsed ticket locks compete for the convoy, and the
    // release mode decides which wins (README "Speed and size"); with MCS the two agree
    [128, Q, true, 0, 1, 'mcs'],
    [128, Q, false, 0, 1, 'mcs'],
  ];
  for (const [cpus, q, strict, spin, mib, lockImpl = 'ticket', hostProfile = true] of cases) {
    const p = await point({ cpus, locks: 'split', lockImpl, quantum: q, mem: Math.max(64, cpus * 3 * mib) * MiB }, { name: 'page_fault1_processes', regionBytes: mib * MiB }, 8, {
      ...(spin === null ? {} : { spinBeforeSleep: spin }),
      strictReleases: strict,
      hostProfile,
    });
    const by = Object.entries(p.handoffsBy).map(([k, v]) => `${k} ${(v / p.units).toFixed(2)}`).join(', ');
    const h = p.vtHost ?? { turnMs: NaN, conductorMs: NaN, turns: NaN, slept: NaN };
    const hostMs = p.hostS * 1000;
    const perFault = (ms: number) => (ms * 1000) / p.units;
    const between = hostMs - h.turnMs;
    const row = {
      cpus,
      lockImpl,
      regionMiB: mib,
      quantum: q,
      releases: strict ? 'strict' : 'stamped',
      spin,
      hostProfile,
      poolRuns: p.poolRuns,
      faults: p.units,
      perVirtualSec: p.perVirtualSec,
      hostS: p.hostS,
      cpuS: p.cpuS,
      faultsPerHostS: p.units / p.hostS,
      handoffsPerFault: p.handoffs / p.units,
      handoffsBy: p.handoffsBy,
      hostUsPerFault: hostProfile ? { turn: perFault(h.turnMs), conductor: perFault(h.conductorMs), between: perFault(between) } : null,
      usPerHandoff: hostProfile && p.handoffs ? (between * 1000) / p.handoffs : null,
      sleptPct: hostProfile && h.turns ? (h.slept / h.turns) * 100 : null,
      rssMiB: rssMiB(),
    };
    out.push(row);
    const u = row.hostUsPerFault;
    const split = u ? `${u.turn.toFixed(1)} (${u.conductor.toFixed(1)}) + ${u.between.toFixed(1)}` : 'not profiled';
    console.log(
      `${String(cpus).padStart(4)}  ${lockImpl.padEnd(6)}  ${`${mib}M`.padStart(6)}  ${String(q).padStart(7)}  ${row.releases.padStart(8)}  ${String(spin ?? 'auto').padStart(4)}  ${String(p.poolRuns).padStart(3)}  ${String(p.units).padStart(8)}  ${fmtRate(p.perVirtualSec).padStart(16)}  ${p.hostS.toFixed(2).padStart(6)}  ${p.cpuS.toFixed(1).padStart(5)}  ${fmtRate(row.faultsPerHostS).padStart(13)}  ${row.handoffsPerFault.toFixed(2).padStart(16)}  ${split.padStart(40)}  ${(row.usPerHandoff?.toFixed(0) ?? '-').padStart(12)}  ${row.rssMiB.toFixed(0).padStart(12)}  ${by}`,
    );
  }
  return out;
}

/**
 * The turn-word poll (sim/run.ts vtTuningFor): 2-CPU runs at quantum 0, the
 * run's default (poll before sleeping: no more CPUs than host cores) against
 * sleeping at once, alternately, AB_REPS times each: host seconds per run.
 */
async function spin(): Promise<unknown> {
  console.log(`\n## the turn-word poll: 2-CPU page_fault1 at quantum 0, host s per run (${AB_REPS} alternate runs each, after one warm-up run)`);
  const out: Record<string, { poll: number[]; sleep: number[] }> = {};
  for (const [name, locks] of [['page_fault1_processes', '2.4'], ['page_fault1_processes', 'split'], ['page_fault1_threads', 'split']] as const) {
    const k = `${name} ${locks}`;
    const run = (t: VtTuning) => () => point({ cpus: 2, locks, quantum: 0, mem: 64 * MiB }, { name, regionBytes: MiB }, 8, t).then((p) => p.hostS);
    const [poll, sleep] = await alternate(run({}), run({ spinBeforeSleep: 0 }));
    out[k] = { poll, sleep };
    console.log(`${k.padEnd(30)} poll (default) ${secs(poll)}   sleep at once ${secs(sleep)}`);
  }
  return out;
}

/** How many runs of each variant the spin and keepawake sections alternate. */
const AB_REPS = 3;

/** One warm-up run of `a`, then AB_REPS runs of `a` and of `b`, alternately: their results. */
async function alternate(a: () => Promise<number>, b: () => Promise<number>): Promise<[number[], number[]]> {
  await a();
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < AB_REPS; i++) {
    as.push(await a());
    bs.push(await b());
  }
  return [as, bs];
}

/** Host seconds, as the two sections print them. */
const secs = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');

/** page_fault1_processes under split as the speed section runs it (1 MiB region per CPU, 8 loops), on the skylake-2s-112 preset. */
const pf1 = (cpus: number, quantum: number, vtTuning: VtTuning) =>
  point({ cpus, locks: 'split', quantum, mem: Math.max(64, cpus * 3) * MiB }, { name: 'page_fault1_processes', regionBytes: MiB }, 8, vtTuning);

async function keepawake(): Promise<unknown> {
  console.log(`\n## keeping the host's cores awake (sim/keepawake.ts): page_fault1_processes, split, quantum 0, host s per run (${AB_REPS} alternate runs each, after one warm-up run)`);
  const out: Record<number, { awake: number[]; halting: number[]; ratio: number }> = {};
  for (const cpus of [4, 16, 64]) {
    const run = (keepAwake: boolean) => () => pf1(cpus, 0, { keepAwake }).then((p) => p.hostS);
    const [awake, halting] = await alternate(run(true), run(false));
    const r = { awake, halting, ratio: median(halting) / median(awake) };
    out[cpus] = r;
    console.log(`${String(cpus).padStart(3)} CPUs  kept awake (default) ${secs(awake)}   without ${secs(halting)}   median without / with ${r.ratio.toFixed(2)}x`);
  }
  return out;
}

/**
 * Where the host time in turn per fault grows with the CPU count: page_fault1
 * as the speed section's warm quantum-1000 stamped row, from 1 to 64 CPUs,
 * after two warm-up runs at 64 (every worker of the pool has compiled the
 * fault path): the median of TURNCOST_REPS runs of each.
 */
const TURNCOST_REPS = 3;

async function turncost(): Promise<unknown> {
  console.log(`\n## host time in turn by CPU count: page_fault1_processes, split, skylake-2s-112, quantum ${Q_1US}, stamped, warm workers (median of ${TURNCOST_REPS} runs)`);
  console.log('µs per fault in turn = conductor scans + the rest (simulated work, the lock library, the cost table); µs per turn: in turn less conductor, per turn');
  console.log('cpus  hand-overs/fault  turns/fault  in turn µs/fault  conductor µs/fault  rest µs/fault  rest µs/turn  faults/host-s');
  const tuning: VtTuning = { strictReleases: false, spinBeforeSleep: 0, hostProfile: true };
  for (let i = 0; i < 2; i++) await pf1(64, Q_1US, tuning);
  const out = [];
  for (const cpus of [1, 2, 4, 8, 16, 32, 64]) {
    const ps: Point[] = [];
    for (let i = 0; i < TURNCOST_REPS; i++) ps.push(await pf1(cpus, Q_1US, tuning));
    const per = (g: (p: Point) => number) => median(ps.map(g));
    const row = {
      cpus,
      handoffsPerFault: per((p) => p.handoffs / p.units),
      turnsPerFault: per((p) => p.vtHost!.turns / p.units),
      turnUs: per((p) => (p.vtHost!.turnMs * 1000) / p.units),
      conductorUs: per((p) => (p.vtHost!.conductorMs * 1000) / p.units),
      restUs: per((p) => ((p.vtHost!.turnMs - p.vtHost!.conductorMs) * 1000) / p.units),
      restUsPerTurn: per((p) => ((p.vtHost!.turnMs - p.vtHost!.conductorMs) * 1000) / p.vtHost!.turns),
      faultsPerHostS: per((p) => p.units / p.hostS),
    };
    out.push(row);
    console.log(
      `${String(cpus).padStart(4)}  ${row.handoffsPerFault.toFixed(3).padStart(16)}  ${row.turnsPerFault.toFixed(3).padStart(11)}  ${row.turnUs.toFixed(2).padStart(16)}  ${row.conductorUs.toFixed(2).padStart(18)}  ${row.restUs.toFixed(2).padStart(13)}  ${row.restUsPerTurn.toFixed(1).padStart(12)}  ${fmtRate(row.faultsPerHostS).padStart(13)}`,
    );
  }
  return out;
}

async function zone(): Promise<unknown> {
  // spinlocks are MCS: his 2018 kernels had qspinlock (MCS-based, since 4.2), not ticket locks
  console.log("\n## zone->lock: page_fault1_processes, split (MCS spinlocks, as qspinlock), 112 CPUs, skylake-2s-112, without and with Aaron Lu's free_pcppages_bulk change");
  const out: Record<string, unknown> = {};
  for (const prepick of [false, true]) {
    const p = await point({ cpus: 112, locks: 'split', lockImpl: 'mcs', mem: 512 * MiB, pcpPrepick: prepick, holdTime: true }, { name: 'page_fault1_processes', regionBytes: MiB }, 6);
    const rows = [...p.res.lockStat].sort((a, b) => b['waittime-total'] - a['waittime-total']);
    const top = rows[0]!;
    const next = rows[1]!;
    const cpuUs = 112 * p.res.durationMs * 1000;
    const share = (top['waittime-total'] / cpuUs) * 100;
    const nextShare = (next['waittime-total'] / cpuUs) * 100;
    out[prepick ? 'prepick' : 'baseline'] = { faultsPerVirtualSec: p.perVirtualSec, top: top['class name'], waitSharePct: share, contentions: top.contentions, acquisitions: top.acquisitions, next: next['class name'], nextWaitSharePct: nextShare, hostS: p.hostS };
    console.log(
      `${(prepick ? 'pcpPrepick' : 'baseline').padEnd(11)} ${fmtRate(p.perVirtualSec).padStart(8)} faults/s  top contended: ${top['class name']} (${share.toFixed(1)}% of CPU time waiting, ${top.contentions}/${top.acquisitions} contended), next ${next['class name']} (${nextShare.toFixed(1)}%)  host ${p.hostS.toFixed(1)} s`,
    );
  }
  const b = out.baseline as { faultsPerVirtualSec: number };
  const a = out.prepick as { faultsPerVirtualSec: number };
  console.log(`prepick / baseline: ${(a.faultsPerVirtualSec / b.faultsPerVirtualSec).toFixed(3)}x`);
  return out;
}

/** A host page_fault1 point after calibrate's warm-up; with 2+ CPUs, the line round trip just before and just after it. */
async function hostPoint(config: Record<string, unknown>, spec: { name: string; [k: string]: unknown }) {
  const cpus = config.cpus as number;
  const rttBefore = cpus > 1 ? await lineRoundTripNs() : null;
  const idle = new IdleSampler();
  idle.mark();
  const rate = await hostRate({ config, spec, pool: pool(Math.max(3, ...pools.keys())) });
  idle.mark();
  const rttAfter = cpus > 1 ? await lineRoundTripNs() : null;
  return { rate, idlePct: idle.pct(), stealPct: idle.stealPct(), rttBefore, rttAfter };
}

/**
 * Attempts at a 2-CPU host point whose round trip held still (within
 * ROUND_TRIP_DRIFT from before to after) and was a round trip at all: above
 * SLICED_NS the two probe threads were taking turns on one core.
 */
const HOST_ATTEMPTS = 3;
const ROUND_TRIP_DRIFT = 1.5;
const SLICED_NS = 5000;
type HostPoint = Awaited<ReturnType<typeof hostPoint>>;
const drift = (p: HostPoint) => (p.rttBefore && p.rttAfter ? Math.max(p.rttBefore, p.rttAfter) / Math.min(p.rttBefore, p.rttAfter) : 1);
const sliced = (p: HostPoint) => Math.max(p.rttBefore ?? 0, p.rttAfter ?? 0) > SLICED_NS;
const unsteady = (p: HostPoint) => drift(p) > ROUND_TRIP_DRIFT || sliced(p);

/**
 * Validation against the host: the host table calibrated now (sim/calibrate.ts),
 * then page_fault1 processes and threads under each lock scheme at 1 and 2
 * CPUs on both clocks; virtual / host faults per second, with the host's line
 * round trip and idle time beside them.
 */
/**
 * Passes over the validation rows (VALIDATE_REPS=N; odd, for a median):
 * more passes, less of the host's drift in the medians. 5: the first run
 * with every row within its target (2026-12-08 02:25) took 5; with 3, two
 * 2-CPU rows were out in each of the three runs before it.
 */
const VALIDATE_REPS = Number(process.env.VALIDATE_REPS ?? 5);
/** Issue 17's validation targets: |normalised - 1| within this at this many CPUs. */
const VALIDATE_TARGETS = [
  { cpus: 1, within: 0.15 },
  { cpus: 2, within: 0.2 },
];

async function validate(): Promise<unknown> {
  if (!Number.isInteger(VALIDATE_REPS) || VALIDATE_REPS < 1 || VALIDATE_REPS % 2 === 0) throw new Error(`VALIDATE_REPS: an odd number of passes, got ${process.env.VALIDATE_REPS}`);
  console.log('\n## validation: page_fault1 on both clocks at 1 and 2 CPUs, the host table calibrated in this run');
  // and the 2-CPU rows' second table: the fits for a CPU whose sibling runs a copy of the run (sim/calibrate.ts, co-run)
  const cal = await calibrate((s) => console.log(`calibrate: ${s}`), { corun: true });
  const table = checkCostTable(cal.table, 'host');
  console.log(`host line round trip at calibration ${cal.roundTripNs === null ? 'not measured' : `${cal.roundTripNs.toFixed(0)} ns`}`);
  console.log(`this VM's speed moves by up to 40% from one minute to the next; so each row's host run has a reference run just before it`);
  console.log(`(page_fault1_processes under split on 1 CPU: calibrate's fit) and is read as host/reference; the row is the median of ${VALIDATE_REPS}`);
  console.log(`such pairs, one in each of ${VALIDATE_REPS} passes over the rows. virtual/host is the raw ratio; "normalised" divides the model's`);
  console.log('row/reference by the host\'s: the model against the host with the host\'s drift taken out');
  console.log('2-CPU rows: lines priced at half the round trip measured around that (median) host run (mean of before and after)');
  console.log('virtual runs at quantum 0 (strict discrete-event order: the model itself, not the quantum\'s approximation of it)');
  console.log('co-run: the 2-CPU rows again with the host-corun table (calibrate --corun: fault_walk and syscall_entry fitted for a CPU whose sibling core runs a copy of the run)');
  console.log('steal %: the hypervisor\'s steal time during the (median) host run (/proc/stat; a descheduled vCPU stalls its lock holder)');
  console.log('locks  mode        cpus  host faults/s  reference  host/ref range  idle %  steal %  round trip ns (before/after)  virtual faults/s  virtual/host  normalised  co-run: virtual faults/s  virtual/host  normalised');
  const rows = (['bkl', '2.4', 'split'] as const).flatMap((locks) =>
    (['processes', 'threads'] as const).flatMap((mode) =>
      [1, 2].map((cpus) => ({ locks, mode, cpus, spec: { name: `page_fault1_${mode}`, regionBytes: MiB }, config: { cpus, locks, mem: 64 * MiB, swap: 0, populate: true }, hs: [] as (HostPoint & { ref: number })[] })),
    ),
  );
  const refSpec = { name: 'page_fault1_processes', regionBytes: MiB };
  const refConfig = { cpus: 1, locks: 'split', mem: 64 * MiB, swap: 0, populate: true };
  for (let r = 0; r < VALIDATE_REPS; r++) {
    for (const row of rows) {
      const ref = await hostPoint(refConfig, refSpec);
      let h = await hostPoint(row.config, row.spec);
      for (let a = 1; a < HOST_ATTEMPTS && unsteady(h); a++) h = await hostPoint(row.config, row.spec);
      row.hs.push({ ...h, ref: ref.rate });
    }
  }
  const vRef = (await point({ ...refConfig, cost: table, quantum: 0 }, refSpec, 16)).perVirtualSec;
  const out: { cpus: number; normalised: number; corun: { normalised: number } | null; [field: string]: unknown }[] = [];
  for (const { locks, mode, cpus, spec, config, hs } of rows) {
    hs.sort((a, b) => a.rate / a.ref - b.rate / b.ref);
    const h = hs[VALIDATE_REPS >> 1]!;
    const rel = h.rate / h.ref;
    const rtt = h.rttBefore && h.rttAfter ? (h.rttBefore + h.rttAfter) / 2 : null;
    const rowTable = (t: Calibration['table']) => checkCostTable(rtt === null ? t : withRoundTrip(t, rtt), t.name);
    const v = await point({ ...config, cost: rowTable(cal.table), quantum: 0 }, spec, 16);
    const normalised = v.perVirtualSec / vRef / rel;
    const vc = cpus > 1 && cal.corunTable ? (await point({ ...config, cost: rowTable(cal.corunTable), quantum: 0 }, spec, 16)).perVirtualSec : null;
    const corun = vc === null ? null : { virtualRate: vc, ratio: vc / h.rate, normalised: vc / vRef / rel };
    const row = { locks, mode, cpus, hostRate: h.rate, referenceRate: h.ref, hostRelative: hs.map((x) => x.rate / x.ref), idlePct: h.idlePct, stealPct: h.stealPct, rttBefore: h.rttBefore, rttAfter: h.rttAfter, roundTripDrift: drift(h), timeSliced: sliced(h), virtualRate: v.perVirtualSec, virtualReferenceRate: vRef, ratio: v.perVirtualSec / h.rate, normalised, corun };
    out.push(row);
    const rttCol = h.rttBefore && h.rttAfter ? `${h.rttBefore.toFixed(0)}/${h.rttAfter.toFixed(0)}${sliced(h) ? ' time-sliced' : drift(h) > ROUND_TRIP_DRIFT ? ' moved' : ''}` : '-';
    const range = `${(hs[0]!.rate / hs[0]!.ref).toFixed(2)}-${(hs[VALIDATE_REPS - 1]!.rate / hs[VALIDATE_REPS - 1]!.ref).toFixed(2)}`;
    console.log(`${locks.padEnd(6)} ${mode.padEnd(10)} ${String(cpus).padStart(4)}  ${fmtRate(h.rate).padStart(13)}  ${fmtRate(h.ref).padStart(9)}  ${range.padStart(14)}  ${(row.idlePct ?? NaN).toFixed(1).padStart(6)}  ${(row.stealPct ?? NaN).toFixed(1).padStart(7)}  ${rttCol.padStart(28)}  ${fmtRate(v.perVirtualSec).padStart(16)}  ${row.ratio.toFixed(2).padStart(12)}  ${normalised.toFixed(2).padStart(10)}  ${corun ? `${fmtRate(corun.virtualRate).padStart(24)}  ${corun.ratio.toFixed(2).padStart(12)}  ${corun.normalised.toFixed(2).padStart(10)}` : `${'-'.padStart(24)}  ${'-'.padStart(12)}  ${'-'.padStart(10)}`}`);
  }
  console.log(`virtual reference (page_fault1_processes, split, 1 CPU): ${fmtRate(vRef)} faults/s`);
  // the issue's targets, on the normalised ratio: within 15% at 1 CPU, 20% at 2
  const targets = VALIDATE_TARGETS.map(({ cpus, within }) => {
    const rs = out.filter((r) => r.cpus === cpus);
    const count = (g: (r: (typeof out)[number]) => number | undefined) => rs.filter((r) => { const v = g(r); return v !== undefined && Math.abs(v - 1) <= within; }).length;
    return { cpus, within, rows: rs.length, alone: count((r) => r.normalised), corun: cpus > 1 && cal.corunTable ? count((r) => r.corun?.normalised) : null };
  });
  for (const t of targets) console.log(`${t.cpus} CPU${t.cpus > 1 ? 's' : ''}: ${t.alone} of ${t.rows} rows within ${t.within * 100}% (normalised)${t.corun === null ? '' : `; with the co-run table ${t.corun} of ${t.rows}`}`);
  return { roundTripNs: cal.roundTripNs, table: cal.table, corunTable: cal.corunTable, rows: out, targets };
}

const SECTIONS: Record<string, () => Promise<unknown>> = { collapse, quantum, speed, spin, keepawake, turncost, zone, validate };

export async function main(sections = Object.keys(SECTIONS)): Promise<void> {
  const out: Record<string, unknown> = { date: new Date().toISOString() };
  for (const s of sections) {
    const f = SECTIONS[s];
    if (!f) throw new Error(`unknown section ${s}; known: ${Object.keys(SECTIONS).join(', ')}`);
    out[s] = await f();
  }
  for (const p of pools.values()) await p.destroy();
  writeResult('results/bench/vclock.json', out);
  console.log('\nresults/bench/vclock.json');
}

if (isMain(import.meta.url)) await main(process.argv[2]?.split(','));
