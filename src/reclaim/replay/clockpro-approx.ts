/*
 * clockpro-approx.ts — draft for experiments.
 */
import { checkInput, PG_DIRTY, PG_EVICTED, PG_POLICY, PG_RESIDENT, type PolicyCounts, type PolicyInput } from './common.js';

const PG_ACTIVE = PG_POLICY;
const PG_REF = PG_POLICY << 1;

export interface ClockProApproxOptions {
  readonly nonresident?: number; // capacity factor of M
  readonly inactiveInit?: number; // fraction of M
  readonly rotateWeight?: number; // rule 9: target decrement per referenced active rotation
  readonly adapt?: boolean;
}

export function replayClockProApprox(inp: PolicyInput, opts: ClockProApproxOptions = {}): PolicyCounts {
  checkInput(inp, 'clockpro-approx');
  const { ids, ops, n, nIds, pages: M, hitLog } = inp;
  const flags = new Uint8Array(nIds);
  const ACT = nIds;
  const INA = nIds + 1;
  const next = new Int32Array(nIds + 2);
  const prev = new Int32Array(nIds + 2);
  next[ACT] = prev[ACT] = ACT;
  next[INA] = prev[INA] = INA;
  const cap = Math.max(1, Math.round(M * (opts.nonresident ?? 1)));
  const ring = new Int32Array(cap).fill(-1);
  const slotOf = new Int32Array(nIds).fill(-1);
  let nrHand = 0;
  const tMin = 1;
  const tMax = Math.max(1, M - 1);
  let target = Math.min(tMax, Math.max(tMin, Math.round(M * (opts.inactiveInit ?? 1 / 3))));
  const rotateWeight = opts.rotateWeight ?? 0;
  let frac = 0;

  let nrActive = 0;
  let nrInactive = 0;
  let used = 0;
  let hits = 0, misses = 0, refaults = 0, evictions = 0, writebacks = 0;
  let found = 0, recycled = 0, activations = 0, deactivations = 0, rotations = 0;

  function listAdd(x: number, h: number): void {
    const q = next[h];
    next[x] = q;
    prev[x] = h;
    prev[q] = x;
    next[h] = x;
  }
  function listDel(x: number): void {
    const p = prev[x];
    const q = next[x];
    next[p] = q;
    prev[q] = p;
  }
  const adapt = opts.adapt ?? true;
  function adjust(d: number): void {
    if (!adapt) return;
    target += d;
    if (target < tMin) target = tMin;
    else if (target > tMax) target = tMax;
  }

  function reclaimOne(): void {
    for (;;) {
      if (nrActive > 0 && (nrInactive < target || nrInactive === 0)) {
        const x = prev[ACT];
        const f = flags[x];
        listDel(x);
        if ((f & PG_REF) !== 0) {
          flags[x] = f & ~PG_REF;
          listAdd(x, ACT);
          rotations++;
          if (rotateWeight > 0) {
            frac += rotateWeight;
            if (frac >= 1) {
              frac -= 1;
              adjust(-1);
            }
          }
        } else {
          flags[x] = f & ~PG_ACTIVE;
          listAdd(x, INA);
          nrActive--;
          nrInactive++;
          deactivations++;
        }
        continue;
      }
      const x = prev[INA];
      const f = flags[x];
      listDel(x);
      if ((f & PG_REF) !== 0) {
        flags[x] = (f & ~PG_REF) | PG_ACTIVE;
        listAdd(x, ACT);
        nrInactive--;
        nrActive++;
        activations++;
        continue;
      }
      nrInactive--;
      if ((f & PG_DIRTY) !== 0) writebacks++;
      flags[x] = (f & ~(PG_RESIDENT | PG_DIRTY)) | PG_EVICTED;
      evictions++;
      const old = ring[nrHand];
      if (old >= 0) {
        slotOf[old] = -1;
        recycled++;
        adjust(-1);
      }
      ring[nrHand] = x;
      slotOf[x] = nrHand;
      nrHand = nrHand + 1 === cap ? 0 : nrHand + 1;
      return;
    }
  }

  for (let i = 0; i < n; i++) {
    const id = ids[i];
    const f = flags[id];
    const dirty = ops[i] !== 0 ? PG_DIRTY : 0;
    if ((f & PG_RESIDENT) !== 0) {
      hits++;
      if (hitLog !== null) hitLog[i] = 1;
      flags[id] = f | PG_REF | dirty;
      continue;
    }
    misses++;
    if (hitLog !== null) hitLog[i] = 0;
    if ((f & PG_EVICTED) !== 0) refaults++;
    if (used < M) used++;
    else reclaimOne();
    const s = slotOf[id];
    if (s >= 0) {
      ring[s] = -1;
      slotOf[id] = -1;
      found++;
      adjust(+1);
      flags[id] = (f & ~PG_REF) | PG_RESIDENT | PG_ACTIVE | dirty;
      listAdd(id, ACT);
      nrActive++;
    } else {
      flags[id] = (f & ~(PG_REF | PG_ACTIVE)) | PG_RESIDENT | dirty;
      listAdd(id, INA);
      nrInactive++;
    }
  }
  return { hits, misses, refaults, evictions, writebacks, stats: { inactiveTarget: target, nrActive, nrInactive, found, recycled, activations, deactivations, rotations } };
}
