/*
 * workload/oracle.ts — the content oracle (DESIGN.md §5): user pages hold real
 * data. In workload/ because the workloads stamp and check pages with it;
 * sim/ (the deterministic scheduler, the checker runs) reads it from here.
 *
 * A task writes a STAMP_WORDS-word stamp at the start of a page:
 *   [ STAMP_TAG ^ cpu, key, version, check(key, version) ]
 * version is unique machine-wide (per-CPU counter × 64 + cpu), key names
 * what was written (a virtual page for private memory, a file page for
 * shared memory). The next STAMP_WORDS words are never written by tasks and
 * must always equal the backing object's pattern: zeros for anonymous and
 * shmem memory, the file's deterministic contents for file pages — so a
 * page mapped at the wrong place is caught even before anyone writes it.
 *
 * A read checks: a private page this task wrote reads that exact stamp
 * (through COW, swap, migration, mremap); a private page never written reads
 * zeros (anon) or the file's current contents (file, until COW); a shared page
 * reads the latest stamp written to that file page by anyone (`shared`).
 *
 * CPU-local state, except `shared`, which is per machine in deterministic
 * mode and per CPU in worker mode (each CPU then maps its own files).
 */
import { STAMP_WORDS } from '../machine/layout.js';
import { file_word } from '../mm/files.js';

export const ORACLE_WORDS = 2 * STAMP_WORDS;
const STAMP_TAG = 0x57a40000;

export const stampCheck = (key: number, version: number) => (Math.imul(key ^ 0x5bd1e995, 0x9e3779b1) ^ version) | 0;

export interface Oracle {
  cpu: number;
  seq: number;
  /** (ino << 20 | index) → latest version written through a shared mapping */
  shared: Map<number, number>;
  failures: string[];
  checks: number;
}

export function newOracle(cpu: number, shared?: Map<number, number>): Oracle {
  return { cpu, seq: 0, shared: shared ?? new Map(), failures: [], checks: 0 };
}

export const fileKey = (ino: number, index: number) => ino * 0x100000 + index;
/** Private pages move (mremap): their stamp's key is the address at write time, so only version + check are compared. */
export const KEY_ANY = -0x80000000;

export function nextVersion(o: Oracle): number {
  return (++o.seq * 64 + o.cpu) | 0;
}

/** Fill buf[0..STAMP_WORDS) with the stamp for (key, version). */
export function makeStamp(o: Oracle, buf: Int32Array, key: number, version: number): void {
  buf[0] = STAMP_TAG ^ o.cpu;
  buf[1] = key | 0;
  buf[2] = version;
  buf[3] = stampCheck(key | 0, version);
}

/** The words a page of (ino, index) holds when nobody has written it: the file pattern. */
export function patternInto(buf: Int32Array, from: number, ino: number, index: number, isFile: boolean): void {
  for (let k = 0; k < STAMP_WORDS; k++) buf[from + k] = isFile ? file_word(ino, index, from + k) : 0;
}

/**
 * Compare what was read (got[0..ORACLE_WORDS)) with what is expected.
 * expectVersion > 0: that stamp with key; 0: unwritten (pattern/zeros).
 */
export function checkRead(
  o: Oracle,
  got: Int32Array,
  expectVersion: number,
  key: number,
  ino: number,
  index: number,
  isFile: boolean,
  where: string,
): boolean {
  o.checks++;
  let ok = true;
  if (expectVersion > 0) {
    const k = key === KEY_ANY ? got[1]! : key | 0;
    ok = got[1] === k && got[2] === expectVersion && got[3] === stampCheck(k, expectVersion);
  } else {
    for (let k = 0; k < STAMP_WORDS; k++) {
      const want = isFile ? file_word(ino, index, k) : 0;
      if (got[k] !== want) ok = false;
    }
  }
  for (let k = STAMP_WORDS; k < ORACLE_WORDS; k++) {
    const want = isFile ? file_word(ino, index, k) : 0;
    if (got[k] !== want) ok = false;
  }
  if (!ok && o.failures.length < 20) {
    o.failures.push(
      `${where}: expected ${expectVersion > 0 ? `stamp v${expectVersion} key ${key}` : isFile ? `file ${ino}:${index} contents` : 'zeros'}, read [${Array.from(got).join(',')}]`,
    );
  }
  return ok;
}
