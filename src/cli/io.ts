/*
 * cli/io.ts — where the CLI writes (its streams, results files), and its
 * error type.
 *
 * Commands never touch process.stdout / process.exit directly: they get an
 * Io (the process's streams in `smpvm`, buffers in the tests that call
 * main() in-process) and report failures by throwing CliError with the exit
 * code (2: bad input, 1: the run failed). main() turns a CliError into one
 * line on stderr — never a stack trace.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** stdout is a terminal: colours, progress bars */
  isTTY: boolean;
}

export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
  }
}

export const processIo = (): Io => ({
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  isTTY: process.stdout.isTTY === true,
});

/** An Io that keeps everything (tests). */
export function bufferIo(isTTY = false): Io & { stdout: () => string; stderr: () => string } {
  let o = '';
  let e = '';
  return {
    out: (s) => void (o += s),
    err: (s) => void (e += s),
    isTTY,
    stdout: () => o,
    stderr: () => e,
  };
}

/** Write `text` to `file`, creating its directory. */
export function writeFile(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** A results file: pretty JSON and a newline. */
export const writeJson = (file: string, v: unknown): void => writeFile(file, JSON.stringify(v, null, 2) + '\n');
