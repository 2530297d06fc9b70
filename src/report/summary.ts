/*
 * report/summary.ts — text views of one run's results JSON (sim/results.ts):
 * the summary table (cli-table3), the vmstat dump (/proc/vmstat's
 * `name value` lines), and the checker / oracle / lockdep verdict lines.
 * Pure functions of the results object: no machine access.
 */
import Table from 'cli-table3';
import type { RunResults, Vmstat } from '../sim/results.js';
import { formatLockdepReport } from '../sync/lockdep.js';
import { fmtBytes } from '../config.js';
import { plain } from './table.js';

/** 1234567 → "1,234,567" */
export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

/** A rate with a k / M suffix: 1.23 M */
export function fmtRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

/** cli-table3's colourless style (defined in report/table.ts, which must not load this module's imports). */
export { plain };

/** A stop time in seconds as given (2 s, 0.0015 s): no rounding a virtual-clock microsecond run to 0.00. */
export const fmtSeconds = (ms: number): string => `${+(ms / 1000).toPrecision(6)} s`;

/** One line naming what ran. */
export function runHeadline(r: RunResults): string {
  const c = r.config;
  const stop = r.stop.durationMs !== undefined ? fmtSeconds(r.stop.durationMs) : `${r.stop.opsPerCpu} steps/CPU`;
  const warm = r.stop.warmupMs ? ` (the first ${fmtSeconds(r.stop.warmupMs)} a warm-up)` : '';
  const region = r.workload.regionBytes ? ` region ${fmtSize(Number(r.workload.regionBytes))}` : '';
  return `${r.workload.name} on ${r.cpus} CPU${r.cpus === 1 ? '' : 's'} (host cores ${r.hostCores}): mem ${fmtSize(c.mem)}${region}, rmap ${c.rmap}, locks ${c.locks}/${c.lockImpl}, seed ${c.seed}, ${stop}${warm}`;
}

/** Bytes as a person reads them (config.ts fmtBytes: 64M, 256K, 2.25M). */
export const fmtSize = fmtBytes;

/** The per-CPU summary table plus a total row. */
export function formatSummary(r: RunResults): string {
  const t = new Table({
    head: ['cpu', 'ops', 'loops', 'elapsed ms', 'ops/s', 'pgfault', 'pgalloc', 'pgfree', 'tlb shootdowns'],
    style: plain,
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  });
  for (const c of r.perCpu) {
    t.push([
      String(c.cpu),
      fmtInt(c.ops),
      fmtInt(c.loops),
      c.elapsedMs.toFixed(1),
      fmtRate(c.opsPerSec),
      fmtInt(c.vmstat.pgfault ?? 0),
      fmtInt(c.vmstat.pgalloc_normal ?? 0),
      fmtInt(c.vmstat.pgfree ?? 0),
      fmtInt(c.vmstat.nr_tlb_remote_flush ?? 0),
    ]);
  }
  const sum = (k: string) => r.perCpu.reduce((s, c) => s + (c.vmstat[k] ?? 0), 0);
  t.push([
    'all',
    fmtInt(r.ops),
    fmtInt(r.loops),
    r.durationMs.toFixed(1),
    fmtRate(r.opsPerSec),
    fmtInt(sum('pgfault')),
    fmtInt(sum('pgalloc_normal')),
    fmtInt(sum('pgfree')),
    fmtInt(sum('nr_tlb_remote_flush')),
  ]);
  return t.toString() + '\n';
}

/** The run's warnings (the time-slicing one is in formatEvents), then checker, oracle and lockdep in a few lines. */
export function formatVerdict(r: RunResults): string {
  const lines: string[] = r.warnings.filter((w) => !w.includes('time-sliced'));
  const ck = r.checker;
  lines.push(
    ck.ok
      ? `checker: ok (invariants hold${ck.checkpoints ? `; ${ck.checkpoints} stop-the-world checkpoints` : ''})`
      : `checker: ${ck.violations.length} violation(s); first: ${ck.violations[0]}`,
  );
  const o = r.oracle;
  if (o.checks === null) lines.push(o.ok ? 'oracle: ok (this workload stamps no content)' : `oracle: ${o.failures.length} failure(s); first: ${o.failures[0]}`);
  else lines.push(o.ok ? `oracle: ok (${fmtInt(o.checks)} reads checked)` : `oracle: ${o.failures.length} failure(s) in ${fmtInt(o.checks)} checks; first: ${o.failures[0]}`);
  if (!r.config.lockdep) lines.push('lockdep: off (--lockdep to enable)');
  else if (r.lockdep.count === 0) lines.push('lockdep: no reports');
  else lines.push(formatLockdepReport(r.lockdep).trimEnd());
  if (r.opLatency) {
    const l = r.opLatency;
    lines.push(
      `${l.what} latency (${fmtInt(l.count)} ${l.per}, 3% buckets): p50 ${l.p50.toFixed(1)} us, p90 ${l.p90.toFixed(1)} us, p99 ${l.p99.toFixed(1)} us, max ${l.max.toFixed(1)} us`,
    );
  }
  if (r.latency) {
    const l = r.latency;
    lines.push(
      `fault latency (${fmtInt(l.count)} faults in the trace window): p50 ${l.p50.toFixed(2)} us, p90 ${l.p90.toFixed(2)} us, p99 ${l.p99.toFixed(2)} us, max ${l.max.toFixed(2)} us`,
    );
  }
  return lines.join('\n') + '\n';
}

/** A measured amount of memory, rounded (1536 → "1.5 KiB"); config sizes print exactly with fmtSize. */
export function fmtMemory(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** The rmap overhead line: metadata peak and end, bytes per mapped pte (sim/rmap_sample.ts). */
export function formatRmapOverhead(r: RunResults): string {
  const o = r.rmap;
  if (o.samples === 0) {
    const why = r.config.clock === 'virtual' ? 'the sampler keeps host time, so it is off under the virtual clock' : `the run ended within one ${o.sampleMs} ms period`;
    return `rmap ${o.scheme}: metadata not sampled (${why})\n`;
  }
  const per = (b: number | null) => (b === null ? 'no pte mapped' : `${b.toFixed(2)} bytes/mapped pte`);
  return (
    `rmap ${o.scheme}: metadata peak ${fmtMemory(o.peakBytes!)} (${per(o.bytesPerPtePeak)}, ${fmtInt(o.peakMappedPtes!)} ptes), ` +
    `end ${fmtMemory(o.endBytes!)} (${per(o.bytesPerPteEnd)}); ${o.samples} samples every ${o.sampleMs} ms\n`
  );
}

/**
 * /proc/vmstat: one `name value` line per counter, in the kernel's order;
 * without `all`, only the counters that moved, and a line saying how many
 * zeros were left out (the JSON always has every counter).
 */
export function formatVmstat(v: Vmstat, all = true): string {
  const rows = Object.entries(v).filter(([, n]) => all || n !== 0);
  const hidden = Object.keys(v).length - rows.length;
  return rows.map(([k, n]) => `${k} ${n}\n`).join('') + (hidden ? `(${hidden} counters at 0 not shown; --all shows every counter)\n` : '');
}

const plural = (n: number, one: string, many = `${one}s`) => `${fmtInt(n)} ${n === 1 ? one : many}`;

/**
 * What happened that a reader must not miss, as one line (or ''): OOM
 * kills, SIGSEGVs, SIGBUS and swap I/O errors, and time-slicing of the
 * simulated CPUs on fewer host cores.
 */
export function formatEvents(r: RunResults): string {
  const v = r.vmstat;
  const ev: string[] = [];
  if (v.oom_kill) ev.push(plural(v.oom_kill, 'OOM kill'));
  if (v.segv) ev.push(plural(v.segv, 'SIGSEGV'));
  if (v.sigbus) ev.push(plural(v.sigbus, 'SIGBUS'));
  if (v.swap_read_error) ev.push(plural(v.swap_read_error, 'swap read error'));
  if (v.swap_write_error) ev.push(plural(v.swap_write_error, 'swap write error'));
  const sliced = r.warnings.find((w) => w.includes('time-sliced'));
  if (sliced) ev.push(`time-sliced (${sliced.replace(/^warning: /, '').replace(/: workers are.*$/, '')})`);
  return ev.length ? `events: ${ev.join(', ')}\n` : '';
}
