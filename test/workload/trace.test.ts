import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  TraceError,
  TraceParser,
  formatTrace,
  parseTrace,
  readTrace,
  readTraceSync,
  traceFromKeys,
} from '../../src/workload/trace.js';
import { OP_READ, OP_WRITE, type PageTrace } from '../../src/reclaim/page_trace.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** What test/fixtures/trace-small.txt holds. */
const SMALL_KEYS = [0x1a2b, 0x1a2b, 0xff, 0x10, 42, 0x2a, 2 ** 53 - 1, 0];
const SMALL_OPS = [OP_READ, OP_WRITE, OP_READ, OP_WRITE, OP_READ, OP_READ, OP_READ, OP_WRITE];

/** What test/fixtures/trace-loop-409600.txt.zst holds (generated with zstd -19). */
function loopFixture(): { keys: number[]; ops: number[] } {
  const keys: number[] = [];
  const ops: number[] = [];
  for (let p = 0; p < 100; p++) {
    for (let i = 0; i < 4096; i++) {
      keys.push((i * 4099) % 65536);
      ops.push((i * 7 + p) % 5 === 0 ? OP_WRITE : OP_READ);
    }
  }
  return { keys, ops };
}

/** Index of the first difference between two sequences, or -1 (fast on 400k elements, unlike toEqual). */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function expectTrace(t: PageTrace, keys: number[], ops: number[]): void {
  expect(t.keys).toBeInstanceOf(Float64Array);
  expect(t.ops).toBeInstanceOf(Uint8Array);
  expect(t.length).toBe(keys.length);
  if (keys.length <= 100) {
    expect(Array.from(t.keys)).toEqual(keys);
    expect(Array.from(t.ops)).toEqual(ops);
  } else {
    expect(firstDiff(t.keys, keys)).toBe(-1);
    expect(firstDiff(t.ops, ops)).toBe(-1);
  }
}

function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'smpvm-trace-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function withTmpAsync<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'smpvm-trace-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function traceError(fn: () => unknown): TraceError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TraceError) return e;
    throw e;
  }
  throw new Error('expected a TraceError');
}

describe('trace parser: formats', () => {
  it('reads R/W/r/w hex pages (0x optional), decimal and 0x keys, comments, blank lines, CRLF', () => {
    const t = parseTrace('R 1a2b\nW 0x1A2B\r\nr ff\nw 00000010  # trailing comment\n\n   # indented\n42\n0x2a\n\t7\t\nR\tabc\n', 'x.txt');
    expectTrace(t, [0x1a2b, 0x1a2b, 0xff, 0x10, 42, 0x2a, 7, 0xabc], [OP_READ, OP_WRITE, OP_READ, OP_WRITE, OP_READ, OP_READ, OP_READ, OP_READ]);
    expect(t.name).toBe('x.txt');
  });

  it('takes a last line without a newline, and an empty input', () => {
    expectTrace(parseTrace('R 1\nW 2'), [1, 2], [OP_READ, OP_WRITE]);
    expectTrace(parseTrace(''), [], []);
    expectTrace(parseTrace('# only a comment\n\n'), [], []);
  });

  it('skips a UTF-8 byte-order mark at the start of the file, and only there', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expectTrace(parseTrace(Buffer.concat([bom, Buffer.from('R 5\n6\n')])), [5, 6], [OP_READ, OP_READ]);
    expect(() => parseTrace(Buffer.concat([Buffer.from('R 5\n'), bom, Buffer.from('6\n')]), 'b.txt')).toThrow(/^b\.txt:2: expected/);
  });

  it('a bare key is decimal unless it has 0x; an R/W page is hex', () => {
    expectTrace(parseTrace('10\n0x10\nR 10\n'), [10, 16, 16], [OP_READ, OP_READ, OP_READ]);
  });

  it('keeps keys up to 2^53-1 exactly and rejects larger ones', () => {
    expectTrace(parseTrace('R 1fffffffffffff\n9007199254740991\n'), [2 ** 53 - 1, 2 ** 53 - 1], [OP_READ, OP_READ]);
    const e = traceError(() => parseTrace('R 1\nR 20000000000000\n', 'big.txt'));
    expect(e.message).toBe("big.txt:2: page number '20000000000000' does not fit below 2^53");
    expect(e.line).toBe(2);
  });

  it('parses the same whatever the chunk boundaries (property, fixed seed)', () => {
    const line = fc.oneof(
      fc.tuple(fc.constantFrom('R ', 'W ', 'r ', 'w ', 'R 0x', 'W\t'), fc.integer({ min: 0, max: 2 ** 40 })).map(([p, v]) => p + v.toString(16)),
      fc.integer({ min: 0, max: 2 ** 52 }).map(String),
      fc.integer({ min: 0, max: 2 ** 30 }).map((v) => '0x' + v.toString(16)),
      fc.constantFrom('', '# comment', '   ', '\t# x'),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }), fc.boolean(), (lines, cuts, crlf) => {
        const text = lines.join(crlf ? '\r\n' : '\n');
        const bytes = Buffer.from(text);
        const whole = parseTrace(bytes, 't');
        const p = new TraceParser('t', 4); // tiny initial capacity: exercises growth
        let at = 0;
        for (let k = 0; at < bytes.length; k++) {
          const len = cuts[k % cuts.length];
          p.push(bytes.subarray(at, at + len));
          at += len;
        }
        const chunked = p.end();
        expect(Array.from(chunked.keys)).toEqual(Array.from(whole.keys));
        expect(Array.from(chunked.ops)).toEqual(Array.from(whole.ops));
        expect(whole.length).toBe(lines.filter((l) => l.trim() !== '' && !l.trim().startsWith('#')).length);
      }),
      { seed: 20240607, numRuns: 200 },
    );
  });

  it('formatTrace output parses back to the same trace', () => {
    const t = traceFromKeys([0, 1, 0xdeadbeef, 2 ** 53 - 1, 5], [OP_READ, OP_WRITE, OP_WRITE, OP_READ, OP_READ], 'gen');
    const back = parseTrace(formatTrace(t), 'back');
    expect(Array.from(back.keys)).toEqual(Array.from(t.keys));
    expect(Array.from(back.ops)).toEqual(Array.from(t.ops));
    expect(formatTrace(traceFromKeys([]))).toBe('');
  });

  it('traceFromKeys rejects keys that are not integers in [0, 2^53) and bad ops', () => {
    expect(() => traceFromKeys([1, -1])).toThrow(RangeError);
    expect(() => traceFromKeys([1.5])).toThrow(RangeError);
    expect(() => traceFromKeys([2 ** 53])).toThrow(RangeError);
    expect(() => traceFromKeys([1, 2], [0])).toThrow(RangeError);
    expect(() => traceFromKeys([1], [2])).toThrow(RangeError);
  });
});

describe('trace parser: malformed lines', () => {
  const cases: [string, number, string][] = [
    ['R 1\nW 2\nfoo\n', 3, 'foo'],
    ['# c\n\nR 12 34\n', 3, 'R 12 34'],
    ['R 1\nR\n', 2, 'R'],
    ['X 12\n', 1, 'X 12'],
    ['R 12g\n', 1, 'R 12g'],
    ['12abc\n', 1, '12abc'],
    ['-5\n', 1, '-5'],
    ['0x\n', 1, '0x'],
    ['R 0x\n', 1, 'R 0x'],
    ['R1\n', 1, 'R1'],
    ['1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n  bar baz  \n', 17, 'bar baz'],
  ];
  for (const [text, line, shown] of cases) {
    it(`names file and line ${line} for ${JSON.stringify(shown)}`, () => {
      const e = traceError(() => parseTrace(text, 'trace.txt'));
      expect(e.message).toBe(`trace.txt:${line}: expected 'R|W <hex page>' or a key, got '${shown}'`);
      expect(e.message.includes('\n')).toBe(false);
      expect(e.file).toBe('trace.txt');
      expect(e.line).toBe(line);
      expect(e.name).toBe('TraceError');
    });
  }

  it('counts lines across chunk boundaries and CRLF when the bad line is split', () => {
    const p = new TraceParser('split.txt');
    p.push(Buffer.from('R 1\r\nW 2\r\nR 3\r\nR 4'));
    expect(() => p.push(Buffer.from('q\r\nR 5\r\n'))).toThrow("split.txt:4: expected 'R|W <hex page>' or a key, got 'R 4q'");
  });

  it('cuts a long bad line in the message', () => {
    const e = traceError(() => parseTrace('R ' + 'z'.repeat(200) + '\n', 'long.txt'));
    expect(e.message).toBe(`long.txt:1: expected 'R|W <hex page>' or a key, got 'R ${'z'.repeat(58)}...'`);
  });

  it('stops on a "line" longer than 64 KiB without buffering it all', () => {
    const p = new TraceParser('huge.txt');
    p.push(Buffer.from('R 1\n'));
    expect(() => p.push(Buffer.alloc(70_000, 0x41))).toThrow(/^huge\.txt:2: expected/);
  });
});

describe('trace files: plain, gzip, zstd', () => {
  it('reads the plain fixture, sync and streamed', async () => {
    const path = join(FIXTURES, 'trace-small.txt');
    expectTrace(readTraceSync(path), SMALL_KEYS, SMALL_OPS);
    expectTrace(await readTrace(path), SMALL_KEYS, SMALL_OPS);
  });

  it('reads the zstd fixture (made by the zstd CLI), one frame and two frames, sync and streamed', async () => {
    for (const f of ['trace-small.txt.zst', 'trace-small-2frames.txt.zst']) {
      const path = join(FIXTURES, f);
      expectTrace(readTraceSync(path), SMALL_KEYS, SMALL_OPS);
      expectTrace(await readTrace(path), SMALL_KEYS, SMALL_OPS);
    }
  });

  it('streams a 409600-line zstd trace (2.8 MB of text) through many decoder blocks', async () => {
    const { keys, ops } = loopFixture();
    const path = join(FIXTURES, 'trace-loop-409600.txt.zst');
    const streamed = await readTrace(path);
    expectTrace(streamed, keys, ops);
    const whole = readTraceSync(path);
    expect(whole.length).toBe(409600);
  });

  it('round-trips through gzip, sync and streamed, whatever the file name', async () => {
    await withTmpAsync(async (dir) => {
      const t = traceFromKeys(
        Array.from({ length: 50_000 }, (_, i) => (i * 2654435761) % 1_000_003),
        Array.from({ length: 50_000 }, (_, i) => (i % 3 === 0 ? OP_WRITE : OP_READ)),
      );
      const gz = gzipSync(Buffer.from(formatTrace(t)));
      for (const name of ['t.txt.gz', 't.trace']) {
        const path = join(dir, name);
        writeFileSync(path, gz);
        for (const r of [readTraceSync(path), await readTrace(path)]) {
          expect(r.length).toBe(t.length);
          expect(Buffer.from(r.keys.buffer, r.keys.byteOffset, r.keys.byteLength).equals(Buffer.from(t.keys.buffer))).toBe(true);
          expect(Buffer.from(r.ops).equals(Buffer.from(t.ops))).toBe(true);
          expect(r.name).toBe(path);
        }
      }
    });
  });

  it('reports the line number of a malformed line inside a compressed file', async () => {
    await withTmpAsync(async (dir) => {
      const lines = Array.from({ length: 3000 }, (_, i) => `R ${i.toString(16)}`);
      lines[2716] = 'R 12 nonsense';
      const path = join(dir, 'bad.txt.gz');
      writeFileSync(path, gzipSync(Buffer.from(lines.join('\n') + '\n')));
      const msg = `${path}:2717: expected 'R|W <hex page>' or a key, got 'R 12 nonsense'`;
      expect(() => readTraceSync(path)).toThrow(msg);
      await expect(readTrace(path)).rejects.toThrow(msg);
      await expect(readTrace(path)).rejects.toBeInstanceOf(TraceError);
    });
  });

  it('turns corrupt gzip and zstd data into a TraceError naming the file', async () => {
    await withTmpAsync(async (dir) => {
      const gz = gzipSync(Buffer.from('R 1\nR 2\n'.repeat(1000)));
      const badGz = join(dir, 'x.gz');
      writeFileSync(badGz, Buffer.concat([gz.subarray(0, 20), Buffer.alloc(40, 0xff)]));
      expect(() => readTraceSync(badGz)).toThrow(TraceError);
      expect(() => readTraceSync(badGz)).toThrow(/x\.gz: corrupt gzip data/);
      await expect(readTrace(badGz)).rejects.toThrow(/x\.gz: corrupt gzip data/);

      const zst = readTraceSync(join(FIXTURES, 'trace-small.txt.zst')); // the fixture itself is fine
      expect(zst.length).toBe(SMALL_KEYS.length);
      const badZst = join(dir, 'x.zst');
      writeFileSync(badZst, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01]));
      expect(() => readTraceSync(badZst)).toThrow(/x\.zst: corrupt zstd data/);
      await expect(readTrace(badZst)).rejects.toThrow(/x\.zst: corrupt zstd data/);
    });
  });

  it('parses a 1M-line plain file in well under a few seconds', () => {
    withTmp((dir) => {
      const n = 1_000_000;
      const keys = new Float64Array(n);
      for (let i = 0; i < n; i++) keys[i] = (i * 40503) & 0xfffff;
      const path = join(dir, 'big.txt');
      writeFileSync(path, formatTrace(traceFromKeys(keys)));
      const t0 = performance.now();
      const t = readTraceSync(path);
      const ms = performance.now() - t0;
      expect(t.length).toBe(n);
      expect(t.keys[n - 1]).toBe(keys[n - 1]);
      console.log(`trace: parsed ${n} lines in ${ms.toFixed(0)} ms (${((n / ms) * 1000 / 1e6).toFixed(1)} M lines/s)`);
      expect(ms).toBeLessThan(3000);
    });
  });
});
