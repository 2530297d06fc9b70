/*
 * test/rng.ts — the tests' seeded random numbers: pure-rand's
 * xoroshiro128plus behind three small helpers, so every generator in the
 * tests is the same library with a seed a failure can print.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

export type Rng = ReturnType<typeof xoroshiro128plus>;

/** A generator for `seed` (any integer). */
export const seeded = (seed: number): Rng => xoroshiro128plus(seed | 0);

/** A uniform integer in [lo, hi]. */
export const randInt = (rng: Rng, lo: number, hi: number): number => uniformInt(rng, lo, hi);

/** A uniform unsigned 32-bit value. */
export const randU32 = (rng: Rng): number => rng.next() >>> 0;

/** A uniform value in [0, 1). */
export const randFloat = (rng: Rng): number => (rng.next() >>> 0) / 2 ** 32;

/** A closure giving uniform values in [0, 1) from `seed`: for loops that draw many. */
export const floats = (seed: number): (() => number) => {
  const rng = seeded(seed);
  return () => randFloat(rng);
};

/** A closure giving uniform unsigned 32-bit values from `seed`. */
export const u32s = (seed: number): (() => number) => {
  const rng = seeded(seed);
  return () => randU32(rng);
};
