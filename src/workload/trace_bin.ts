/*
 * workload/trace_bin.ts — the two binary page-reference trace formats
 * `smpvm replay` reads and `smpvm trace convert` writes (issue 20 item 5).
 *
 * smpvm (smpvm's own, compact): a 16-byte header, then one variable-length
 * record per reference holding the reference's op and the signed distance
 * of its key from the previous reference's key (the first from 0):
 *
 *     header   "smpvmtr" 0x01  (8 bytes: magic and format version 1)
 *              u32 LE  records
 *              u32 LE  0 (reserved)
 *     record   byte 0: bit 0 op (0 read, 1 write), bit 1 sign of the delta,
 *                      bits 2-6 the delta's low 5 bits, bit 7 "more"
 *              then, while "more": 7 bits of the delta each, low first (LEB128)
 *
 * A reference within ±31 pages of the previous one is one byte; keys up to
 * 2^53 - 1 (the text format's bound) need at most 8. Every step is a
 * multiply-add on numbers below 2^53, so decoding is exact without BigInt.
 *
 * oracleGeneral (libCacheSim's binary trace, read from its
 * traceReader/customizedReader/oracle/oracleGeneral.h; our own code): fixed
 * 24-byte little-endian records, no header:
 *
 *     u32 clock_time   u64 obj_id   u32 obj_size   i64 next_access_vtime
 *
 * Each record is a read of page obj_id (the format has no op: a write
 * cannot be expressed; convert says how many it turned into reads). As in
 * libCacheSim's reader, a record of obj_size 0 is skipped. obj_ids are
 * 64-bit hashes in the published traces; a key must stay below 2^53 (a
 * Float64 holds it exactly), so the id is folded: key = obj_id mod 2^53 —
 * two ids collide only if they agree in their low 53 bits. obj_size is
 * ignored (a reference is to one 4 KiB page); next_access_vtime is written
 * as the index of the next reference to the same key, -1 if none, and
 * not read. clock_time is written as the record index.
 *
 * Both decoders are push parsers like workload/trace.ts's TraceParser
 * (chunks may split a record anywhere: a partial record is carried to the
 * next push), so compressed binary traces stream too. A malformed file stops
 * with a TraceError naming the record: "t.bin: record 17: truncated (5 of
 * 24 bytes)".
 */
import { OP_READ, OP_WRITE, type PageTrace } from '../reclaim/page_trace.js';
import { TraceError, type TraceSink } from './trace_sink.js';

export const SMPVM_MAGIC = Uint8Array.of(0x73, 0x6d, 0x70, 0x76, 0x6d, 0x74, 0x72, 0x01); // "smpvmtr" 1
export const SMPVM_HEADER = 16;
export const ORACLE_RECORD = 24;

const MAX_KEY = Number.MAX_SAFE_INTEGER;
const TWO32 = 4294967296;
const FOLD_HI = 1 << 21; // obj_id's high word mod 2^21: obj_id mod 2^53

/** Whether `head` starts with the smpvm binary trace magic. */
export function isSmpvmTrace(head: Uint8Array): boolean {
  if (head.length < SMPVM_MAGIC.length) return false;
  for (let i = 0; i < SMPVM_MAGIC.length; i++) if (head[i] !== SMPVM_MAGIC[i]) return false;
  return true;
}

/** Output arrays sized up front (binary formats know their length), trimmed at the end. */
abstract class BinSink implements TraceSink {
  protected keys: Float64Array;
  protected ops: Uint8Array;
  protected n = 0;
  private done = false;

  constructor(
    readonly file: string,
    cap: number,
  ) {
    cap = Math.max(16, Math.min(cap, 1 << 28));
    this.keys = new Float64Array(cap);
    this.ops = new Uint8Array(cap);
  }

  abstract push(chunk: Uint8Array): void;
  protected abstract finish(): void;

  end(): PageTrace {
    if (this.done) throw new Error(`${this.constructor.name}: end called twice`);
    this.finish();
    this.done = true;
    const n = this.n;
    return { name: this.file, length: n, keys: n === this.keys.length ? this.keys : this.keys.slice(0, n), ops: n === this.ops.length ? this.ops : this.ops.slice(0, n) };
  }

  /**
   * Make room for `cap` references, doubling: each push reserves, before its
   * loop, room for every record its chunk can hold, so the loop itself never
   * grows (nor checks).
   */
  protected reserve(cap: number): void {
    if (cap <= this.keys.length) return;
    let c = this.keys.length * 2;
    while (c < cap) c *= 2;
    this.resize(c);
  }

  protected resize(c: number): void {
    const k = new Float64Array(c);
    k.set(this.keys);
    const o = new Uint8Array(c);
    o.set(this.ops);
    this.keys = k;
    this.ops = o;
  }

  protected fail(record: number, detail: string): never {
    throw new TraceError(this.file, 0, `record ${record}: ${detail}`);
  }
}

/** Decoder of smpvm's own binary format (see the header). */
export class SmpvmTraceDecoder extends BinSink {
  private head = new Uint8Array(SMPVM_HEADER);
  private headLen = 0;
  private count = -1;
  /* a record split across pushes */
  private inRec = false;
  private op = 0;
  private neg = false;
  private v = 0;
  private mul = 0;
  private prev = 0;

  constructor(
    file: string,
    private readonly sizeHint = 0,
  ) {
    super(file, sizeHint >>> 1);
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    const len = chunk.length;
    if (this.count < 0) {
      while (i < len && this.headLen < SMPVM_HEADER) this.head[this.headLen++] = chunk[i++]!;
      if (this.headLen < SMPVM_HEADER) return;
      if (!isSmpvmTrace(this.head)) throw new TraceError(this.file, 0, 'not an smpvm binary trace (bad magic)');
      const dv = new DataView(this.head.buffer);
      this.count = dv.getUint32(8, true);
      if (dv.getUint32(12, true) !== 0) throw new TraceError(this.file, 0, 'header: reserved word is not 0');
      // exactly the announced count, when the bytes expected can hold it (a record is at least one byte)
      if (this.count > this.keys.length && this.count <= this.sizeHint) this.resize(this.count);
    }
    const count = this.count;
    // at least one byte a record, never more records than the header announces (checked before each store)
    this.reserve(Math.min(this.n + len - i, count));
    const keys = this.keys;
    const ops = this.ops;
    let n = this.n;
    let inRec = this.inRec;
    let op = this.op;
    let neg = this.neg;
    let v = this.v;
    let mul = this.mul;
    let prev = this.prev;
    for (; i < len; i++) {
      const b = chunk[i]!;
      if (!inRec) {
        op = b & 1;
        neg = (b & 2) !== 0;
        v = (b >>> 2) & 0x1f;
        mul = 32;
        if (b & 0x80) {
          inRec = true;
          continue;
        }
      } else {
        v += (b & 0x7f) * mul;
        mul *= 128;
        if (b & 0x80) {
          if (mul > MAX_KEY) this.fail(n + 1, 'delta longer than 8 bytes');
          continue;
        }
        inRec = false;
      }
      const key = neg ? prev - v : prev + v;
      if (key < 0 || key > MAX_KEY) this.fail(n + 1, `page ${key} outside [0, 2^53)`);
      if (n === count) this.fail(n + 1, `beyond the ${count} records the header announces`);
      keys[n] = key;
      ops[n] = op === 0 ? OP_READ : OP_WRITE;
      n++;
      prev = key;
    }
    this.n = n;
    this.inRec = inRec;
    this.op = op;
    this.neg = neg;
    this.v = v;
    this.mul = mul;
    this.prev = prev;
  }

  protected finish(): void {
    if (this.count < 0) throw new TraceError(this.file, 0, `truncated header (${this.headLen} of ${SMPVM_HEADER} bytes)`);
    if (this.inRec) this.fail(this.n + 1, 'truncated (the file ends inside it)');
    if (this.n !== this.count) this.fail(this.n + 1, `missing: the header announces ${this.count} records, the file holds ${this.n}`);
  }
}

/** Decoder of libCacheSim's oracleGeneral records (see the header). */
export class OracleGeneralDecoder extends BinSink {
  private part = new Uint8Array(ORACLE_RECORD);
  private partLen = 0;
  /** records read, skipped ones included (the record numbers errors give) */
  private nrec = 0;

  constructor(file: string, sizeHint = 0) {
    super(file, Math.ceil(sizeHint / ORACLE_RECORD));
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    const len = chunk.length;
    if (this.partLen > 0) {
      while (i < len && this.partLen < ORACLE_RECORD) this.part[this.partLen++] = chunk[i++]!;
      if (this.partLen < ORACLE_RECORD) return;
      this.partLen = 0;
      this.decode(this.part, 0, ORACLE_RECORD);
    }
    const whole = i + Math.floor((len - i) / ORACLE_RECORD) * ORACLE_RECORD;
    this.decode(chunk, i, whole);
    for (i = whole; i < len; i++) this.part[this.partLen++] = chunk[i]!;
  }

  /** Decode the whole records of buf[s, e). */
  private decode(buf: Uint8Array, s: number, e: number): void {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.reserve(this.n + (e - s) / ORACLE_RECORD);
    const keys = this.keys;
    const ops = this.ops;
    let n = this.n;
    for (let p = s; p < e; p += ORACLE_RECORD) {
      this.nrec++;
      if (dv.getUint32(p + 12, true) === 0) continue; // obj_size 0: skipped, as libCacheSim's reader does
      const key = (dv.getUint32(p + 8, true) % FOLD_HI) * TWO32 + dv.getUint32(p + 4, true);
      keys[n] = key;
      ops[n] = OP_READ;
      n++;
    }
    this.n = n;
  }

  protected finish(): void {
    if (this.partLen > 0) this.fail(this.nrec + 1, `truncated (${this.partLen} of ${ORACLE_RECORD} bytes)`);
  }
}

/** Encode a trace in smpvm's binary format. */
export function encodeSmpvm(t: PageTrace): Uint8Array {
  const out = new Uint8Array(SMPVM_HEADER + t.length * 8);
  out.set(SMPVM_MAGIC, 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, t.length, true);
  dv.setUint32(12, 0, true);
  let o = SMPVM_HEADER;
  let prev = 0;
  for (let i = 0; i < t.length; i++) {
    const key = t.keys[i]!;
    const d = key - prev;
    prev = key;
    let v = d < 0 ? -d : d;
    let b = (t.ops[i] === OP_WRITE ? 1 : 0) | (d < 0 ? 2 : 0) | ((v % 32) << 2);
    v = Math.floor(v / 32);
    while (v > 0) {
      out[o++] = b | 0x80;
      b = v % 128;
      v = Math.floor(v / 128);
    }
    out[o++] = b;
  }
  return out.slice(0, o);
}

/** Encode a trace as oracleGeneral records (clock_time = index, obj_size 4096, next_access_vtime computed). */
export function encodeOracleGeneral(t: PageTrace): Uint8Array {
  const n = t.length;
  const out = new Uint8Array(n * ORACLE_RECORD);
  const dv = new DataView(out.buffer);
  const next = new Map<number, number>();
  for (let i = n - 1; i >= 0; i--) {
    const key = t.keys[i]!;
    const p = i * ORACLE_RECORD;
    const nx = next.get(key);
    next.set(key, i);
    dv.setUint32(p, i >>> 0, true);
    dv.setUint32(p + 4, key % TWO32, true);
    dv.setUint32(p + 8, Math.floor(key / TWO32), true);
    dv.setUint32(p + 12, 4096, true);
    dv.setBigInt64(p + 16, BigInt(nx ?? -1), true);
  }
  return out;
}
