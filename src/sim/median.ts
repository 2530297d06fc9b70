/*
 * median.ts — the middle of a list of measured figures (the upper middle of
 * an even-length list): what the calibration's host runs (calibrate.ts), the
 * host probes (hostprobe.ts) and the rmap cost runs (rmap_cost.ts) report. Main thread only; no shared state.
 */

/** The middle element of xs sorted (the upper one of two); xs is not changed. */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
