/*
 * config.ts — the one typed, validated machine/run configuration.
 *
 * Every knob that shapes the SharedArrayBuffer (DESIGN.md §1) or selects a
 * policy (§2: RmapScheme, LockImpl + lock scheme, ReplacementPolicy) lives
 * here. Defaults build a machine that runs a workload in seconds.
 *
 * Parsed once, where it enters (issue 15): makeConfig (or the CLI's run
 * schema, cli/options.ts, built from CONFIG_FIELDS) coerces, range-checks and
 * fills every default — the derived ones too (rmapPool from the scheme,
 * pageCluster from mem) — and marks the result parsed; createMachine takes a
 * parsed config as it is, and workers read it back from the machine buffer
 * without parsing again (machine.ts attachMachine). A bad value becomes a
 * ConfigError whose one-line message names the field ("config.cpus: must be
 * >= 1"), which the CLI prints with exit code 2 (naming the flag instead when
 * the value came from one). Nothing here is shared memory; no locking.
 */
import { z } from 'zod';
import { INTEGER_RE, NUMBER_RE, atLeast, atMost, notA, unknownValue } from './config_messages.js';

export const RMAP_SCHEMES = ['scan', 'ptechain', 'vmnode', 'ptechain25', 'hint', 'objrmap', 'anonmm'] as const;
export const LOCK_SCHEMES = ['bkl', '2.4', 'split'] as const;
export const LOCK_IMPLS = ['tas', 'ttas', 'ticket', 'mcs', 'futex'] as const;
export const POLICIES = ['swapout', 'clock', '2q', 'clockpro', 'clockpro-approx'] as const;

/** Deliberate bugs the stress tests plant to prove they can fail. */
export const INJECTIONS = ['none', 'no_zone_lock', 'no_pte_lock', 'no_lru_lock', 'no_swap_dup', 'no_migrate_copy', 'no_shmem_swp', 'free_under_writeback', 'no_tlb_flush'] as const;

/** How reclaim writes dirty swap-cache pages (issue 18): one page at a time, sleeping through it, or clustered and asynchronous (reclaim/writeback.ts). */
export const WRITEOUTS = ['sync', 'async'] as const;

/** How migrate_page moves a page: rewrite its ptes in place (try_to_flip_page_to) or through the swap cache (2.6.16) */
export const MIGRATE_METHODS = ['flip', 'swap'] as const;

export const CLOCKS = ['host', 'virtual'] as const;
/** host clock: workers time-slice beyond the host's cores anyway */
export const MAX_CPUS_HOST = 64;
/** virtual clock: layout sizes (per-CPU areas, LK_LAST's CPU field) allow this many */
export const MAX_CPUS_VIRTUAL = 256;
/**
 * The default quantum, virtual ns: 0, strict discrete-event order. A quantum
 * above 0 saves host time (speed rows of bench/vclock.ts) but lets a CPU
 * act up to that far out of virtual-time order, and what that costs varies
 * with the configuration far beyond any tolerance worth stating: at 1000 ns
 * (2026-12-07, bench/vclock.ts quantum) ticket and MCS rows of earlier runs
 * read within 2.4% from 16 CPUs up, but page_fault1_processes at 64 CPUs on
 * 256 KiB regions read 39% low, tas and ttas lock_counter 60–128% high,
 * and few-CPU and futex rows up to 34% low. Quantum 0 costs `npm start`'s
 * curve about the same host time (19.9 against 17.5 host s from 16 to 64
 * CPUs) and a 64-CPU point up to 1.7×.
 */
export const DEFAULT_QUANTUM_NS = 0;

/**
 * A cost table as the machine carries it (timing/cost.ts loads and checks
 * the JSON file; the sources of its numbers stay in the file): its name, the
 * sha256 of the file's canonical JSON, the default topology and the costs in
 * virtual ns by name.
 */
export const ResolvedCostSchema = z
  .object({
    name: z.string(),
    hash: z.string(),
    topology: z.string(),
    ns: z.record(z.string(), z.number().min(0)),
  })
  .strict();

export type RmapSchemeName = (typeof RMAP_SCHEMES)[number];
export type LockSchemeName = (typeof LOCK_SCHEMES)[number];
export type LockImplName = (typeof LOCK_IMPLS)[number];
export type PolicyName = (typeof POLICIES)[number];

const MiB = 1024 * 1024;
const PAGE = 4096;

/** Parse "64M", "1G", "4096K", "65536" (bytes) into bytes; NaN if malformed. The one size parser. */
export function parseSize(s: string | number): number {
  if (typeof s === 'number') return s;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGkmg]?)(?:i?[Bb])?\s*$/.exec(s);
  if (!m) return NaN;
  const mult = { '': 1, K: 1024, M: MiB, G: 1024 * MiB }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(m[1]) * mult);
}

/** Bytes as a person reads them: 64M, 512K, 1.5G. */
export function fmtBytes(b: number): string {
  if (b >= 1024 * MiB && b % (1024 * MiB) === 0) return `${b / (1024 * MiB)}G`;
  if (b >= MiB && b % (MiB / 4) === 0) return `${b / MiB}M`;
  if (b >= 1024 && b % 1024 === 0) return `${b / 1024}K`;
  return `${b}`;
}

/*
 * The field types every schema (machine config, run keys, workload specs)
 * is built from. Each takes a number or the string a flag or a JSON file
 * gives ("64M", "2", "0.5"), so flags and config files are coerced and
 * checked by the same code; each states its range in its messages.
 */

/** A size in bytes in [min, max]: "64M", "512K", 65536; a multiple of 4K unless `pageAligned` is false. */
export const size = (min: number, max: number, pageAligned = true) =>
  z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      const n = parseSize(v);
      if (!Number.isFinite(n)) {
        ctx.addIssue({ code: 'custom', message: `not a size: ${JSON.stringify(v)} (use e.g. 64M)` });
        return z.NEVER;
      }
      return n;
    })
    .pipe(
      z
        .number()
        .int()
        .min(min, `must be at least ${fmtBytes(min)}`)
        .max(max, `must be at most ${fmtBytes(max)}`)
        .refine((n) => !pageAligned || n % PAGE === 0, 'must be a multiple of 4K'),
    );

const numeric = (what: string, re: RegExp) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'number') return v;
    if (!re.test(v)) {
      ctx.addIssue({ code: 'custom', message: notA(what, v) });
      return z.NEVER;
    }
    return Number(v);
  });

/** An integer in [min, max] (a number, or a flag's digits). */
export const int = (min: number, max: number) =>
  numeric('an integer', INTEGER_RE).pipe(z.number().int('must be an integer').min(min, atLeast(min)).max(max, atMost(max)));

/** A number in [min, max] (a number, or a flag's decimal). */
export const num = (min: number, max: number) =>
  numeric('a number', NUMBER_RE).pipe(z.number().min(min, atLeast(min)).max(max, atMost(max)));

/** A number in (0, max]: a device latency or bandwidth (0 or less is no device). */
export const positive = (max: number) =>
  numeric('a number', NUMBER_RE).pipe(z.number().gt(0, 'must be > 0').max(max, atMost(max)));

/** One of `names` (an enum with the accepted values in its message). */
export const oneOf = <T extends readonly [string, ...string[]]>(names: T) =>
  z.enum(names, { error: (iss) => unknownValue(iss.input, names) });

/** Memory bounds of the machine (i386 without PAE: at most 4 GiB of RAM and of swap). */
export const MEM_MIN = 1 * MiB;
export const MEM_MAX = 4096 * MiB;

/** Default rmap pool entries when config.rmapPool is not given (vm_nodes / pte_chain blocks / anon objects). */
function defaultRmapPool(rmap: RmapSchemeName, mem: number, maxVma: number, maxMm: number): number {
  const nrFrames = Math.floor(mem / PAGE);
  switch (rmap) {
    case 'vmnode':
      return nrFrames * 4;
    case 'ptechain25':
      return nrFrames * 2;
    case 'objrmap':
      return maxVma;
    case 'anonmm':
      return maxMm; // one anonmm per fork family: at most one per mm
    default:
      return 0;
  }
}

/** The machine config's own fields (before the derived defaults are filled in). */
export const CONFIG_FIELDS = {
  /** simulated RAM in bytes (i386 without PAE: at most 4 GiB) */
  mem: size(MEM_MIN, MEM_MAX).default(64 * MiB),
  /** swap area size in bytes; 0 = no swap */
  swap: size(0, MEM_MAX).default(64 * MiB),
  /** simulated CPUs running the workload (kswapd gets its own slot) */
  cpus: int(1, MAX_CPUS_VIRTUAL).default(2),
  maxMm: int(1, 65536).default(256),
  maxVma: int(4, 1 << 20).default(8192),
  maxFiles: int(1, 65536).default(64),
  /** pages each simulated file holds (its size) */
  filePages: int(1, 1 << 20).default(4096),
  /** rmap pool entries (vm_nodes / pte_chain blocks / anon objects); default from the scheme and mem */
  rmapPool: int(0, 1 << 24).optional(),
  rmap: oneOf(RMAP_SCHEMES).default('scan'),
  locks: oneOf(LOCK_SCHEMES).default('split'),
  lockImpl: oneOf(LOCK_IMPLS).default('ticket'),
  policy: oneOf(POLICIES).default('2q'),
  /** 2q: activate a refaulting page iff its refault distance <= nr_active (mm/workingset.c; new anonymous pages then start inactive, as since 5.9) */
  refaultActivation: z.boolean().default(false),
  /** nonresident bucket size in bytes: one cache line */
  nrBucketBytes: z.union([z.literal(64), z.literal(128)], { error: 'must be 64 or 128' }).default(64),
  /** per-CPU trace ring entries (profile); 0 = off */
  traceRing: int(0, 1 << 20).default(0),
  /** lockdep on: on in tests, optional in benchmarks */
  lockdep: z.boolean().default(false),
  /** lock hold-time accounting (costs two clock reads per acquisition) */
  holdTime: z.boolean().default(false),
  /** debug assertions (assertHeld etc.) */
  debug: z.boolean().default(false),
  /**
   * touch every host page of the machine buffer when it is created (the
   * simulator's MAP_POPULATE): the host maps a fresh SharedArrayBuffer
   * lazily, and its first-touch faults (several microseconds each in a VM)
   * would otherwise be timed as simulated work. Benchmarks set it.
   */
  populate: z.boolean().default(false),
  seed: int(0, 0x7fffffff).default(1),
  /** fault injection for tests: run with one lock class removed (or, no_swap_dup: fork skips one swap_duplicate per CPU; no_migrate_copy: migrate_page moves page state but not the 4 KiB of data; free_under_writeback: reclaim frees a swap-cache page whose write is still in flight; no_tlb_flush: an unmap flushes only its own CPU's TLB, no shootdown IPI) */
  inject: oneOf(INJECTIONS).default('none'),
  /** how a page is moved (compaction, the highorder workload): flip = rewrite every pte through the rmap; swap = through the swap cache */
  migrateMethod: oneOf(MIGRATE_METHODS).default('flip'),
  /** entries of each simulated CPU's TLB (4-way set-associative; mm/tlb.ts): a power of two */
  tlbEntries: int(1, 4096)
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
    .default(64),
  /** simulated swap I/O latency per page, microseconds (the writer / reader sleeps holding the page lock) */
  swapIoUs: num(0, 1e6).default(20),
  /** probability that a swap-in read fails (the slot's users get SIGBUS) */
  swapReadErrorRate: num(0, 1).default(0),
  /** probability that a swap-out write fails (the page stays resident and dirty) */
  swapWriteErrorRate: num(0, 1).default(0),
  /**
   * issue 18: swap write-out. sync: shrink_page writes one page and sleeps
   * swapIoUs holding its lock (every CPU's sleeps overlap: no device queue);
   * async: pages are gathered into clusters of consecutive slots (up to
   * 2^pageCluster) and queued on the swap device (swapLatencyUs +
   * 4 KiB / swapBandwidth per page, one request at a time); reclaim moves on
   * and frees them on a later pass (reclaim/writeback.ts)
   */
  swapWriteout: oneOf(WRITEOUTS).default('sync'),
  /**
   * issue 18 item 3, seed 001: the clock policy keeps a freeable queue
   * (2.4-rmap's inactive_clean): clean, unmapped pages reclaim has made
   * ready are parked there, and an allocation below pages_min takes one
   * without running reclaim (reclaim/freeable.ts). Only with policy clock.
   */
  freeable: z.boolean().default(false),
  /** async write-out: the swap device's latency per request, microseconds */
  swapLatencyUs: positive(1e7).default(20),
  /** async write-out: the swap device's transfer rate, MB/s (10^6 bytes) */
  swapBandwidth: positive(1e6).default(400),
  /** swap-in read-ahead window is 2^pageCluster slots; default 2 below 16 MiB of RAM, else 3 (2.4 swap_setup) */
  pageCluster: int(0, 5).optional(),
  /**
   * issue 17: which clock a run keeps (DESIGN.md §6). host: the workers run
   * at once and every time is host time; virtual: the conductor
   * (src/timing/) runs one CPU at a time in virtual-time order and the cost
   * table times the work.
   */
  clock: oneOf(CLOCKS).default('host'),
  /** virtual clock: how far (virtual ns) a CPU may run ahead of the next-lowest clock before it hands over; 0 = strict discrete-event order (the default) */
  quantum: num(0, 1e9).default(DEFAULT_QUANTUM_NS),
  /** virtual clock: a stop-the-world checkpoint (the invariant checker) every this many virtual µs; 0 = none (the checker still runs at the end) */
  checkpointUs: num(0, 1e9).default(0),
  /** virtual clock: SOCKETSxCORES (cores per socket); CPUs beyond sockets×cores are SMT siblings. Default: the cost table's */
  topology: z.string().regex(/^[1-9]\d*x[1-9]\d*$/, 'expected SOCKETSxCORES, e.g. 2x28').optional(),
  /** virtual clock: the cost table — a preset name or file path (resolved by timing/cost.ts before boot), or the resolved table */
  cost: z.union([z.string(), ResolvedCostSchema]).optional(),
  /** issue 17: Aaron Lu's free_pcppages_bulk change: pick the pages to free before taking zone->lock */
  pcpPrepick: z.boolean().default(false),
};

export const ConfigSchema = z
  .object(CONFIG_FIELDS)
  .strict()
  .superRefine((c, ctx) => {
    if (c.freeable && c.policy !== 'clock') {
      ctx.addIssue({ code: 'custom', path: ['freeable'], message: `the freeable queue is part of the clock policy (policy is ${c.policy})` });
    }
    if (c.clock === 'host' && c.cpus > MAX_CPUS_HOST) {
      ctx.addIssue({ code: 'custom', path: ['cpus'], message: `must be <= ${MAX_CPUS_HOST} with clock host (up to ${MAX_CPUS_VIRTUAL} with clock virtual)` });
    }
  })
  // the derived defaults: filled in here, once, so nothing downstream writes `?? default`
  .transform((c) => ({
    ...c,
    rmapPool: c.rmapPool ?? defaultRmapPool(c.rmap, c.mem, c.maxVma, c.maxMm),
    pageCluster: c.pageCluster ?? (c.mem < 16 * MiB ? 2 : 3),
  }));

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Configs made by makeConfig: createMachine takes these as they are. */
const parsed = new WeakSet<object>();

/** Is `c` a config makeConfig returned (already parsed)? */
export const isParsedConfig = (c: unknown): c is Config => typeof c === 'object' && c !== null && parsed.has(c);

/** The first issue of a failed parse as one line: `field: message` (`name(path)` names the field). */
export function issueLine(error: z.ZodError, name: (path: readonly PropertyKey[]) => string): string {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') return `${name(issue.path)}: unknown field(s) ${issue.keys.join(', ')}`;
  return `${name(issue.path)}: ${issue.message}`;
}

/** `config.a.b` (or `config` for the object itself). */
export const configFieldName = (path: readonly PropertyKey[]) => ['config', ...path.map(String)].join('.');

/**
 * Validate a partial config; throws ConfigError with a one-line message
 * naming the field (`name`: by default `config.<field>`; the CLI names the
 * flag a value came from). A config this returned is taken as it is.
 */
export function makeConfig(input: unknown = {}, name: (path: readonly PropertyKey[]) => string = configFieldName): Config {
  if (isParsedConfig(input)) return input;
  const r = ConfigSchema.safeParse(input ?? {});
  if (!r.success) throw new ConfigError(issueLine(r.error, name));
  parsed.add(r.data);
  return r.data;
}
