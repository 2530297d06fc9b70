/*
 * nonresident.ts — non-resident page tracking: remember what was evicted, one
 * cache line per lookup.
 *
 * Rik van Riel's table (LinuxMM wiki "NonResidentPages", seed 002; RFC
 * 20050808202110.744344000@jumble.boston.redhat.com), made fully atomic by
 * Peter Zijlstra's 2007 posting ("[PATCH 1/2] mm: nonresident page tracking",
 * 20070726172600.627317378@chello.nl). REFERENCE.md §1 is the source of truth.
 *
 * THE BUCKET
 *
 * A page that is evicted leaves a 32-bit cookie behind in one bucket of a
 * global hash table. A bucket is exactly one cache line, so remembering or
 * looking a page up touches one line and nothing else:
 *
 *     nr_bucket, 64 bytes, 32-bit cookies (NUM_NR = 15; 31 for 128 bytes)
 *
 *     word  0      1      2      3                 14     15
 *         +------+------+------+------+-- ... --+------+------+
 *         | hand | c[0] | c[1] | c[2] |          | c[13]| c[14]|
 *         +------+------+------+------+-- ... --+------+------+
 *             |            ^
 *             +------------+   hand mod NUM_NR = the slot written most recently
 *
 *     the wiki's `unsigned long page[]` on a 64-bit kernel (NUM_NR = 7):
 *
 *     word  0      1      2    3      4    5            14   15
 *         +------+------+-----------+-----------+- .. -+-----------+
 *         | hand | pad  | c[0] lo,hi| c[1] lo,hi|      | c[6] lo,hi|
 *         +------+------+-----------+-----------+- .. -+-----------+
 *
 * (64 - 4) / 8 = 7 slots is why the 2005 patches went to u32 cookies, and why
 * a bucket is never smaller than 64 bytes: the distance below has only NUM_NR
 * steps, "7 would be too small" (Rik, Pine.LNX.4.61.0508100439510.1888@...).
 * Both layouts are kept here so the benchmark and the tests can compare them;
 * which one a table uses is fixed when the table is set up (`wide`), not by
 * the machine config. Cookie 0 means an empty slot. The table is sized like
 * alloc_large_system_hash(): pages / (words per bucket), rounded up to a power
 * of two (layout.ts), so it holds about one cookie per page of RAM: 4 bytes a
 * page, 0.1% of memory.
 *
 * THE HASH (a consistent 32-bit model: the simulated machine is i386, where
 * BITS_PER_LONG = 32 and hash_long(v, 32) is the bare product)
 *
 *     hash_long(v)   = v * GOLDEN_RATIO_PRIME_32 (0x9e370001) mod 2^32
 *     h              = 37 * hash_long(mapping) + hash_long(index)
 *     bucket         = h & (nbuckets - 1)                       LOW bits
 *     cookie         = 37 * h + hash_long(ino)  (ino term only when the
 *                      mapping has a host inode), all 32 bits
 *
 * Two honest consequences of taking the LOW bits of a multiplicative hash,
 * as nr_hash() did: the low k bits of v * odd depend only on the low k bits
 * of v, and 0x9e370001 ends in 0x0001, so for nbuckets <= 2^16 the bucket is
 * simply (37 * mapping + index) mod nbuckets. Sequential eviction of a file
 * therefore walks the buckets round-robin (every bucket rotates at the same
 * speed, which is what the distance estimate wants), but a stride of
 * nbuckets pages lands in one bucket. And since bucket and cookie come from
 * the same 32 bits, the cookies of one file within one bucket share their low
 * log2(nbuckets) bits: a lookup hits a stranger's cookie with probability
 * about NUM_NR * 2^-(32 - log2 nbuckets) (3.6e-6 with 1024 buckets). A 64-bit
 * kernel takes the cookie from the high half instead.
 *
 * A computed cookie of 0 would be stored as "empty" and never found again.
 * The Linux patches do not guard against it; NetBSD's CLOCK-Pro
 * (uvm_pdpolicy_clockpro.c, REFERENCE.md §2.5) remaps hash 0 to 1, and so do
 * we. The wide cookie is (hi, lo): hi is the 32-bit cookie above (0 allowed),
 * lo a second chain over the same key with GOLDEN_RATIO_32 = 0x61C88647 (the
 * multiplier of today's include/linux/hash.h), remapped away from 0 and from
 * NR_SLOT_LOCKED (see the wide protocol below).
 *
 * THE DISTANCE
 *
 * Every eviction goes to some bucket; with a good hash all buckets rotate at
 * about the same speed (Rik, Pine.LNX.4.61.0508091950430.1888@...; Peter,
 * 1123614926.17222.19.camel@twins). A cookie found in slot s of a bucket whose
 * hand is at h had d = (h - s) mod NUM_NR newer entries written after it in
 * its own bucket, so about d * nbuckets pages were evicted globally after it:
 * somewhere in [d * nbuckets, (d + 1) * nbuckets). recently_evicted() returns
 * the upper end, (d + 1) * nbuckets, as the 8 Aug 2005 RFC did with
 * (d + 1) << nonres_shift: a page refaulted right after its eviction gets
 * 1 * nbuckets, and -1 means "not found" (never evicted, or evicted so long
 * ago — more than about NUM_NR * nbuckets evictions — that its slot was
 * recycled). The resolution is only NUM_NR steps (Marcelo Tosatti's
 * objection, 20050809182517.GA20644@dmt.cnet). The /proc/refaults histogram
 * (§1.5, 20050810200943.068937000@...) counts hits per d, plus a last
 * "New/Beyond" row for misses; nr_refault_account() keeps it per CPU.
 *
 * THE PROTOCOL, AND WHY THE 2005 ONE IS RACY
 *
 * 2005 remember_page():
 *       s = atomic_inc_return(&b->hand); if s >= NUM_NR, the CPU that saw
 *       exactly NUM_NR sets hand = -1 and everybody retries; then
 *       old = xchg(&b->page[s], cookie).
 * 2005 recently_evicted():
 *       if (b->page[s] == cookie) { b->page[s] = 0; ... }      <- plain store
 *
 * The exchange is fine, the claim is not. Between CPU A's compare and its
 * store of 0, (1) CPU B may compare too: both "find" the page, a refault is
 * counted twice and CLOCK-Pro grows its cold target twice; or (2) CPU B's
 * remember may xchg a new cookie c' into that slot, getting c back as
 * "recycled" — and then A's store wipes c'. c is now accounted twice
 * (expired AND refaulted) and c' is lost without a trace. The hand also
 * leaves [0, NUM_NR) for a moment (-1, or NUM_NR + k while others overshoot
 * and spin for the reset), so a concurrent distance is computed from a
 * bogus hand. REFERENCE.md §10.4: never do the plain store under real
 * concurrency. (test/reclaim/nonresident-smp.test.ts runs that 2005 claim on
 * two workers and shows the conservation check failing.)
 *
 * Used here, Atomics throughout — the 2005 hand with the 2007 slot protocol:
 *   put:   s = atomic_inc_return(&hand) mod NUM_NR   (Atomics.add; the hand
 *                                                 is a free-running counter,
 *                                                 never reset, so no CPU ever
 *                                                 sees it out of range and
 *                                                 nobody retries)
 *          old = xchg(&cookie[s], new)         -> old != 0: a live cookie was
 *                                                 recycled, i.e. its test
 *                                                 period expired without a
 *                                                 refault (CLOCK-Pro's signal)
 *   get:   for each slot: cmpxchg(&cookie[s], wanted, 0) == wanted -> claimed
 *
 * This is the design card's "the hand advances with atomic increments": one
 * locked add per put, whatever the contention, where Peter's 2007 loop
 *   do { cur = hand; next = cur + 1 == NUM_NR ? 0 : cur + 1 }
 *   while (cmpxchg(&hand, cur, next) != cur);
 * keeps the hand in [0, NUM_NR) but retries when another CPU moved it in
 * between. That variant is kept for comparison (NrTable.hand = 'cas', chosen
 * when a table is set up; the machine's table uses NR_HAND_MACHINE); the
 * bench measures both and the two-worker conservation test runs on both.
 * The counter is read as unsigned: once every 2^32 puts into one bucket its
 * wrap makes the rotation repeat or skip a slot (2^32 mod NUM_NR != 0) —
 * the exchange still returns whatever it displaces, so nothing is lost.
 *
 * Conservation follows from every slot transition being one atomic
 * read-modify-write: each remembered cookie leaves its slot exactly once —
 * returned by one later exchange, or claimed by one compare-and-swap (lookup
 * or invalidation) — or is still there. That is the invariant the two-worker
 * test checks, and it does not depend on how the hand moves. What remains
 * approximate, by design: the hand moves before the exchange, so a distance
 * read in between is off by the puts in flight; and a put delayed while
 * NUM_NR others go round can exchange into the same slot as one of them —
 * nothing is lost, the later one just gets the earlier cookie back as
 * "recycled".
 *
 * The wide variant needs a 64-bit exchange and compare-and-swap. JavaScript
 * has 64-bit Atomics only on BigInt64Array, and every BigInt is a heap
 * allocation, so — as lib/atomic64.c does for 32-bit CPUs without 64-bit
 * atomics (Paul Mackerras, 2009), with the lock inside the slot rather than in
 * a hashed lock array — a slot's lo word doubles as its lock: NR_SLOT_LOCKED
 * while a CPU holds it, which no cookie's lo word ever equals. put:
 * xchg(lo, LOCKED) (spin while it returns LOCKED), read old hi, write hi,
 * store the new lo (unlock). claim: cmpxchg(lo, wantedLo, LOCKED), then
 * compare hi: equal -> hi = 0, lo = 0; not equal (a lo-only collision) ->
 * put wantedLo back. That is a blocking protocol (a CPU spins if the holder is
 * descheduled) and one more atomic per put; bench/nonresident.ts measures it.
 *
 * INVALIDATION
 *
 * The posted patches never invalidate ("we let the pages fall out of the
 * non-resident set through normal replacement"). The wiki proposes calling the
 * lookup from remove_exclusive_swap_page(), which also covers swapoff: a freed
 * swap entry will be reused for another page, whose first swap-in must not
 * look like a refault. nonresident_invalidate() is that claim without the
 * statistics; nonresident_invalidate_swap() keys it as the swap cache does,
 * (SWAPPER_SPACE, entry).
 *
 * Locking: none. Every shared word is changed by an Atomics read-modify-write
 * or store, except a wide slot's hi word, which only the holder of that
 * slot's lock touches (that lock is the one spin here); callers may hold any
 * lock (the 2005 caller held mapping->tree_lock with IRQs off; zone->lru_lock
 * does NOT serialize the table, which is global — Peter, 9 Aug 2005). The
 * per-CPU refault histogram is written only by its own CPU (the liyu bug,
 * 432E683E.7090002@ccoss.com.cn: per-CPU counters from a migratable context).
 * Nothing here allocates.
 */
import type { CpuBase } from '../machine/cpu.js';
import type { Layout } from '../machine/layout.js';
import { LINE_WORDS, PC_REFAULT_HIST, REFAULT_BUCKETS, percpuBase } from '../machine/layout.js';
import { SWAPPER_SPACE } from '../machine/page.js';

/* ---- hash constants (include/linux/hash.h) ---- */
/** GOLDEN_RATIO_PRIME_32 of 2.6 hash.h (William Lee Irwin III, 2002). */
export const GOLDEN_RATIO_PRIME_32 = 0x9e370001 | 0;
/** GOLDEN_RATIO_32 of today's hash.h: the second chain of the wide cookie. */
export const GOLDEN_RATIO_32 = 0x61c88647 | 0;

/* ---- bucket fields (word offsets within a bucket) ---- */
/** the bucket hand: slot written most recently = nr_hand_slot() (a counter for 'add', in [0, NUM_NR) for 'cas') */
export const NR_HAND = 0;
/** first cookie word: right after the hand (u32 cookies) */
export const NR_SLOT0_NARROW = 1;
/** first cookie word of the `unsigned long` layout: a long is 8-aligned */
export const NR_SLOT0_WIDE = 2;
/** wide slot: word 0 = lo (presence + lock), word 1 = hi */
export const NR_LO = 0;
export const NR_HI = 1;
/** a wide slot's lo word while a CPU holds the slot; no cookie's lo equals it */
export const NR_SLOT_LOCKED = 0x80000000 | 0;
/** cookie value of an empty slot */
export const NR_EMPTY = 0;
/** recently_evicted(): not found */
export const NR_NOT_FOUND = -1;
/** ino argument for a mapping without a host inode (swapper_space, NULL) */
export const NR_NO_HOST = 0;

/** How a bucket's hand advances: 'add' (atomic_inc_return mod NUM_NR) or 'cas' (the 2007 compare-and-swap loop). */
export type NrHand = 'add' | 'cas';
/** The hand protocol of the machine's own table: every CPU of a machine must use the same one. */
export const NR_HAND_MACHINE: NrHand = 'add';

/** A nonresident table as seen by one thread: geometry, fixed at set-up. */
export interface NrTable {
  /** word offset of bucket 0 (cache-line aligned) */
  readonly base: number;
  /** number of buckets, a power of two */
  readonly nrBuckets: number;
  /** nrBuckets - 1 (nonres_mask) */
  readonly mask: number;
  /** log2(nrBuckets) (nonres_shift) */
  readonly shift: number;
  /** words per bucket: bucket bytes / 4 */
  readonly bucketWords: number;
  /** cookies per bucket */
  readonly numNr: number;
  /** the wiki's `unsigned long` cookies (2 words each) instead of u32 */
  readonly wide: boolean;
  /** the hand protocol: true for the 2007 compare-and-swap loop, false for Atomics.add */
  readonly handCas: boolean;
  /** word offset of slot 0 within a bucket */
  readonly slot0: number;
  /**
   * Wide tables only: the hi word of the cookie the last nonresident_put()
   * displaced (its lo word is the return value). Thread-local: every thread
   * builds its own NrTable, so this is the one field that may be written.
   */
  oldHi: number;
}

/**
 * Describe a table at word offset `base` of `nrBuckets` buckets of
 * `bucketBytes` bytes (a power of two, 32..256: one cache line). `wide`
 * selects the 64-bit-cookie layout, `hand` the hand protocol (every thread
 * using one table must pass the same). Validates; allocates the object once.
 */
export function nrTableAt(base: number, nrBuckets: number, bucketBytes: number, wide = false, hand: NrHand = 'add'): NrTable {
  if (!Number.isInteger(base) || base < 0 || base % LINE_WORDS !== 0)
    throw new RangeError(`nonresident: base ${base} is not a cache-line-aligned word offset`);
  if (!Number.isInteger(nrBuckets) || nrBuckets < 1 || nrBuckets > 1 << 24 || (nrBuckets & (nrBuckets - 1)) !== 0)
    throw new RangeError(`nonresident: nrBuckets ${nrBuckets} must be a power of two in [1, 2^24]`);
  if (bucketBytes < 32 || bucketBytes > 256 || (bucketBytes & (bucketBytes - 1)) !== 0)
    throw new RangeError(`nonresident: bucket of ${bucketBytes} bytes must be a power of two in [32, 256]`);
  const bucketWords = bucketBytes >>> 2;
  const slot0 = wide ? NR_SLOT0_WIDE : NR_SLOT0_NARROW;
  const numNr = wide ? (bucketWords - slot0) >>> 1 : bucketWords - slot0;
  if (numNr + 1 > REFAULT_BUCKETS) throw new RangeError(`nonresident: NUM_NR ${numNr} needs more histogram rows`);
  if (hand !== 'add' && hand !== 'cas') throw new RangeError(`nonresident: hand '${String(hand)}' must be 'add' or 'cas'`);
  return {
    base,
    nrBuckets,
    mask: nrBuckets - 1,
    shift: 31 - Math.clz32(nrBuckets),
    bucketWords,
    numNr,
    wide,
    handCas: hand === 'cas',
    slot0,
    oldHi: 0,
  };
}

/** The machine's own table (the region layout.ts reserves), with the machine's hand protocol. */
export function nrTableOf(l: Layout, wide = false): NrTable {
  return nrTableAt(l.nonres, l.nrBuckets, l.bucketWords << 2, wide, NR_HAND_MACHINE);
}

/** Words a table of this geometry occupies. */
export function nr_table_words(t: NrTable): number {
  return t.nrBuckets * t.bucketWords;
}

/** nonresident_init(): every hand at 0, every slot empty. Not concurrent with use. */
export function nr_init(w: Int32Array, t: NrTable): void {
  w.fill(0, t.base, t.base + t.nrBuckets * t.bucketWords);
}

/** nonresident_total(): how many cookies the table can hold (the histogram's range). */
export function nonresident_total(t: NrTable): number {
  return t.numNr * t.nrBuckets;
}

/* ---- hashing ---- */

/** hash_32(val, bits): the top `bits` bits of val * GOLDEN_RATIO_PRIME_32 (unsigned). */
export function hash_32(val: number, bits: number): number {
  return Math.imul(val, GOLDEN_RATIO_PRIME_32) >>> (32 - bits);
}

/** hash_long(val, BITS_PER_LONG) on a 32-bit kernel: the full product (int32). */
export function hash_long(val: number): number {
  return Math.imul(val, GOLDEN_RATIO_PRIME_32);
}

/** The part nr_hash() and nr_cookie() share: 37 * hash_ptr(mapping) + hash_long(index). */
function nr_key_hash(mapping: number, index: number): number {
  return (Math.imul(37, Math.imul(mapping, GOLDEN_RATIO_PRIME_32)) + Math.imul(index, GOLDEN_RATIO_PRIME_32)) | 0;
}

/** Word offset of the bucket a key hash selects: its LOW bits. */
function nr_bucket_of(t: NrTable, h: number): number {
  return t.base + (h & t.mask) * t.bucketWords;
}

/** The cookie chain's last step: mix in the inode number when there is a host. */
function nr_cookie_chain(h: number, mapping: number, ino: number): number {
  return mapping !== 0 && ino !== NR_NO_HOST ? (Math.imul(37, h) + Math.imul(ino, GOLDEN_RATIO_PRIME_32)) | 0 : h;
}

/** nr_hash(): word offset of the bucket for (mapping, index) — low bits of the hash. */
export function nr_hash(t: NrTable, mapping: number, index: number): number {
  return nr_bucket_of(t, nr_key_hash(mapping, index));
}

/** Bucket number of (mapping, index): (nr_hash() - base) / bucketWords. */
export function nr_bucket_index(t: NrTable, mapping: number, index: number): number {
  return nr_key_hash(mapping, index) & t.mask;
}

/**
 * nr_cookie(): the 32-bit value remembered for (mapping, index) of inode
 * `ino` (NR_NO_HOST: no host inode, the ino term is skipped as the kernel
 * skips it for a mapping without ->host). Never 0: a hash of 0 becomes 1.
 */
export function nr_cookie(mapping: number, index: number, ino: number): number {
  const c = nr_cookie_chain(nr_key_hash(mapping, index), mapping, ino);
  return c === 0 ? 1 : c;
}

/** The wide cookie's hi word: the same chain as nr_cookie() but 0 is a legal value. */
export function nr_cookie_hi(mapping: number, index: number, ino: number): number {
  return nr_cookie_chain(nr_key_hash(mapping, index), mapping, ino);
}

/** The wide cookie's lo word: a second chain (GOLDEN_RATIO_32); never 0, never NR_SLOT_LOCKED. */
export function nr_cookie_lo(mapping: number, index: number, ino: number): number {
  let c = (Math.imul(31, Math.imul(mapping, GOLDEN_RATIO_32)) + Math.imul(index ^ 0x5bd1e995, GOLDEN_RATIO_32)) | 0;
  if (mapping !== 0 && ino !== NR_NO_HOST) c = (Math.imul(31, c) + Math.imul(ino, GOLDEN_RATIO_32)) | 0;
  c ^= c >>> 16; // fold the well-mixed high half into the low bits
  if (c === 0) return 1;
  if (c === NR_SLOT_LOCKED) return NR_SLOT_LOCKED + 1;
  return c;
}

/** Word offset of slot s of the bucket at word offset b (the lo word for wide tables). */
export function nr_slot_word(t: NrTable, b: number, s: number): number {
  return b + t.slot0 + (t.wide ? s << 1 : s);
}

/* ---- the hand ---- */

/*
 * Plain reads vs Atomics: on Node 20 every Atomics.* call is a builtin call,
 * about 10-15 ns even for a load, where a plain typed-array read is inlined
 * (measured: a 15-slot scan costs ~190 ns with Atomics.load, ~30 ns plain).
 * So the hot paths read plainly wherever a stale value is harmless — a guess
 * that the following compare-and-swap verifies (a plain Int32 read of a
 * SharedArrayBuffer is tear-free, it can only be old) — and use Atomics for
 * every write and every read a decision rests on. Spin loops always use
 * Atomics.load (a plain read there could be hoisted out of the loop).
 */

/** Advance the hand of bucket b: atomic_inc_return(&hand) mod NUM_NR. Returns the slot claimed for writing. */
export function nr_hand_add(w: Int32Array, b: number, numNr: number): number {
  return ((Atomics.add(w, b + NR_HAND, 1) + 1) >>> 0) % numNr;
}

/** Advance the hand of bucket b with the 2007 compare-and-swap loop (hand kept in [0, NUM_NR)); return the new slot. */
export function nr_hand_cas(w: Int32Array, b: number, numNr: number): number {
  let cur = w[b + NR_HAND]!; // a guess; the CAS returns the real value if it was stale
  for (;;) {
    const next = cur + 1 === numNr ? 0 : cur + 1;
    const seen = Atomics.compareExchange(w, b + NR_HAND, cur, next);
    if (seen === cur) return next;
    cur = seen;
  }
}

/** Advance the hand of bucket b with the table's protocol; return the slot to write. */
export function nr_hand_advance(w: Int32Array, t: NrTable, b: number): number {
  return t.handCas ? nr_hand_cas(w, b, t.numNr) : nr_hand_add(w, b, t.numNr);
}

/** The slot bucket b's hand points at (written most recently), in [0, NUM_NR), for either protocol. */
export function nr_hand_slot(w: Int32Array, t: NrTable, b: number): number {
  return (w[b + NR_HAND]! >>> 0) % t.numNr;
}

/** Distance for a cookie found in slot s: ((hand - s) mod NUM_NR + 1) * nbuckets. */
function nr_distance(w: Int32Array, t: NrTable, b: number, s: number): number {
  let d = nr_hand_slot(w, t, b) - s; // after our claim; another put may move it any time anyway
  if (d < 0) d += t.numNr;
  return (d + 1) * t.nrBuckets;
}

/* ---- remember ---- */

/**
 * nonresident_put(): remember (mapping, index) of inode `ino` as evicted.
 * Returns the cookie it displaced: 0 if the slot was empty. For a wide table
 * the return value is the displaced lo word and t.oldHi its hi word.
 * Locking: none needed (lock-free for u32 cookies; the wide slot lock spins).
 */
export function nonresident_put(w: Int32Array, t: NrTable, mapping: number, index: number, ino: number): number {
  const h = nr_key_hash(mapping, index);
  const b = nr_bucket_of(t, h);
  const c = nr_cookie_chain(h, mapping, ino);
  const s = nr_hand_advance(w, t, b);
  if (!t.wide) return Atomics.exchange(w, b + NR_SLOT0_NARROW + s, c === 0 ? 1 : c);
  return nr_put_wide(w, t, b + NR_SLOT0_WIDE + (s << 1), nr_cookie_lo(mapping, index, ino), c);
}

/** 64-bit exchange emulated with the slot lock in the lo word (see the header). */
function nr_put_wide(w: Int32Array, t: NrTable, a: number, lo: number, hi: number): number {
  let old: number;
  for (;;) {
    old = Atomics.exchange(w, a + NR_LO, NR_SLOT_LOCKED);
    if (old !== NR_SLOT_LOCKED) break;
    while (Atomics.load(w, a + NR_LO) === NR_SLOT_LOCKED);
  }
  // we hold the slot: hi is ours to read and write (ordered by the lock)
  t.oldHi = w[a + NR_HI]!; // 0 when the slot was empty
  w[a + NR_HI] = hi;
  Atomics.store(w, a + NR_LO, lo); // unlock
  return old;
}

/**
 * remember_page(): remember an evicted page; true if that recycled a live
 * cookie — an older page's test period ended without a refault.
 */
export function remember_page(w: Int32Array, t: NrTable, mapping: number, index: number, ino: number): boolean {
  return nonresident_put(w, t, mapping, index, ino) !== NR_EMPTY;
}

/* ---- look up / claim ---- */

/** Claim the narrow cookie c in bucket b: slot number, or -1. */
function nr_claim_narrow(w: Int32Array, t: NrTable, b: number, c: number): number {
  const s0 = b + NR_SLOT0_NARROW;
  const n = t.numNr;
  for (let s = 0; s < n; s++) {
    if (w[s0 + s] === c && Atomics.compareExchange(w, s0 + s, c, NR_EMPTY) === c) return s;
  }
  return -1;
}

/** Claim the wide cookie (lo, hi) in bucket b: slot number, or -1. */
function nr_claim_wide(w: Int32Array, t: NrTable, b: number, lo: number, hi: number): number {
  const n = t.numNr;
  for (let s = 0; s < n; s++) {
    const a = b + NR_SLOT0_WIDE + (s << 1);
    let v = w[a + NR_LO]!; // plain guess: most slots are neither ours nor locked
    if (v !== lo && v !== NR_SLOT_LOCKED) continue;
    for (;;) {
      if (v === NR_SLOT_LOCKED) {
        v = Atomics.load(w, a + NR_LO); // being rewritten or checked: wait and look again
        continue;
      }
      if (v !== lo) break;
      const seen = Atomics.compareExchange(w, a + NR_LO, lo, NR_SLOT_LOCKED);
      if (seen !== lo) {
        v = seen;
        continue;
      }
      if (w[a + NR_HI] === hi) {
        w[a + NR_HI] = 0;
        Atomics.store(w, a + NR_LO, NR_EMPTY); // unlock, empty
        return s;
      }
      Atomics.store(w, a + NR_LO, lo); // same lo, other hi: not ours, put it back
      break;
    }
  }
  return -1;
}

/**
 * recently_evicted(): was (mapping, index) of inode `ino` evicted recently?
 * Searches its one bucket and claims the cookie (so a second lookup misses).
 * Returns the refault distance ((hand - s) mod NUM_NR + 1) * nbuckets — an
 * immediate refault gives 1 * nbuckets — or NR_NOT_FOUND (-1).
 */
export function recently_evicted(w: Int32Array, t: NrTable, mapping: number, index: number, ino: number): number {
  const h = nr_key_hash(mapping, index);
  const b = nr_bucket_of(t, h);
  const c = nr_cookie_chain(h, mapping, ino);
  const s = t.wide ? nr_claim_wide(w, t, b, nr_cookie_lo(mapping, index, ino), c) : nr_claim_narrow(w, t, b, c === 0 ? 1 : c);
  return s < 0 ? NR_NOT_FOUND : nr_distance(w, t, b, s);
}

/**
 * nonresident_invalidate(): forget (mapping, index) if it is remembered; true
 * if a cookie was removed. For swap entries being freed
 * (remove_exclusive_swap_page) and at swapoff, so a reused entry does not
 * look like a refault.
 */
export function nonresident_invalidate(w: Int32Array, t: NrTable, mapping: number, index: number, ino: number): boolean {
  const h = nr_key_hash(mapping, index);
  const b = nr_bucket_of(t, h);
  const c = nr_cookie_chain(h, mapping, ino);
  const s = t.wide ? nr_claim_wide(w, t, b, nr_cookie_lo(mapping, index, ino), c) : nr_claim_narrow(w, t, b, c === 0 ? 1 : c);
  return s >= 0;
}

/** nonresident_invalidate() for a swap entry, keyed as the swap cache is: (SWAPPER_SPACE, entry). */
export function nonresident_invalidate_swap(w: Int32Array, t: NrTable, entry: number): boolean {
  return nonresident_invalidate(w, t, SWAPPER_SPACE, entry, NR_NO_HOST);
}

/* ---- the refault histogram (/proc/refaults, 2005 form) ---- */

/**
 * Histogram row of a recently_evicted() result: row d for distance
 * (d + 1) * nbuckets, row NUM_NR ("New/Beyond") for NR_NOT_FOUND.
 */
export function nr_refault_row(t: NrTable, distance: number): number {
  if (distance < 0) return t.numNr;
  const row = (distance >>> t.shift) - 1;
  return row < 0 ? 0 : row >= t.numNr ? t.numNr - 1 : row;
}

/**
 * Count a lookup result in the calling CPU's refault histogram. Called on
 * `cpu`'s own worker only (plain store: no other CPU writes these words).
 */
export function nr_refault_account(cpu: CpuBase, t: NrTable, distance: number): void {
  const i = cpu.pc + PC_REFAULT_HIST + nr_refault_row(t, distance);
  cpu.w[i] = (cpu.w[i]! + 1) | 0;
}

/** One /proc/refaults row: distances [from, to) and the hits counted there. */
export interface RefaultRow {
  readonly from: number;
  /** exclusive; -1 on the New/Beyond row */
  readonly to: number;
  readonly hits: number;
}

/**
 * Sum the per-CPU histograms (every CPU slot, kswapd included) into rows.
 * Read after the run stops or at a stop-the-world checkpoint. Allocates (a
 * report, not the hot path).
 */
export function nr_refault_rows(w: Int32Array, l: Layout, t: NrTable): RefaultRow[] {
  const rows: RefaultRow[] = [];
  for (let r = 0; r <= t.numNr; r++) {
    let hits = 0;
    for (let c = 0; c < l.nrCpuSlots; c++) hits += w[percpuBase(l, c) + PC_REFAULT_HIST + r]!;
    rows.push(r < t.numNr ? { from: r * t.nrBuckets, to: (r + 1) * t.nrBuckets, hits } : { from: r * t.nrBuckets, to: -1, hits });
  }
  return rows;
}

/** Zero every CPU's histogram ("echo 0 > /proc/refaults"). Not concurrent with a run. */
export function nr_refault_reset(w: Int32Array, l: Layout): void {
  for (let c = 0; c < l.nrCpuSlots; c++) {
    const p = percpuBase(l, c) + PC_REFAULT_HIST;
    w.fill(0, p, p + REFAULT_BUCKETS);
  }
}

/** The rows as text, in the shape of Rik's /proc/refaults. */
export function format_refaults(rows: readonly RefaultRow[]): string {
  const out = ['     Refault distance          Hits'];
  for (const r of rows) {
    const range = r.to < 0 ? `New/Beyond ${String(r.from).padStart(9)}` : `${String(r.from).padStart(9)} - ${String(r.to).padStart(9)}`;
    out.push(`${range.padStart(21)}  ${String(r.hits).padStart(12)}`);
  }
  return out.join('\n');
}
