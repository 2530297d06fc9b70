/*
 * workload/trace_sink.ts — what every trace decoder is (text: trace.ts's
 * TraceParser; binary: trace_bin.ts) and the error they all throw.
 *
 * A sink takes the file's bytes chunk by chunk (push; a chunk may end
 * anywhere, inside a line or a record) and returns the PageTrace at end().
 * Single-threaded, no shared state.
 */
import type { PageTrace } from '../reclaim/page_trace.js';

/** A malformed trace. `line` is 1-based; 0 when the error is about the whole file or a binary record (named in detail). */
export class TraceError extends Error {
  override readonly name = 'TraceError';
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${detail}` : `${file}: ${detail}`);
  }
}

export interface TraceSink {
  push(chunk: Uint8Array): void;
  end(): PageTrace;
}
