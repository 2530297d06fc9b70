/*
 * nonresident.test.ts — single-thread unit tests of src/reclaim/nonresident.ts
 * (REFERENCE.md §1.7 checks (a)-(c), hashing, the hand, both cookie layouts,
 * invalidation, the per-CPU /proc/refaults histogram). The concurrent
 * conservation check (d) is nonresident-smp.test.ts.
 */
import { describe, it, expect } from 'vitest';
import {
  nrTableAt,
  nrTableOf,
  nr_init,
  nr_hash,
  nr_bucket_index,
  nr_cookie,
  nr_cookie_hi,
  nr_cookie_lo,
  nr_slot_word,
  hash_32,
  hash_long,
  nonresident_put,
  remember_page,
  recently_evicted,
  nonresident_invalidate,
  nonresident_invalidate_swap,
  nonresident_total,
  nr_refault_account,
  nr_refault_rows,
  nr_refault_reset,
  format_refaults,
  nr_hand_slot,
  NR_HAND,
  NR_HI,
  NR_NOT_FOUND,
  NR_NO_HOST,
  NR_SLOT_LOCKED,
  GOLDEN_RATIO_PRIME_32,
  GOLDEN_RATIO_32,
  type NrTable,
  type NrHand,
} from '../../src/reclaim/nonresident.js';
import { createMachine } from '../../src/machine/machine.js';
import { makeCpuBase } from '../../src/machine/cpu.js';
import { computeLayout, PC_REFAULT_HIST, percpuBase } from '../../src/machine/layout.js';
import { makeConfig } from '../../src/config.js';
import { SWAPPER_SPACE, mappingOfInode } from '../../src/machine/page.js';
import { u32s } from '../rng.js';

const M32 = (1n << 32n) - 1n;
const u32 = (x: bigint) => x & M32;
const i32 = (x: bigint) => Number(BigInt.asIntN(32, x));
const G = BigInt(GOLDEN_RATIO_PRIME_32 >>> 0);

/** The §1.3 chain in exact arithmetic, as a reference for the Math.imul model. */
function refHash(mapping: number, index: number): bigint {
  return u32(37n * u32(BigInt(mapping) * G) + u32(BigInt(index) * G));
}
function refCookieRaw(mapping: number, index: number, ino: number): bigint {
  let c = refHash(mapping, index);
  if (mapping !== 0 && ino !== NR_NO_HOST) c = u32(37n * c + u32(BigInt(ino) * G));
  return c;
}

/** Multiplicative inverse of an odd 32-bit constant (Newton's iteration mod 2^32). */
function inverse32(a: number): number {
  let x = a;
  for (let k = 0; k < 5; k++) x = Math.imul(x, 2 - Math.imul(a, x));
  return x;
}

const VARIANTS = [
  { name: 'u32 cookies, 64-byte bucket', bytes: 64, wide: false, numNr: 15 },
  { name: 'u32 cookies, 128-byte bucket', bytes: 128, wide: false, numNr: 31 },
  { name: 'unsigned long cookies, 64-byte bucket', bytes: 64, wide: true, numNr: 7 },
  { name: 'unsigned long cookies, 128-byte bucket', bytes: 128, wide: true, numNr: 15 },
] as const;

function table(nrBuckets: number, bytes: number, wide: boolean, hand: NrHand = 'add', base = 16): { w: Int32Array; t: NrTable } {
  const t = nrTableAt(base, nrBuckets, bytes, wide, hand);
  const w = new Int32Array(new SharedArrayBuffer((base + nrBuckets * t.bucketWords + 16) * 4));
  w.fill(0x5a5a5a5a); // nr_init must clear it
  nr_init(w, t);
  return { w, t };
}

/** Keys (mapping, index) of one file that all land in bucket `bucket`. */
function keysInBucket(t: NrTable, mapping: number, bucket: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; out.length < n; i++) if (nr_bucket_index(t, mapping, i) === bucket) out.push(i);
  return out;
}

/** The cookies stored in a bucket, as "lo:hi" strings (narrow: "c:0"). */
function bucketContents(w: Int32Array, t: NrTable, b: number): string[] {
  const out: string[] = [];
  for (let s = 0; s < t.numNr; s++) {
    const a = nr_slot_word(t, b, s);
    if (w[a] !== 0) out.push(`${w[a]}:${t.wide ? w[a + NR_HI] : 0}`);
  }
  return out;
}
const cookieOf = (t: NrTable, m: number, i: number, ino: number) =>
  t.wide ? `${nr_cookie_lo(m, i, ino)}:${nr_cookie_hi(m, i, ino)}` : `${nr_cookie(m, i, ino)}:0`;

describe('hash (32-bit model of include/linux/hash.h)', () => {
  it('hash_32 and hash_long equal the exact products mod 2^32', () => {
    const rnd = u32s(7);
    for (let k = 0; k < 2000; k++) {
      const v = rnd() | 0;
      const bits = 1 + (k % 32);
      const exact = u32(BigInt(v >>> 0) * G);
      expect(hash_long(v)).toBe(i32(exact));
      expect(hash_32(v, bits)).toBe(Number(exact >> BigInt(32 - bits)));
    }
  });

  it('nr_hash picks the LOW bits of 37*hash_ptr(mapping) + hash_long(index); nr_cookie is the §1.3 chain', () => {
    const t = nrTableAt(0, 1024, 64);
    const rnd = u32s(11);
    for (let k = 0; k < 2000; k++) {
      const m = rnd() | 0, i = rnd() | 0, ino = (rnd() & 0xffff) + 1;
      const h = refHash(m, i);
      expect(nr_bucket_index(t, m, i)).toBe(Number(h & 1023n));
      expect(nr_hash(t, m, i)).toBe(Number(h & 1023n) * 16);
      const raw = refCookieRaw(m, i, ino);
      if (raw !== 0n) expect(nr_cookie(m, i, ino)).toBe(i32(raw));
      expect(nr_cookie_hi(m, i, ino)).toBe(i32(raw));
    }
    // the consequence the header states: 0x9e370001 ends in 0x0001, so for
    // <= 2^16 buckets the bucket is (37*mapping + index) mod nbuckets
    for (let k = 0; k < 200; k++) {
      const m = rnd() | 0, i = rnd() | 0;
      expect(nr_bucket_index(t, m, i)).toBe((Math.imul(37, m) + i) & 1023);
    }
  });

  it('the ino term is skipped for a mapping without a host (ino NR_NO_HOST) and for mapping 0', () => {
    expect(nr_cookie(SWAPPER_SPACE, 1234, NR_NO_HOST)).toBe(i32(refHash(SWAPPER_SPACE, 1234)));
    expect(nr_cookie(0, 99, 5)).toBe(i32(refHash(0, 99)));
    expect(nr_cookie(mappingOfInode(5), 99, 5)).not.toBe(nr_cookie(mappingOfInode(5), 99, 6));
  });

  it('a cookie is never 0 (hash 0 remapped to 1, as NetBSD); a wide lo word is never 0 nor NR_SLOT_LOCKED', () => {
    // NULL mapping, index 0: the chain is exactly 0
    expect(refCookieRaw(0, 0, 0)).toBe(0n);
    expect(nr_cookie(0, 0, 0)).toBe(1);
    // for random (mapping, index), solve for the ino that makes the chain 0
    const invG = inverse32(GOLDEN_RATIO_PRIME_32);
    const invGR = inverse32(GOLDEN_RATIO_32);
    expect(Math.imul(invG, GOLDEN_RATIO_PRIME_32)).toBe(1);
    const rnd = u32s(3);
    for (let k = 0; k < 200; k++) {
      const m = (rnd() | 1) | 0, i = rnd() | 0;
      const ino = Math.imul(-Math.imul(37, i32(refHash(m, i))) | 0, invG);
      if (ino === 0) continue;
      expect(refCookieRaw(m, i, ino)).toBe(0n);
      expect(nr_cookie(m, i, ino)).toBe(1);
      expect(nr_cookie_hi(m, i, ino)).toBe(0); // 0 is legal in the hi word
      // and the wide lo chain: fold(c) = 0 <=> c = 0; fold(c) = LOCKED <=> c = 0x80008000
      const c1 = (Math.imul(31, Math.imul(m, GOLDEN_RATIO_32)) + Math.imul(i ^ 0x5bd1e995, GOLDEN_RATIO_32)) | 0;
      for (const [target, want] of [
        [0, 1],
        [0x80008000 | 0, NR_SLOT_LOCKED + 1],
      ] as const) {
        const inoLo = Math.imul((target - Math.imul(31, c1)) | 0, invGR);
        if (inoLo === 0) continue;
        expect(nr_cookie_lo(m, i, inoLo)).toBe(want);
      }
    }
    // a key whose cookie was remapped still round-trips through the table
    for (const wide of [false, true]) {
      const { w, t } = table(16, 64, wide);
      expect(remember_page(w, t, 0, 0, 0)).toBe(false);
      expect(recently_evicted(w, t, 0, 0, 0)).toBe(16);
    }
  });
});

describe('geometry', () => {
  it('NUM_NR is 15/31 for u32 cookies and 7/15 for unsigned long cookies', () => {
    for (const v of VARIANTS) expect(nrTableAt(0, 8, v.bytes, v.wide).numNr).toBe(v.numNr);
    expect(nrTableAt(0, 8, 32, false).numNr).toBe(7); // the 8 Aug 2005 32-byte line
  });

  it("nrTableOf follows the machine layout's region", () => {
    for (const bytes of [64, 128] as const) {
      const l = computeLayout(makeConfig({ mem: '64M', nrBucketBytes: bytes }));
      const t = nrTableOf(l);
      expect(t.base).toBe(l.nonres);
      expect(t.nrBuckets).toBe(l.nrBuckets);
      expect(t.bucketWords).toBe(bytes / 4);
      expect(t.numNr).toBe(bytes / 4 - 1);
      expect(nrTableOf(l, true).numNr).toBe((bytes / 4 - 2) / 2);
      // ~ one cookie per page of RAM: 16384 pages -> 1024 x 15 (or 512 x 31)
      expect(nonresident_total(t)).toBe(l.nrBuckets * t.numNr);
      expect(l.nrBuckets * t.bucketWords).toBe(16384);
    }
  });

  it('rejects a bad geometry', () => {
    expect(() => nrTableAt(3, 16, 64)).toThrow(/aligned/);
    expect(() => nrTableAt(0, 12, 64)).toThrow(/power of two/);
    expect(() => nrTableAt(0, 16, 96)).toThrow(/power of two/);
    expect(() => nrTableAt(0, 16, 16)).toThrow(/power of two/);
    expect(() => nrTableAt(0, 16, 64, false, 'xadd' as NrHand)).toThrow(/hand 'xadd'/);
  });
});

for (const v of VARIANTS) for (const hand of ['add', 'cas'] as const) {
  describe(`table: ${v.name}, ${hand === 'add' ? 'Atomics.add' : 'compare-and-swap'} hand`, () => {
    const NB = 64;
    const FILE = mappingOfInode(7);
    const INO = 7;

    it('an immediately refaulted page returns distance 1 x nbuckets; a claimed cookie is gone', () => {
      const { w, t } = table(NB, v.bytes, v.wide, hand);
      expect(remember_page(w, t, FILE, 1000, INO)).toBe(false);
      expect(recently_evicted(w, t, FILE, 1000, INO)).toBe(1 * NB);
      expect(recently_evicted(w, t, FILE, 1000, INO)).toBe(NR_NOT_FOUND); // claimed: second lookup misses
      // never remembered, and a different inode number at the same (mapping, index)
      expect(recently_evicted(w, t, FILE, 1001, INO)).toBe(NR_NOT_FOUND);
      remember_page(w, t, FILE, 1000, INO);
      expect(recently_evicted(w, t, FILE, 1000, INO + 1)).toBe(NR_NOT_FOUND);
      expect(recently_evicted(w, t, FILE, 1000, INO)).toBe(NB);
    });

    it('distance = ((hand - slot) mod NUM_NR + 1) x nbuckets, the hand wraps, the oldest cookie is recycled', () => {
      const { w, t } = table(NB, v.bytes, v.wide, hand);
      const bucket = 5;
      const b = t.base + bucket * t.bucketWords;
      const n = t.numNr + 3;
      const keys = keysInBucket(t, FILE, bucket, n);
      const hands: number[] = [];
      const recycled: boolean[] = [];
      const olds: string[] = [];
      for (const i of keys) {
        const old = nonresident_put(w, t, FILE, i, INO);
        recycled.push(old !== 0);
        if (old !== 0) olds.push(`${old}:${t.wide ? t.oldHi : 0}`);
        hands.push(nr_hand_slot(w, t, b));
        // the word itself: a counter of puts ('add'), or the slot, never outside [0, NUM_NR) ('cas')
        expect(w[b + NR_HAND]).toBe(hand === 'add' ? hands.length : hands.length % t.numNr);
      }
      // the hand visits 1, 2, ..., NUM_NR-1, 0, 1, 2, 3
      expect(hands).toEqual(Array.from({ length: n }, (_, k) => (k + 1) % t.numNr));
      // the first NUM_NR puts filled empty slots; the next 3 each recycled the oldest cookie
      expect(recycled).toEqual([...Array(t.numNr).fill(false), true, true, true]);
      expect(olds).toEqual(keys.slice(0, 3).map((i) => cookieOf(t, FILE, i, INO)));
      // the bucket now holds exactly the newest NUM_NR cookies
      expect(bucketContents(w, t, b).sort()).toEqual(keys.slice(3).map((i) => cookieOf(t, FILE, i, INO)).sort());
      // newest first: distances 1, 2, ..., NUM_NR (x nbuckets); the 3 oldest fell out
      const newestFirst = keys.slice(3).reverse();
      // (a claim empties its slot but leaves the hand alone, so the order of lookups does not matter)
      const dist = newestFirst.map((i) => recently_evicted(w, t, FILE, i, INO));
      expect(dist).toEqual(newestFirst.map((_, k) => (k + 1) * NB));
      for (const i of keys.slice(0, 3)) expect(recently_evicted(w, t, FILE, i, INO)).toBe(NR_NOT_FOUND);
      expect(bucketContents(w, t, b)).toEqual([]);
      // claims emptied slots but did not move the hand; other buckets untouched
      expect(nr_hand_slot(w, t, b)).toBe(3);
      for (let o = 0; o < NB; o++) if (o !== bucket) expect(w[t.base + o * t.bucketWords + NR_HAND]).toBe(0);
    });

    if (hand === 'add')
      it('the counter read as unsigned: past 2^31 and through the 2^32 wrap every put still lands in [0, NUM_NR) and nothing is lost', () => {
        const { w, t } = table(NB, v.bytes, v.wide, hand);
        const bucket = 9;
        const b = t.base + bucket * t.bucketWords;
        w[b + NR_HAND] = -3; // 2^32 - 3 puts so far
        const keys = keysInBucket(t, FILE, bucket, 2 * t.numNr);
        let recycled = 0;
        for (const i of keys) {
          const before = w[b + NR_HAND]!;
          if (nonresident_put(w, t, FILE, i, INO) !== 0) recycled++;
          const s = nr_hand_slot(w, t, b);
          expect(s).toBe(((before + 1) >>> 0) % t.numNr);
          expect(s >= 0 && s < t.numNr).toBe(true);
        }
        expect(w[b + NR_HAND]).toBe(2 * t.numNr - 3); // wrapped through 0
        // every cookie put is either still in the bucket or was handed back by a later put
        expect(bucketContents(w, t, b).length + recycled).toBe(keys.length);
      });

    it('after enough evictions spread by the hash a cookie falls out (§1.7 b)', () => {
      const { w, t } = table(NB, v.bytes, v.wide, hand);
      const rnd = u32s(0xc0ffee);
      const victims = 200;
      for (let k = 0; k < victims; k++) remember_page(w, t, FILE, 1_000_000 + k, INO);
      // 4 x NUM_NR x nbuckets further evictions of random pages of other files
      const more = 4 * t.numNr * NB;
      let recycledLive = 0;
      for (let k = 0; k < more; k++) if (remember_page(w, t, mappingOfInode(100 + (rnd() & 63)), rnd() & 0xfffff, 100)) recycledLive++;
      // the table is full, and every put that did not fill one of the slots the
      // victims left empty recycled a live cookie
      let live = 0;
      for (let o = 0; o < NB; o++) live += bucketContents(w, t, t.base + o * t.bucketWords).length;
      expect(live).toBe(t.numNr * NB);
      expect(recycledLive).toBe(more - (t.numNr * NB - victims));
      let found = 0;
      for (let k = 0; k < victims; k++) if (recently_evicted(w, t, FILE, 1_000_000 + k, INO) !== NR_NOT_FOUND) found++;
      expect(found).toBe(0);
      // while with few intervening evictions the cookie is still there, at a distance that grew
      remember_page(w, t, FILE, 42, INO);
      const bucket = nr_bucket_index(t, FILE, 42);
      const others = keysInBucket(t, mappingOfInode(8), bucket, t.numNr - 1);
      for (const i of others) remember_page(w, t, mappingOfInode(8), i, 8);
      expect(recently_evicted(w, t, FILE, 42, INO)).toBe(t.numNr * NB); // the farthest distance still seen
    });

    it('invalidation (swap entries): removes the cookie once, leaves the others', () => {
      const { w, t } = table(NB, v.bytes, v.wide, hand);
      for (let e = 1; e <= 10; e++) remember_page(w, t, SWAPPER_SPACE, e, NR_NO_HOST);
      expect(nonresident_invalidate_swap(w, t, 4)).toBe(true);
      expect(nonresident_invalidate_swap(w, t, 4)).toBe(false);
      expect(recently_evicted(w, t, SWAPPER_SPACE, 4, NR_NO_HOST)).toBe(NR_NOT_FOUND);
      expect(nonresident_invalidate(w, t, SWAPPER_SPACE, 5, NR_NO_HOST)).toBe(true);
      expect(nonresident_invalidate_swap(w, t, 11)).toBe(false); // never remembered
      for (let e = 1; e <= 10; e++) {
        const d = recently_evicted(w, t, SWAPPER_SPACE, e, NR_NO_HOST);
        if (e === 4 || e === 5) expect(d).toBe(NR_NOT_FOUND);
        else expect(d).toBeGreaterThan(0);
      }
    });

    it('only the bucket of the key is written (one cache line per operation)', () => {
      const { w, t } = table(NB, v.bytes, v.wide, hand);
      const before = w.slice();
      const b = nr_hash(t, FILE, 77);
      remember_page(w, t, FILE, 77, INO);
      for (let k = 0; k < w.length; k++) if (k < b || k >= b + t.bucketWords) expect(w[k]).toBe(before[k]);
      expect(w.slice(b, b + t.bucketWords).some((x, k) => x !== before[b + k])).toBe(true);
    });
  });
}

describe('the 2005 plain-store claim vs the 2007 compare-and-swap, one interleaving spelled out', () => {
  // CPU A looks up cookie c (compares: equal), CPU B remembers c' into the
  // same slot (its xchg returns c: "recycled"), then A finishes its claim.
  it('2005: A stores 0 over c\' — c is counted twice (recycled AND refaulted), c\' is lost', () => {
    const { w, t } = table(1, 64, false);
    const FILE = mappingOfInode(1);
    // fill the one bucket: the hand starts at 0, so key 0 went to slot 1 and the next put recycles it
    for (let i = 0; i < t.numNr; i++) remember_page(w, t, FILE, i, 1);
    const c = nr_cookie(FILE, 0, 1);
    const slot = nr_slot_word(t, t.base, 1);
    expect(w[slot]).toBe(c);
    const aSaw = w[slot] === c; // A: compare (plain load)
    const old = nonresident_put(w, t, FILE, 100, 1); // B: hand wraps to slot 0, xchg
    expect(old).toBe(c); // B is told c's test period expired
    if (aSaw) w[slot] = 0; // A: plain store, as in 2005 — A also reports c as refaulted
    expect(bucketContents(w, t, t.base)).not.toContain(`${nr_cookie(FILE, 100, 1)}:0`); // c' vanished
  });

  it('2007: A\'s compare-and-swap fails, c is accounted once (recycled) and c\' survives', () => {
    const { w, t } = table(1, 64, false);
    const FILE = mappingOfInode(1);
    for (let i = 0; i < t.numNr; i++) remember_page(w, t, FILE, i, 1);
    const c = nr_cookie(FILE, 0, 1);
    const slot = nr_slot_word(t, t.base, 1);
    const aSaw = Atomics.load(w, slot) === c;
    expect(aSaw).toBe(true);
    expect(nonresident_put(w, t, FILE, 100, 1)).toBe(c);
    expect(Atomics.compareExchange(w, slot, c, 0)).not.toBe(c); // A's claim fails: not a refault
    expect(recently_evicted(w, t, FILE, 0, 1)).toBe(NR_NOT_FOUND);
    expect(recently_evicted(w, t, FILE, 100, 1)).toBe(1); // c' is there, immediate refault: 1 x 1 bucket
  });
});

describe('refault histogram (/proc/refaults, per CPU)', () => {
  it('counts each lookup in the calling CPU\'s own area, rows by distance, misses in New/Beyond', () => {
    const m = createMachine({ mem: '1M', swap: 0, cpus: 2, maxFiles: 4, filePages: 16, maxVma: 64, maxMm: 4 });
    const l = m.layout;
    const t = nrTableOf(l);
    expect(t.nrBuckets).toBe(16); // 256 pages / 16 words
    nr_init(m.w, t);
    const cpu0 = makeCpuBase(m, 0);
    const FILE = mappingOfInode(2);
    const bucket = 3;
    const keys = keysInBucket(t, FILE, bucket, 4);
    for (const i of keys) remember_page(m.w, t, FILE, i, 2);
    // newest key: d = 0 -> row 0; oldest: d = 3 -> row 3; then two misses
    for (const i of [keys[3]!, keys[0]!, keys[0]!, 12345]) nr_refault_account(cpu0, t, recently_evicted(m.w, t, FILE, i, 2));
    const own = Array.from(m.w.subarray(cpu0.pc + PC_REFAULT_HIST, cpu0.pc + PC_REFAULT_HIST + t.numNr + 1));
    expect(own).toEqual([1, 0, 0, 1, ...Array(t.numNr - 4).fill(0), 2]);
    for (const c of [1, 2]) {
      const p = percpuBase(l, c) + PC_REFAULT_HIST;
      expect(Array.from(m.w.subarray(p, p + 64)).every((x) => x === 0)).toBe(true); // no other CPU touched
    }
    const cpu1 = makeCpuBase(m, 1);
    nr_refault_account(cpu1, t, 16);
    const rows = nr_refault_rows(m.w, l, t);
    expect(rows).toHaveLength(t.numNr + 1);
    expect(rows[0]).toEqual({ from: 0, to: 16, hits: 2 });
    expect(rows[3]).toEqual({ from: 48, to: 64, hits: 1 });
    expect(rows[t.numNr]).toEqual({ from: t.numNr * 16, to: -1, hits: 2 });
    const text = format_refaults(rows);
    expect(text.split('\n')).toHaveLength(t.numNr + 2);
    expect(text).toMatch(/Refault distance\s+Hits/);
    expect(text).toMatch(/New\/Beyond\s+240\s+2$/);
    nr_refault_reset(m.w, l);
    expect(nr_refault_rows(m.w, l, t).every((r) => r.hits === 0)).toBe(true);
  });
});
