/*
 * cpuloop.ts — one simulated CPU's life inside its worker thread.
 *
 * attach to the machine → build the CPU context and the workload instance →
 * check in at the start barrier and sleep on the gate (so every CPU starts
 * together, whatever its worker's start-up skew) → run whole operations until
 * the stop flag or the op budget → tear down → report. Between operations a
 * CPU holds no lock, which is where it parks for a stop-the-world checkpoint
 * (H_STW): it counts itself in H_STW_PARKED and sleeps until H_STW clears.
 *
 * Virtual clock (issue 17, timing/conductor.ts): the CPU checks in at the
 * barrier first and sets its workload up in its turn (so set-up allocates in
 * a deterministic order), then waits at the conductor's setup barrier;
 * clocks start at 0 from there. It stops at the run's virtual duration
 * (CpuTask.stopNs) or its op budget, and its elapsedMs is virtual. Between
 * operations it takes the rmap metadata samples when one is due
 * (rmap_sample.ts: every RMAP_SAMPLE_VT_NS of virtual time), and parks
 * for a stop-the-world checkpoint when its clock has reached the next one
 * (config.checkpointUs; timing/conductor.ts vt_checkpoint_*).
 *
 * swapoff under load (issue 18, `--swapoff-at`): the CPU given
 * CpuTask.swapoffAtMs runs sys_swapoff once, between two of its operations,
 * when its clock (host ms since the gate, or virtual ms) reaches it, while
 * the other CPUs keep running their streams; the outcome goes to its extra
 * (swapoffAtMs, swapoffRc: 0 / -12 ENOMEM / -16 EBUSY, swapoffMs,
 * swapoffPages brought back). The area stays off after a success.
 *
 * A throwing operation stops the whole run: the CPU records itself in
 * H_ERROR (first one wins), raises H_STOP and returns the error with its CPU
 * and operation named; the other CPUs stop at their next boundary (under the
 * virtual clock at once: conductor.ts vt_abort wakes every CPU, parked ones
 * too, and each leaves on VtAbort).
 *
 * Per-CPU counters go to the CPU's own padded area: the loop adds no shared
 * hot line (the stop/STW words are only read until someone writes them).
 */
import { attachMachine } from '../machine/machine.js';
import { H_BARRIER, H_GATE, H_STOP, H_ERROR, H_STW, H_STW_PARKED, H_RUNNING, PC_OPS, PC_STATE } from '../machine/layout.js';
import { makeCpu } from '../vm/cpu.js';
import { enter_op, OP_SETUP, OP_WORKLOAD, OP_EXIT, OP_KSWAPD, OP_SWAPOFF } from '../machine/cpu.js';
import { VM } from '../machine/vmstat.js';
import { sys_swapoff } from '../reclaim/swapoff.js';
import { workloadByName, type WorkloadSpec, type WorkloadSetup } from '../workload/index.js';
import { kswapd_run } from '../reclaim/kswapd.js';
import { rmap_vt_sample } from './rmap_sample.js';
import { vt_abort, vt_loop_left, vt_sample_due, vt_checkpoint_due, vt_checkpoint_park, vt_begin, vt_end, vt_setup_done, vt_done, vt_now, charge, vtOn, COST, C_USER_STEP, vt_host_profile, type VtTuning, type VtHostProfile } from '../timing/index.js';

export interface CpuTask {
  sab: SharedArrayBuffer;
  cpu: number;
  spec: WorkloadSpec;
  setup: WorkloadSetup;
  /** operations this CPU runs at most (0 = until the stop flag) */
  opsBudget: number;
  /** the warm-up, ms from the start (virtual under the virtual clock): the result says where it ended (CpuResult.warmup) */
  warmupMs?: number;
  /** this task is kswapd (CPU slot cfg.cpus), not a workload CPU */
  kswapd?: boolean;
  /** virtual clock: stop at this virtual time, ns (the run's duration; Infinity: the op budget decides) */
  stopNs?: number;
  /** virtual clock: how the conductor runs on the host (bench/vclock.ts) */
  vtTuning?: VtTuning;
  /** run sys_swapoff once at this run time, ms (host, or virtual under the virtual clock) */
  swapoffAtMs?: number;
}

export interface CpuResult {
  cpu: number;
  ops: number;
  units: number;
  elapsedMs: number;
  failures: string[];
  extra: Record<string, number>;
  /** where the warm-up ended (CpuTask.warmupMs > 0 and reached): ops, units and elapsedMs at the first step boundary after it */
  warmup?: { ops: number; units: number; elapsedMs: number };
  /** per-step latency histogram (workload/latency.ts), when the workload keeps one */
  latency?: Float64Array;
  /** what one latency sample times (the workload's result().latencyOf) */
  latencyOf?: string;
  /** virtual clock with VtTuning.hostProfile: where this CPU's thread spent host time (timing/conductor.ts) */
  vtHost?: VtHostProfile;
  /** atNs: the CPU's virtual time when it threw (virtual clock) */
  error?: { cpu: number; op: string; message: string; stack?: string; atNs?: number };
}

/** Stop-the-world parking between operations (kswapd parks between balance rounds). */
export function park(w: Int32Array): void {
  Atomics.add(w, H_STW_PARKED, 1);
  Atomics.notify(w, H_STW_PARKED);
  while (Atomics.load(w, H_STW) !== 0) Atomics.wait(w, H_STW, 1, 50);
  Atomics.sub(w, H_STW_PARKED, 1);
  Atomics.notify(w, H_STW_PARKED);
}

export function runCpuTask(t: CpuTask): CpuResult {
  if (t.kswapd) return runKswapdTask(t);
  const m = attachMachine(t.sab);
  const w = m.w;
  const cpu = makeCpu(m, t.cpu);
  const virtual = m.cfg.clock === 'virtual';
  const res: CpuResult = { cpu: t.cpu, ops: 0, units: 0, elapsedMs: 0, failures: [], extra: {} };
  let inst;
  if (virtual) {
    start_barrier(w);
    vt_begin(m, t.cpu, t.vtTuning);
  }
  try {
    const wl = workloadByName(t.spec.name);
    if (!wl) throw new Error(`unknown workload '${t.spec.name}'`);
    enter_op(cpu, OP_SETUP);
    inst = wl.create(cpu, t.spec, t.setup);
  } catch (e) {
    fail(w, res, t.cpu, 'setup', e);
  }
  if (virtual) vt_setup_done();
  else start_barrier(w);
  if (!inst) {
    Atomics.sub(w, H_RUNNING, 1);
    leave(virtual, t, res);
    return res;
  }
  w[cpu.pc + PC_STATE] = 1;
  const t0 = performance.now();
  const stopNs = t.stopNs ?? Infinity;
  let warmupMs = t.warmupMs ?? 0;
  let ops = 0;
  let units = 0;
  let swapoffAt = t.swapoffAtMs ?? Infinity;
  try {
    enter_op(cpu, OP_WORKLOAD, t.spec.name);
    while (Atomics.load(w, H_STOP) === 0 && (t.opsBudget === 0 || ops < t.opsBudget) && vt_now() < stopNs) {
      if (Atomics.load(w, H_STW) !== 0) park(w);
      if (swapoffAt !== Infinity && elapsed(t0, virtual) >= swapoffAt) {
        swapoffAt = Infinity;
        const s0 = elapsed(t0, virtual);
        const p0 = w[cpu.vm + VM.swapoff_pages]!;
        enter_op(cpu, OP_SWAPOFF);
        res.extra.swapoffRc = sys_swapoff(cpu);
        enter_op(cpu, OP_WORKLOAD, t.spec.name);
        res.extra.swapoffAtMs = s0;
        res.extra.swapoffMs = elapsed(t0, virtual) - s0;
        res.extra.swapoffPages = w[cpu.vm + VM.swapoff_pages]! - p0;
      }
      if (vt_sample_due()) rmap_vt_sample(cpu);
      if (vt_checkpoint_due()) vt_checkpoint_park();
      charge(COST[C_USER_STEP]!);
      units += inst.step();
      ops++;
      w[cpu.pc + PC_OPS] = ops;
      if (warmupMs > 0) {
        const now = elapsed(t0, virtual);
        if (now >= warmupMs) {
          res.warmup = { ops, units, elapsedMs: now };
          warmupMs = 0;
        }
      }
    }
    res.elapsedMs = elapsed(t0, virtual);
    vt_loop_left();
    enter_op(cpu, OP_EXIT);
    // this CPU is done: tear its workload down now (other CPUs may still run)
    inst.end();
    const r = inst.result();
    res.failures = r.failures;
    res.extra = { ...res.extra, ...r.extra };
    if (r.latency) res.latency = r.latency;
    if (r.latencyOf) res.latencyOf = r.latencyOf;
  } catch (e) {
    res.elapsedMs = elapsed(t0, virtual);
    fail(w, res, t.cpu, cpu.op, e);
  }
  res.ops = ops;
  res.units = units;
  cpu_done(w, cpu.pc);
  leave(virtual, t, res);
  return res;
}

/** Time since t0 in ms: virtual time under the virtual clock (which starts at 0; also after an abort), else host time. */
const elapsed = (t0: number, virtual: boolean) => (virtual ? vt_now() / 1e6 : performance.now() - t0);

/** Leave the virtual clock: hand the turn on for good (and report the host profile, if asked for). */
function leave(virtual: boolean, t: CpuTask, res: CpuResult): void {
  if (!virtual) return;
  vt_done();
  vt_end();
  if (t.vtTuning?.hostProfile) res.vtHost = vt_host_profile();
}

/**
 * kswapd's life in its worker: the same start barrier as the CPUs, then
 * reclaim/kswapd.ts's loop until the run stops or every workload CPU is done
 * (it counts in H_RUNNING, so checkpoints wait for it to park). ops = balance
 * rounds run.
 */
function runKswapdTask(t: CpuTask): CpuResult {
  const m = attachMachine(t.sab);
  const w = m.w;
  const cpu = makeCpu(m, t.cpu);
  const virtual = m.cfg.clock === 'virtual';
  const res: CpuResult = { cpu: t.cpu, ops: 0, units: 0, elapsedMs: 0, failures: [], extra: {} };
  start_barrier(w);
  if (virtual) {
    vt_begin(m, t.cpu, t.vtTuning);
    vt_setup_done();
  }
  w[cpu.pc + PC_STATE] = 1;
  const t0 = performance.now();
  enter_op(cpu, OP_KSWAPD);
  try {
    res.ops = kswapd_run(cpu, park);
  } catch (e) {
    fail(w, res, t.cpu, cpu.op, e);
  }
  res.elapsedMs = elapsed(t0, virtual);
  cpu_done(w, cpu.pc);
  leave(virtual, t, res);
  return res;
}

/** The start barrier: check in, then wait for the coordinator to open the gate. */
export function start_barrier(w: Int32Array): void {
  Atomics.add(w, H_BARRIER, 1);
  Atomics.notify(w, H_BARRIER);
  while (Atomics.load(w, H_GATE) === 0) Atomics.wait(w, H_GATE, 0, 100);
}

/** A CPU whose per-CPU area starts at `pc` is done: no longer running, so checkpoints stop waiting for it. */
export function cpu_done(w: Int32Array, pc: number): void {
  w[pc + PC_STATE] = 2;
  Atomics.sub(w, H_RUNNING, 1);
  Atomics.notify(w, H_STW_PARKED);
}

/** Record this CPU's error (the first one wins H_ERROR) and stop the run. */
export function fail(w: Int32Array, res: CpuResult, cpu: number, op: string, e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  Atomics.compareExchange(w, H_ERROR, 0, cpu + 1);
  Atomics.store(w, H_STOP, 1);
  res.error = { cpu, op, message: err.message, stack: err.stack };
  if (vtOn) res.error.atNs = vt_now();
  // virtual clock: the CPUs parked on locks this one holds would never be woken; stop them all now
  vt_abort();
}
