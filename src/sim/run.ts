/*
 * run.ts — the run orchestrator (DESIGN.md §5): build the machine, set the
 * workload up, start one piscina task per simulated CPU, release them
 * together from the barrier, stop them on the flag (duration) or let them
 * finish their op budget, optionally stop the world at checkpoints to run the
 * invariant checker, and collect one results object.
 *
 * kswapd runs as one more piscina task on CPU slot cfg.cpus (layout
 * kswapdCpu), from the same barrier; it counts in H_RUNNING like a CPU (so
 * checkpoints wait for it to park) and leaves once every workload CPU is done
 * or the stop flag is up (reclaim/kswapd.ts). RunOptions.kswapd = false runs
 * without it (direct reclaim only).
 *
 * Workers run one bundled ES module of the worker and everything it
 * imports (scripts/bundle-worker.mjs: dist/workers/cpu.bundle.js, built by
 * `npm run build`; vitest's own bundle of the sources under test, named by
 * SMPVM_WORKER_BUNDLE): a worker starts in ~90 ms of host CPU against ~300
 * ms for the ~215 modules of dist/workers/cpu.js, and ~230-460 ms through
 * tsx. Without a bundle they load dist/workers/cpu.js when this module is
 * compiled, workers/cpu.ts through `--import tsx` under tsx. The start
 * barrier absorbs the skew (TOOLCHAIN.md).
 *
 * Virtual clock (config.clock 'virtual', issue 17): the cost table is
 * resolved before boot; the participating slots (the CPUs, kswapd) are
 * handed to the conductor (timing/conductor.ts vt_init) before the gate
 * opens; the duration is virtual (each CPU stops at it: CpuTask.stopNs), so
 * the orchestrator only waits; stop-the-world checkpoints are not taken (the
 * checker runs at the end). A simulated deadlock is reported with every
 * CPU's state, the word it waits on, and its held locks.
 *
 * A CPU that throws is named in the run's error (the first to set H_ERROR);
 * the machine is then checked as it stands, without the workload's teardown
 * (the thrower may hold locks the teardown would wait for on this thread).
 *
 * No hang: once the stop flag is up (the duration's end, or a CPU's error),
 * every CPU gets STOP_GRACE_MS to stop, and a checkpoint waits as long for
 * the CPUs to park. A CPU that does not — livelocked, or looping on state a
 * planted bug corrupted — is named in the run's error (op `stop`), its
 * threads are terminated (pool.destroy, the caller's pool too: a stuck
 * thread cannot be given back) and the machine is not checked.
 */
import { Piscina } from 'piscina';
import { availableParallelism } from 'node:os';
import { existsSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { bootMachine } from './boot.js';
import { jit_setup } from './jit.js';
import { keep_awake, keepers_cpu_ms, KEEPAWAKE_SUPPORTED } from './keepawake.js';
import { makeCpu, type Cpu } from '../vm/cpu.js';
import type { Machine } from '../machine/machine.js';
import type { Config } from '../config.js';
import { op_of } from '../machine/cpu.js';
import {
  H_BARRIER,
  H_GATE,
  H_STOP,
  H_ERROR,
  H_STW,
  H_STW_PARKED,
  H_RUNNING,
  PC_STATE,
  PC_OPS,
  PC_NVCSW,
  G_KSWAPD,
  K_WAKE,
  globalLine,
  monitorCpu,
  kswapdCpu,
  percpuBase,
} from '../machine/layout.js';
import { workloadByName, parseSpec, isParsedSpec, type WorkloadSpec, type WorkloadSetup } from '../workload/index.js';
import { issueLine } from '../config.js';
import type { CpuResult, CpuTask } from './cpuloop.js';
import { debug_show_held_locks } from '../sync/lockdep.js';
import { check_invariants, type CheckResult } from './checker.js';
import { drain_all_pages } from '../mm/pcp.js';
import { truncate_inode_pages } from '../mm/filemap.js';
import { RmapSampler, rmap_vt_overhead, type RmapOverhead } from './rmap_sample.js';
import { resolveCost, vt_checkpoint_resume, vt_checkpoint_time, VT_CP_READY, vt_init, vt_slot, vt_stats, type HandoffsBy, type VtTuning } from '../timing/index.js';

export interface RunOptions {
  /** machine config (config.ts input) */
  config: Record<string, unknown> | Config;
  spec: WorkloadSpec;
  /** stop after this long (ms) … */
  durationMs?: number;
  /** … or after this many operations per CPU */
  opsPerCpu?: number;
  /** the first warmupMs of the run (virtual under the virtual clock) are not measured: will-it-scale's warm-up */
  warmupMs?: number;
  /** stop-the-world invariant checks during the run */
  checkpoints?: number;
  /** after the run: exit everything, drop caches, and require every frame free */
  checkEmpty?: boolean;
  /** called with (doneFraction) while running, for progress bars */
  onProgress?: (f: number) => void;
  /** run kswapd in a worker of its own (default true) */
  kswapd?: boolean;
  /**
   * A worker pool to run on instead of a fresh one (createRunPool; at least
   * cpus + 1 threads): test matrices reuse one so each run does not pay the
   * worker start-up. The caller destroys it.
   */
  pool?: Piscina;
  /** virtual clock: how the conductor runs on the host (timing/conductor.ts VtTuning; bench/vclock.ts) */
  vtTuning?: VtTuning;
  /**
   * issue 18: CPU 0 runs swapoff once at this run time (ms; virtual ms under
   * the virtual clock) while the other CPUs keep faulting (sim/cpuloop.ts)
   */
  swapoffAtMs?: number;
  /** the hung-task detector's period (default HUNG_MS; 0: off) */
  hungMs?: number;
  /** how long a CPU gets to stop after the stop flag before it is reported stuck (default STOP_GRACE_MS; tests of stuck runs) */
  stopGraceMs?: number;
}

/** A pool of `threads` CPU workers that runMachine can reuse across runs (RunOptions.pool). */
export function createRunPool(threads: number): Piscina {
  const { filename, execArgv } = workerFile();
  return new Piscina({ filename, minThreads: threads, maxThreads: threads, idleTimeout: 60_000, execArgv });
}

export interface RunOutcome {
  m: Machine;
  perCpu: CpuResult[];
  durationMs: number;
  checker: CheckResult;
  checkpoints: { done: number; violations: string[] };
  error?: CpuResult['error'];
  /** kswapd's task result (ops = balance rounds), when it ran */
  kswapd?: CpuResult;
  /** the rmap scheme's metadata, sampled while the CPUs ran (rmap_sample.ts) */
  rmap: RmapOverhead;
  /** process CPU milliseconds (every thread: the CPUs, V8's compiler and GC threads, this one) over the same span */
  cpuMs?: number;
  /** host milliseconds from the gate to the end (durationMs is virtual under the virtual clock) */
  hostMs: number;
  /** virtual clock: turns handed over and parks; cache-line transfers (timing/coherence.ts) and their virtual ns */
  vt?: { handoffs: number; handoffsBy: HandoffsBy; parks: number; lineTransfers: number; lineTransferNs: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `p`, or `fallback` if it has not settled within `ms`. The timer is cleared
 * as soon as `p` settles: a pending STOP_GRACE_MS timer would otherwise keep
 * the process alive 10 s after a run's output is done.
 */
async function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<F>((r) => (timer = setTimeout(() => r(fallback), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The environment variable naming a worker bundle to run instead (vitest.config.ts sets it). */
export const WORKER_BUNDLE_ENV = 'SMPVM_WORKER_BUNDLE';

/**
 * The CPU worker's file and Node flags (also test/run-pool.ts's): the bundle
 * SMPVM_WORKER_BUNDLE names, else the build's bundle when this module is
 * compiled (and the bundle no older than it), else the compiled entry, else
 * the TypeScript source through tsx.
 * It also sets the V8 flag the workers need before any of them starts (jit.ts).
 */
export function workerFile(): { filename: string; execArgv: string[] } {
  jit_setup();
  const env = process.env[WORKER_BUNDLE_ENV];
  if (env) return { filename: pathToFileURL(env).href, execArgv: [] };
  const ts = import.meta.url.endsWith('.ts');
  if (ts) return { filename: new URL('../../workers/cpu.ts', import.meta.url).href, execArgv: ['--import', 'tsx'] };
  // the build's bundle unless it is older than this file (a bare tsc since the last `npm run build`: it would be stale)
  const bundle = new URL('../../workers/cpu.bundle.js', import.meta.url);
  const fresh = existsSync(bundle) && statSync(bundle).mtimeMs >= statSync(new URL(import.meta.url)).mtimeMs;
  return { filename: (fresh ? bundle : new URL('../../workers/cpu.js', import.meta.url)).href, execArgv: [] };
}

/** Wake kswapd's idle sleep (K_WAKE) so it sees the stop / stop-the-world flag or that the CPUs are done. */
function kick_kswapd(m: Machine): void {
  Atomics.notify(m.w, globalLine(m.layout, G_KSWAPD) + K_WAKE);
}

/** The period of the rmap metadata samples (rmap_sample.ts). */
const RMAP_SAMPLE_MS = 20;

/** How long CPUs get to stop after the stop flag, or to park at a checkpoint. */
export const STOP_GRACE_MS = 10_000;

/** Wait until pred holds for word idx (false: failFast said stop, or timeoutMs passed). */
async function waitFor(w: Int32Array, idx: number, pred: (v: number) => boolean, failFast?: () => boolean, timeoutMs = Infinity): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const v = Atomics.load(w, idx);
    if (pred(v)) return true;
    if (failFast?.() || performance.now() > until) return false;
    const r = Atomics.waitAsync(w, idx, v, 20);
    if (r.async) await r.value;
  }
}

/** Stop the world, run the checker on the monitor CPU, restart. A CPU that does not park stops the run. */
async function checkpoint(m: Machine, monitor: Cpu): Promise<string[]> {
  const w = m.w;
  Atomics.store(w, H_STW, 1);
  kick_kswapd(m);
  const parked = await waitFor(w, H_STW_PARKED, (v) => v >= Atomics.load(w, H_RUNNING), undefined, STOP_GRACE_MS);
  const r = parked ? check_invariants(monitor).violations : [`checkpoint: a CPU did not park within ${STOP_GRACE_MS / 1000} s`];
  if (!parked) Atomics.store(w, H_STOP, 1);
  Atomics.store(w, H_STW, 0);
  Atomics.notify(w, H_STW);
  return r;
}

const STUCK = 'stuck' as const;

/**
 * The hung-task detector (khungtaskd, 120 s in the kernel): a run whose CPUs
 * complete no operation and switch no context (PC_NVCSW: an I/O sleep, as
 * khungtaskd reads a task's nvcsw + nivcsw) for this long while nothing has
 * stopped them — a
 * deadlock, or a lock left held by nobody — gets the stop flag, and then the
 * stuck-CPU report with every CPU's held locks (host clock; the virtual
 * clock's conductor reports a deadlock instead). Without it such a run of an
 * operation budget waited for ever (in a test, until its timeout, and the
 * pool's stuck threads then starved every later run of the file).
 */
export const HUNG_MS = 60_000;

/** The CPUs' progress so far: completed operations and sleeps (PC_OPS, PC_NVCSW: low 31 bits; a change is all that matters). */
function progress(w: Int32Array, m: Machine, n: number): number {
  let s = 0;
  for (let c = 0; c < n; c++) {
    const pc = percpuBase(m.layout, c);
    s += Atomics.load(w, pc + PC_OPS) + Atomics.load(w, pc + PC_NVCSW);
  }
  return s;
}

/**
 * The CPUs' results; null if the stop flag went up and some CPU did not stop
 * within graceMs (STOP_GRACE_MS unless the run says). `hung.at` is set (performance.now()) if the
 * hung-task detector raised the flag after `hung.ms` without an operation.
 */
async function collect(m: Machine, n: number, all: Promise<CpuResult[]>, tick: () => void, hung: { at: number; ms: number }, graceMs: number): Promise<CpuResult[] | null> {
  const w = m.w;
  let res: CpuResult[] | null = null;
  void all.then((r) => (res = r));
  let stopAt = -1;
  let ops = -1;
  let opsAt = performance.now();
  for (;;) {
    await Promise.race([all, sleep(RMAP_SAMPLE_MS)]);
    if (res !== null) return res;
    tick();
    if (Atomics.load(w, H_RUNNING) <= 1) kick_kswapd(m); // the CPUs are done: kswapd may leave
    if (Atomics.load(w, H_STOP) === 0) {
      const now = performance.now();
      const o = progress(w, m, n);
      if (o !== ops) {
        ops = o;
        opsAt = now;
      } else if (now - opsAt > hung.ms) {
        hung.at = now;
        Atomics.store(w, H_STOP, 1);
      }
      continue;
    }
    kick_kswapd(m);
    if (stopAt < 0) stopAt = performance.now();
    else if (performance.now() - stopAt > graceMs) return null;
  }
}

/** Polls of its turn word a waiting CPU's thread makes before it sleeps, when every CPU can have a host core (vtTuningFor). */
export const VT_SPIN_POLLS = 20_000;

/**
 * The virtual clock's host-side tuning (nothing simulated depends on it):
 * with no more CPUs than host cores, a CPU that hands the turn over polls
 * its turn word for VT_SPIN_POLLS before it sleeps, so the next hand-over to
 * it is a store it sees at once instead of a futex wake-up of a sleeping
 * thread (20–40 µs on this VM): a 2-CPU page_fault1 run at quantum 0 takes
 * 0.04–0.19 host s against 0.35–0.81 asleep (bench/vclock.ts spin). With more CPUs the pollers
 * would take cores from the turn's holder: at 4 and 8 CPUs polling made the
 * same runs 3–7× slower, so they sleep at once, and the host's cores are
 * kept awake instead (keepawake.ts), so that the wake-ups do not also wake
 * a halted core.
 */
export const vtTuningFor = (t: VtTuning | undefined, cpus: number): VtTuning => {
  const fits = cpus <= availableParallelism();
  return { spinBeforeSleep: fits ? VT_SPIN_POLLS : 0, keepAwake: !fits && KEEPAWAKE_SUPPORTED, ...t };
};

export async function runMachine(opts: RunOptions): Promise<RunOutcome> {
  const m = bootMachine(resolveCost(opts.config));
  const virtual = m.cfg.clock === 'virtual';
  const stopNs = virtual && opts.durationMs !== undefined ? opts.durationMs * 1e6 : undefined;
  const w = m.w;
  const n = m.cfg.cpus;
  const wl = workloadByName(opts.spec.name);
  if (!wl) throw new Error(`unknown workload '${opts.spec.name}'`);
  // the spec is parsed once, here or by the CLI's plan; workers get it parsed
  let spec = opts.spec;
  if (!isParsedSpec(spec)) {
    const { name: _, ...fields } = spec;
    const r = parseSpec(wl, fields, m.cfg);
    if (!r.ok) throw new Error(issueLine(r.error, (p) => `spec.${p.join('.')}`));
    spec = r.spec;
  }
  const monitor = makeCpu(m, monitorCpu(m.layout));
  const setup: WorkloadSetup = wl.setup(monitor, spec, n);
  const { filename, execArgv } = workerFile();
  const nk = opts.kswapd === false ? 0 : 1;
  const vtTuning = virtual ? vtTuningFor(opts.vtTuning, n) : undefined;
  const pool = opts.pool ?? new Piscina({ filename, minThreads: n + nk, maxThreads: n + nk, idleTimeout: 1000, execArgv });
  if (opts.pool && opts.pool.options.maxThreads < n + nk) throw new Error(`runMachine: the pool has ${opts.pool.options.maxThreads} threads, the run needs ${n + nk}`);
  Atomics.store(w, H_RUNNING, n + nk);
  const tasks: Promise<CpuResult>[] = [];
  for (let c = 0; c < n; c++) {
    const t: CpuTask = { sab: m.sab, cpu: c, spec, setup, opsBudget: opts.opsPerCpu ?? 0, warmupMs: opts.warmupMs ?? 0, stopNs, vtTuning };
    if (c === 0 && opts.swapoffAtMs !== undefined) t.swapoffAtMs = opts.swapoffAtMs;
    tasks.push(pool.run(t));
  }
  // each CPU's result as soon as it has one: a CPU that threw while holding a lock leaves the
  // others stuck, and then its error (not theirs) is the one to report
  const settled: CpuResult[] = [];
  for (const t of tasks) void t.then((r) => void settled.push(r), () => undefined);
  let crashed: unknown;
  const all = Promise.all(tasks).catch((e) => {
    crashed = e;
    Atomics.store(w, H_STOP, 1);
    return [] as CpuResult[];
  });
  const kswapdDone: Promise<CpuResult | undefined> = nk
    ? (
        pool.run({ sab: m.sab, cpu: kswapdCpu(m.layout), spec, setup, opsBudget: 0, kswapd: true, vtTuning } satisfies CpuTask) as Promise<CpuResult>
      ).catch(
        (e) => {
          crashed = e;
          Atomics.store(w, H_STOP, 1);
          return undefined;
        },
      )
    : Promise.resolve(undefined);
  await waitFor(w, H_BARRIER, (v) => v >= n + nk, () => crashed !== undefined);
  const vtCheckNs = virtual && m.cfg.checkpointUs > 0 ? m.cfg.checkpointUs * 1000 : Infinity;
  if (virtual) vt_init(w, m.layout, nk ? [...Array(n).keys(), kswapdCpu(m.layout)] : [...Array(n).keys()], vtCheckNs);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const keep0 = keepers_cpu_ms();
  const cpVio: string[] = [];
  let cpDone = 0;
  const rmap = new RmapSampler(monitor, RMAP_SAMPLE_MS);
  // host clock only: under the virtual clock a lock nobody releases parks every CPU, which the
  // conductor reports as a deadlock; and one operation of a big run can take minutes of host time there
  const hungMs = opts.hungMs ?? HUNG_MS;
  const hung = { at: -1, ms: virtual || hungMs <= 0 ? Infinity : hungMs };
  const graceMs = opts.stopGraceMs ?? STOP_GRACE_MS;
  let collected: CpuResult[] | null;
  // host side: more CPU threads than cores hand turns over through sleeps; keep the cores awake meanwhile (keepawake.ts)
  const awake = vtTuning?.keepAwake ? keep_awake() : undefined;
  try {
    Atomics.store(w, H_GATE, 1);
    Atomics.notify(w, H_GATE);
    // rmap metadata samples count while every CPU runs (the last one is the run's end). This sampler
    // looks at the buffer at host-time moments, so under the virtual clock (whose results must not
    // depend on the host) the CPUs sample at virtual times instead (rmap_vt_sample)
    const tick = () => {
      if (!virtual && Atomics.load(w, H_STOP) === 0 && Atomics.load(w, H_RUNNING) === n + nk) rmap.sample();
    };
    tick(); // what create() built (a fork parent's resident memory) before the first period
    const total = virtual ? 0 : (opts.durationMs ?? 0);
    const nCheck = virtual ? 0 : (opts.checkpoints ?? 0);
    if (total > 0) {
      const slice = total / (nCheck + 1);
      for (let i = 0; i <= nCheck; i++) {
        const end = t0 + slice * (i + 1);
        while (performance.now() < end && Atomics.load(w, H_STOP) === 0 && Atomics.load(w, H_RUNNING) > 0) {
          await sleep(Math.min(RMAP_SAMPLE_MS, Math.max(1, end - performance.now())));
          tick();
          opts.onProgress?.((performance.now() - t0) / total);
        }
        if (i < nCheck && Atomics.load(w, H_STOP) === 0 && Atomics.load(w, H_RUNNING) > 0) {
          cpVio.push(...(await checkpoint(m, monitor)));
          cpDone++;
        }
      }
      Atomics.store(w, H_STOP, 1);
    } else if (nCheck > 0) {
      // op-budget run: checkpoints at fixed intervals while CPUs are running
      while (Atomics.load(w, H_RUNNING) > 0 && cpDone < nCheck && Atomics.load(w, H_STOP) === 0) {
        for (let i = 0; i < 100 / RMAP_SAMPLE_MS; i++) {
          await sleep(RMAP_SAMPLE_MS);
          tick();
        }
        if (Atomics.load(w, H_RUNNING) > 0) {
          cpVio.push(...(await checkpoint(m, monitor)));
          cpDone++;
        }
      }
    }
    if (vtCheckNs !== Infinity) {
      // virtual checkpoints: the CPUs stop the world themselves at virtual times (conductor.ts);
      // each time, check it here and give the turn back, until every CPU and kswapd are done
      let finished = false;
      void Promise.all([all, kswapdDone]).then(() => (finished = true));
      const ready = m.layout.vt + VT_CP_READY;
      for (;;) {
        if (Atomics.load(w, ready) === 1) {
          cpVio.push(...check_invariants(monitor).violations.map((v) => `checkpoint at ${vt_checkpoint_time(w, m.layout)} virtual ns: ${v}`));
          cpDone++;
          vt_checkpoint_resume(w, m.layout, vtCheckNs);
          continue;
        }
        if (finished) break;
        // a pending waitAsync does not keep the process alive; the timer does
        const r = Atomics.waitAsync(w, ready, 0, RMAP_SAMPLE_MS);
        if (r.async) await Promise.race([r.value, sleep(RMAP_SAMPLE_MS)]);
      }
    }
    collected = await collect(m, n, all, tick, hung, graceMs);
  } finally {
    awake?.();
  }
  const hungMsg = hung.at < 0 ? '' : `no CPU completed an operation or slept in ${hung.ms / 1000} s (${((hung.at - t0) / 1000).toFixed(1)} s after the gate): the hung-task detector raised the stop flag`;
  Atomics.store(w, H_STOP, 1); // every CPU is done: kswapd leaves too
  kick_kswapd(m);
  const kswapd = collected === null ? undefined : await within(kswapdDone, graceMs, STUCK);
  if (collected === null || kswapd === STUCK) {
    const stuck =
      collected === null ? [...Array(n).keys()].filter((c) => Atomics.load(w, percpuBase(m.layout, c) + PC_STATE) === 1) : [kswapdCpu(m.layout)];
    await pool.destroy(); // terminates the stuck threads (and kswapd's)
    // the hung-task detector's lock dump: what every CPU holds (or waits for, last) right now
    const held = held_locks(m, n);
    const message =
      (hungMsg ? `${hungMsg}, and ` : '') +
      `cpu ${stuck.map((c) => `${c} (in ${op_of(w, m.layout, c, spec.name)})`).join(', ')} did not stop within ${graceMs / 1000} s of the stop flag: a livelock, or a loop on corrupted state` +
      (held.length ? `; held locks (the last may be awaited): ${held.join('; ')}` : '');
    const stats = { free: 0, pagetables: 0, user: 0, cached: 0, mapped: 0, reserved: 0 };
    const first = settled.find((r) => r.error)?.error;
    return {
      m,
      perCpu: [],
      durationMs: performance.now() - t0,
      checker: { ok: false, violations: ['not checked: a CPU was stuck'], stats },
      checkpoints: { done: cpDone, violations: cpVio },
      error: first ? { ...first, message: `${first.message} (and then ${message})` } : { cpu: stuck[0] ?? -1, op: 'stop', message },
      rmap: rmap.r,
      hostMs: performance.now() - t0,
    };
  }
  const perCpu = collected;
  const hostMs = performance.now() - t0;
  const cpuUsed = process.cpuUsage(cpu0);
  const cpuMs = (cpuUsed.user + cpuUsed.system) / 1000 - (keepers_cpu_ms() - keep0);
  // the run lasted from the gate until the slowest CPU stopped working
  const durationMs = perCpu.length ? Math.max(...perCpu.map((r) => r.elapsedMs)) : hostMs;
  if (!opts.pool) await pool.destroy();
  const errCpu = Atomics.load(w, H_ERROR) - 1;
  // the first CPU to fail (H_ERROR) is the one to name: the others may only have been stopped by it
  let error = perCpu.find((r) => r.error && r.cpu === errCpu)?.error ?? perCpu.find((r) => r.error)?.error ?? kswapd?.error;
  const vst = virtual ? vt_stats(w, m.layout) : undefined;
  if (vst?.deadlock) error = { cpu: errCpu, op: 'deadlock', message: deadlock_report(m, opts.spec.name, nk) };
  if (!error && hungMsg) error = { cpu: -1, op: 'hung', message: `${hungMsg}; every CPU then stopped` };
  if (!error && crashed !== undefined) {
    error = { cpu: errCpu, op: 'worker', message: crashed instanceof Error ? crashed.message : String(crashed) };
  }
  let checker: CheckResult;
  // a CPU that threw (or deadlocked) stopped mid-operation: the teardown is not run, and if it
  // still holds locks (lockdep's held stacks) the checker, whose quiesce drains the pagevecs
  // under the LRU lock, would spin on them for ever on this thread: it is not run either
  const heldAfterError = error ? held_locks(m, n) : [];
  try {
    if (heldAfterError.length) throw new Error(`not run: locks are still held after the error (${heldAfterError.join('; ')})`);
    if (!error) wl.teardown(monitor, setup);
    if (opts.checkEmpty && !error) {
      for (const files of setup.files) for (const ino of files) truncate_inode_pages(monitor, ino);
      for (const ino of setup.sharedFiles) truncate_inode_pages(monitor, ino);
      drain_all_pages(monitor);
      checker = check_invariants(monitor, { expectEmpty: true });
    } else {
      checker = check_invariants(monitor);
    }
  } catch (e) {
    // state a bug corrupted can trip the teardown or the checker's own walks: a violation, not a crash
    const stats = { free: 0, pagetables: 0, user: 0, cached: 0, mapped: 0, reserved: 0 };
    checker = { ok: false, violations: [`checker: ${e instanceof Error ? e.message : String(e)}`], stats };
  }
  const vt = vst && { handoffs: vst.handoffs, handoffsBy: vst.handoffsBy, parks: vst.parks, lineTransfers: vst.lineTransfers, lineTransferNs: vst.lineTransferNs };
  const rmapR = virtual ? rmap_vt_overhead(m, rmap.r.scheme) : rmap.r;
  return { m, perCpu, durationMs, checker, checkpoints: { done: cpDone, violations: cpVio }, error, kswapd, rmap: rmapR, hostMs, cpuMs, vt };
}

/** What every CPU slot (and kswapd and the monitor) holds by lockdep's held stacks (the last may be awaited); empty without lockdep. */
function held_locks(m: Machine, n: number): string[] {
  return [...Array(n).keys(), kswapdCpu(m.layout), monitorCpu(m.layout)]
    .map((c) => [c, debug_show_held_locks(m.w, m.layout, c)] as const)
    .filter(([, h]) => h !== '')
    .map(([c, h]) => `cpu ${c}: ${h}`);
}

/**
 * A simulated deadlock (timing/conductor.ts: every CPU left is parked on a
 * word nobody can change): each CPU's state, virtual clock, the word it
 * waits on, and its held locks (lockdep's held stack; the last may be the
 * awaited one).
 */
export function deadlock_report(m: Machine, workload: string, nk: number): string {
  const w = m.w;
  const l = m.layout;
  const slots = [...Array(l.nrCpus).keys(), ...(nk ? [kswapdCpu(l)] : [])];
  const rows = slots.map((c) => {
    const s = vt_slot(w, l, c);
    const held = debug_show_held_locks(w, l, c);
    const until = s.parkedUntilEqual ? `to become ${s.parkedVal}` : `to leave ${s.parkedVal}`;
    const on = s.parkedOn >= 0 ? ` parked since ${s.parkedSinceNs} ns on word ${s.parkedOn} (waiting for it ${until})` : '';
    return `cpu ${c} (${s.state}, in ${op_of(w, l, c, workload)}, at ${s.clockNs} ns)${on}${held ? `; held (the last is awaited): ${held}` : ''}`;
  });
  return `simulated deadlock: every CPU left is parked — ${rows.join('; ')}`;
}

