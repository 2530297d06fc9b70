/*
 * nonresident.worker.ts — one simulated CPU of the two-worker conservation
 * test (nonresident-smp.test.ts). Not a test file itself: the test starts two
 * of these through tsx.
 *
 * Each worker remembers its own keys, looks up (claims) its own and the other
 * worker's keys, and logs — in worker-local arrays handed back at the end —
 * every cookie it inserted, every live cookie an exchange returned to it, and
 * every cookie it claimed. The test then checks that each inserted cookie
 * ended exactly once.
 *
 * Control words (ctl, one 64-byte line each, so spinning on one bounces
 * nothing else): ARRIVE/GATE = start barrier; BAR_COUNT/BAR_GEN/BAR_STOP =
 * the per-round barrier of the lockstep mode (the CPU that completes a round
 * decides, before releasing it, whether the run stops there — time budget
 * over, or (stopOnDouble) the last round's claims outnumber its keys — so
 * both stop after the same round); the worker's own line at
 * PROGRESS + 16 * id holds how many of its keys it has remembered so far
 * (the other reads it to pick targets) and, at +1, its claims in the last
 * lockstep round.
 *
 * Nothing shared is touched between one lookup and the next (the round's
 * claim count is published after the last one): an extra atomic in there
 * changes the timing enough to hide the 2005 race almost completely
 * (measured: about 1 round in 10 catches it without, 1 in 10^4 with an
 * Atomics.add per claim).
 *
 * Modes:
 *   free      both run flat out: put own[i], then with some probability look
 *             up a recent own key, a recent key of the other worker, or
 *             invalidate one of the other's keys — unsynchronised, overlapping.
 *   lockstep  round r: each puts its next `perRound` keys; both meet at a
 *             barrier; after a random short spin (jitter, so neither always
 *             wins) BOTH look up all 2 x perRound keys of the round, worker 0
 *             in order, worker 1 in reverse order. Every key is contested by
 *             both CPUs, and because they walk the list from opposite ends
 *             they cross somewhere in the middle: whatever head start one of
 *             them had out of the barrier, around the crossing the two look up
 *             the same key within one lookup's time of each other.
 * claim = 'plain2005' replaces the lookup by the 2005 one, whose hit is a
 * plain compare followed by a plain store of 0 (the racy protocol the header
 * of src/reclaim/nonresident.ts describes), kept here and nowhere else.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  nrTableAt,
  nonresident_put,
  recently_evicted,
  nonresident_invalidate,
  nr_hash,
  nr_cookie,
  nr_cookie_hi,
  nr_cookie_lo,
  NR_HAND,
  NR_SLOT0_NARROW,
  type NrTable,
  type NrHand,
} from '../../src/reclaim/nonresident.js';
import { u32s } from '../rng.js';

export const CTL_ARRIVE = 0;
export const CTL_GATE = 16;
export const CTL_BAR_COUNT = 32;
export const CTL_BAR_GEN = 48;
export const CTL_BAR_STOP = 64;
export const CTL_PROGRESS = 80; // + 16 * worker id
export const CTL_ROUND_CLAIMS = 1; // + CTL_PROGRESS + 16 * worker id
export const CTL_WORDS = CTL_PROGRESS + 16 * 2;

export interface WorkerArgs {
  kind: 'nonresident-smp';
  table: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  id: 0 | 1;
  nrBuckets: number;
  bucketBytes: number;
  wide: boolean;
  /** the bucket hand protocol (both workers use the same) */
  hand: NrHand;
  mode: 'free' | 'lockstep';
  claim: 'cas' | 'plain2005';
  /** keys as (mapping, index, ino) triples: this worker's, and the other's */
  own: Int32Array;
  other: Int32Array;
  seed: number;
  /** free mode: keys to remember; lockstep: at most this many rounds */
  n: number;
  /** lockstep: keys each worker remembers per round */
  perRound: number;
  /** lockstep: stop after the round that ends this many ms after the gate opened */
  budgetMs: number;
  /** lockstep: stop after a round whose claims outnumber its keys (a double claim) */
  stopOnDouble: boolean;
}

export interface WorkerLog {
  id: number;
  nIns: number;
  insLo: Int32Array;
  insHi: Int32Array;
  nOld: number;
  oldLo: Int32Array;
  oldHi: Int32Array;
  nClm: number;
  clmLo: Int32Array;
  clmHi: Int32Array;
  /** lookups attempted and how many hit */
  lookups: number;
  hits: number;
  /** lockstep: rounds run */
  rounds: number;
  /** lockstep: rounds this worker was released from the barrier while still spinning (both CPUs running) */
  tight: number;
}

/** The 2005 recently_evicted(): plain compare, plain store of 0. Racy on SMP by design. */
function recently_evicted_2005(w: Int32Array, t: NrTable, mapping: number, index: number, ino: number): number {
  const b = nr_hash(t, mapping, index);
  const c = nr_cookie(mapping, index, ino);
  for (let s = 0; s < t.numNr; s++) {
    const a = b + NR_SLOT0_NARROW + s;
    if (w[a] === c) {
      w[a] = 0;
      let d = ((Atomics.load(w, b + NR_HAND) >>> 0) % t.numNr) - s;
      if (d < 0) d += t.numNr;
      return (d + 1) * t.nrBuckets;
    }
  }
  return -1;
}

function run(a: WorkerArgs): WorkerLog {
  const w = new Int32Array(a.table);
  const ctl = new Int32Array(a.ctl);
  const t = nrTableAt(0, a.nrBuckets, a.bucketBytes, a.wide, a.hand);
  if (a.claim === 'plain2005' && a.wide) throw new Error('the 2005 claim exists for u32 cookies only');
  const plain = a.claim === 'plain2005';
  const me = a.id;
  const other = 1 - me;
  const nOwn = a.own.length / 3;
  const nPuts = a.mode === 'lockstep' ? a.n * a.perRound : a.n;
  const maxClaims = nPuts * 2 + 16;
  const log: WorkerLog = {
    id: me,
    nIns: 0,
    insLo: new Int32Array(nPuts),
    insHi: new Int32Array(nPuts),
    nOld: 0,
    oldLo: new Int32Array(nPuts),
    oldHi: new Int32Array(nPuts),
    nClm: 0,
    clmLo: new Int32Array(maxClaims),
    clmHi: new Int32Array(maxClaims),
    lookups: 0,
    hits: 0,
    rounds: 0,
    tight: 0,
  };

  const rand = u32s(a.seed);

  const put = (keys: Int32Array, k: number) => {
    const m = keys[3 * k]!, i = keys[3 * k + 1]!, ino = keys[3 * k + 2]!;
    log.insLo[log.nIns] = a.wide ? nr_cookie_lo(m, i, ino) : nr_cookie(m, i, ino);
    log.insHi[log.nIns++] = a.wide ? nr_cookie_hi(m, i, ino) : 0;
    const old = nonresident_put(w, t, m, i, ino);
    if (old !== 0) {
      log.oldLo[log.nOld] = old;
      log.oldHi[log.nOld++] = a.wide ? t.oldHi : 0;
    }
  };
  const claimed = (m: number, i: number, ino: number) => {
    log.clmLo[log.nClm] = a.wide ? nr_cookie_lo(m, i, ino) : nr_cookie(m, i, ino);
    log.clmHi[log.nClm++] = a.wide ? nr_cookie_hi(m, i, ino) : 0;
  };
  const lookup = (keys: Int32Array, k: number) => {
    const m = keys[3 * k]!, i = keys[3 * k + 1]!, ino = keys[3 * k + 2]!;
    log.lookups++;
    const d = plain ? recently_evicted_2005(w, t, m, i, ino) : recently_evicted(w, t, m, i, ino);
    if (d >= 0) {
      log.hits++;
      claimed(m, i, ino);
    }
  };
  const invalidate = (keys: Int32Array, k: number) => {
    const m = keys[3 * k]!, i = keys[3 * k + 1]!, ino = keys[3 * k + 2]!;
    if (nonresident_invalidate(w, t, m, i, ino)) claimed(m, i, ino);
  };
  /** Two-party barrier; returns true if the run stops after this round (same answer on both CPUs). */
  const barrier = (): boolean => {
    const gen = Atomics.load(ctl, CTL_BAR_GEN);
    if (Atomics.add(ctl, CTL_BAR_COUNT, 1) === 1) {
      // last to arrive: decide for both, then release
      const claims = ctl[CTL_PROGRESS + CTL_ROUND_CLAIMS]! + ctl[CTL_PROGRESS + 16 + CTL_ROUND_CLAIMS]!;
      const stop = performance.now() > deadline || (a.stopOnDouble && claims > 2 * a.perRound);
      Atomics.store(ctl, CTL_BAR_STOP, stop ? 1 : 0);
      Atomics.store(ctl, CTL_BAR_COUNT, 0);
      Atomics.add(ctl, CTL_BAR_GEN, 1);
      Atomics.notify(ctl, CTL_BAR_GEN);
      return stop;
    }
    // Spin for up to ~1 ms before sleeping. When both CPUs run, the other
    // arrives within microseconds and leaves the barrier a few hundred ns
    // after us — close enough for the lookups to cross. A sleeper is woken
    // tens of microseconds late and gives its core away meanwhile, so on a
    // busy machine a short spin would leave almost no overlapping rounds.
    let spins = 0;
    for (; Atomics.load(ctl, CTL_BAR_GEN) === gen; spins++) {
      if (spins > 1 << 16) Atomics.wait(ctl, CTL_BAR_GEN, gen, 1);
    }
    if (spins <= 1 << 16) log.tight++;
    return Atomics.load(ctl, CTL_BAR_STOP) !== 0;
  };

  if (nPuts > nOwn) throw new Error(`worker ${me}: ${nPuts} keys to remember but only ${nOwn} given`);
  // start barrier: check in, sleep on the gate until the test opens it
  Atomics.add(ctl, CTL_ARRIVE, 1);
  parentPort!.postMessage('ready');
  Atomics.wait(ctl, CTL_GATE, 0);
  const deadline = performance.now() + a.budgetMs;

  if (a.mode === 'free') {
    for (let k = 0; k < a.n; k++) {
      put(a.own, k);
      Atomics.store(ctl, CTL_PROGRESS + 16 * me, k + 1);
      const r = rand();
      const back = (r >>> 3) % 48;
      switch (r & 7) {
        case 0:
        case 1:
          if (k - back >= 0) lookup(a.own, k - back);
          break;
        case 2:
        case 3: {
          const p = Atomics.load(ctl, CTL_PROGRESS + 16 * other) - 1 - back;
          if (p >= 0) lookup(a.other, p);
          break;
        }
        case 4: {
          const p = Atomics.load(ctl, CTL_PROGRESS + 16 * other) - 1 - back;
          if (p >= 0) invalidate(a.other, p);
          break;
        }
        default:
          break;
      }
    }
  } else {
    const k0 = me === 0 ? a.own : a.other;
    const k1 = me === 0 ? a.other : a.own;
    const K = a.perRound;
    for (let r = 0; r < a.n; r++) {
      const first = r * K;
      for (let j = 0; j < K; j++) put(a.own, first + j);
      if (barrier()) break; // both stop here; this round's keys stay in the table
      for (let j = rand() & 63; j > 0; j--) rand(); // jitter: 0..63 short steps
      const before = log.nClm;
      if (me === 0) {
        for (let j = 0; j < K; j++) lookup(k0, first + j);
        for (let j = 0; j < K; j++) lookup(k1, first + j);
      } else {
        for (let j = K - 1; j >= 0; j--) lookup(k1, first + j);
        for (let j = K - 1; j >= 0; j--) lookup(k0, first + j);
      }
      ctl[CTL_PROGRESS + 16 * me + CTL_ROUND_CLAIMS] = log.nClm - before; // read at the next barrier
      log.rounds = r + 1;
    }
  }
  return log;
}

// run only when started as the test's worker (the test imports the constants above)
if ((workerData as WorkerArgs | undefined)?.kind === 'nonresident-smp') {
  const log = run(workerData as WorkerArgs);
  parentPort!.postMessage(log, [
    log.insLo.buffer,
    log.insHi.buffer,
    log.oldLo.buffer,
    log.oldHi.buffer,
    log.clmLo.buffer,
    log.clmHi.buffer,
  ] as ArrayBuffer[]);
}
