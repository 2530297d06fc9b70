/*
 * workload/trace.ts — page-reference traces for replay: the file format and
 * its parser (the PageTrace arrays it fills are reclaim/page_trace.ts's).
 *
 * Format (one reference per line):
 *
 *     R <hex page>      a read of page <hex page>   (also lower-case r)
 *     W <hex page>      a write                     (also lower-case w)
 *     <key>             a read of key <key>: decimal, or hex with 0x
 *     # comment         ignored, as are blank lines and a '#' after an entry
 *
 * The hex page may carry a 0x prefix. Keys are page numbers, so they must be
 * non-negative integers below 2^53 (a Float64 holds them exactly). A line that
 * is none of these stops the parse with a TraceError naming the file and the
 * line: "trace.txt:17: expected 'R|W <hex page>' or a key, got 'foo'".
 *
 * Compressed input is recognised by its magic number (whatever the name):
 * gzip (1f 8b) through node:zlib, zstd (28 b5 2f fd) through the pure-JS
 * `fzstd` (Node 20's zlib has no zstd). fzstd keeps a 32 MiB back-reference
 * window: files made with `zstd --long` or `--ultra -20`+ may not decode.
 *
 * Binary traces (workload/trace_bin.ts): smpvm's own compact format and
 * libCacheSim's oracleGeneral, found by readTrace's `format` (auto: the smpvm
 * magic number, else oracleGeneral if the file name says so, else text),
 * compressed or not; every format is a push decoder (trace_sink.ts).
 *
 * Output is two parallel typed arrays, keys (Float64Array) and ops
 * (Uint8Array, OP_READ/OP_WRITE): 9 bytes per reference, no object per
 * reference. The parser works on bytes, chunk by chunk (TraceParser.push), so
 * readTrace() streams a large or compressed file without holding its text.
 */
import { closeSync, createReadStream, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { createGunzip, gunzipSync } from 'node:zlib';
import { Decompress as ZstdDecompress, decompress as zstdDecompress } from 'fzstd';
import { OP_READ, OP_WRITE, type PageTrace } from '../reclaim/page_trace.js';
import { TraceError, type TraceSink } from './trace_sink.js';
import { SmpvmTraceDecoder, OracleGeneralDecoder, isSmpvmTrace } from './trace_bin.js';

export { TraceError };

const MAX_KEY = Number.MAX_SAFE_INTEGER; // 2^53 - 1
const MAX_LINE = 1 << 16; // a longer "line" is not a trace line: fail early instead of buffering it
const SHOW_MAX = 60; // characters of a bad line quoted in an error

const CH_TAB = 9;
const CH_LF = 10;
const CH_CR = 13;
const CH_SPACE = 32;
const CH_HASH = 35;
const CH_0 = 48;
const CH_X = 88;
const CH_x = 120;

/** Value of an ASCII hex digit, or -1. */
function hexval(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

function isBlank(c: number): boolean {
  return c === CH_SPACE || c === CH_TAB;
}

/**
 * Incremental byte-level parser. push() any number of chunks (line breaks may
 * fall anywhere), then end() once for the trace. Not reusable after end().
 */
export class TraceParser implements TraceSink {
  private keys: Float64Array;
  private ops: Uint8Array;
  private n = 0;
  private lineNo = 0;
  private carry: Uint8Array | null = null;
  private done = false;

  constructor(
    readonly file: string,
    expectedRefs = 1 << 16,
  ) {
    const cap = Math.max(16, Math.min(expectedRefs, 1 << 28));
    this.keys = new Float64Array(cap);
    this.ops = new Uint8Array(cap);
  }

  /** Parse the complete lines of `chunk`; keep a trailing partial line for the next push. */
  push(chunk: Uint8Array): void {
    if (this.done) throw new Error('TraceParser: push after end');
    let start = 0;
    if (this.carry !== null) {
      const nl = chunk.indexOf(CH_LF);
      if (nl < 0) {
        this.carry = concat(this.carry, chunk);
        if (this.carry.length > MAX_LINE) this.fail(this.lineNo + 1, this.carry, 0, SHOW_MAX);
        return;
      }
      const line = concat(this.carry, chunk.subarray(0, nl));
      this.carry = null;
      this.line(line, 0, line.length);
      start = nl + 1;
    }
    const len = chunk.length;
    while (start < len) {
      const nl = chunk.indexOf(CH_LF, start);
      if (nl < 0) break;
      this.line(chunk, start, nl);
      start = nl + 1;
    }
    if (start < len) {
      if (len - start > MAX_LINE) this.fail(this.lineNo + 1, chunk, start, start + SHOW_MAX);
      // A copy, never a view: a decoder may reuse its output buffer (Buffer#slice would not copy).
      this.carry = Uint8Array.prototype.slice.call(chunk, start);
    }
  }

  /** Parse the last line (if it had no newline) and return the trace. */
  end(): PageTrace {
    if (this.done) throw new Error('TraceParser: end called twice');
    if (this.carry !== null) {
      const c = this.carry;
      this.carry = null;
      this.line(c, 0, c.length);
    }
    this.done = true;
    const n = this.n;
    const keys = n === this.keys.length ? this.keys : this.keys.slice(0, n);
    const ops = n === this.ops.length ? this.ops : this.ops.slice(0, n);
    return { name: this.file, length: n, keys, ops };
  }

  /** Parse buf[s, e) — one line without its '\n'. */
  private line(buf: Uint8Array, s: number, e: number): void {
    const lineNo = ++this.lineNo;
    if (lineNo === 1 && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3; // UTF-8 BOM
    const s0 = s;
    if (e > s && buf[e - 1] === CH_CR) e--;
    while (s < e && isBlank(buf[s])) s++;
    if (s === e || buf[s] === CH_HASH) return;

    let op = OP_READ;
    let hex = false;
    const c = buf[s] | 0x20;
    if ((c === 114 /* r */ || c === 119) /* w */ && s + 1 < e && isBlank(buf[s + 1])) {
      op = c === 119 ? OP_WRITE : OP_READ;
      hex = true;
      s += 2;
      while (s < e && isBlank(buf[s])) s++;
    }
    if (s + 1 < e && buf[s] === CH_0 && (buf[s + 1] === CH_x || buf[s + 1] === CH_X)) {
      hex = true;
      s += 2;
    }
    let v = 0;
    const d0 = s;
    if (hex) {
      for (let d: number; s < e && (d = hexval(buf[s])) >= 0; s++) v = v * 16 + d;
    } else {
      for (let d: number; s < e && (d = buf[s] - CH_0) >= 0 && d <= 9; s++) v = v * 10 + d;
    }
    const d1 = s;
    while (s < e && isBlank(buf[s])) s++;
    if (d1 === d0 || (s < e && buf[s] !== CH_HASH)) this.fail(lineNo, buf, s0, e);
    if (v > MAX_KEY) {
      throw new TraceError(this.file, lineNo, `page number '${text(buf, d0, d1)}' does not fit below 2^53`);
    }

    const i = this.n;
    if (i === this.keys.length) this.grow();
    this.keys[i] = v;
    this.ops[i] = op;
    this.n = i + 1;
  }

  private grow(): void {
    const cap = this.keys.length * 2;
    const k = new Float64Array(cap);
    k.set(this.keys);
    const o = new Uint8Array(cap);
    o.set(this.ops);
    this.keys = k;
    this.ops = o;
  }

  private fail(lineNo: number, buf: Uint8Array, s: number, e: number): never {
    throw new TraceError(this.file, lineNo, `expected 'R|W <hex page>' or a key, got '${text(buf, s, e)}'`);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const r = new Uint8Array(a.length + b.length);
  r.set(a);
  r.set(b, a.length);
  return r;
}

/** buf[s, e) as text for a message: trimmed, cut to SHOW_MAX characters. */
function text(buf: Uint8Array, s: number, e: number): string {
  let t = Buffer.from(buf.buffer, buf.byteOffset + s, Math.max(0, e - s)).toString('utf8').trim();
  if (t.length > SHOW_MAX) t = t.slice(0, SHOW_MAX) + '...';
  return t;
}

/** Parse a whole trace held in memory (text or bytes; not compressed). */
export function parseTrace(data: string | Uint8Array, name = '<trace>'): PageTrace {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const p = new TraceParser(name, Math.max(16, bytes.length >>> 3));
  p.push(bytes);
  return p.end();
}

type Compression = 'none' | 'gzip' | 'zstd';

/** What the first bytes say the file is. */
function sniff(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

function decodeError(file: string, kind: Compression, e: unknown): TraceError {
  const why = e instanceof Error ? e.message : String(e);
  return new TraceError(file, 0, `corrupt ${kind} data (${why})`);
}

/** The trace formats (`auto`: smpvm's magic, else oracleGeneral if the file name says so, else text). */
export const TRACE_FORMATS = ['auto', 'text', 'smpvm', 'oracleGeneral'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/** The sink for `format`, given the first (decompressed) bytes of the file; sizeHint: bytes expected. */
function sinkFor(path: string, format: TraceFormat, head: Uint8Array, sizeHint: number): TraceSink {
  let f = format;
  if (f === 'auto') f = isSmpvmTrace(head) ? 'smpvm' : /oraclegeneral/i.test(path.split('/').pop() ?? '') ? 'oracleGeneral' : 'text';
  if (f === 'smpvm') return new SmpvmTraceDecoder(path, sizeHint);
  if (f === 'oracleGeneral') return new OracleGeneralDecoder(path, sizeHint);
  return new TraceParser(path, sizeHint >>> 3);
}

/** Holds the first bytes until the format can be told, then hands everything to the chosen sink. */
class FormatSniffer implements TraceSink {
  private sink: TraceSink | null = null;
  private head: Uint8Array[] = [];
  private headLen = 0;

  constructor(
    private readonly path: string,
    private readonly format: TraceFormat,
    private readonly sizeHint: number,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.sink !== null) return this.sink.push(chunk);
    // a copy: a decoder may reuse its output buffer
    this.head.push(Uint8Array.prototype.slice.call(chunk));
    this.headLen += chunk.length;
    if (this.headLen >= SMPVM_MAGIC_LEN) this.start();
  }

  end(): PageTrace {
    if (this.sink === null) this.start();
    return this.sink!.end();
  }

  private start(): void {
    const all = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
    this.head = [];
    this.sink = sinkFor(this.path, this.format, all, this.sizeHint);
    this.sink.push(all);
  }
}
const SMPVM_MAGIC_LEN = 8;

/**
 * Read and parse a trace file in one go (plain, gzip or zstd; any format).
 * Simple and fast for traces that fit in memory; readTrace() streams instead.
 */
export function readTraceSync(path: string, format: TraceFormat = 'auto'): PageTrace {
  const raw = readFileSync(path);
  const kind = sniff(raw);
  let data: Uint8Array = raw;
  try {
    if (kind === 'gzip') data = gunzipSync(raw);
    else if (kind === 'zstd') data = zstdDecompress(raw);
  } catch (e) {
    throw decodeError(path, kind, e);
  }
  const sink = sinkFor(path, format, data, data.length);
  sink.push(data);
  return sink.end();
}

/** Chunk size of readTrace: 1 MiB. */
const CHUNK = 1 << 20;

/**
 * Stream a trace file (plain, gzip or zstd; text, smpvm or oracleGeneral)
 * through its decoder in 1 MiB chunks: memory is the output arrays plus
 * one chunk, whatever the file size. A plain file is read with readSync
 * into one reused chunk (no event-loop turn and no buffer per chunk: the
 * decoders copy what they keep of a chunk); a compressed one through a
 * stream and its decompressor.
 */
export async function readTrace(path: string, format: TraceFormat = 'auto'): Promise<PageTrace> {
  const fd = openSync(path, 'r');
  let kind: Compression;
  let size: number;
  try {
    const chunk = new Uint8Array(CHUNK);
    const got = readSync(fd, chunk, 0, 4, 0);
    kind = sniff(chunk.subarray(0, got));
    size = fstatSync(fd).size;
    if (kind === 'none') {
      const sink = new FormatSniffer(path, format, size);
      for (let pos = 0, r: number; (r = readSync(fd, chunk, 0, CHUNK, pos)) > 0; pos += r) sink.push(r === CHUNK ? chunk : chunk.subarray(0, r));
      return sink.end();
    }
  } finally {
    closeSync(fd);
  }
  // Guess the decompressed size (~4:1 compression) for the first allocation of the output arrays.
  const sink = new FormatSniffer(path, format, size * 4);
  const input = createReadStream(path, { highWaterMark: CHUNK });
  try {
    if (kind === 'gzip') {
      const gz = input.pipe(createGunzip({ chunkSize: CHUNK }));
      input.on('error', (e) => gz.destroy(e));
      try {
        for await (const chunk of gz) sink.push(chunk as Uint8Array);
      } catch (e) {
        if (e instanceof TraceError) throw e;
        throw decodeError(path, kind, e);
      }
    } else {
      const z = new ZstdDecompress((data) => sink.push(data));
      for await (const chunk of input) {
        try {
          z.push(chunk as Uint8Array);
        } catch (e) {
          if (e instanceof TraceError) throw e;
          throw decodeError(path, kind, e);
        }
      }
      try {
        z.push(new Uint8Array(0), true);
      } catch (e) {
        if (e instanceof TraceError) throw e;
        throw decodeError(path, kind, e);
      }
    }
  } finally {
    input.destroy();
  }
  return sink.end();
}

/**
 * Build a trace from keys in memory (generators, tests). Keys must be
 * non-negative integers below 2^53; ops default to reads.
 */
export function traceFromKeys(keys: ArrayLike<number>, ops?: ArrayLike<number>, name = '<keys>'): PageTrace {
  const n = keys.length;
  if (ops !== undefined && ops.length !== n) throw new RangeError(`traceFromKeys: ${ops.length} ops for ${n} keys`);
  const k = new Float64Array(n);
  const o = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = keys[i];
    if (!(Number.isSafeInteger(v) && v >= 0)) throw new RangeError(`traceFromKeys: key ${v} at ${i} is not an integer in [0, 2^53)`);
    k[i] = v;
    if (ops !== undefined) {
      const op = ops[i];
      if (op !== OP_READ && op !== OP_WRITE) throw new RangeError(`traceFromKeys: op ${op} at ${i} is not OP_READ or OP_WRITE`);
      o[i] = op;
    }
  }
  return { name, length: n, keys: k, ops: o };
}

/** Render a trace in the `R|W <hex page>` form (one line each, trailing newline). */
export function formatTrace(t: PageTrace): string {
  const parts: string[] = new Array(t.length);
  for (let i = 0; i < t.length; i++) parts[i] = (t.ops[i] === OP_WRITE ? 'W ' : 'R ') + t.keys[i].toString(16);
  return t.length === 0 ? '' : parts.join('\n') + '\n';
}
