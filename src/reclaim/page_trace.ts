/*
 * reclaim/page_trace.ts — a page-reference trace in memory: what trace replay
 * (reclaim/replay/) consumes and workload/trace.ts's parser produces. Two
 * parallel typed arrays, keys (Float64Array) and ops (Uint8Array,
 * OP_READ/OP_WRITE): 9 bytes per reference, no object per reference.
 *
 * Here, below workload/, so that reclaim/replay/ can take a trace without
 * importing the parser's layer. Plain data; no shared state, no locking.
 */
export const OP_READ = 0;
export const OP_WRITE = 1;

/** A parsed trace: reference i touched keys[i] with operation ops[i]. */
export interface PageTrace {
  /** Where it came from (file name as given, or a label); used in messages. */
  readonly name: string;
  /** Number of references. */
  readonly length: number;
  /** Page key of each reference (non-negative integers < 2^53). */
  readonly keys: Float64Array;
  /** OP_READ or OP_WRITE for each reference. */
  readonly ops: Uint8Array;
}
