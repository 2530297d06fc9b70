/*
 * report/table.ts — the one way smpvm's benchmarks and replay print a table
 * a person reads: cli-table3, colourless (`plain`),
 * borderless (columns two spaces apart, so the lines stay grep- and
 * diff-friendly), the first column left-aligned and every other column
 * right-aligned, numbers formatted by fmtNum unless the caller already made
 * them strings.
 *
 * Pure formatting; no shared state. It imports nothing of smpvm's: `smpvm
 * replay` prints with it and starts without the simulator's modules.
 */
import Table from 'cli-table3';

/** cli-table3 without colours (report/summary.ts re-exports it). */
export const plain = { head: [] as string[], border: [] as string[] };

/** A figure as a table cell: integers as they are, others to 3-4 significant digits. */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e7) return String(x);
  const a = Math.abs(x);
  return a >= 1000 ? x.toFixed(0) : a >= 100 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : a >= 0.01 ? x.toFixed(3) : x.toExponential(2);
}

const BORDERLESS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
};

/** Render head + rows; `title`, when given, is the line above the table. */
export function textTable(head: string[], rows: (string | number)[][], title?: string): string {
  const t = new Table({ head, chars: BORDERLESS, style: { ...plain, 'padding-left': 0, 'padding-right': 0 }, colAligns: head.map((_, i) => (i === 0 ? 'left' : 'right')) });
  for (const r of rows) t.push(r.map((c) => (typeof c === 'number' ? fmtNum(c) : c)));
  return (title === undefined ? '' : `${title}\n`) + t.toString();
}
