/*
 * nonresident-smp.test.ts — conservation of cookies on two real CPUs
 * (REFERENCE.md §1.7 d): two worker_threads share one table in a
 * SharedArrayBuffer, remember distinct keys and look up (claim) their own and
 * each other's; each logs what it inserted, what an exchange handed back to
 * it, and what it claimed. At the end every inserted cookie must be in
 * exactly one place: still in a slot, returned by one later remember, or
 * claimed by one lookup/invalidation. Keys are chosen so that all cookies are
 * distinct, which makes "exactly one" checkable per value. It runs with both
 * bucket hands: Atomics.add (atomic_inc_return mod NUM_NR, the machine's) and
 * the 2007 compare-and-swap loop, for both cookie layouts.
 *
 * The broken protocol: the 2005 claim (plain compare, plain store of 0) runs
 * in the same harness, lockstep mode, and the checker must report a violation
 * (two CPUs claiming one cookie, or a cookie wiped out). Which of the brief's
 * two options this is: BOTH. The race test is the real race on real threads,
 * not a planted fault; it runs until caught (bounded) and prints how many
 * rounds that took — usually tens to a few thousand. It can only be caught
 * while both workers are on a CPU at once, so on a machine too busy to give
 * them that (fewer than MIN_TIGHT overlapping rounds) it is skipped with a
 * note rather than passed or failed; the checker itself is always shown to
 * catch a planted duplicate, a planted loss and a stranger.
 *
 * Seeds: NR_SEED=<n> reruns with a given seed; a failing check prints it.
 */
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import {
  nrTableAt,
  nr_init,
  nr_cookie,
  nr_cookie_hi,
  nr_cookie_lo,
  nr_slot_word,
  NR_HI,
  type NrTable,
  type NrHand,
} from '../../src/reclaim/nonresident.js';
import { SWAPPER_SPACE, mappingOfInode } from '../../src/machine/page.js';
import { CTL_ARRIVE, CTL_GATE, CTL_WORDS, type WorkerArgs, type WorkerLog } from './nonresident.worker.js';

const WORKER = new URL('./nonresident.worker.ts', import.meta.url);
/*
 * How the .ts worker is loaded. TOOLCHAIN.md says execArgv ['--import','tsx'];
 * on this Node 20.20 + tsx 4.23 that does NOT work in a worker: tsx's loader
 * registers its hooks only on the main thread when worker_threads has no
 * isInternalThread (Node < 22), and the worker dies with
 * ERR_UNKNOWN_FILE_EXTENSION. So a two-line eval'd bootstrap registers tsx
 * through its API inside the worker and then imports the worker file.
 */
const BOOT = `
const { workerData } = require('node:worker_threads');
import('tsx/esm/api').then((tsx) => { tsx.register(); return import(workerData.file); });
`;
const BASE_SEED = Number(process.env.NR_SEED ?? 20070726);

interface RunOpts {
  wide: boolean;
  /** bucket hand: Atomics.add (the machine's) or the 2007 compare-and-swap loop; default 'add' */
  hand?: NrHand;
  bucketBytes: number;
  nrBuckets: number;
  mode: 'free' | 'lockstep';
  claim: 'cas' | 'plain2005';
  n: number;
  /** lockstep: keys each worker remembers per round */
  perRound?: number;
  seed: number;
  /** lockstep: stop after the round that ends this long after the start */
  budgetMs?: number;
  /** lockstep: stop after a round with a double claim */
  stopOnDouble?: boolean;
}

/**
 * Keys for both workers with pairwise-distinct cookies (u32 cookie, and the
 * wide lo and hi words): worker 0 evicts pages of a file, worker 1 swap entries.
 */
function makeKeys(n: number): [Int32Array, Int32Array] {
  const seen = new Set<number>();
  const seenLo = new Set<number>();
  const pick = (mapping: number, ino: number, first: number) => {
    const out = new Int32Array(3 * n);
    for (let k = 0, i = first; k < n; i++) {
      const c = nr_cookie(mapping, i, ino), lo = nr_cookie_lo(mapping, i, ino), hi = nr_cookie_hi(mapping, i, ino);
      if (seen.has(c) || seen.has(hi) || seenLo.has(lo)) continue;
      seen.add(c).add(hi);
      seenLo.add(lo);
      out.set([mapping, i, ino], 3 * k++);
    }
    return out;
  };
  return [pick(mappingOfInode(9), 9, 0), pick(SWAPPER_SPACE, 0, 1)];
}

const key = (lo: number, hi: number) => `${lo}:${hi}`;

export interface Verdict {
  ok: boolean;
  inserted: number;
  present: number;
  overwritten: number;
  claimed: number;
  /** cookies that ended more than once (value: how many endings) */
  duplicates: [string, number][];
  /** inserted cookies found nowhere */
  lost: string[];
  /** cookies returned or claimed that nobody inserted */
  strangers: string[];
}

/** The conservation check: each inserted cookie ends exactly once. */
export function checkConservation(inserted: string[], present: string[], overwritten: string[], claimed: string[]): Verdict {
  const ends = new Map<string, number>();
  const ins = new Set(inserted);
  const strangers: string[] = [];
  for (const list of [present, overwritten, claimed])
    for (const c of list) {
      if (!ins.has(c)) strangers.push(c);
      ends.set(c, (ends.get(c) ?? 0) + 1);
    }
  const duplicates: [string, number][] = [];
  const lost: string[] = [];
  for (const c of ins) {
    const e = ends.get(c) ?? 0;
    if (e === 0) lost.push(c);
    else if (e > 1) duplicates.push([c, e]);
  }
  return {
    ok: duplicates.length === 0 && lost.length === 0 && strangers.length === 0 && ins.size === inserted.length,
    inserted: inserted.length,
    present: present.length,
    overwritten: overwritten.length,
    claimed: claimed.length,
    duplicates,
    lost,
    strangers,
  };
}

function tableContents(w: Int32Array, t: NrTable): string[] {
  const out: string[] = [];
  for (let o = 0; o < t.nrBuckets; o++) {
    const b = t.base + o * t.bucketWords;
    for (let s = 0; s < t.numNr; s++) {
      const a = nr_slot_word(t, b, s);
      if (w[a] !== 0) out.push(key(w[a]!, t.wide ? w[a + NR_HI]! : 0));
    }
  }
  return out;
}

interface PairResult {
  verdict: Verdict;
  logs: WorkerLog[];
  /** per lockstep round key: how many CPUs claimed it */
  claimsPerKey: Map<string, number>;
  keys: [Int32Array, Int32Array];
}

/** Start two workers on one table, release them together, collect and check. */
async function runPair(o: RunOpts): Promise<PairResult> {
  const t = nrTableAt(0, o.nrBuckets, o.bucketBytes, o.wide, o.hand ?? 'add');
  const table = new SharedArrayBuffer(o.nrBuckets * t.bucketWords * 4);
  const w = new Int32Array(table);
  nr_init(w, t);
  const ctlSab = new SharedArrayBuffer(CTL_WORDS * 4);
  const ctl = new Int32Array(ctlSab);
  const nPuts = o.mode === 'lockstep' ? o.n * (o.perRound ?? 1) : o.n;
  const keys = makeKeys(nPuts);
  const workers: Worker[] = [];
  const ready: Promise<void>[] = [];
  const done: Promise<WorkerLog>[] = [];
  for (const id of [0, 1] as const) {
    const args: WorkerArgs = {
      kind: 'nonresident-smp',
      table,
      ctl: ctlSab,
      id,
      nrBuckets: o.nrBuckets,
      bucketBytes: o.bucketBytes,
      wide: o.wide,
      hand: o.hand ?? 'add',
      mode: o.mode,
      claim: o.claim,
      own: keys[id],
      other: keys[1 - id]!,
      seed: (o.seed + 0x9e3779b9 * (id + 1)) >>> 0,
      n: o.n,
      perRound: o.perRound ?? 1,
      budgetMs: o.budgetMs ?? Infinity,
      stopOnDouble: o.stopOnDouble ?? false,
    };
    const wk = new Worker(BOOT, { eval: true, workerData: { ...args, file: WORKER.href } });
    workers.push(wk);
    let gotReady!: () => void;
    let failReady!: (e: Error) => void;
    ready.push(new Promise<void>((res, rej) => ((gotReady = res), (failReady = rej))));
    done.push(
      new Promise<WorkerLog>((resolve, reject) => {
        const fail = (e: Error) => (failReady(e), reject(e));
        wk.on('message', (m) => (m === 'ready' ? gotReady() : resolve(m as WorkerLog)));
        wk.on('error', fail);
        wk.on('exit', (code) => code !== 0 && fail(new Error(`worker ${id} exited with ${code}`)));
      }),
    );
    done[id]!.catch(() => {}); // reported through Promise.all below
  }
  try {
    await Promise.all(ready);
  } catch (e) {
    await Promise.all(workers.map((wk) => wk.terminate()));
    throw e;
  }
  expect(Atomics.load(ctl, CTL_ARRIVE)).toBe(2);
  Atomics.store(ctl, CTL_GATE, 1); // open the gate: both start together
  Atomics.notify(ctl, CTL_GATE);
  const logs = await Promise.all(done);
  await Promise.all(workers.map((wk) => wk.terminate()));

  const inserted: string[] = [];
  const overwritten: string[] = [];
  const claimed: string[] = [];
  for (const l of logs) {
    for (let k = 0; k < l.nIns; k++) inserted.push(key(l.insLo[k]!, l.insHi[k]!));
    for (let k = 0; k < l.nOld; k++) overwritten.push(key(l.oldLo[k]!, l.oldHi[k]!));
    for (let k = 0; k < l.nClm; k++) claimed.push(key(l.clmLo[k]!, l.clmHi[k]!));
  }
  const claimsPerKey = new Map<string, number>();
  for (const c of claimed) claimsPerKey.set(c, (claimsPerKey.get(c) ?? 0) + 1);
  return { verdict: checkConservation(inserted, tableContents(w, t), overwritten, claimed), logs, claimsPerKey, keys };
}

function describeFailure(o: RunOpts, v: Verdict): string {
  return (
    `conservation violated (run seed ${o.seed}; NR_SEED=${BASE_SEED} replays the workers' random choices, not the thread timing; ` +
    `${JSON.stringify({ ...o, seed: undefined })}): ` +
    `${v.duplicates.length} duplicated, ${v.lost.length} lost, ${v.strangers.length} strangers; ` +
    `first: ${JSON.stringify({ dup: v.duplicates.slice(0, 3), lost: v.lost.slice(0, 3), strangers: v.strangers.slice(0, 3) })}`
  );
}

describe('conservation checker', () => {
  it('accepts a consistent history and catches a planted duplicate, a planted loss and a stranger', () => {
    const ins = ['1:0', '2:0', '3:0', '4:0'];
    expect(checkConservation(ins, ['1:0'], ['2:0'], ['3:0', '4:0']).ok).toBe(true);
    const dup = checkConservation(ins, ['1:0'], ['2:0', '3:0'], ['3:0', '4:0']);
    expect(dup.ok).toBe(false);
    expect(dup.duplicates).toEqual([['3:0', 2]]);
    const lost = checkConservation(ins, ['1:0'], ['2:0'], ['4:0']);
    expect(lost.lost).toEqual(['3:0']);
    expect(checkConservation(ins, ['1:0', '9:0'], ['2:0'], ['3:0', '4:0']).strangers).toEqual(['9:0']);
  });
});

describe('two CPUs, atomic protocol: every remembered cookie ends exactly once, with either bucket hand', () => {
  for (const wide of [false, true]) for (const hand of ['add', 'cas'] as const) {
    const name = `${wide ? 'unsigned long cookies (slot-locked 64-bit exchange)' : 'u32 cookies'}, ${hand === 'add' ? 'Atomics.add hand' : 'compare-and-swap hand'}`;

    it(`free-running, overlapping remember / lookup / invalidate — ${name}`, async () => {
      // 4 buckets: the two CPUs share every hand and every slot all the time
      const o: RunOpts = { wide, hand, bucketBytes: 64, nrBuckets: 4, mode: 'free', claim: 'cas', n: 20000, seed: BASE_SEED };
      const { verdict: v, logs } = await runPair(o);
      expect(v.ok, describeFailure(o, v)).toBe(true);
      expect(v.inserted).toBe(2 * o.n);
      // the run exercised all three fates, and both CPUs claimed cookies
      expect(v.overwritten).toBeGreaterThan(1000);
      expect(v.present).toBeGreaterThan(0);
      expect(logs[0]!.nClm).toBeGreaterThan(100);
      expect(logs[1]!.nClm).toBeGreaterThan(100);
    });

    it(`lockstep: both CPUs claim the same key at the same moment, exactly one wins — ${name}`, async () => {
      const o: RunOpts = { wide, hand, bucketBytes: 64, nrBuckets: 4, mode: 'lockstep', claim: 'cas', n: 1500, perRound: 4, seed: BASE_SEED + 1 };
      const { verdict: v, claimsPerKey, logs } = await runPair(o);
      expect(v.ok, describeFailure(o, v)).toBe(true);
      expect(logs[0]!.rounds).toBe(o.n);
      expect(logs[1]!.rounds).toBe(o.n);
      // every key was present when both looked it up, so each was claimed exactly once
      expect(v.claimed).toBe(2 * o.n * o.perRound!);
      expect([...claimsPerKey.values()].every((n) => n === 1)).toBe(true);
      // and both CPUs won some of the races
      expect(logs[0]!.hits).toBeGreaterThan(o.n / 20);
      expect(logs[1]!.hits).toBeGreaterThan(o.n / 20);
    });
  }
});

describe('two CPUs, 2005 plain-store claim (deliberately broken)', () => {
  it('the conservation check catches the race: cookies claimed by both CPUs', async (ctx) => {
    // The real race on real threads, no planted fault: lockstep rounds of 16
    // contested keys until a round claims more cookies than it had keys (or
    // 30000 rounds / 4 s), then the full conservation check on the logs.
    // The race needs both workers on a CPU at the same moment; a round in
    // which the waiter was released while still spinning at the barrier is
    // counted as "tight". Measured here: about 1 tight round in 10 catches it.
    // If the machine is so busy that the two workers (almost) never ran
    // together, there is nothing to catch: the test is then skipped with a
    // note — the checker's own ability to flag a double claim is shown by the
    // planted-duplicate test above, which always runs.
    const MIN_TIGHT = 2000;
    let caught: Verdict | null = null;
    let rounds = 0;
    let tight = 0;
    let runs = 0;
    while (runs < 2 && !caught) {
      runs++;
      const o: RunOpts = {
        wide: false,
        bucketBytes: 64,
        nrBuckets: 4,
        mode: 'lockstep',
        claim: 'plain2005',
        n: 30000,
        perRound: 8,
        seed: BASE_SEED + 100 + runs,
        budgetMs: 4000,
        stopOnDouble: true,
      };
      const { verdict: v, logs } = await runPair(o);
      rounds += logs[0]!.rounds;
      tight += logs[0]!.tight + logs[1]!.tight;
      if (!v.ok) caught = v;
    }
    if (!caught && tight < MIN_TIGHT) {
      console.log(`2005 race not exercised: only ${tight} tight rounds of ${rounds} (machine busy); skipped`);
      ctx.skip(`the two workers ran together in only ${tight} of ${rounds} rounds`);
    }
    expect(caught, `the 2005 claim never raced in ${rounds} rounds, ${tight} of them tight`).not.toBeNull();
    console.log(
      `2005 plain-store claim: conservation violated after ${rounds} lockstep rounds (${tight} tight, ${runs} run(s)): ` +
        `${caught!.duplicates.length} cookie(s) claimed by both CPUs, ${caught!.lost.length} lost, of ${caught!.inserted} inserted`,
    );
    expect(caught!.duplicates.length + caught!.lost.length).toBeGreaterThan(0);
  });
});
