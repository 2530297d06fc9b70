/*
 * vt_region.ts — the words of the virtual clock's shared region (layout.ts
 * `vt`, issue 17) and what the run orchestrator does with them: set a run up
 * (vt_init), read a slot or the counters (vt_slot, vt_stats, vt_samples),
 * and resume the world after a stop-the-world checkpoint. The CPU side, and
 * the protocol every word follows, is conductor.ts.
 *
 * STATE (layout.ts `vt` region). A header line: VT_TURN (the slot running),
 * VT_ABORT (1: the run is being torn down, every waiter leaves), VT_DEADLOCK,
 * VT_HANDOFFS (turns handed over, a host-cost diagnostic; VT_HO + HO_* by
 * why), VT_READY / VT_PARTICIPANTS (the setup barrier), VT_PARKS; a second line for the
 * rmap sampler and the checkpoints. Then one line per CPU slot: VS_STATE
 * (IDLE: not in this run; RUNNING; RUNNABLE; PARKED; DONE), VS_GO (the word
 * the slot's thread waits on while it is not its turn: GO_SLEEP, GO_TURN;
 * conductor.ts wait_turn), VS_OFF / VS_VAL /
 * VS_MODE (what a parked slot waits for: the word at VS_OFF to equal, or to
 * differ from, VS_VAL), VS_WOKE_OFF (the word a wake-up was for; -2: the
 * park timed out), and four Float64 fields: the slot's clock, its park
 * deadline (+Infinity: none), when it parked, and VS_LOW (the lowest time
 * of the other candidates, which whoever gave it the turn found while
 * picking it: its horizon without another scan; NaN: not known). Then the release stamps. All
 * in virtual nanoseconds; a Float64 holds 2^53 ns (104 days) exactly, so
 * clocks never round. The coherence table follows (coherence.ts).
 *
 * Locking: the orchestrator writes here only before the start gate
 * (vt_init) and while the world is stopped at a checkpoint (every slot
 * parked, VT_TURN = -1: vt_checkpoint_resume); it reads the counters after
 * the run. Otherwise only the turn holder writes (conductor.ts).
 */
import { VT_HDR_WORDS, VT_SLOT_WORDS, VT_STAMPS, LINE_WORDS, type Layout } from '../machine/layout.js';
import { coherence_reset, coherence_stats } from './coherence.js';

/* header words */
export const VT_TURN = 0;
export const VT_ABORT = 1;
export const VT_DEADLOCK = 2;
export const VT_HANDOFFS = 3;
export const VT_READY = 4;
export const VT_PARTICIPANTS = 5;
export const VT_PARKS = 6;
/** turns handed over, by why the giver stopped: words VT_HO + HO_* */
export const VT_HO = 7;
export const HO_ACQUIRE = 0; // past the horizon at an acquisition or a shared-word access (vt_sync)
export const HO_RELEASE = 1; // a release that could not be stamped (vt_sync_release)
export const HO_PARK = 2; // waiting for a word another CPU must change
export const HO_SLEEP = 3; // a virtual-time sleep (vt_sleep)
export const HO_DONE = 4; // finished (and the setup barrier)
export const HO_CHECKPOINT = 5; // resumed after a stop-the-world checkpoint (given by the orchestrator)
export const HO_NAMES = ['acquire', 'release', 'park', 'sleep', 'done', 'checkpoint'] as const;
/*
 * The second header line: the rmap metadata sampler (sim/rmap_sample.ts)
 * at virtual-time intervals. VT_RS_COUNT samples taken, VT_RS_LEFT CPUs
 * that have left their op loop (samples stop then: the workload is being
 * torn down), and Float64 fields at words VT_RS_F + 2*RS_*.
 */
export const VT_RS_COUNT = 16;
export const VT_RS_LEFT = 17;
export const VT_RS_F = 18;
export const RS_NEXT = 0;
export const RS_PEAK_BYTES = 1;
export const RS_PEAK_PTES = 2;
export const RS_END_BYTES = 3;
export const RS_END_PTES = 4;
/*
 * Stop-the-world checkpoints (vt_checkpoint_*): VT_CP_GEN, the word CPUs
 * parked at a checkpoint wait on; VT_CP_READY, set when the world has
 * stopped (the orchestrator waits on it); VT_CP_NEXT (Float64), the virtual
 * time of the next checkpoint (+Infinity: none).
 */
export const VT_CP_GEN = 28;
export const VT_CP_READY = 29;
export const VT_CP_NEXT = 30;
if (VT_HO + HO_NAMES.length > LINE_WORDS || VT_RS_F + 2 * 5 > VT_CP_GEN || VT_CP_NEXT + 2 > VT_HDR_WORDS) throw new Error('conductor.ts: header line overflow');

/* slot line words */
export const VS_STATE = 0;
export const VS_GO = 1;
export const VS_OFF = 2;
export const VS_VAL = 3;
export const VS_MODE = 4;
export const VS_WOKE_OFF = 5;
export const VS_CLOCK = 8; // Float64 at words 8..9
export const VS_DEADLINE = 10; // Float64 at words 10..11
export const VS_SINCE = 12; // Float64 at words 12..13
/** Float64 at words 14..15: the lowest time of the other candidates when this slot was given the turn (NaN: not known) */
export const VS_LOW = 14;
if (VS_LOW + 2 > VT_SLOT_WORDS || VT_HDR_WORDS % 2 !== 0) throw new Error('conductor.ts: slot line overflow');

export const ST_IDLE = 0;
export const ST_RUNNING = 1;
export const ST_RUNNABLE = 2;
export const ST_PARKED = 3;
export const ST_DONE = 4;
export const ST_NAMES = ['idle', 'running', 'runnable', 'parked', 'done'] as const;

/* park modes: the condition (bit 0), wake one (bit 1), the hand-over kind (bits 4..7) */
export const PK_NE = 0;
export const PK_EQ = 1;
export const PK_ONE = 2;
export const K_SPIN = 0 << 4;
export const K_TICKET = 1 << 4;
export const K_RACE = 2 << 4;
export const K_SLEEP = 3 << 4;
export const K_FREE = 4 << 4;
export const K_TAS = 5 << 4;
/** a spinner waiting for one word to change (MCS node, TLB sequence, a bit lock's word) */
export const PARK_SPIN = PK_NE | K_SPIN;

export const WOKE_TIMEOUT = -2;

export class VtAbort extends Error {
  override name = 'VtAbort';
}

export const GO_SLEEP = 0;
export const GO_TURN = 1;


/* ---- orchestrator side ---- */

/**
 * Before the start gate: every slot IDLE but `participants` (RUNNABLE at
 * clock 0); the first participant gets the turn.
 */
export function vt_init(wv: Int32Array, l: Layout, participants: readonly number[], checkpointNs = Infinity): void {
  const fv = new Float64Array(wv.buffer, 0, wv.length >>> 1);
  const base = l.vt;
  for (let i = 0; i < VT_HDR_WORDS; i++) wv[base + i] = 0;
  for (let s = 0; s < l.nrCpuSlots; s++) {
    const b = base + VT_HDR_WORDS + s * VT_SLOT_WORDS;
    for (let i = 0; i < VT_SLOT_WORDS; i++) wv[b + i] = 0;
    wv[b + VS_OFF] = -1;
    wv[b + VS_WOKE_OFF] = -1;
    fv[(b + VS_DEADLINE) >>> 1] = Infinity;
    fv[(b + VS_LOW) >>> 1] = NaN;
  }
  const keys = base + VT_HDR_WORDS + l.nrCpuSlots * VT_SLOT_WORDS;
  wv.fill(-1, keys, keys + VT_STAMPS);
  fv.fill(0, (keys + 2 * VT_STAMPS) >>> 1, ((keys + 2 * VT_STAMPS) >>> 1) + 2 * VT_STAMPS);
  for (const s of participants) wv[base + VT_HDR_WORDS + s * VT_SLOT_WORDS + VS_STATE] = ST_RUNNABLE;
  wv[base + VT_PARTICIPANTS] = participants.length;
  fv[(base + VT_CP_NEXT) >>> 1] = checkpointNs;
  coherence_reset(wv, l);
  const first = participants[0]!;
  wv[base + VT_TURN] = first;
  Atomics.store(wv, base + VT_HDR_WORDS + first * VT_SLOT_WORDS + VS_GO, 1);
}

/** What one slot is doing, read after (or, for a report, during) a run. */
export interface SlotState {
  state: (typeof ST_NAMES)[number];
  clockNs: number;
  /** the word it is parked on, -1 none */
  parkedOn: number;
  parkedVal: number;
  /** it waits for the word to equal parkedVal (else: to leave it) */
  parkedUntilEqual: boolean;
  parkedSinceNs: number;
}

export function vt_slot(wv: Int32Array, l: Layout, s: number): SlotState {
  const fv = new Float64Array(wv.buffer, 0, wv.length >>> 1);
  const b = l.vt + VT_HDR_WORDS + s * VT_SLOT_WORDS;
  const st = wv[b + VS_STATE]!;
  return {
    state: ST_NAMES[st] ?? 'idle',
    clockNs: fv[(b + VS_CLOCK) >>> 1]!,
    parkedOn: st === ST_PARKED ? wv[b + VS_OFF]! : -1,
    parkedVal: wv[b + VS_VAL]!,
    parkedUntilEqual: (wv[b + VS_MODE]! & PK_EQ) !== 0,
    parkedSinceNs: fv[(b + VS_SINCE) >>> 1]!,
  };
}

/** Turns handed over, by why the giver stopped (HO_NAMES). */
export type HandoffsBy = Record<(typeof HO_NAMES)[number], number>;

/** Header counters: turns handed over (in all and by why), parks, and whether the run deadlocked. */
export function vt_stats(
  wv: Int32Array,
  l: Layout,
): { handoffs: number; handoffsBy: HandoffsBy; parks: number; deadlock: boolean; lineTransfers: number; lineTransferNs: number } {
  const by = {} as HandoffsBy;
  HO_NAMES.forEach((n, i) => (by[n] = wv[l.vt + VT_HO + i]! >>> 0));
  const c = coherence_stats(wv, l);
  return {
    handoffs: wv[l.vt + VT_HANDOFFS]! >>> 0,
    handoffsBy: by,
    parks: wv[l.vt + VT_PARKS]! >>> 0,
    deadlock: wv[l.vt + VT_DEADLOCK] !== 0,
    lineTransfers: c.transfers,
    lineTransferNs: c.transferNs,
  };
}

/**
 * Give the turn to slot `next` of the conductor region at `base` (counted
 * under `reason`); a parked slot is picked by its deadline: it times out.
 * `low`: the lowest time of the other candidates, which the giver found
 * while picking `next` (its horizon, less the quantum); NaN: `next` scans.
 */
export function hand_turn(wv: Int32Array, fv: Float64Array, base: number, next: number, reason: number, low = NaN): void {
  const nb = base + VT_HDR_WORDS + next * VT_SLOT_WORDS;
  fv[(nb + VS_LOW) >>> 1] = low;
  if (wv[nb + VS_STATE] === ST_PARKED) {
    const ci = (nb + VS_CLOCK) >>> 1;
    fv[ci] = Math.max(fv[ci]!, fv[(nb + VS_DEADLINE) >>> 1]!);
    wv[nb + VS_STATE] = ST_RUNNABLE;
    wv[nb + VS_WOKE_OFF] = WOKE_TIMEOUT;
  }
  wv[base + VT_TURN] = next;
  wv[base + VT_HANDOFFS]!++;
  wv[base + VT_HO + reason]!++;
  Atomics.store(wv, nb + VS_GO, GO_TURN);
  Atomics.notify(wv, nb + VS_GO, 1);
}

/** Orchestrator side: the virtual time of the checkpoint the world is stopped at. */
export function vt_checkpoint_time(wv: Int32Array, l: Layout): number {
  return new Float64Array(wv.buffer, 0, wv.length >>> 1)[(l.vt + VT_CP_NEXT) >>> 1]!;
}

/**
 * Orchestrator side, once VT_CP_READY is set and the checks are done: the
 * parked CPUs become runnable at their clocks, the next checkpoint is the
 * first multiple of `everyNs` after the lowest clock, and the lowest
 * candidate gets the turn.
 */
export function vt_checkpoint_resume(wv: Int32Array, l: Layout, everyNs: number): void {
  const fv = new Float64Array(wv.buffer, 0, wv.length >>> 1);
  const base = l.vt;
  const gen = base + VT_CP_GEN;
  wv[base + VT_CP_READY] = 0;
  wv[gen]!++;
  let best = -1;
  let bt = Infinity;
  for (let s = 0; s < l.nrCpuSlots; s++) {
    const b = base + VT_HDR_WORDS + s * VT_SLOT_WORDS;
    let st = wv[b + VS_STATE]!;
    if (st === ST_PARKED && wv[b + VS_OFF] === gen) {
      wv[b + VS_STATE] = st = ST_RUNNABLE;
      wv[b + VS_WOKE_OFF] = gen;
    }
    const t = st === ST_RUNNABLE ? fv[(b + VS_CLOCK) >>> 1]! : st === ST_PARKED ? fv[(b + VS_DEADLINE) >>> 1]! : Infinity;
    if (t < bt) {
      bt = t;
      best = s;
    }
  }
  fv[(base + VT_CP_NEXT) >>> 1] = (Math.floor(bt / everyNs) + 1) * everyNs;
  // (kswapd's idle sleep may end first: it times out)
  hand_turn(wv, fv, base, best, HO_CHECKPOINT);
}

/** The samples, read by the orchestrator after the run. */
export function vt_samples(wv: Int32Array, l: Layout): { samples: number; peakBytes: number; peakPtes: number; endBytes: number; endPtes: number } {
  const fv = new Float64Array(wv.buffer, 0, wv.length >>> 1);
  const at = (i: number) => fv[(l.vt + VT_RS_F + 2 * i) >>> 1]!;
  return { samples: wv[l.vt + VT_RS_COUNT]!, peakBytes: at(RS_PEAK_BYTES), peakPtes: at(RS_PEAK_PTES), endBytes: at(RS_END_BYTES), endPtes: at(RS_END_PTES) };
}
