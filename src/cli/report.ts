/*
 * cli/report.ts — `smpvm report FILE… -o report.html`: read results JSON
 * (`run`, `scale`, `profile`, `stress` --json output) and folded lock-wait
 * stacks, check each, and write the HTML report (report/html.ts).
 *
 * Input checks come first, each a one-line error naming the file, exit 2: a
 * file that cannot be read, is not JSON, or is JSON but not smpvm results of
 * a known kind and version; a folded file with no "stack count" line. The
 * output path is checked before any chart is drawn. A profile's results name
 * their folded file (trace.folded); it is read when it is still there (as
 * written, or beside the results file), so `report profile.json` draws its
 * flame graph without naming the folded file again.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { CliError, type Io } from './io.js';
import { buildReport, type FoldedInput, type ReportInput } from '../report/html.js';
import { RESULTS_VERSION, type RunResults, type ScaleResults } from '../sim/results.js';

/** A file name as it may be shown in a one-line error: control bytes escaped. */
const shown = (s: string) => JSON.stringify(s).slice(1, -1);

const FOLDED_LINE = /^\S.*\s\d+(?:\.\d+)?$/;

function readText(file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new CliError(`report: ${shown(file)}: no such file`);
  }
  if (st.isDirectory()) throw new CliError(`report: ${shown(file)}: is a directory, not a results file`);
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`report: ${shown(file)}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function foldedLines(text: string): string[] {
  return text.split('\n').filter((l) => FOLDED_LINE.test(l.trim()));
}

/** Read and check the inputs: results JSON (run or scale) and folded stack files. */
export function loadReportInputs(files: string[]): { inputs: ReportInput[]; folded: FoldedInput[] } {
  const inputs: ReportInput[] = [];
  const folded: FoldedInput[] = [];
  for (const file of files) {
    const text = readText(file);
    if (file.endsWith('.folded')) {
      const lines = foldedLines(text);
      if (lines.length === 0 && text.trim() !== '') throw new CliError(`report: ${shown(file)}: not folded stacks (no "frame;frame count" line)`);
      folded.push({ file, lines });
      continue;
    }
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch (e) {
      throw new CliError(`report: ${shown(file)}: not JSON (${(e as Error).message.replace(/[\x00-\x1f\x7f]/g, '?')})`);
    }
    const o = j as { kind?: unknown; version?: unknown; runs?: unknown; config?: unknown };
    if (typeof o !== 'object' || o === null || (o.kind !== 'run' && o.kind !== 'scale')) {
      throw new CliError(`report: ${shown(file)}: not smpvm results (kind must be "run" or "scale")`);
    }
    if (o.version !== RESULTS_VERSION) throw new CliError(`report: ${shown(file)}: results version ${JSON.stringify(o.version)}, this smpvm reads ${RESULTS_VERSION}`);
    if (o.kind === 'scale' ? !Array.isArray(o.runs) : typeof o.config !== 'object') throw new CliError(`report: ${shown(file)}: truncated results (no ${o.kind === 'scale' ? 'runs' : 'config'})`);
    const results = j as RunResults | ScaleResults;
    const input: ReportInput = { file, results };
    const f = results.kind === 'run' ? results.trace?.folded : undefined;
    if (f) {
      const at = [f, isAbsolute(f) ? '' : join(dirname(file), f)].find((p) => p && existsSync(p));
      if (at) input.folded = { file: at, lines: foldedLines(readFileSync(at, 'utf8')) };
    }
    inputs.push(input);
  }
  if (inputs.length === 0 && folded.length === 0) throw new CliError('report: no input files');
  return { inputs, folded };
}

/** Check the report's output path before the work: its folder exists and it is not a folder. */
export function checkReportOut(out: string): void {
  const p = resolve(out);
  if (existsSync(p) && statSync(p).isDirectory()) throw new CliError(`--out: ${shown(out)} is a directory`);
  const dir = dirname(p);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`--out: ${shown(out)}: folder ${shown(dir)} does not exist`);
}

export async function writeReport(io: Io, files: string[], out: string): Promise<void> {
  checkReportOut(out);
  const { inputs, folded } = loadReportInputs(files);
  const { html, stats } = await buildReport(inputs, folded);
  try {
    writeFileSync(out, html);
  } catch (e) {
    throw new CliError(`--out: cannot write ${shown(out)} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const n = Object.values(stats.charts).reduce((s, v) => s + v, 0);
  io.out(`report: ${out} (${stats.runs} runs, ${n} charts: ${Object.entries(stats.charts).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'})\n`);
}

export function addReportCommand(p: Command, io: Io, done: (code: number) => void): void {
  p.command('report')
    .description('one self-contained HTML page from results JSON and folded stacks: scaling curves, lock_stat, flame graphs, refaults, vmstat')
    .argument('<files...>', 'results JSON of run/scale/profile/stress (--json), and .folded files')
    .option('-o, --out <file>', 'the HTML file to write', 'smpvm-report.html')
    .action(async (files: string[], o: { out: string }) => {
      await writeReport(io, files, o.out);
      done(0);
    });
}
