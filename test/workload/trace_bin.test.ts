/*
 * The binary trace formats (workload/trace_bin.ts, issue 20 item 5): smpvm's
 * own delta-varint format round-trips any trace exactly, pushed in chunks
 * that split records anywhere, plain and compressed; libCacheSim's
 * oracleGeneral records decode to reads of obj_id mod 2^53, skip obj_size
 * 0 as libCacheSim's reader does, and carry next_access_vtime; every
 * malformed file is a TraceError naming the record.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readTrace, readTraceSync, traceFromKeys, TraceError } from '../../src/workload/trace.js';
import { encodeSmpvm, encodeOracleGeneral, SmpvmTraceDecoder, OracleGeneralDecoder, SMPVM_HEADER, ORACLE_RECORD } from '../../src/workload/trace_bin.js';
import { OP_READ, OP_WRITE, type PageTrace } from '../../src/reclaim/page_trace.js';

const sameTrace = (a: PageTrace, b: PageTrace) => {
  expect(a.length).toBe(b.length);
  expect(Array.from(a.keys)).toEqual(Array.from(b.keys));
  expect(Array.from(a.ops)).toEqual(Array.from(b.ops));
};

/** Push `bytes` into a fresh decoder cut at `cuts` (sorted offsets). */
function pushCut(d: SmpvmTraceDecoder | OracleGeneralDecoder, bytes: Uint8Array, cuts: number[]): PageTrace {
  let s = 0;
  for (const c of [...cuts, bytes.length]) {
    d.push(bytes.subarray(s, Math.max(s, c)));
    s = Math.max(s, c);
  }
  return d.end();
}

const MAX = Number.MAX_SAFE_INTEGER;
const key = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 1 << 30 }), fc.maxSafeNat(), fc.constant(MAX));

describe('smpvm binary trace', () => {
  it('round-trips any keys in [0, 2^53) and ops exactly, whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.boolean()), { maxLength: 200 }), fc.array(fc.nat(), { maxLength: 6 }), (refs, cutsRaw) => {
        const t = traceFromKeys(refs.map((r) => r[0]), refs.map((r) => (r[1] ? OP_WRITE : OP_READ)));
        const bytes = encodeSmpvm(t);
        const cuts = cutsRaw.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
        sameTrace(pushCut(new SmpvmTraceDecoder('p'), bytes, cuts), t);
      }),
    );
  });

  it('spends one byte on a reference within 31 pages of the previous one', () => {
    const t = traceFromKeys([0, 1, 2, 33, 2, 2, 34], [OP_READ, OP_WRITE, OP_READ, OP_READ, OP_READ, OP_WRITE, OP_READ]);
    expect(encodeSmpvm(t).length).toBe(SMPVM_HEADER + 6 + 2); // +31 and -31 take one byte each; +32 takes two
  });

  it('names the record of a truncated, overlong or miscounted file', () => {
    const t = traceFromKeys([5, 1000, 1 << 20]);
    const b = encodeSmpvm(t);
    const err = (bytes: Uint8Array) => {
      const d = new SmpvmTraceDecoder('t.smpvm', bytes.length); // the size hint readTrace gives: the file's bytes
      try {
        d.push(bytes);
        d.end();
      } catch (e) {
        expect(e).toBeInstanceOf(TraceError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err(b.subarray(0, b.length - 1))).toBe('t.smpvm: record 3: truncated (the file ends inside it)');
    expect(err(b.subarray(0, 10))).toBe('t.smpvm: truncated header (10 of 16 bytes)');
    const more = b.slice();
    new DataView(more.buffer).setUint32(8, 4, true);
    expect(err(more)).toBe('t.smpvm: record 4: missing: the header announces 4 records, the file holds 3');
    // a count no file of these bytes can hold sizes nothing by it (32 GiB of keys): the same error
    new DataView(more.buffer).setUint32(8, 0xffffffff, true);
    expect(err(more)).toBe('t.smpvm: record 4: missing: the header announces 4294967295 records, the file holds 3');
    const fewer = b.slice();
    new DataView(fewer.buffer).setUint32(8, 2, true);
    expect(err(fewer)).toBe('t.smpvm: record 3: beyond the 2 records the header announces');
    const neg = Uint8Array.of(...b.subarray(0, SMPVM_HEADER), 0x06); // delta -1 from 0
    new DataView(neg.buffer).setUint32(8, 1, true);
    expect(err(neg)).toBe('t.smpvm: record 1: page -1 outside [0, 2^53)');
    const long = Uint8Array.of(...b.subarray(0, SMPVM_HEADER), 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    new DataView(long.buffer).setUint32(8, 1, true);
    expect(err(long)).toBe('t.smpvm: record 1: delta longer than 8 bytes');
    const magic = b.slice();
    magic[0] = 0x53;
    expect(() => readTraceSync('/dev/null', 'smpvm')).toThrow(/truncated header \(0 of 16 bytes\)/);
    expect(err(magic)).toBe('t.smpvm: not an smpvm binary trace (bad magic)');
  });
});

describe('oracleGeneral (libCacheSim)', () => {
  it('writes 24-byte records with clock_time, obj_id, obj_size 4096 and next_access_vtime, and reads back the keys as reads', () => {
    const t = traceFromKeys([7, 2 ** 40 + 3, 7, 9], [OP_WRITE, OP_READ, OP_READ, OP_READ]);
    const b = encodeOracleGeneral(t);
    expect(b.length).toBe(4 * ORACLE_RECORD);
    const dv = new DataView(b.buffer);
    expect([0, 1, 2, 3].map((i) => dv.getUint32(i * 24, true))).toEqual([0, 1, 2, 3]);
    expect(dv.getBigUint64(24 + 4, true)).toBe(2n ** 40n + 3n);
    expect(dv.getUint32(12, true)).toBe(4096);
    expect([0, 1, 2, 3].map((i) => dv.getBigInt64(i * 24 + 16, true))).toEqual([2n, -1n, -1n, -1n]);
    const r = pushCut(new OracleGeneralDecoder('o'), b, [5, 30, 31, 70]);
    expect(Array.from(r.keys)).toEqual([7, 2 ** 40 + 3, 7, 9]);
    expect(Array.from(r.ops)).toEqual([OP_READ, OP_READ, OP_READ, OP_READ]);
  });

  it('folds a 64-bit obj_id to obj_id mod 2^53 and skips obj_size 0', () => {
    const b = new Uint8Array(3 * ORACLE_RECORD);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(4, 0xffff_ffff_ffff_fffen, true);
    dv.setUint32(12, 100, true);
    dv.setBigUint64(24 + 4, 5n, true); // obj_size 0: skipped
    dv.setBigUint64(48 + 4, (1n << 53n) + 9n, true);
    dv.setUint32(48 + 12, 1, true);
    const r = pushCut(new OracleGeneralDecoder('o'), b, []);
    expect(Array.from(r.keys)).toEqual([Number(0xffff_ffff_ffff_fffen % (1n << 53n)), 9]);
  });

  it('names the record a truncated file ends in', () => {
    const b = encodeOracleGeneral(traceFromKeys([1, 2, 3]));
    const d = new OracleGeneralDecoder('x.oracleGeneral');
    d.push(b.subarray(0, 2 * ORACLE_RECORD + 5));
    expect(() => d.end()).toThrow(new TraceError('x.oracleGeneral', 0, 'record 3: truncated (5 of 24 bytes)'));
  });
});

describe('reading binary trace files', () => {
  it('finds the format by magic number (smpvm) or file name (oracleGeneral), plain or compressed, sync and streamed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smpvm-tracebin-'));
    try {
      const n = 300_000; // several 1 MiB stream chunks
      const t = traceFromKeys(
        Array.from({ length: n }, (_, i) => (i * 2654435761) % 1_000_003),
        Array.from({ length: n }, (_, i) => (i % 3 === 0 ? OP_WRITE : OP_READ)),
      );
      const reads = traceFromKeys(Array.from(t.keys));
      const files: [string, Uint8Array, PageTrace][] = [
        ['t.bin', encodeSmpvm(t), t],
        ['t.bin.gz', gzipSync(encodeSmpvm(t)), t],
        ['t.oracleGeneral.bin', encodeOracleGeneral(t), reads],
        ['t.oracleGeneral.gz', gzipSync(encodeOracleGeneral(t)), reads],
      ];
      for (const [name, bytes, want] of files) {
        const path = join(dir, name);
        writeFileSync(path, bytes);
        for (const r of [readTraceSync(path), await readTrace(path)]) {
          expect(r.length).toBe(n);
          expect(Buffer.from(r.keys.buffer, r.keys.byteOffset, r.keys.byteLength).equals(Buffer.from(want.keys.buffer))).toBe(true);
          expect(Buffer.from(r.ops).equals(Buffer.from(want.ops))).toBe(true);
        }
      }
      // --format forces oracleGeneral whatever the name
      const p = join(dir, 'plain.dat');
      writeFileSync(p, encodeOracleGeneral(t));
      expect((await readTrace(p, 'oracleGeneral')).length).toBe(n);
      await expect(readTrace(p)).rejects.toThrow(/plain\.dat:1: expected/); // auto: not smpvm, not named oracleGeneral: text
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
