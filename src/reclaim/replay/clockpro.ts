/*
 * clockpro.ts — CLOCK-Pro (Song Jiang, Feng Chen, Xiaodong Zhang, "CLOCK-Pro:
 * an effective improvement of the CLOCK replacement", USENIX ATC 2005,
 * pp. 323-336), following REFERENCE.md §2.1, which was cross-checked against
 * Peter Zijlstra's and NetBSD's implementations.
 *
 * Idea. LIRS's insight in CLOCK's clothes: rank pages by reuse distance (the
 * number of distinct other pages touched between two references), not by
 * recency. Pages with a small reuse distance are HOT and are never evicted
 * while hot; pages with a large one are COLD and compete for m_c frames
 * (the cold target); M - m_c frames hold hot pages. To learn a cold page's
 * reuse distance, a reference to it starts a TEST period that lasts as long
 * as the page is younger than the oldest hot page: a second reference within
 * the test period proves a reuse distance smaller than some hot page's, so the
 * page turns hot. Evicted cold pages still in their test period stay on the
 * clock as NON-RESIDENT entries (metadata only, at most M of them), so a
 * refault within the test period is recognised.
 *
 * One clock holds every tracked entry in order of (conceptual) last access:
 *
 *            head (newest) --next--> ... --next--> tail (oldest) --next--> head
 *      hands move from the tail towards the head ("prev") and wrap around:
 *
 *          tail .. [c] [H] [c,t] [n,t] [H] [c,t] [H] ... head
 *                       ^HAND_hot  ^HAND_test    (HAND_cold: at the oldest
 *                                                 resident cold page)
 *      H = hot, c = resident cold, n = non-resident cold, t = in test
 *
 * A hit only sets the page's reference bit (no list movement, no lock, as
 * in CLOCK). All work happens at a miss:
 *
 *  HAND_cold (find a frame), at the resident cold page it points to:
 *    ref=1, in test  -> re-referenced within its test period: becomes hot,
 *                       ref cleared, moved to the head; m_c += 1; if the hot
 *                       pages now exceed M - m_c, HAND_hot runs.
 *    ref=1, no test  -> ref cleared, a new test period starts, moved to the head.
 *    ref=0           -> evicted. In test: stays as a non-resident cold entry
 *                       (and if those now exceed M, HAND_test runs); else it
 *                       leaves the clock.
 *  HAND_hot (demote one hot page), from the oldest hot page:
 *    hot, ref=1      -> ref cleared, stays hot, hand moves on.
 *    hot, ref=0      -> becomes a resident cold page (not in test); the hand
 *                       stops past it.
 *    cold            -> its test period ends (a non-resident entry leaves the
 *                       clock): the hand does HAND_test's work as it goes.
 *
 * Positions. The paper's clock never moves a page: a hand passes it. Kept as
 * a list with a fixed head, "passed by the hand" must become "moved to the
 * head", because in the clock the slot just behind the hand is the youngest
 * position that hand will see. HAND_hot is the rearmost hand (nothing behind
 * it is hot or in test), so a page it passes — kept hot or demoted — goes to
 * the head, and so does a page HAND_cold passes with its bit set. (Demoting
 * in place instead, behind HAND_cold, strands the demoted pages: HAND_cold,
 * always finding victims among the newest cold pages, never wraps round to
 * them. Measured: after a random phase, a loop over 1.1 M pages then stayed
 * at 100% misses in 3 of 12 seeds.) HAND_cold evicting a page in test leaves
 * the non-resident entry in place, where HAND_test will find it.
 *  HAND_test, at the oldest cold page in test:
 *                       ends its test period; a non-resident entry leaves the clock.
 *
 *  Miss on a non-resident entry still in test -> the page becomes hot at the
 *      head, m_c += 1, and HAND_hot demotes hot pages down to M - m_c. (When
 *      every other hot page is referenced, HAND_hot reaches this page last and
 *      demotes it: the authors' reference code likewise refuses a promotion
 *      when HAND_hot finds no unreferenced hot page before the candidate.)
 *  Miss on a page not on the clock -> resident cold, in test, at the head.
 *
 * Adaptive cold target m_c: +1 when a cold page (resident or not) is found
 * re-referenced during its test period, -1 when a test period ends without a
 * reference. The paper leaves the bounds to the implementation; here m_c is
 * clamped to [1, M-1] — at least one frame for cold pages (HAND_cold always
 * has a victim), at least one for a hot page. Initial m_c = max(1, M/100),
 * LIRS's 1% default for the HIR set, and while memory fills the first
 * M - m_c pages become hot (LIRS's warm-up: the first L_lirs distinct blocks
 * are LIR), the rest cold in test.
 *
 * Implementation: per-page flag byte (HOT, TEST, REF, ON_CLOCK, + common
 * bits), the clock threaded through two Int32Arrays by page id, the hands
 * are page ids. Pages do not move on a hit. At a miss a hand step either
 * clears a bit, changes a state, removes an entry, or passes over an entry
 * that is not its business (HAND_cold over hot pages): with a small m_c that
 * last kind dominates, as in any single-clock CLOCK-Pro (Peter Zijlstra split
 * the clock into lists partly for this). stats.handSteps counts all of them.
 */
import { checkInput, PG_DIRTY, PG_EVICTED, PG_POLICY, PG_RESIDENT, type PolicyCounts, type PolicyInput } from './common.js';

const PG_HOT = PG_POLICY;
const PG_TEST = PG_POLICY << 1;
const PG_REF = PG_POLICY << 2;
const PG_ON_CLOCK = PG_POLICY << 3;

export interface ClockProOptions {
  /** Initial cold target m_c as a fraction of M (default 0.01, at least 1 page). */
  readonly coldInit?: number;
}

export function replayClockPro(inp: PolicyInput, opts: ClockProOptions = {}): PolicyCounts {
  checkInput(inp, 'clockpro');
  const { ids, ops, n, nIds, pages: M, hitLog } = inp;
  const flags = new Uint8Array(nIds);
  const next = new Int32Array(nIds); // towards older; next[tail] = head
  const prev = new Int32Array(nIds); // towards newer; prev[head] = tail
  let head = -1;
  let handHot = -1;
  let handCold = -1;
  let handTest = -1;

  const mcMin = 1;
  const mcMax = Math.max(1, M - 1);
  let mc = Math.min(mcMax, Math.max(mcMin, Math.round(M * (opts.coldInit ?? 0.01))));
  let nrHot = 0;
  let nrResCold = 0;
  let nrNonres = 0;

  let hits = 0;
  let misses = 0;
  let refaults = 0;
  let evictions = 0;
  let writebacks = 0;
  let promotions = 0; // cold -> hot (HAND_cold found a referenced test page, or a test refault)
  let testRefaults = 0; // misses on non-resident entries in test
  let demotions = 0; // hot -> cold by HAND_hot
  let testExpired = 0; // test periods ended unreferenced
  let handSteps = 0; // entries the three hands looked at

  function adjustColdTarget(d: number): void {
    mc += d;
    if (mc < mcMin) mc = mcMin;
    else if (mc > mcMax) mc = mcMax;
  }

  /** Move every hand that points at x one step on (towards newer); -1 if x is alone. */
  function handsPast(x: number, leaving: boolean): void {
    const p = prev[x];
    const to = p === x ? (leaving ? -1 : x) : p;
    if (handHot === x) handHot = to;
    if (handCold === x) handCold = to;
    if (handTest === x) handTest = to;
  }

  function insertHead(x: number): void {
    if (head < 0) {
      next[x] = x;
      prev[x] = x;
    } else {
      const t = prev[head];
      next[x] = head;
      prev[x] = t;
      next[t] = x;
      prev[head] = x;
    }
    head = x;
  }

  function unlink(x: number): void {
    if (head === x) head = next[x] === x ? -1 : next[x];
    const p = prev[x];
    const q = next[x];
    next[p] = q;
    prev[q] = p;
  }

  function removeFromClock(x: number): void {
    handsPast(x, true);
    unlink(x);
    flags[x] &= ~(PG_ON_CLOCK | PG_TEST | PG_REF);
  }

  function moveToHead(x: number): void {
    handsPast(x, false);
    if (x === head) return;
    unlink(x);
    insertHead(x);
  }

  /** End x's test period; a non-resident entry leaves the clock. */
  function terminateTest(x: number): void {
    const f = flags[x];
    flags[x] = f & ~PG_TEST;
    if ((f & PG_REF) !== 0) {
      adjustColdTarget(+1); // referenced within the period; HAND_cold will see the bit
    } else {
      adjustColdTarget(-1);
      testExpired++;
    }
    if ((f & PG_RESIDENT) === 0) {
      removeFromClock(x);
      nrNonres--;
    }
  }

  /** HAND_hot: demote one hot page to cold, ending test periods on the way. */
  function runHandHot(): void {
    if (handHot < 0) handHot = prev[head];
    for (;;) {
      const x = handHot;
      const f = flags[x];
      handSteps++;
      if ((f & PG_HOT) !== 0) {
        if ((f & PG_REF) !== 0) {
          flags[x] = f & ~PG_REF;
          moveToHead(x); // hands at x move on
        } else {
          flags[x] = f & ~PG_HOT;
          nrHot--;
          nrResCold++;
          demotions++;
          moveToHead(x); // see "Positions" above: behind HAND_hot is the head
          return;
        }
      } else {
        handHot = prev[x];
        if ((f & PG_TEST) !== 0) terminateTest(x);
      }
    }
  }

  /** HAND_test: end the test period of the oldest cold page in test. */
  function runHandTest(): void {
    if (handTest < 0) handTest = prev[head];
    for (;;) {
      const x = handTest;
      handSteps++;
      handTest = prev[x];
      if ((flags[x] & PG_TEST) !== 0) {
        terminateTest(x);
        return;
      }
    }
  }

  function promote(x: number): void {
    flags[x] = (flags[x] & ~(PG_TEST | PG_REF)) | PG_HOT;
    nrHot++;
    promotions++;
    adjustColdTarget(+1);
    moveToHead(x);
    while (nrHot > M - mc) runHandHot();
  }

  /** HAND_cold: look at one resident cold page; true when a frame was freed. */
  function runHandCold(): boolean {
    if (handCold < 0) handCold = prev[head];
    let x = handCold;
    while ((flags[x] & (PG_RESIDENT | PG_HOT)) !== PG_RESIDENT) {
      handSteps++;
      x = prev[x];
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
    if ((f & PG_DIRTY) !== 0) writebacks++;
    evictions++;
    nrResCold--;
    flags[x] = (f & ~(PG_RESIDENT | PG_DIRTY)) | PG_EVICTED;
    if ((f & PG_TEST) !== 0) {
      nrNonres++;
      handCold = prev[x];
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
      hits++;
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
  return {
    hits,
    misses,
    refaults,
    evictions,
    writebacks,
    stats: { coldTarget: mc, hot: nrHot, residentCold: nrResCold, nonresident: nrNonres, promotions, testRefaults, demotions, testExpired, handSteps },
  };
}
