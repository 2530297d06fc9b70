/*
 * conductor.ts — the virtual clock's scheduler (issue 17, DESIGN.md §6): every
 * simulated CPU is still its own worker running the same MM code over the one
 * buffer, but only one of them runs at a time, the one with the lowest
 * virtual clock, and the cost table (cost.ts) advances the clocks.
 *
 * STATE: vt_region.ts (the words of the layout.ts `vt` region, and what
 * the orchestrator reads and writes there).
 *
 * PROTOCOL. The orchestrator marks the participating slots RUNNABLE at clock
 * 0 and gives the turn to the first (VS_GO = 1) before it opens the start
 * gate. From then on only the slot holding the turn runs simulated code and
 * touches conductor state; it is the only writer of every word above, so
 * plain stores suffice, except VS_GO, which the next slot's thread sleeps on
 * (Atomics.store + notify; the sleeper clears its own word).
 *
 *   running:   work advances the private clock (charge). At every
 *              synchronisation point (lock acquire, trylock and release of
 *              every lock type, blocking) vt_sync compares the clock with
 *              the horizon: the lowest clock of any other candidate (a
 *              RUNNABLE slot's clock, a PARKED slot's deadline) plus the
 *              quantum. Past it, the slot hands over. Quantum 0 is strict
 *              discrete-event order; a quantum q lets a slot run up to q ns
 *              ahead of the next-lowest clock, so two acquisitions may
 *              happen in an order that is wrong by at most q ns of virtual
 *              time (README "Virtual time"). A release is in strict order
 *              (vt_sync_release: the horizon without the quantum) or stamped
 *              (below), so no CPU ever finds a lock free at a virtual time
 *              inside another's critical section.
 *   hand-over: store my clock; wake every parked slot whose condition now
 *              holds (wake_scan); pick the candidate with the lowest time,
 *              ties to the lower slot id (a parked slot's time is its
 *              deadline: it times out); if it is me, go on; else VT_TURN =
 *              it, VS_GO[it] = 1 + notify, and sleep on my VS_GO. The pick
 *              also finds the lowest time of the other candidates, which is
 *              the chosen one's horizon less the quantum: it goes in the
 *              chosen slot's VS_LOW, so the new turn holder need not scan
 *              the slots again (one scan of three per hand-over saved).
 *   waiting:   a CPU that would spin on a word another CPU must change (a
 *              lock held, an MCS successor, a TLB flush, a futex, an rwsem,
 *              a page lock, kswapd's sleep, an I/O wait) parks instead: it
 *              records (word, value, mode) and hands over. Every release
 *              (vt_released) and every hand-over re-checks the parked slots
 *              (O(slots)); one whose word changed becomes RUNNABLE at
 *              max(its clock, the waker's clock + the hand-over cost of its
 *              kind): one line transfer (spin, MCS), that plus a share of a
 *              line per other spinner (ticket: every spinner re-reads the
 *              line; ttas: spinners race for it; tas: they also hold it
 *              exclusive in turn while they spin, so the releaser first
 *              pulls it back and pays that share itself), a futex wake-up
 *              (sleeping locks), nothing (barriers, timers). Struct page
 *              and list-head lines are coherence.ts's. PK_ONE waiters
 *              (exclusive locks) are woken one per word change, so a release
 *              does not wake a herd that would only park again: a sleeping
 *              lock's in FIFO order (the one parked longest), a spinning
 *              race's lowest-numbered spinner.
 *   deadlock:  no candidate left while some slot is parked without a
 *              deadline: nobody can ever change what they wait for. The
 *              slot that finds it raises H_STOP, VT_DEADLOCK and VT_ABORT,
 *              sets every waiter's VS_GO, and each of them throws VtAbort
 *              out of its wait; the orchestrator reports every CPU's held
 *              and awaited locks (sim/run.ts). Never a hang.
 *   release stamps: at quantum > 0 a CPU that releases a lock while some
 *              other clock is lower need not hand over: it stamps the lock
 *              (a direct-mapped table after the slot lines, keyed by the
 *              lock word: the latest write release and the latest read
 *              release, virtual ns) and runs on. An acquirer whose clock is
 *              below the stamp that excludes it (a writer: either; a reader:
 *              the write stamp) waited until it: its clock jumps there and
 *              lock_stat counts a contention (vt_acquired). A stamp is live
 *              while some CPU could still act before it (its time is above
 *              the lowest clock and park deadline); a release whose slot
 *              holds another lock's live stamp hands over instead. What this
 *              can get wrong is what the quantum already can: the order of
 *              two acquisitions less than a quantum apart (a trylock too:
 *              it succeeds, late, where strict order might have failed it).
 *   private:   a lock whose stamp names one owner (no other CPU has taken
 *              it while the stamp lived) lets its owner acquire and release
 *              it up to PRIVATE_RUNAHEAD_QUANTA quanta past the horizon
 *              without handing over (vt_sync_lock).
 *   checkpoint: between operations a CPU whose clock has reached
 *              VT_CP_NEXT parks on VT_CP_GEN; when every slot in the run is
 *              parked so (kswapd may be asleep in kswapd_sleep instead) and
 *              nobody else could act before the checkpoint, the hand-over
 *              sets VT_CP_READY instead of giving the turn; the orchestrator
 *              checks the machine and calls vt_checkpoint_resume, which
 *              bumps VT_CP_GEN and gives the turn to the lowest clock.
 *   samples:   the rmap sampler's fields (second header line) are written
 *              by the turn holder between its operations.
 *   abort:     a CPU that throws sets VT_ABORT and every other slot's VS_GO
 *              (vt_abort); each throws VtAbort out of its wait.
 *   done:      a finished slot is DONE and hands over without waiting.
 *
 * Determinism: only the turn holder runs, and every decision above depends
 * only on clocks and buffer contents, so a seed, config and cost table give
 * the same run on any host under any load.
 *
 * Host profile (VtTuning.hostProfile, bench/vclock.ts): each thread adds up
 * its own host time in turn and in the scans above, in this thread's
 * variables only (vt_host_profile); nothing shared, nothing simulated.
 *
 * Host mode: vtOn is false and every entry point is one untaken branch.
 */
import { H_ERROR, H_STOP, VT_HDR_WORDS, VT_SLOT_WORDS, VT_STAMPS, G_KSWAPD, K_WAKE, globalLine, type Layout } from '../machine/layout.js';
import { COST, C_FUTEX_WAKE, C_LOCK_OP, C_TAS_RACE, C_TICKET_REREAD } from './cost.js';
import { line_ns } from './topology.js';
import { lock_line_acquired } from './coherence.js';
import {
  VT_TURN, VT_ABORT, VT_DEADLOCK, VT_READY, VT_PARTICIPANTS, VT_PARKS, VT_RS_COUNT, VT_RS_LEFT, VT_RS_F, RS_NEXT, RS_PEAK_BYTES, RS_PEAK_PTES,
  RS_END_BYTES, RS_END_PTES, VT_CP_GEN, VT_CP_READY, VT_CP_NEXT, VS_STATE, VS_GO, VS_OFF, VS_VAL, VS_MODE, VS_WOKE_OFF, VS_CLOCK, VS_DEADLINE, VS_SINCE, VS_LOW,
  ST_IDLE, ST_RUNNING, ST_RUNNABLE, ST_PARKED, ST_DONE, PK_NE, PK_EQ, PK_ONE, K_SPIN, K_TICKET, K_RACE, K_SLEEP, K_FREE, K_TAS, WOKE_TIMEOUT,
  GO_SLEEP, HO_ACQUIRE, HO_RELEASE, HO_PARK, HO_SLEEP, HO_DONE, VtAbort, hand_turn,
} from './vt_region.js';
export * from './vt_region.js';

/* ---- this thread's view ---- */
/** Is this thread a CPU under the virtual clock? (host mode: false, every hook is a no-op) */
export let vtOn = false;
let w: Int32Array = new Int32Array(0);
let f: Float64Array = new Float64Array(0);
let vt = 0;
let nslots = 0;
let me = -1;
let myLine = 0;
let clk = 0;
let horizon = Infinity;
let quantum = 0;
/** How the conductor runs on the host; bench/vclock.ts measures both (neither changes what is simulated at quantum 0). */
export interface VtTuning {
  /** polls of VS_GO before Atomics.wait */
  spinBeforeSleep?: number;
  /** every release in strict order (hand over if any clock is lower), not stamped */
  strictReleases?: boolean;
  /** account this thread's host time while it holds the turn (VtHostProfile; bench/vclock.ts) */
  hostProfile?: boolean;
  /** the orchestrator keeps the host's cores awake during the run (sim/keepawake.ts; the conductor ignores it) */
  keepAwake?: boolean;
  /** debug: at every turn also scan for the horizon, and throw if the giver's (VS_LOW) differs (test/timing/horizon.test.ts) */
  checkHorizon?: boolean;
}

/**
 * Where one CPU's thread spent host time in a virtual-clock run (VtTuning.hostProfile).
 * Exactly one thread holds the turn at a time, so the sum of every CPU's
 * turnMs is the host time the run spent running simulated code and the
 * conductor; the rest of the run's host time is hand-overs (from one thread's
 * notify until the next runs) and whatever else the host did meanwhile.
 */
export interface VtHostProfile {
  /** host ms holding the turn (simulated work, the lock library, the conductor) */
  turnMs: number;
  /** of it, host ms in the conductor's scans of the slots (waking parked slots, picking the next, the horizon) */
  conductorMs: number;
  /** turns this thread was given */
  turns: number;
  /** of them, turns it had to sleep in Atomics.wait for (the others it found while polling) */
  slept: number;
}
let prof = false;
const hp: VtHostProfile = { turnMs: 0, conductorMs: 0, turns: 0, slept: 0 };
/** performance.now() when this thread last got the turn */
let turnT0 = 0;

/** This thread's host profile of the run it last took part in (zeros unless VtTuning.hostProfile). */
export function vt_host_profile(): VtHostProfile {
  return { ...hp };
}
let spinBeforeSleep = 0;
let strictReleases = false;
let checkHorizon = false;
/** why the current hand-over happens (HO_*), for the VT_HO counters */
let why = HO_ACQUIRE;
/* the release stamps (layout.ts VT_STAMPS): keys at word stampKey, owners at stampOwner, Float64 times at stampW / stampR (Float64 indexes) */
let stampKey = 0;
let stampOwner = 0;
let stampW = 0;
let stampR = 0;
/* checkpoints: the word CPUs park on at one, and kswapd's idle-sleep word (asleep there it holds nothing) */
let cpWord = 0;
let quietWord = 0;
/** the time pick() chose its candidate by, and the lowest time of the others (the chosen one's horizon, less the quantum) */
let pickedT = Infinity;
let otherT = Infinity;
const STAMP_SHIFT = 32 - Math.log2(VT_STAMPS);
if (!Number.isInteger(Math.log2(VT_STAMPS))) throw new Error('conductor.ts: VT_STAMPS must be a power of two');

const slotLine = (s: number) => vt + VT_HDR_WORDS + s * VT_SLOT_WORDS;
const clockIdx = (b: number) => (b + VS_CLOCK) >>> 1;
const deadlineIdx = (b: number) => (b + VS_DEADLINE) >>> 1;
const lowIdx = (b: number) => (b + VS_LOW) >>> 1;

/** Virtual ns this CPU has used; host mode: 0. */
export function vt_now(): number {
  return clk;
}

/** Charge `ns` of work to this CPU's clock (no-op on the host clock). */
export function charge(ns: number): void {
  if (vtOn) clk += ns;
}

/** The run's clock in ms: virtual ms under the virtual clock, else performance.now(). */
export function clock_ms(): number {
  return vtOn ? clk / 1e6 : performance.now();
}

/* ---- CPU side ---- */

/**
 * This worker is CPU slot `slot` of a virtual-clock run: bind the views and
 * wait for the first turn (the setup phase runs in turn too, so workload
 * set-up allocates in a deterministic order).
 */
export function vt_attach(wv: Int32Array, l: Layout, slot: number, quantumNs: number, tuning: VtTuning = {}): void {
  w = wv;
  f = new Float64Array(wv.buffer, 0, wv.length >>> 1);
  vt = l.vt;
  nslots = l.nrCpuSlots;
  me = slot;
  myLine = slotLine(slot);
  quantum = quantumNs;
  spinBeforeSleep = tuning.spinBeforeSleep ?? 0;
  strictReleases = tuning.strictReleases ?? false;
  checkHorizon = tuning.checkHorizon ?? false;
  prof = tuning.hostProfile ?? false;
  hp.turnMs = hp.conductorMs = hp.turns = hp.slept = 0;
  stampKey = vt + VT_HDR_WORDS + nslots * VT_SLOT_WORDS;
  stampOwner = stampKey + VT_STAMPS;
  stampW = (stampKey + 2 * VT_STAMPS) >>> 1;
  stampR = stampW + VT_STAMPS;
  cpWord = vt + VT_CP_GEN;
  quietWord = globalLine(l, G_KSWAPD) + K_WAKE;
  clk = 0;
  vtOn = true;
  wait_turn();
}

/** This thread leaves the virtual clock (a pooled worker may run a host-clock run next). */
export function vt_detach(): void {
  if (vtOn && prof && w[vt + VT_TURN] === me) hp.turnMs += performance.now() - turnT0;
  vtOn = false;
  me = -1;
  clk = 0;
  horizon = Infinity;
}

/**
 * The setup barrier: this CPU's workload is set up; clocks start at 0 once
 * every participant is here (the last one wakes the others at its clock 0).
 */
export function vt_setup_done(): void {
  if (!vtOn) return;
  clk = 0;
  const all = w[vt + VT_PARTICIPANTS]!;
  if (++w[vt + VT_READY]! < all) {
    while (w[vt + VT_READY]! < all) park(vt + VT_READY, all, PK_EQ | K_FREE, Infinity, HO_DONE);
    return;
  }
  wake_scan();
  set_horizon();
}

/** A synchronisation point: hand over if this CPU is past the horizon. */
export function vt_sync(): void {
  if (vtOn && clk > horizon) {
    why = HO_ACQUIRE;
    handover(ST_RUNNABLE);
  }
}

/** How far past the horizon, in quanta, a CPU may run through locks it acquired last (vt_sync_lock). */
export const PRIVATE_RUNAHEAD_QUANTA = 20;

/**
 * The synchronisation point before acquiring the lock whose word is `key`.
 * Past the horizon this CPU hands over (vt_sync), unless the lock is private
 * to it (its stamp's owner: no other CPU has taken it while the stamp
 * lived — a process's own mmap_sem, its page-table locks): then it runs on,
 * up to PRIVATE_RUNAHEAD_QUANTA quanta past the horizon. The stamps keep
 * such runs exact for locks no other CPU ever takes; a CPU that does take
 * one later, at an earlier virtual time, waits for its stamp — an order
 * error of at most that run-ahead, once, on a lock private until then.
 * Quantum 0: strict.
 */
export function vt_sync_lock(key: number): void {
  if (!vtOn || clk <= horizon) return;
  if (clk <= horizon + quantum * PRIVATE_RUNAHEAD_QUANTA && is_private(key)) return;
  why = HO_ACQUIRE;
  handover(ST_RUNNABLE);
}

/**
 * Before releasing the lock whose word is `key` (`read`: a read hold of an
 * rwsem). A lock must not be seen free by a CPU whose virtual time is inside
 * the holder's critical section. If no other CPU's clock is lower, none can
 * (strict order). Otherwise, at quantum > 0, the release is stamped with
 * this CPU's clock (release stamps, above) and the CPU runs on; an acquirer
 * with a lower clock that finds the lock free waits until the stamp
 * (vt_acquired). That is exact whatever this CPU's clock (the lock was held
 * until the stamp); what the quantum bounds is the order of acquisitions.
 * Quantum 0, or a stamp slot taken by another lock's live stamp: hand over
 * first (strict order). `sleeping` (a futex mutex, an rwsem, PG_locked): a
 * release of one that another CPU has taken is never stamped either. A
 * stamp makes a CPU behind in virtual time wait for a hold that may have
 * begun after its clock, and a sleeping lock's waiter then also pays a
 * wake-up (and cannot lose the lock to a stealer, as a parked futex waiter
 * can): at the default quantum mmap1_threads read 29% and a futex mutex up
 * to 57% below quantum 0 (README "Virtual time").
 */
export function vt_sync_release(key: number, read: number, sleeping = false): void {
  if (!vtOn) return;
  const stamps = quantum > 0 && !strictReleases;
  if (clk <= horizon - quantum) {
    // the lowest clock: strict order holds; the stamp still records who owns the lock
    if (stamps) stamp_release(key, read);
    return;
  }
  const mine = is_private(key);
  if (stamps && (!sleeping || mine) && (clk <= horizon || (clk <= horizon + quantum * PRIVATE_RUNAHEAD_QUANTA && mine)) && stamp_release(key, read)) return;
  why = HO_RELEASE;
  handover(ST_RUNNABLE);
}

/**
 * The lock whose word is `key` was acquired (`read`: for reading) and its
 * previous acquirer was CPU `last` (-1: none or unknown): if its last
 * release that excludes this hold is stamped later than this CPU's clock,
 * the CPU waited for it until then — a sleeping lock's waiter (`sleeps`:
 * futex, rwsem, PG_locked) slept, and runs a wake-up after it, as if it had
 * parked; a spinner's hand-over is the line — then the lock's line comes
 * over, plus the lock operation itself. Returns the virtual ms the wait
 * began, or -1 if it did not wait (lock_stat counts a wait as a contention).
 */
export function vt_acquired(last: number, key: number, read: number, sleeps: boolean): number {
  if (!vtOn) return -1;
  let from = -1;
  const i = stamp_slot(key);
  if (w[stampKey + i] === key) {
    if (w[stampOwner + i] !== me + 1) w[stampOwner + i] = -1;
    const t = read !== 0 ? f[stampW + i]! : Math.max(f[stampW + i]!, f[stampR + i]!);
    if (t > clk) {
      from = clk / 1e6;
      clk = sleeps ? t + COST[C_FUTEX_WAKE]! : t;
    }
  }
  clk += COST[C_LOCK_OP]! + line_ns(last, me);
  lock_line_acquired(key);
  return from;
}

/** A release (or any write waiters may wait for) is done: wake whom it concerns. */
export function vt_released(): void {
  if (!vtOn) return;
  clk += COST[C_LOCK_OP]!;
  if (!prof) return wake_scan();
  const t = performance.now();
  wake_scan();
  hp.conductorMs += performance.now() - t;
}

/**
 * Park until the word at `off` satisfies `mode` against `val` (PK_EQ: equals
 * it; else: differs from it), or `timeoutNs` of virtual time pass. Returns
 * true if woken by the word, false on the timeout. Throws VtAbort if the run
 * is torn down meanwhile.
 */
export function vt_park(off: number, val: number, mode: number, timeoutNs = Infinity): boolean {
  return park(off, val, mode, timeoutNs, HO_PARK);
}

function park(off: number, val: number, mode: number, timeoutNs: number, reason: number): boolean {
  const b = myLine;
  w[b + VS_OFF] = off;
  w[b + VS_VAL] = val;
  w[b + VS_MODE] = mode;
  f[deadlineIdx(b)] = clk + timeoutNs;
  f[(b + VS_SINCE) >>> 1] = clk;
  w[vt + VT_PARKS]!++;
  why = reason;
  return handover(ST_PARKED);
}

/** Sleep `ns` of virtual time (an I/O wait, a nap): a park on no word. */
export function vt_sleep(ns: number): void {
  const b = myLine;
  w[b + VS_OFF] = -1;
  f[deadlineIdx(b)] = clk + ns;
  f[(b + VS_SINCE) >>> 1] = clk;
  why = HO_SLEEP;
  handover(ST_PARKED);
}

/**
 * This CPU threw (sim/cpuloop.ts fail): end the run at once. It holds the
 * turn, so it may write the header: VT_ABORT, then every other slot still in
 * the run gets its VS_GO and throws VtAbort out of its wait (a CPU parked on
 * a lock the thrower held would otherwise never be woken). The thrower is
 * named by H_ERROR, set before. A CPU that is itself leaving on VtAbort does
 * nothing (the run is already aborted).
 */
export function vt_abort(): void {
  if (!vtOn) return;
  vtOn = false;
  if (w[vt + VT_ABORT] !== 0) return;
  w[vt + VT_ABORT] = 1;
  for (let s = 0; s < nslots; s++) {
    const b = slotLine(s);
    const st = w[b + VS_STATE]!;
    if (s === me || st === ST_IDLE || st === ST_DONE) continue;
    Atomics.store(w, b + VS_GO, 1);
    Atomics.notify(w, b + VS_GO, 1);
  }
}

/** This CPU is done: hand the turn on for good. */
export function vt_done(): void {
  if (!vtOn) {
    vt_detach();
    return;
  }
  why = HO_DONE;
  if (w[vt + VT_ABORT] === 0) handover(ST_DONE);
  vt_detach();
}

/* ---- the conductor proper (runs on the turn holder) ---- */

function handover(st: number): boolean {
  const b = myLine;
  const t = prof ? performance.now() : 0;
  const ci = clockIdx(b);
  f[ci] = clk;
  w[b + VS_STATE] = st;
  wake_scan();
  // a tas release pulled its line back from a spinner it woke (wake, K_TAS: my clock moved), or
  // I was woken myself (my stored clock moved): the pick and my next turn see the same time
  if (clk > f[ci]!) f[ci] = clk;
  else clk = f[ci]!;
  const next = pick();
  if (prof) hp.conductorMs += performance.now() - t;
  if (f[(vt + VT_CP_NEXT) >>> 1] !== Infinity && (next < 0 || pickedT >= f[(vt + VT_CP_NEXT) >>> 1]!) && at_checkpoint()) {
    // the world has stopped: the orchestrator checks it and gives the turn back (vt_checkpoint_resume)
    w[vt + VT_TURN] = -1;
    if (prof) hp.turnMs += performance.now() - turnT0;
    Atomics.store(w, vt + VT_CP_READY, 1);
    Atomics.notify(w, vt + VT_CP_READY);
    if (st === ST_DONE) return true;
    wait_turn();
    return resume(taken_low());
  }
  if (next < 0) {
    if (any_parked()) deadlock(st);
    return true;
  }
  if (next === me) return resume(otherT);
  give_turn(next);
  if (st === ST_DONE) return true;
  wait_turn();
  return resume(taken_low());
}

/** Wait for my turn (VS_GO: GO_SLEEP, GO_TURN): spinBeforeSleep polls, then Atomics.wait; I clear my own word. */
function wait_turn(): void {
  const go = myLine + VS_GO;
  for (let i = 0; i < spinBeforeSleep && Atomics.load(w, go) === GO_SLEEP; i++);
  if (prof && Atomics.load(w, go) === GO_SLEEP) hp.slept++;
  while (Atomics.load(w, go) === GO_SLEEP) Atomics.wait(w, go, GO_SLEEP);
  Atomics.store(w, go, GO_SLEEP);
  if (prof) {
    hp.turns++;
    turnT0 = performance.now();
  }
  if (w[vt + VT_ABORT] !== 0) {
    vtOn = false;
    throw new VtAbort(w[vt + VT_DEADLOCK] !== 0 ? 'stopped: simulated deadlock' : 'stopped: the run was aborted');
  }
}

/** The lowest time of the other candidates that whoever gave me the turn left in my VS_LOW (NaN: not known); cleared. */
function taken_low(): number {
  const i = lowIdx(myLine);
  const low = f[i]!;
  f[i] = NaN;
  return low;
}

/**
 * My turn: take my clock back (a waker or my timeout may have moved it) and
 * run, with the horizon `low` + the quantum (`low`: the lowest time of the
 * other candidates, found by the pick that chose me; NaN: scan for it).
 */
function resume(low: number): boolean {
  const b = myLine;
  let woke = w[b + VS_WOKE_OFF] !== WOKE_TIMEOUT;
  if (w[b + VS_STATE] === ST_PARKED) {
    // I picked myself by my own deadline
    if (f[deadlineIdx(b)]! > f[clockIdx(b)]!) f[clockIdx(b)] = f[deadlineIdx(b)]!;
    woke = false;
  }
  clk = f[clockIdx(b)]!;
  w[b + VS_STATE] = ST_RUNNING;
  w[b + VS_WOKE_OFF] = -1;
  f[deadlineIdx(b)] = Infinity;
  // the giver's pick saw every other candidate: no scan (a turn from the orchestrator: scan)
  if (low !== low) set_horizon();
  else {
    horizon = low + quantum;
    if (checkHorizon) check_horizon();
  }
  return woke;
}

/** checkHorizon: the horizon the giver passed is the one a scan finds now. */
function check_horizon(): void {
  const h = horizon;
  set_horizon();
  if (h !== horizon) throw new Error(`conductor: cpu ${me} at ${clk} ns was given horizon ${h}, a scan finds ${horizon}`);
}

function give_turn(next: number): void {
  if (prof) hp.turnMs += performance.now() - turnT0;
  hand_turn(w, f, vt, next, why, otherT);
}

/**
 * The candidate with the lowest time (a parked slot's is its deadline); ties
 * to the lower id; -1 none. Also the lowest time of the others (otherT): the
 * chosen one's horizon less the quantum, what set_horizon would find on its
 * turn (nothing changes in between).
 */
function pick(): number {
  let best = -1;
  let bt = Infinity;
  let ot = Infinity;
  for (let s = 0; s < nslots; s++) {
    const b = slotLine(s);
    const st = w[b + VS_STATE]!;
    let t: number;
    if (st === ST_RUNNABLE || st === ST_RUNNING) t = s === me ? clk : f[clockIdx(b)]!;
    else if (st === ST_PARKED) t = f[deadlineIdx(b)]!;
    else continue;
    if (t < bt) {
      ot = bt;
      bt = t;
      best = s;
    } else if (t < ot) ot = t;
  }
  pickedT = bt;
  otherT = ot;
  return best;
}

/**
 * Has the world stopped for a checkpoint: every slot still in the run is
 * parked between operations, at the checkpoint or (kswapd) in its idle
 * sleep, and at least one at the checkpoint?
 */
function at_checkpoint(): boolean {
  let n = 0;
  for (let s = 0; s < nslots; s++) {
    const b = slotLine(s);
    const st = w[b + VS_STATE]!;
    if (st === ST_IDLE || st === ST_DONE) continue;
    if (st !== ST_PARKED) return false;
    const off = w[b + VS_OFF]!;
    if (off === cpWord) n++;
    else if (off !== quietWord) return false;
  }
  return n > 0;
}

function set_horizon(): void {
  let h = Infinity;
  for (let s = 0; s < nslots; s++) {
    if (s === me) continue;
    const b = slotLine(s);
    const st = w[b + VS_STATE]!;
    const t = st === ST_RUNNABLE ? f[clockIdx(b)]! : st === ST_PARKED ? f[deadlineIdx(b)]! : Infinity;
    if (t < h) h = t;
  }
  horizon = h + quantum;
}

function any_parked(): boolean {
  for (let s = 0; s < nslots; s++) if (w[slotLine(s) + VS_STATE] === ST_PARKED) return true;
  return false;
}

/** Wake every parked slot whose condition holds now (PK_ONE: one per word). */
function wake_scan(): void {
  for (let s = 0; s < nslots; s++) {
    const b = slotLine(s);
    if (!wakeable(b)) continue;
    const off = w[b + VS_OFF]!;
    const mode = w[b + VS_MODE]!;
    if ((mode & PK_ONE) !== 0) {
      if (woken_for(off)) continue;
      if ((mode & 0xf0) === K_SLEEP) {
        // a sleeping lock's wait queue is FIFO (rwsem, futex): the one parked longest goes first
        const e = first_parked(off, s);
        wake(e, slotLine(e), off, K_SLEEP);
        continue;
      }
      // spinners race: the lowest-numbered wins, a stand-in for the core nearest the line
    }
    wake(s, b, off, mode & 0xf0);
  }
}

/**
 * Is the slot at line `b` parked on a word whose condition now holds? A plain
 * read of the word: under the virtual clock only turn holders write the words
 * CPUs park on, and each hand-over (VS_GO's store, wait and load) orders the
 * last holder's writes before this one's reads, as for the conductor's own
 * words. (Atomics.load is not inlined: a builtin call per parked slot per
 * scan, 3.5% of the CPU threads' host time at 64 CPUs by `perf`, where a
 * release scans ~58 parked slots.)
 */
function wakeable(b: number): boolean {
  if (w[b + VS_STATE] !== ST_PARKED) return false;
  const off = w[b + VS_OFF]!;
  if (off < 0) return false;
  const v = w[off]!;
  return (w[b + VS_MODE]! & PK_EQ) !== 0 ? v === w[b + VS_VAL] : v !== w[b + VS_VAL];
}

/** Of the wakeable slots parked on `off` from slot `from` on, the one parked earliest (ties: the lower id). */
function first_parked(off: number, from: number): number {
  let best = from;
  let bt = f[(slotLine(from) + VS_SINCE) >>> 1]!;
  for (let s = from + 1; s < nslots; s++) {
    const b = slotLine(s);
    if (w[b + VS_OFF] !== off || !wakeable(b)) continue;
    const t = f[(b + VS_SINCE) >>> 1]!;
    if (t < bt) {
      bt = t;
      best = s;
    }
  }
  return best;
}

/** Is a slot already woken for `off` and not yet run? */
function woken_for(off: number): boolean {
  for (let s = 0; s < nslots; s++) {
    const b = slotLine(s);
    if (w[b + VS_WOKE_OFF] === off && w[b + VS_STATE] === ST_RUNNABLE) return true;
  }
  return false;
}

/** What re-reading the line costs the other slots parked on `off` (besides `not`): the sum of their transfers from me. */
function parked_lines(off: number, not: number): number {
  let ns = 0;
  for (let s = 0; s < nslots; s++) {
    const b = slotLine(s);
    if (s !== not && w[b + VS_STATE] === ST_PARKED && w[b + VS_OFF] === off) ns += line_ns(me, s);
  }
  return ns;
}

function wake(s: number, b: number, off: number, kind: number): void {
  let cost: number;
  switch (kind) {
    case K_SPIN:
      cost = line_ns(me, s);
      break;
    case K_TICKET:
      cost = line_ns(me, s) + COST[C_TICKET_REREAD]! * parked_lines(off, s);
      break;
    case K_RACE:
      cost = line_ns(me, s) + COST[C_TAS_RACE]! * parked_lines(off, s);
      break;
    case K_TAS:
      // test-and-set spinners keep taking the line exclusive with their xchg: the release
      // had to pull it back from one of them, behind a share of the others' (the holder
      // pays, not only the successor: what makes tas collapse before ttas), then they race
      cost = COST[C_TAS_RACE]! * parked_lines(off, s);
      clk += line_ns(s, me) + cost;
      cost += line_ns(me, s);
      break;
    case K_SLEEP:
      cost = COST[C_FUTEX_WAKE]! + line_ns(me, s);
      break;
    default:
      cost = 0;
  }
  const ci = clockIdx(b);
  const t = Math.max(f[ci]!, clk + cost);
  f[ci] = t;
  w[b + VS_STATE] = ST_RUNNABLE;
  w[b + VS_WOKE_OFF] = off;
  if (s !== me && t + quantum < horizon) horizon = t + quantum;
}

function deadlock(st: number): void {
  w[vt + VT_DEADLOCK] = 1;
  w[vt + VT_ABORT] = 1;
  Atomics.compareExchange(w, H_ERROR, 0, me + 1);
  Atomics.store(w, H_STOP, 1);
  for (let s = 0; s < nslots; s++) {
    const b = slotLine(s);
    if (s === me || w[b + VS_STATE] !== ST_PARKED) continue;
    Atomics.store(w, b + VS_GO, 1);
    Atomics.notify(w, b + VS_GO, 1);
  }
  vtOn = false;
  if (st !== ST_DONE) throw new VtAbort(`simulated deadlock at ${clk} ns: every CPU left is parked`);
}

/* ---- stop-the-world checkpoints ---- */

/** Has this CPU's clock reached the next checkpoint? (asked between operations) */
export function vt_checkpoint_due(): boolean {
  return vtOn && clk >= f[(vt + VT_CP_NEXT) >>> 1]!;
}

/**
 * Park between operations until the checkpoint has been taken. The world
 * stops when every CPU is parked so (at_checkpoint, in handover); CPUs
 * keep their clocks, so a checkpoint costs no virtual time.
 */
export function vt_checkpoint_park(): void {
  park(cpWord, w[cpWord]!, PK_NE | K_FREE, Infinity, HO_PARK);
}

/* ---- the rmap sampler's state (turn holder only) ---- */

const rsIdx = (i: number) => (vt + VT_RS_F + 2 * i) >>> 1;

/** Is a sample due: this CPU's clock has reached the next sample time and every CPU is still in its op loop? */
export function vt_sample_due(): boolean {
  return vtOn && clk >= f[rsIdx(RS_NEXT)]! && w[vt + VT_RS_LEFT] === 0;
}

/** Record a sample (metadata bytes, mapped ptes) taken now; the next one is due at the next multiple of `periodNs`. */
export function vt_sample_record(bytes: number, ptes: number, periodNs: number): void {
  w[vt + VT_RS_COUNT]!++;
  const pb = rsIdx(RS_PEAK_BYTES);
  const pp = rsIdx(RS_PEAK_PTES);
  if (w[vt + VT_RS_COUNT] === 1 || bytes > f[pb]! || (bytes === f[pb] && ptes > f[pp]!)) {
    f[pb] = bytes;
    f[pp] = ptes;
  }
  f[rsIdx(RS_END_BYTES)] = bytes;
  f[rsIdx(RS_END_PTES)] = ptes;
  f[rsIdx(RS_NEXT)] = (Math.floor(clk / periodNs) + 1) * periodNs;
}

/** This CPU leaves its op loop (its workload is torn down next): no more samples. */
export function vt_loop_left(): void {
  if (vtOn) w[vt + VT_RS_LEFT]!++;
}

/* ---- release stamps ---- */

const stamp_slot = (key: number) => Math.imul(key, 0x9e3779b1) >>> STAMP_SHIFT;

/** Has only this CPU taken the lock at `key` while its stamp lived? */
function is_private(key: number): boolean {
  const i = stamp_slot(key);
  return w[stampKey + i] === key && w[stampOwner + i] === me + 1;
}

/**
 * Stamp a release of the lock at `key` with this CPU's clock; false if its
 * slot holds another lock's stamp that is still live (later than the lowest
 * time any CPU can next act at: this CPU's clock, or the next-lowest other).
 */
function stamp_release(key: number, read: number): boolean {
  const i = stamp_slot(key);
  if (w[stampKey + i] !== key) {
    const low = Math.min(clk, horizon - quantum);
    if (f[stampW + i]! > low || f[stampR + i]! > low) return false;
    w[stampKey + i] = key;
    w[stampOwner + i] = me + 1;
    f[stampW + i] = 0;
    f[stampR + i] = 0;
  }
  const t = read !== 0 ? stampR : stampW;
  if (clk > f[t + i]!) f[t + i] = clk;
  return true;
}

/**
 * Atomics.wait for simulated blocking (kswapd's sleep, I/O waits, OOM and
 * allocation back-off): under the virtual clock a park on the word with a
 * deadline `ms` virtual milliseconds ahead. Same results as Atomics.wait.
 */
export function sleep_on(wv: Int32Array, off: number, val: number, ms: number): 'ok' | 'not-equal' | 'timed-out' {
  if (!vtOn) return Atomics.wait(wv, off, val, ms);
  if (Atomics.load(wv, off) !== val) return 'not-equal';
  return vt_park(off, val, PK_NE | K_SLEEP, ms * 1e6) ? 'ok' : 'timed-out';
}
