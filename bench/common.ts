/*
 * bench/common.ts — what every benchmark shares: its argument parser
 * (benchArgs), its entry idiom (benchMain), result files, the host's core
 * count and the warning every comparison above it prints.
 *
 * Every bench file exports `main(argv)` (bench/run.ts calls them in turn) and
 * ends with `benchMain(import.meta.url, main)`, which runs main when the file
 * is the program's entry, on the main thread. Bad arguments give one line
 * naming the flag and exit 2; a failed run one line and exit 1.
 */
import { isMainThread } from 'node:worker_threads';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hostCores as cores, timeSliceWarning } from '../src/sim/results.js';
import { writeJson } from '../src/cli/io.js';

export const hostCores = cores();
/** The time-slicing warning: the same text the simulator prints (src/sim/results.ts). */
export { timeSliceWarning };

/** A results file (results/bench-*.json): pretty JSON, directory created. */
export const writeResult = (file: string, data: unknown): void => writeJson(file, data);

export const fmtRate = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));

/** Median of a non-empty list. */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Bad benchmark arguments: benchMain prints the message alone and exits 2. */
export class BenchArgError extends Error {
  override name = 'BenchArgError';
}

type ArgKind = 'number' | 'string' | 'list' | 'flag';
type ArgValue<K extends ArgKind> = K extends 'number' ? number : K extends 'string' ? string : K extends 'list' ? string[] : boolean;
export interface ArgSpec<K extends ArgKind = ArgKind> {
  kind: K;
  /** the value when the flag is absent (flags default to false) */
  dflt?: ArgValue<K>;
  /** numbers: the smallest value accepted */
  min?: number;
}
type Parsed<S extends Record<string, ArgSpec>> = { [N in keyof S]: S[N] extends ArgSpec<infer K> ? ArgValue<K> : never };

/**
 * benchArgs: parse `--name value` (or `--name=value`; `--name` alone for a
 * flag) against `spec`, and bare values in the order of `positional` (the
 * older `bench/x.js 2 32,1 3` form). Unknown flags, missing values, numbers
 * that are not finite or below `min`: BenchArgError naming the flag.
 */
export function benchArgs<S extends Record<string, ArgSpec>>(bench: string, argv: readonly string[], spec: S, positional: (keyof S & string)[] = []): Parsed<S> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(spec)) out[name] = s.kind === 'flag' ? (s.dflt ?? false) : s.dflt;
  const set = (name: string, raw: string | undefined) => {
    const s = spec[name]!;
    if (s.kind === 'flag') return void (out[name] = true);
    if (raw === undefined || raw === '') throw new BenchArgError(`bench/${bench}: --${name} needs a value`);
    if (s.kind === 'number') {
      const v = Number(raw);
      if (!Number.isFinite(v) || (s.min !== undefined && v < s.min)) throw new BenchArgError(`bench/${bench}: --${name} ${raw}: expected a number${s.min !== undefined ? ` >= ${s.min}` : ''}`);
      out[name] = v;
    } else out[name] = s.kind === 'list' ? raw.split(',') : raw;
  };
  let pos = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      if (!(name in spec)) throw new BenchArgError(`bench/${bench}: unknown argument --${name} (have ${Object.keys(spec).map((n) => `--${n}`).join(', ')})`);
      set(name, eq >= 0 ? a.slice(eq + 1) : spec[name]!.kind === 'flag' ? undefined : argv[++i]);
    } else {
      const name = positional[pos++];
      if (name === undefined) throw new BenchArgError(`bench/${bench}: unexpected argument '${a}'`);
      set(name, a);
    }
  }
  return out as Parsed<S>;
}

/** Is the module at metaUrl the program's entry point (node dist/bench/x.js)? */
export const isMain = (metaUrl: string) => process.argv[1] !== undefined && metaUrl === pathToFileURL(resolve(process.argv[1])).href;

/**
 * benchMain: the one entry idiom. Runs main(argv) when metaUrl is the entry
 * module and this is the main thread (a bench's own worker threads load the
 * same file). Errors end the process with one line: exit 2 for bad
 * arguments, 1 for a failed run.
 */
export function benchMain(metaUrl: string, main: (argv: string[]) => Promise<unknown> | unknown): void {
  if (!isMainThread || !isMain(metaUrl)) return;
  Promise.resolve()
    .then(() => main(process.argv.slice(2)))
    .catch((e: unknown) => {
      const msg = e instanceof Error ? e.message : String(e);
      console.error(e instanceof BenchArgError ? msg : `bench: ${msg}`);
      process.exit(e instanceof BenchArgError ? 2 : 1);
    });
}
