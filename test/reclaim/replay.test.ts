import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { densify, replay, runPolicy, REPLAY_POLICIES, type ReplayOptions } from '../../src/reclaim/replay/index.js';
import { traceFromKeys } from '../../src/workload/trace.js';
import { OP_READ, OP_WRITE } from '../../src/reclaim/page_trace.js';
import { floats } from '../rng.js';

/*
 * Small, obviously-correct reference implementations (Map/array based) of the
 * three textbook policies. The engine must agree with them reference by
 * reference.
 */
interface RefResult {
  hitLog: number[];
  misses: number;
  refaults: number;
  evictions: number;
  writebacks: number;
}

type RefPolicy = (keys: number[], ops: number[], M: number) => RefResult;

/** Shared bookkeeping: refaults (miss on a page evicted before) and writebacks (evicting a written page). */
function book() {
  const evictedOnce = new Set<number>();
  const dirty = new Set<number>();
  const r: RefResult = { hitLog: [], misses: 0, refaults: 0, evictions: 0, writebacks: 0 };
  return {
    r,
    hit(op: number, k: number) {
      r.hitLog.push(1);
      if (op === OP_WRITE) dirty.add(k);
    },
    miss(op: number, k: number) {
      r.hitLog.push(0);
      r.misses++;
      if (evictedOnce.has(k)) r.refaults++;
      if (op === OP_WRITE) dirty.add(k);
    },
    evict(k: number) {
      r.evictions++;
      evictedOnce.add(k);
      if (dirty.delete(k)) r.writebacks++;
    },
  };
}

const refFifo: RefPolicy = (keys, ops, M) => {
  const b = book();
  const queue: number[] = [];
  const resident = new Set<number>();
  keys.forEach((k, i) => {
    if (resident.has(k)) return b.hit(ops[i], k);
    if (resident.size === M) {
      const v = queue.shift()!;
      resident.delete(v);
      b.evict(v);
    }
    b.miss(ops[i], k);
    queue.push(k);
    resident.add(k);
  });
  return b.r;
};

const refLru: RefPolicy = (keys, ops, M) => {
  const b = book();
  const lru = new Map<number, true>(); // insertion order = recency order, oldest first
  keys.forEach((k, i) => {
    if (lru.has(k)) {
      lru.delete(k);
      lru.set(k, true);
      return b.hit(ops[i], k);
    }
    if (lru.size === M) {
      const v = lru.keys().next().value as number;
      lru.delete(v);
      b.evict(v);
    }
    b.miss(ops[i], k);
    lru.set(k, true);
  });
  return b.r;
};

const refClock: RefPolicy = (keys, ops, M) => {
  const b = book();
  const frames: { page: number; ref: boolean }[] = [];
  let hand = 0;
  keys.forEach((k, i) => {
    const f = frames.find((x) => x.page === k);
    if (f) {
      f.ref = true;
      return b.hit(ops[i], k);
    }
    b.miss(ops[i], k);
    if (frames.length < M) {
      frames.push({ page: k, ref: false });
      return;
    }
    while (frames[hand].ref) {
      frames[hand].ref = false;
      hand = (hand + 1) % M;
    }
    b.evict(frames[hand].page);
    frames[hand] = { page: k, ref: false };
    hand = (hand + 1) % M;
  });
  return b.r;
};

/** Belady's OPT (evict the page re-referenced farthest in the future): a lower bound on misses. */
function optMisses(keys: number[], M: number): number {
  const nextUse = new Array<number>(keys.length);
  const last = new Map<number, number>();
  for (let i = keys.length - 1; i >= 0; i--) {
    nextUse[i] = last.get(keys[i]) ?? Infinity;
    last.set(keys[i], i);
  }
  const resident = new Map<number, number>(); // page -> its next use
  let misses = 0;
  keys.forEach((k, i) => {
    if (!resident.has(k)) {
      misses++;
      if (resident.size === M) {
        let victim = -1;
        let far = -1;
        for (const [p, nu] of resident) {
          if (nu > far) {
            far = nu;
            victim = p;
          }
        }
        resident.delete(victim);
      }
    }
    resident.set(k, nextUse[i]);
  });
  return misses;
}

/** Random trace: a mix of hot pages, a loop and a uniform tail, so every policy has decisions to make. */
const traceArb = fc
  .record({
    universe: fc.integer({ min: 1, max: 80 }),
    len: fc.integer({ min: 0, max: 600 }),
    hot: fc.integer({ min: 1, max: 10 }),
    loop: fc.integer({ min: 2, max: 60 }),
    stride: fc.constantFrom(1, 4096, 2 ** 32 + 7, 2 ** 40 + 3), // keys above 2^32 exercise densify
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    writeFrac: fc.constantFrom(0, 0.3, 1),
  })
  .map(({ universe, len, hot, loop, stride, seed, writeFrac }) => {
    const rnd = floats(seed);
    const keys: number[] = [];
    const ops: number[] = [];
    let l = 0;
    for (let i = 0; i < len; i++) {
      const u = rnd();
      const page = u < 0.4 ? Math.floor(rnd() * hot) : u < 0.7 ? 100 + (l++ % loop) : 1000 + Math.floor(rnd() * universe);
      keys.push(page * stride);
      ops.push(rnd() < writeFrac ? OP_WRITE : OP_READ);
    }
    return { keys, ops };
  });

const memArb = fc.integer({ min: 1, max: 50 });

function engine(policy: ReplayOptions['policy'], keys: number[], ops: number[], M: number) {
  const t = traceFromKeys(keys, ops);
  const dense = densify(t.keys);
  const hitLog = new Uint8Array(keys.length);
  const c = runPolicy(dense, t.ops, M, { policy, pages: [M] }, hitLog);
  return { c, hitLog: Array.from(hitLog) };
}

const PROPERTY_SEED = 0x5eed;

describe('replay: textbook policies match reference implementations', () => {
  for (const [policy, ref] of [
    ['fifo', refFifo],
    ['lru', refLru],
    ['clock', refClock],
  ] as const) {
    it(`${policy}: counts and the full hit/miss sequence equal the reference (random traces, seed ${PROPERTY_SEED})`, () => {
      fc.assert(
        fc.property(traceArb, memArb, ({ keys, ops }, M) => {
          const want = ref(keys, ops, M);
          const { c, hitLog } = engine(policy, keys, ops, M);
          expect(c.misses).toBe(want.misses);
          expect(c.hits).toBe(keys.length - want.misses);
          expect(c.refaults).toBe(want.refaults);
          expect(c.evictions).toBe(want.evictions);
          expect(c.writebacks).toBe(want.writebacks);
          expect(hitLog).toEqual(want.hitLog);
        }),
        { seed: PROPERTY_SEED, numRuns: 300 },
      );
    });
  }

  it('the three differ from each other on a classic sequence (the reference check is not vacuous)', () => {
    // M=3. At the 2: LRU evicts 4 (least recent), FIFO and CLOCK evict 1 (CLOCK's
    // hand clears 1's and 4's bits, wraps, and takes 1). At the 4 and 5 they part again.
    const keys = [1, 4, 1, 4, 3, 1, 2, 4, 5, 2, 3];
    const ops = keys.map(() => OP_READ);
    const seq = (p: ReplayOptions['policy']) => engine(p, keys, ops, 3).hitLog.join('');
    expect(seq('lru')).toBe('00110100010');
    expect(seq('fifo')).toBe('00110101011');
    expect(seq('clock')).toBe('00110101010');
    expect(refLru(keys, ops, 3).hitLog.join('')).toBe(seq('lru'));
    expect(refFifo(keys, ops, 3).hitLog.join('')).toBe(seq('fifo'));
    expect(refClock(keys, ops, 3).hitLog.join('')).toBe(seq('clock'));
  });
});

describe('replay: properties every policy keeps', () => {
  const variants: ReplayOptions[] = [
    ...REPLAY_POLICIES.map((policy) => ({ policy, pages: [] })),
    { policy: '2q', pages: [], refaultActivation: true },
  ];
  for (const v of variants) {
    const label = v.policy + (v.refaultActivation ? '+workingset' : '');
    it(`${label}: hits+misses = refs, evictions = max(0, misses-M), OPT <= misses, refaults <= evictions, writebacks only from writes`, () => {
      fc.assert(
        fc.property(traceArb, memArb, ({ keys, ops }, M) => {
          const { c, hitLog } = engine(v.policy, keys, ops, M);
          const distinct = new Set(keys).size;
          expect(c.hits + c.misses).toBe(keys.length);
          expect(hitLog.reduce((a, b) => a + b, 0)).toBe(c.hits);
          expect(c.evictions).toBe(Math.max(0, c.misses - M));
          expect(c.misses).toBeGreaterThanOrEqual(optMisses(keys, M));
          expect(c.misses).toBeGreaterThanOrEqual(distinct);
          if (distinct <= M) expect(c.misses).toBe(distinct);
          expect(c.refaults).toBe(c.misses - distinct);
          expect(c.writebacks).toBeLessThanOrEqual(c.evictions);
          if (!ops.includes(OP_WRITE)) expect(c.writebacks).toBe(0);
          if (ops.length > 0 && ops.every((o) => o === OP_WRITE)) expect(c.writebacks).toBe(c.evictions);
        }),
        { seed: PROPERTY_SEED + 1, numRuns: 150 },
      );
    });
  }

  it('lru is a stack algorithm: misses never rise with memory (inclusion property)', () => {
    fc.assert(
      fc.property(traceArb, ({ keys }) => {
        const r = replay(traceFromKeys(keys), { policy: 'lru', pages: [1, 2, 3, 5, 8, 13, 21, 34, 55] });
        for (let i = 1; i < r.sizes.length; i++) expect(r.sizes[i].misses).toBeLessThanOrEqual(r.sizes[i - 1].misses);
      }),
      { seed: PROPERTY_SEED + 2, numRuns: 100 },
    );
  });

  it('clockpro keeps its own invariants: hot + resident cold = M when full, nonresident <= M, m_c in [1, M-1]', () => {
    fc.assert(
      fc.property(traceArb, fc.integer({ min: 2, max: 50 }), ({ keys, ops }, M) => {
        const { c } = engine('clockpro', keys, ops, M);
        const s = c.stats;
        const resident = Math.min(M, new Set(keys).size);
        expect(s.hot + s.residentCold).toBe(resident);
        expect(s.nonresident).toBeGreaterThanOrEqual(0);
        expect(s.nonresident).toBeLessThanOrEqual(M);
        expect(s.coldTarget).toBeGreaterThanOrEqual(1);
        expect(s.coldTarget).toBeLessThanOrEqual(M - 1);
        if (c.evictions > 0) expect(s.hot).toBeLessThanOrEqual(M - 1);
      }),
      { seed: PROPERTY_SEED + 3, numRuns: 200 },
    );
  });

  it('2q and clockpro-approx keep active + inactive = resident and their targets in range', () => {
    fc.assert(
      fc.property(traceArb, fc.integer({ min: 2, max: 50 }), fc.boolean(), ({ keys, ops }, M, ws) => {
        const resident = Math.min(M, new Set(keys).size);
        const q = runPolicy(densify(traceFromKeys(keys).keys), Uint8Array.from(ops), M, { policy: '2q', pages: [M], refaultActivation: ws });
        expect(q.stats.nrActive + q.stats.nrInactive).toBe(resident);
        expect(q.stats.activeMax).toBe(Math.floor((2 * M) / 3));
        if (!ws) expect(q.stats.refaultActivations).toBe(0);
        const a = engine('clockpro-approx', keys, ops, M).c;
        expect(a.stats.nrActive + a.stats.nrInactive).toBe(resident);
        expect(a.stats.inactiveTarget).toBeGreaterThanOrEqual(1);
        expect(a.stats.inactiveTarget).toBeLessThanOrEqual(M - 1);
      }),
      { seed: PROPERTY_SEED + 4, numRuns: 200 },
    );
  });
});

describe('replay(): the API', () => {
  const keys = Float64Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 997) + (i % 3 === 0 ? 2 ** 45 : 0));
  const ops = Uint8Array.from({ length: 5000 }, (_, i) => (i % 5 === 0 ? OP_WRITE : OP_READ));

  it('returns one entry per memory size, with the documented fields, deterministically', () => {
    for (const policy of REPLAY_POLICIES) {
      const a = replay({ keys, ops, name: 'k' }, { policy, pages: [10, 100, 1000, 5000] });
      const b = replay({ keys, ops, name: 'k' }, { policy, pages: [10, 100, 1000, 5000] });
      expect(a.policy).toBe(policy);
      expect(a.trace).toEqual({ name: 'k', refs: 5000, distinctPages: new Set(keys).size, writes: 1000 });
      expect(a.sizes.map((s) => s.pages)).toEqual([10, 100, 1000, 5000]);
      const strip = (r: typeof a) => r.sizes.map(({ elapsedMs: _e, ...rest }) => rest);
      expect(strip(a)).toEqual(strip(b));
      for (const s of a.sizes) {
        expect(s.refs).toBe(5000);
        expect(s.missRatio).toBeCloseTo(s.misses / 5000, 12);
        expect(s.hits + s.misses).toBe(5000);
      }
      expect(a.sizes[3].misses).toBe(a.trace.distinctPages); // everything fits
      expect(a.refsPerSec).toBeGreaterThan(0);
      expect(JSON.parse(JSON.stringify(a))).toEqual(a); // a plain JSON object
    }
  });

  it('echoes policy options and reads a PageTrace as well as bare keys', () => {
    const t = traceFromKeys(Array.from(keys), Array.from(ops), 'pt');
    const r = replay(t, { policy: '2q', pages: [300], refaultActivation: true });
    expect(r.options).toEqual({ refaultActivation: true });
    expect(r.trace.name).toBe('pt');
    expect(r.sizes[0].misses).toBe(replay({ keys, ops }, { policy: '2q', pages: [300], refaultActivation: true }).sizes[0].misses);
    expect(replay({ keys }, { policy: 'lru', pages: [5] }).trace.writes).toBe(0);
  });

  it('rejects bad sizes and unknown policies', () => {
    expect(() => replay({ keys }, { policy: 'lru', pages: [] })).toThrow(RangeError);
    expect(() => replay({ keys }, { policy: 'lru', pages: [0] })).toThrow(/memory size 0/);
    expect(() => replay({ keys }, { policy: 'lru', pages: [2.5] })).toThrow(RangeError);
    expect(() => replay({ keys }, { policy: 'arc' as never, pages: [4] })).toThrow(/unknown policy 'arc'/);
  });

  it('densify maps keys to ids in order of first reference, exactly, above 2^32 too', () => {
    const k = Float64Array.from([2 ** 52 + 1, 5, 2 ** 52 + 1, 2 ** 33, 5, 2 ** 52, 0]);
    const d = densify(k);
    expect(Array.from(d.ids)).toEqual([0, 1, 0, 2, 1, 3, 4]);
    expect(d.nIds).toBe(5);
    expect(Array.from(d.keyOf)).toEqual([2 ** 52 + 1, 5, 2 ** 33, 2 ** 52, 0]);
    // Many keys: the table must rehash and still be exact.
    const many = Float64Array.from({ length: 300_000 }, (_, i) => (i % 150_000) * 4096 + 2 ** 40);
    const dm = densify(many);
    expect(dm.nIds).toBe(150_000);
    for (let i = 0; i < many.length; i += 7919) expect(dm.keyOf[dm.ids[i]]).toBe(many[i]);
    expect(dm.ids[150_000 + 123]).toBe(123);
  });
});
