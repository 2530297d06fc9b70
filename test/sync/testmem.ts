/*
 * testmem.ts — the scratch words the sync tests use, in the machine buffer.
 *
 * Global lines 13..15 (layout.ts NR_GLOBAL_LINES = 16, G_FILES = 12 is the
 * last one the kernel side uses) are unused by the MM code; the tests put
 * their lock words, the data those locks guard and the handshake words
 * there. Each line is 16 words = one cache line; a lock is the LOCK_WORDS at
 * the start of its line, its data right after it (true sharing, as a kernel
 * lock and the fields it guards usually are).
 */
import { globalLine, type Layout } from '../../src/machine/layout.js';

export const T_LINE_A = 13; // lock A + counter
export const T_LINE_B = 14; // lock B / the rwsem + x, y
export const T_LINE_CTL = 15; // handshakes

/* line A */
export const A_CNT = 8; // plain counter guarded by lock A
export const A_OWNER = 9; // cpu + 1 inside the critical section (mutual-exclusion check)

/* line B */
export const B_X = 8; // written by rwsem writers (x then y), read by readers
export const B_Y = 9;
export const B_INSIDE = 10; // readers inside (Atomics)
export const B_WRITER_IN = 11; // 1 while a writer is inside

/* control line: per-cpu words are base + cpu (cpus 0 and 1) */
export const CTL_GATE = 0; // start gate: 0 closed, 1 open
export const CTL_READY = 1; // workers checked in at the gate
export const CTL_CMD = 2; // main -> worker command word (2 words)
export const CTL_MARK = 4; // worker -> main progress mark (2 words)
export const CTL_PROG = 6; // worker's loop progress (2 words)
export const CTL_SEQ = 8; // acquisition-order sequence number
export const CTL_ORDER = 9; // acquisition order log (7 words)
export const CTL_ORDER_MAX = 7;

export interface TestMem {
  lockA: number;
  lockB: number;
  ctl: number;
}

export function testMem(l: Layout): TestMem {
  return { lockA: globalLine(l, T_LINE_A), lockB: globalLine(l, T_LINE_B), ctl: globalLine(l, T_LINE_CTL) };
}
