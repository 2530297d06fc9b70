/*
 * cli/outputs.ts — the files a command writes (--json, --csv, --trace,
 * --folded, --out, replay's outputs): checked before the run starts, written
 * after it.
 *
 * checkOutput refuses, as a one-line CliError naming the flag (exit 2), a
 * path that is a directory, a file that cannot be written, a parent that
 * cannot be created (its nearest existing ancestor is not a writable
 * directory), and anything on a pseudo-filesystem (/proc, /sys, /dev and
 * their kind, by statfs type): a recursive mkdir there may never return.
 * The checks are stat/access calls only; nothing is created before the run.
 *
 * writeOutput creates the parent and writes; a failure after the run (the
 * disk filled meanwhile) is one line naming the flag, exit 1 — the commands
 * print their results to stdout before they write, so nothing is lost.
 */
import { accessSync, constants, mkdirSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { CliError, EXIT_FAIL } from './io.js';

/** statfs f_type of filesystems that are not storage (linux/magic.h). */
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x1cd1: 'devpts',
  0x73636673: 'securityfs',
  0xcafe4a11: 'bpf',
};
/** Trees refused by name too (devtmpfs reports tmpfs's magic). */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

function exists(p: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/** Why `abs` lies on a pseudo-filesystem, or undefined. */
function pseudo(abs: string, existing: string): string | undefined {
  const root = PSEUDO_ROOTS.find((r) => abs === r || abs.startsWith(r + sep));
  if (root) return `${root} is a pseudo-filesystem`;
  try {
    const kind = PSEUDO_FS[statfsSync(existing).type];
    if (kind) return `${existing} is on ${kind}, a pseudo-filesystem`;
  } catch {
    /* statfs unsupported here: the name check above stands */
  }
  return undefined;
}

/**
 * Check that `file` can be written after the run (`dir`: it is a directory
 * the command writes files into). Throws CliError naming `flag`, exit 2.
 */
export function checkOutput(flag: string, file: string, opts: { dir?: boolean } = {}): void {
  const abs = resolve(file);
  const bad = (why: string) => new CliError(`${flag} ${file}: ${why}`);
  let existing = abs;
  while (!exists(existing) && dirname(existing) !== existing) existing = dirname(existing);
  const p = pseudo(abs, existing);
  if (p) throw bad(`${p}; choose a path on a disk`);
  const st = exists(abs);
  if (st) {
    if (opts.dir && !st.isDirectory()) throw bad('exists and is not a directory');
    if (!opts.dir && st.isDirectory()) throw bad('is a directory');
    try {
      accessSync(abs, opts.dir ? constants.W_OK | constants.X_OK : constants.W_OK);
    } catch (e) {
      throw bad(`not writable (${errno(e)})`);
    }
    return;
  }
  const anc = exists(existing);
  if (!anc?.isDirectory()) throw bad(`cannot create it: ${existing} is not a directory`);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw bad(`cannot create it: ${existing} is not writable (${errno(e)})`);
  }
}

/** Write `text` to `file` (creating its parent); a failure is one line naming `flag`, exit 1. */
export function writeOutput(flag: string, file: string, text: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  } catch (e) {
    throw new CliError(`${flag} ${file}: cannot write (${errno(e)})`, EXIT_FAIL);
  }
}

export const writeJsonOutput = (flag: string, file: string, v: unknown) => writeOutput(flag, file, JSON.stringify(v, null, 2) + '\n');
