/*
 * clockpro.ts — CLOCK-Pro as published: Song Jiang, Feng Chen, Xiaodong
 * Zhang, "CLOCK-Pro: an effective improvement of the CLOCK replacement",
 * USENIX ATC 2005, pp. 323-336 (§3 of the paper; REFERENCE.md §2.1), on one
 * clock laid out as the paper draws it and as pyclockpro keeps it: one ring
 * of resident hot pages, resident cold pages and non-resident cold pages in
 * their test period, and three hands going round it the same way.
 *
 * Why this copy exists beside src/reclaim/clockpro.ts: the machine's policy
 * works on struct pages under zone->lru_lock, with kswapd batches, and keeps
 * its non-resident test entries in the hashed nonresident table (a cookie
 * per evicted page, lost to bucket collisions and to the bucket hand) — Peter
 * Zijlstra's approximation for a zoned kernel. The trace replay is the
 * algorithm itself, the yardstick the machine's approximation is measured
 * against: its non-resident entries are clock entries, exact, kept until a
 * hand ends their test period. test/reclaim/clockpro-reference.test.ts checks
 * it reference by reference against a slow, array-based transcription of §3.
 *
 * Idea. LIRS's insight in CLOCK's clothes: rank pages by reuse distance (the
 * number of distinct other pages touched between two references), not by
 * recency. HOT pages (short reuse distance) are never evicted while hot; COLD
 * pages compete for the m_c frames of the cold target; M - m_c frames hold
 * hot pages. A cold page gets a TEST period that lasts while it is younger
 * than the oldest hot page; referenced again within it, it has a reuse
 * distance shorter than some hot page's and turns hot. A cold page evicted
 * in its test period stays on the clock as a NON-RESIDENT entry (at most M of
 * them), so a refault within the period is recognised.
 *
 * THE CLOCK. Entries are in order of (conceptual) last access; the hands move
 * from old to young ("fwd") and wrap round. The list head — where a new or
 * "moved to the head" entry goes — is the slot right behind HAND_hot: HAND_hot
 * points at the oldest entry, so the slot it has just left is the youngest.
 * This is what makes "moving HAND_hot forward equivalent to leaving the page
 * it moves by at the list head" (§3.2) true without moving anything.
 *
 *        fwd ->   HAND_hot        HAND_test         HAND_cold
 *                    v               v                 v
 *         ... [n,t] [H] [c] [H,r] [n,t] [H] [c,t] [c,t,r] [H] [c,t] ... --+
 *          ^ head: insert here                                            |
 *          +--------------------------------------------------------------+
 *      H = hot, c = resident cold, n = non-resident cold, t = in test, r = ref
 *
 * A hit only sets the reference bit (no list movement, as in CLOCK). At a miss:
 *
 *  HAND_cold (until a frame is free), at each resident cold page it reaches
 *  (it passes hot pages and non-resident entries):
 *    ref, in test   -> hot, ref cleared, moved to the head, m_c + 1; HAND_hot
 *                      then runs while hot pages exceed M - m_c;
 *    ref, no test   -> ref cleared, a test period starts, moved to the head;
 *    no ref         -> evicted: in test, it stays where it is as a non-resident
 *                      entry (and while those exceed M, HAND_test runs); not
 *                      in test, it leaves the clock.
 *  HAND_hot (demote one hot page), at each entry it reaches:
 *    hot, ref       -> ref cleared, stays hot (now at the head);
 *    hot, no ref    -> resident cold (no test period); the hand then moves on
 *                      to the next hot page ("finally the hand stops at a hot
 *                      page"), doing HAND_test's work on the way;
 *    cold, in test  -> its test period ends (a non-resident entry leaves).
 *  HAND_test (end one test period), at the next cold page in test:
 *    its test period ends (a non-resident entry leaves the clock).
 *  Miss on a non-resident entry (necessarily in test) -> hot, moved to the
 *    head, m_c + 1, HAND_hot runs while hot pages exceed M - m_c. (When every
 *    other hot page is referenced HAND_hot comes round to this page last and
 *    demotes it.)
 *  Miss on a page not on the clock -> resident cold, in test, at the head.
 *
 * Adaptive cold target m_c: +1 when a cold page (resident or not) is found
 * re-referenced during its test period (a promotion, or a test period ending
 * with the page's reference bit set), -1 when a test period ends without one.
 * Implementation choices the paper leaves open, the same in the reference
 * test: m_c is clamped to [1, M-1] (HAND_cold always has a victim, and one
 * frame can hold a hot page); initial m_c = max(1, M/100), LIRS's 1% for the
 * HIR set; while memory first fills, the first M - m_c pages are hot (LIRS's
 * warm-up), the rest cold in test.
 *
 * Where the earlier version departed (measured when this one replaced it,
 * see the README): it kept the list with a fixed head, so the entries
 * HAND_hot passed without moving them — cold pages whose test period it
 * ended — stayed at the OLD end instead of becoming the youngest, and new
 * pages went to that fixed head rather than behind HAND_hot; and HAND_hot
 * stopped right after a demotion instead of at the next hot page.
 *
 * Implementation: per-page flag byte (HOT, TEST, REF, ON_CLOCK, + common
 * bits), the ring threaded through two Int32Arrays by page id, the hands are
 * page ids. stats.handSteps counts every entry a hand looked at. No
 * allocation per reference.
 */
import { checkInput, evict_page, replayCounts, PG_DIRTY, PG_EVICTED, PG_POLICY, PG_RESIDENT, type PolicyCounts, type PolicyInput } from './common.js';

const PG_HOT = PG_POLICY;
const PG_TEST = PG_POLICY << 1;
const PG_REF = PG_POLICY << 2;
const PG_ON_CLOCK = PG_POLICY << 3;

export interface ClockProOptions {
  /** Initial cold target m_c as a fraction of M (default 0.01, at least 1 page). */
  readonly coldInit?: number;
}

/** The initial cold target and its bounds for memory size M (shared with the reference test). */
export function clockproColdTarget(M: number, coldInit = 0.01): { init: number; min: number; max: number } {
  const min = 1;
  const max = Math.max(1, M - 1);
  return { init: Math.min(max, Math.max(min, Math.round(M * coldInit))), min, max };
}

export function replayClockPro(inp: PolicyInput, opts: ClockProOptions = {}): PolicyCounts {
  checkInput(inp, 'clockpro');
  const { ids, ops, n, nIds, pages: M, hitLog } = inp;
  const flags = new Uint8Array(nIds);
  const fwd = new Int32Array(nIds); // the way the hands go: older -> younger, round
  const back = new Int32Array(nIds);
  let nrOnClock = 0;
  let handHot = -1; // the list head is back[handHot]
  let handCold = -1;
  let handTest = -1;

  const target = clockproColdTarget(M, opts.coldInit);
  let mc = target.init;
  let nrHot = 0;
  let nrResCold = 0;
  let nrNonres = 0;

  let misses = 0;
  let refaults = 0;
  let evictions = 0;
  let writebacks = 0;
  let promotions = 0; // cold -> hot (HAND_cold found a referenced test page, or a test refault)
  let testRefaults = 0; // misses on non-resident entries
  let demotions = 0; // hot -> cold by HAND_hot
  let testExpired = 0; // test periods ended unreferenced
  let handSteps = 0; // entries the three hands looked at

  function adjustColdTarget(d: number): void {
    mc += d;
    if (mc < target.min) mc = target.min;
    else if (mc > target.max) mc = target.max;
  }

  /** Link x at the list head: right behind HAND_hot. */
  function insertHead(x: number): void {
    if (nrOnClock === 0) {
      fwd[x] = x;
      back[x] = x;
      handHot = handCold = handTest = x;
    } else {
      const h = handHot;
      const b = back[h];
      fwd[b] = x;
      back[x] = b;
      fwd[x] = h;
      back[h] = x;
    }
    nrOnClock++;
  }

  /** Unlink x; a hand at x moves on to the entry after it (-1 when x was alone). */
  function unlink(x: number): void {
    nrOnClock--;
    const to = nrOnClock === 0 ? -1 : fwd[x];
    if (handHot === x) handHot = to;
    if (handCold === x) handCold = to;
    if (handTest === x) handTest = to;
    const b = back[x];
    const f = fwd[x];
    fwd[b] = f;
    back[f] = b;
  }

  function moveToHead(x: number): void {
    unlink(x);
    insertHead(x);
  }

  function removeFromClock(x: number): void {
    unlink(x);
    flags[x] &= ~(PG_ON_CLOCK | PG_TEST | PG_REF);
  }

  /** End x's test period; a non-resident entry leaves the clock. */
  function terminateTest(x: number): void {
    const f = flags[x];
    flags[x] = f & ~PG_TEST;
    if ((f & PG_REF) !== 0) {
      adjustColdTarget(+1); // re-referenced within the period; HAND_cold will see the bit
    } else {
      adjustColdTarget(-1);
      testExpired++;
    }
    if ((f & PG_RESIDENT) === 0) {
      removeFromClock(x);
      nrNonres--;
    }
  }

  /** HAND_hot: demote one hot page, then stop at the next hot page; ends test periods on the way. */
  function runHandHot(): void {
    let demoted = false;
    while (nrHot > 0) {
      const x = handHot;
      const f = flags[x];
      handSteps++;
      if ((f & PG_HOT) !== 0) {
        if (demoted) return; // stops at a hot page
        if ((f & PG_REF) !== 0) {
          flags[x] = f & ~PG_REF;
        } else {
          flags[x] = f & ~PG_HOT;
          nrHot--;
          nrResCold++;
          demotions++;
          demoted = true;
        }
        handHot = fwd[x];
      } else {
        handHot = fwd[x];
        if ((f & PG_TEST) !== 0) terminateTest(x); // may unlink x: the hand is already past it
      }
    }
  }

  /** HAND_test: end the test period of the next cold page in test. */
  function runHandTest(): void {
    for (;;) {
      const x = handTest;
      handSteps++;
      handTest = fwd[x];
      if ((flags[x] & PG_TEST) !== 0) {
        terminateTest(x);
        return;
      }
    }
  }

  /** x (resident, on the clock) turns hot at the head; HAND_hot restores nrHot <= M - m_c. */
  function promote(x: number): void {
    flags[x] = (flags[x] & ~(PG_TEST | PG_REF)) | PG_HOT;
    nrHot++;
    promotions++;
    adjustColdTarget(+1);
    moveToHead(x);
    while (nrHot > M - mc) runHandHot();
  }

  /** HAND_cold: deal with the next resident cold page; true when it freed a frame. */
  function runHandCold(): boolean {
    let x = handCold;
    while ((flags[x] & (PG_RESIDENT | PG_HOT)) !== PG_RESIDENT) {
      handSteps++;
      x = fwd[x];
    }
    handCold = x;
    handSteps++;
    const f = flags[x];
    if ((f & PG_REF) !== 0) {
      if ((f & PG_TEST) !== 0) {
        nrResCold--;
        promote(x);
      } else {
        flags[x] = (f & ~PG_REF) | PG_TEST;
        moveToHead(x);
      }
      return false;
    }
    // Evict x.
    if (evict_page(flags, x, 0)) writebacks++;
    evictions++;
    nrResCold--;
    if ((f & PG_TEST) !== 0) {
      nrNonres++;
      handCold = fwd[x];
      while (nrNonres > M) runHandTest();
    } else {
      removeFromClock(x);
    }
    return true;
  }

  for (let i = 0; i < n; i++) {
    const id = ids[i];
    const f0 = flags[id];
    const dirty = ops[i] !== 0 ? PG_DIRTY : 0;
    if ((f0 & PG_RESIDENT) !== 0) {
      if (hitLog !== null) hitLog[i] = 1;
      flags[id] = f0 | PG_REF | dirty;
      continue;
    }
    misses++;
    if (hitLog !== null) hitLog[i] = 0;
    if ((f0 & PG_EVICTED) !== 0) refaults++;

    if (nrHot + nrResCold === M) {
      while (!runHandCold()) {
        /* HAND_cold until a frame is free */
      }
    }
    // The hands may have ended this page's test period meanwhile: read again.
    const f = flags[id];
    if ((f & PG_ON_CLOCK) !== 0) {
      // A non-resident cold page refaulted within its test period.
      testRefaults++;
      nrNonres--;
      flags[id] = f | PG_RESIDENT | dirty;
      promote(id);
    } else if (nrHot + nrResCold < M - mc && evictions === 0) {
      // Warm-up: the first M - m_c pages are hot.
      flags[id] = (f & ~(PG_TEST | PG_REF)) | PG_RESIDENT | PG_HOT | PG_ON_CLOCK | dirty;
      insertHead(id);
      nrHot++;
    } else {
      flags[id] = (f & ~(PG_HOT | PG_REF)) | PG_RESIDENT | PG_TEST | PG_ON_CLOCK | dirty;
      insertHead(id);
      nrResCold++;
    }
  }
  return replayCounts(inp, misses, refaults, evictions, writebacks, { coldTarget: mc, hot: nrHot, residentCold: nrResCold, nonresident: nrNonres, promotions, testRefaults, demotions, testExpired, handSteps });
}
