/*
 * cli/replay_machine.ts — `smpvm replay --cpus N`: the traces on N CPUs of
 * one machine (workload/tracewl.ts), with kswapd, under the machine policy
 * cli/replay.ts chose (see its header for what is measured). Loaded only
 * when --cpus > 1, so a one-CPU replay starts without the simulator's
 * modules. The machine's own locking rules apply (sim/run.ts); this file
 * only stages the traces and reads vmstat after the run.
 */
import type { PageTrace } from '../reclaim/page_trace.js';
import { densify, type ReplayPolicy } from '../reclaim/replay/index.js';
import { runMachine } from '../sim/run.js';
import { totalVmstat, cpuVmstat, TOOL, RESULTS_VERSION } from '../sim/results.js';
import { refault_report, type RefaultReport } from '../reclaim/workingset.js';
import { format_refaults } from '../reclaim/nonresident.js';
import { stageTraces, unstageTraces, traceSteps, TRACE_MAX_PAGES, type TraceSlice } from '../workload/tracewl.js';
import type { PolicyName } from '../config.js';
import { CliError, EXIT_FAIL, type Io } from './io.js';
import { textTable } from '../report/table.js';
import type { ReplayFlags } from './replay.js';

const PAGE = 4096;

/** One memory size of a machine replay. */
export interface MachineReplaySize {
  pages: number;
  refs: number;
  /** major faults + first touches */
  misses: number;
  missRatio: number;
  /** vmstat: major faults (swap-ins a fault waited for), pages read from swap */
  pgmajfault: number;
  pswpin: number;
  pswpout: number;
  /** vmstat workingset_refault_anon: swap-ins found in the nonresident table */
  refaults: number;
  /** vmstat workingset_activate_anon */
  activations: number;
  durationMs: number;
  perCpu: { cpu: number; trace: string; refs: number; pgmajfault: number; refaults: number }[];
  refaultHistogram: RefaultReport;
  checker: { ok: boolean; violations: string[] };
  oracle: { ok: boolean; failures: string[]; checks: number };
}

export interface MachineReplayResult {
  version: number;
  kind: 'replay';
  mode: 'machine';
  tool: string;
  date: string;
  policy: ReplayPolicy;
  machinePolicy: PolicyName;
  refaultActivation: boolean;
  cpus: number;
  traces: { name: string; refs: number; distinctPages: number; writes: number }[];
  sizes: MachineReplaySize[];
}

const writes = (t: PageTrace) => {
  let n = 0;
  for (let i = 0; i < t.length; i++) n += t.ops[i] !== 0 ? 1 : 0;
  return n;
};

/* ---- N CPUs: the machine ---- */

/** Split the traces into one slice per CPU, each in its own dense ids. */
function slicesFor(traces: PageTrace[], cpus: number): TraceSlice[] {
  const pieces: { name: string; keys: Float64Array; ops: Uint8Array }[] = [];
  if (traces.length === cpus) {
    for (const t of traces) pieces.push({ name: t.name, keys: t.keys.subarray(0, t.length), ops: t.ops.subarray(0, t.length) });
  } else {
    const t = traces[0]!;
    for (let c = 0; c < cpus; c++) {
      const a = Math.floor((t.length * c) / cpus);
      const b = Math.floor((t.length * (c + 1)) / cpus);
      pieces.push({ name: `${t.name}[${a}..${b})`, keys: t.keys.subarray(a, b), ops: t.ops.subarray(a, b) });
    }
  }
  return pieces.map((p) => {
    const d = densify(p.keys, p.keys.length);
    if (d.nIds > TRACE_MAX_PAGES) throw new CliError(`${p.name}: ${d.nIds} distinct pages do not fit one simulated process (at most ${TRACE_MAX_PAGES})`);
    return { name: p.name, ids: d.ids, ops: p.ops, nIds: d.nIds };
  });
}

export async function machineReplay(
  traces: PageTrace[],
  policy: ReplayPolicy,
  machinePolicy: PolicyName,
  sizes: number[],
  cpus: number,
  o: ReplayFlags,
): Promise<MachineReplayResult> {
  const slices = slicesFor(traces, cpus);
  const distinct = slices.reduce((s, x) => s + x.nIds, 0);
  // swap holds every page at once, plus the header slot and slack for swap-cache copies
  const swapPages = distinct + Math.ceil(distinct / 8) + 1024;
  const out: MachineReplaySize[] = [];
  const steps = traceSteps(slices);
  for (const pages of sizes) {
    const key = stageTraces(slices);
    try {
      const r = await runMachine({
        config: {
          mem: pages * PAGE,
          swap: swapPages * PAGE,
          cpus,
          policy: machinePolicy,
          refaultActivation: o.refaultActivation,
          rmap: o.rmap,
          pageCluster: 0,
          swapIoUs: 0,
          seed: o.seed,
          maxMm: Math.max(16, cpus + 4),
        },
        spec: { name: 'trace', traceKey: key },
        opsPerCpu: steps,
      });
      const v = totalVmstat(r.m);
      const failures = r.perCpu.flatMap((c) => c.failures);
      if (r.error) throw new CliError(`${pages} pages: cpu ${r.error.cpu} failed in ${r.error.op}: ${r.error.message.split('\n')[0]}`, EXIT_FAIL);
      const done = r.perCpu.reduce((s, c) => s + c.units, 0);
      const misses = v.pgmajfault + distinct;
      out.push({
        pages,
        refs: done,
        misses,
        missRatio: done > 0 ? misses / done : 0,
        pgmajfault: v.pgmajfault,
        pswpin: v.pswpin,
        pswpout: v.pswpout,
        refaults: v.workingset_refault_anon,
        activations: v.workingset_activate_anon,
        durationMs: r.durationMs,
        perCpu: r.perCpu.map((c) => {
          const cv = cpuVmstat(r.m, c.cpu);
          return { cpu: c.cpu, trace: slices[c.cpu]!.name, refs: c.units, pgmajfault: cv.pgmajfault, refaults: cv.workingset_refault_anon };
        }),
        refaultHistogram: refault_report(r.m),
        checker: { ok: r.checker.violations.length === 0, violations: r.checker.violations },
        oracle: { ok: failures.length === 0, failures, checks: r.perCpu.reduce((s, c) => s + (c.extra.oracleChecks ?? 0), 0) },
      });
    } finally {
      unstageTraces(key);
    }
  }
  return {
    version: RESULTS_VERSION,
    kind: 'replay',
    mode: 'machine',
    tool: TOOL,
    date: new Date().toISOString(),
    policy,
    machinePolicy,
    refaultActivation: o.refaultActivation,
    cpus,
    traces: traces.map((t) => ({ name: t.name, refs: t.length, distinctPages: densify(t.keys, t.length).nIds, writes: writes(t) })),
    sizes: out,
  };
}

export function printMachineReplay(io: Io, r: MachineReplayResult, sliced: boolean): void {
  const what = sliced ? `${r.traces[0]!.name} in ${r.cpus} slices` : r.traces.map((t) => t.name).join(', ');
  io.out(
    `replay ${what}: ${r.traces.reduce((s, t) => s + t.refs, 0)} references on ${r.cpus} CPUs of one machine; policy ${r.policy} (machine policy ${r.machinePolicy}${r.refaultActivation ? ', refaultActivation' : ''}), with kswapd\n`,
  );
  const rows = r.sizes.map((s) => [s.pages, s.refs, s.misses, s.missRatio.toFixed(4), s.pgmajfault, s.pswpin, s.refaults, s.activations]);
  io.out(textTable(['pages', 'refs', 'misses', 'miss ratio', 'majfault', 'pswpin', 'refaults', 'activated'], rows) + '\n');
  for (const s of r.sizes) {
    io.out(`\n# ${s.pages} pages: per CPU\n`);
    for (const c of s.perCpu) io.out(`cpu ${c.cpu}  ${c.trace}  refs ${c.refs}  majfault ${c.pgmajfault}  refaults ${c.refaults}\n`);
    if (s.refaultHistogram.lookups > 0) {
      io.out(`# ${s.pages} pages: /proc/refaults\n`);
      io.out(format_refaults(s.refaultHistogram.rows) + '\n');
    }
  }
}

