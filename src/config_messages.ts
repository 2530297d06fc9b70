/*
 * config_messages.ts — the wording of a bad field value, written once for
 * the two places that check values: config.ts's zod field types (int(),
 * oneOf(), num()) and the flag checks of commands that must start without
 * loading zod (cli/replay.ts: a single-thread replay is a few milliseconds of
 * work, zod's import is more). Both print `field: message`, the message one
 * of these.
 *
 * Plain functions of their arguments; no state, no locking.
 */

/** The digits a flag may give for an integer. */
export const INTEGER_RE = /^\s*-?\d+\s*$/;
/** The text a flag may give for a decimal number. */
export const NUMBER_RE = /^\s*-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i;

/** `raw` is not of the kind `what` ("an integer", "a number"). */
export const notA = (what: string, raw: unknown): string => `not ${what}: ${JSON.stringify(raw)}`;
export const atLeast = (min: number): string => `must be >= ${min}`;
export const atMost = (max: number): string => `must be <= ${max}`;
/** `raw` is none of `names`. */
export const unknownValue = (raw: unknown, names: readonly string[]): string => `unknown value ${JSON.stringify(raw)} (${names.join(', ')})`;

/** What is wrong with `raw` as an integer in [min, max], or null. */
export function intProblem(raw: string, min: number, max: number): string | null {
  if (!INTEGER_RE.test(raw)) return notA('an integer', raw);
  const v = Number(raw);
  if (v < min) return atLeast(min);
  if (v > max) return atMost(max);
  return null;
}

/** What is wrong with `raw` as one of `names`, or null. */
export const oneOfProblem = (raw: string, names: readonly string[]): string | null => (names.includes(raw) ? null : unknownValue(raw, names));
