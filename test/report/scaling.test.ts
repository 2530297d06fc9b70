/*
 * Scaling views (report/scaling.ts) and the text views of one run
 * (report/summary.ts) on hand-made results objects.
 */
import { describe, it, expect } from 'vitest';
import { scaleCsv, scaleChart, SCALE_CSV_COLUMNS } from '../../src/report/scaling.js';
import { formatVmstat, formatSummary, fmtRate, fmtSize } from '../../src/report/summary.js';
import { scaleRatios, timeSliceWarning, type RunResults, type ScaleResults, type ScalePoint } from '../../src/sim/results.js';

function fake(opsPerSec: number, idle: number | null, cpus: number): RunResults {
  return {
    opsPerSec,
    hostIdlePct: idle,
    cpus,
    ops: opsPerSec,
    loops: 1,
    durationMs: 1000,
    perCpu: Array.from({ length: cpus }, (_, cpu) => ({
      cpu,
      ops: opsPerSec / cpus,
      loops: 1,
      elapsedMs: 1000,
      opsPerSec: opsPerSec / cpus,
      vmstat: { pgfault: opsPerSec / cpus, pgalloc_normal: 7, pgfree: 7, nr_tlb_remote_flush: 0 },
    })),
  } as unknown as RunResults;
}

function scale(runs: ScalePoint[]): ScaleResults {
  return { version: 1, kind: 'scale', tool: 't', date: '', workload: 'page_fault1', hostCores: 2, hostLineRoundTripNs: [], cpus: runs.map((r) => r.tasks), runs, ratios: scaleRatios(runs), warnings: [] };
}

describe('scaling CSV and chart', () => {
  const s = scale([
    { tasks: 1, processes: fake(600_000, 48.5, 1), threads: fake(580_000, 49.25, 1) },
    { tasks: 2, processes: fake(1_140_000, 1.125, 2), threads: fake(870_000, 0, 2) },
  ]);

  it("prints runtest.py's columns, then the ratios", () => {
    expect(SCALE_CSV_COLUMNS.slice(0, 6)).toEqual(['tasks', 'processes', 'processes_idle', 'threads', 'threads_idle', 'linear']);
    expect(scaleCsv(s)).toBe(
      'tasks,processes,processes_idle,threads,threads_idle,linear,processes_ratio,threads_ratio\n' +
        '1,600000,48.50,580000,49.25,600000,1.000,1.000\n' +
        '2,1140000,1.13,870000,0.00,1200000,1.900,1.500\n',
    );
  });

  it('leaves the columns of a mode that did not run empty', () => {
    const single = scale([
      { tasks: 1, processes: fake(100, null, 1) },
      { tasks: 4, processes: fake(300, null, 4) },
    ]);
    expect(scaleCsv(single).split('\n')[2]).toBe('4,300,,,,400,3.000,');
  });

  it('draws a chart with every series named at its end and the CPU counts on the x axis', () => {
    const c = scaleChart(s, { color: false, width: 30, height: 8 });
    const lines = c.trimEnd().split('\n');
    expect(c).toContain('processes');
    expect(c).toContain('threads');
    expect(c).toContain('linear');
    expect(lines[lines.length - 1]).toMatch(/^\s+1\s+2\s+\(CPUs\)$/);
    expect(c).toContain('1.26 M/s'); // the top label: linear 1.2 M × 1.05
    expect(c).not.toMatch(/\x1b\[/); // no colour when not on a terminal
  });
});

describe('run text views', () => {
  it('dumps vmstat as name value lines in order', () => {
    expect(formatVmstat({ pgfault: 3, pgmajfault: 0 })).toBe('pgfault 3\npgmajfault 0\n');
  });

  it('summarises per CPU with a total row', () => {
    const t = formatSummary(fake(2000, null, 2));
    expect(t).toMatch(/│ 0\s+│\s+1,000 │/);
    expect(t).toMatch(/│ all\s+│\s+2,000 │/);
  });

  it('formats rates, sizes and the time-slicing warning', () => {
    expect(fmtRate(1_234_567)).toBe('1.23 M');
    expect(fmtRate(45_600)).toBe('45.6 k');
    expect(fmtSize(16 << 20)).toBe('16M');
    expect(timeSliceWarning(4, 2)).toMatch(/4 simulated CPUs on 2 host cores/);
    expect(timeSliceWarning(2, 2)).toBeUndefined();
  });
});
