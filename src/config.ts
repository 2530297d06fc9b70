/*
 * config.ts — the one typed, validated machine/run configuration.
 *
 * Every knob that shapes the SharedArrayBuffer (DESIGN.md §1) or selects a
 * policy (§2: RmapScheme, LockImpl + lock scheme, ReplacementPolicy) lives
 * here. Defaults build a machine that runs a workload in seconds.
 *
 * Validation is zod; a bad value becomes a ConfigError whose one-line message
 * names the field ("config.cpus: must be >= 1"), which the CLI prints with
 * exit code 2. Nothing here is shared memory; no locking.
 */
import { z } from 'zod';

export const RMAP_SCHEMES = ['scan', 'ptechain', 'vmnode', 'ptechain25', 'hint', 'objrmap'] as const;
export const LOCK_SCHEMES = ['bkl', '2.4', 'split'] as const;
export const LOCK_IMPLS = ['tas', 'ttas', 'ticket', 'mcs', 'futex'] as const;
export const POLICIES = ['swapout', 'clock', '2q', 'clockpro', 'clockpro-approx'] as const;

/** Deliberate bugs the stress tests plant to prove they can fail. */
export const INJECTIONS = ['none', 'no_zone_lock', 'no_pte_lock', 'no_lru_lock', 'no_swap_dup', 'no_migrate_copy'] as const;

export const CLOCKS = ['host', 'virtual'] as const;
/** host clock: workers time-slice beyond the host's cores anyway */
export const MAX_CPUS_HOST = 64;
/** virtual clock: layout sizes (per-CPU areas, LK_LAST's CPU field) allow this many */
export const MAX_CPUS_VIRTUAL = 256;
/** default quantum, virtual ns (README "Virtual time": its error against quantum 0) */
export const DEFAULT_QUANTUM_NS = 1000;

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

/** Parse "64M", "1G", "4096K", "65536" (bytes) into bytes; NaN if malformed. */
export function parseSize(s: string | number): number {
  if (typeof s === 'number') return s;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGkmg]?)(?:i?[Bb])?\s*$/.exec(s);
  if (!m) return NaN;
  const mult = { '': 1, K: 1024, M: MiB, G: 1024 * MiB }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(m[1]) * mult);
}

const size = (min: number, max: number) =>
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
        .min(min, `must be at least ${min / MiB} MiB`)
        .max(max, `must be at most ${max / MiB} MiB`)
        .refine((n) => n % PAGE === 0, 'must be a multiple of 4 KiB'),
    );

export const ConfigSchema = z
  .object({
    /** simulated RAM in bytes (i386 without PAE: at most 4 GiB) */
    mem: size(1 * MiB, 4096 * MiB).default(64 * MiB),
    /** swap area size in bytes; 0 = no swap */
    swap: z
      .union([z.number(), z.string()])
      .transform((v) => parseSize(v))
      .pipe(z.number().int().min(0).max(4096 * MiB).refine((n) => n % PAGE === 0, 'must be a multiple of 4 KiB'))
      .default(64 * MiB),
    /** simulated CPUs running the workload (kswapd gets its own slot) */
    cpus: z.number().int().min(1, 'must be >= 1').max(MAX_CPUS_VIRTUAL, `must be <= ${MAX_CPUS_VIRTUAL}`).default(2),
    maxMm: z.number().int().min(1).max(65536).default(256),
    maxVma: z.number().int().min(4).max(1 << 20).default(8192),
    maxFiles: z.number().int().min(1).max(65536).default(64),
    /** pages each simulated file holds (its size) */
    filePages: z.number().int().min(1).max(1 << 20).default(4096),
    /** rmap pool entries (vm_nodes / pte_chain blocks / anon objects) */
    rmapPool: z.number().int().min(0).max(1 << 24).optional(),
    rmap: z.enum(RMAP_SCHEMES).default('scan'),
    locks: z.enum(LOCK_SCHEMES).default('split'),
    lockImpl: z.enum(LOCK_IMPLS).default('ticket'),
    policy: z.enum(POLICIES).default('2q'),
    /** 2q: activate a refaulting page iff its refault distance <= nr_active (mm/workingset.c; new anonymous pages then start inactive, as since 5.9) */
    refaultActivation: z.boolean().default(false),
    /** nonresident bucket size in bytes: one cache line */
    nrBucketBytes: z.union([z.literal(64), z.literal(128)]).default(64),
    /** per-CPU trace ring entries (profile); 0 = off */
    traceRing: z.number().int().min(0).max(1 << 20).default(0),
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
    seed: z.number().int().min(0).max(0x7fffffff).default(1),
    /** fault injection for tests: run with one lock class removed (or, no_swap_dup: fork skips one swap_duplicate per CPU; no_migrate_copy: migrate_page moves page state but not the 4 KiB of data) */
    inject: z.enum(INJECTIONS).default('none'),
    /** simulated swap I/O latency per page, microseconds (the writer / reader sleeps holding the page lock) */
    swapIoUs: z.number().min(0).max(1e6).default(20),
    /** probability that a swap-in read fails (the slot's users get SIGBUS) */
    swapReadErrorRate: z.number().min(0).max(1).default(0),
    /** probability that a swap-out write fails (the page stays resident and dirty) */
    swapWriteErrorRate: z.number().min(0).max(1).default(0),
    /** swap-in read-ahead window is 2^pageCluster slots; default 2 below 16 MiB of RAM, else 3 (2.4 swap_setup) */
    pageCluster: z.number().int().min(0).max(5).optional(),
    /**
     * issue 17: which clock a run keeps (DESIGN.md §6). host: the workers run
     * at once and every time is host time; virtual: the conductor
     * (src/timing/) runs one CPU at a time in virtual-time order and the cost
     * table times the work.
     */
    clock: z.enum(CLOCKS).default('host'),
    /** virtual clock: how far (virtual ns) a CPU may run ahead of the next-lowest clock before it hands over; 0 = strict discrete-event order */
    quantum: z.number().min(0, 'must be >= 0').max(1e9, 'must be <= 1e9').default(DEFAULT_QUANTUM_NS),
    /** virtual clock: SOCKETSxCORES (cores per socket); CPUs beyond sockets×cores are SMT siblings. Default: the cost table's */
    topology: z.string().regex(/^[1-9]\d*x[1-9]\d*$/, 'expected SOCKETSxCORES, e.g. 2x28').optional(),
    /** virtual clock: the cost table — a preset name or file path (resolved by timing/cost.ts before boot), or the resolved table */
    cost: z.union([z.string(), ResolvedCostSchema]).optional(),
    /** issue 17: Aaron Lu's free_pcppages_bulk change: pick the pages to free before taking zone->lock */
    pcpPrepick: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.clock === 'host' && c.cpus > MAX_CPUS_HOST) {
      ctx.addIssue({ code: 'custom', path: ['cpus'], message: `must be <= ${MAX_CPUS_HOST} with clock host (up to ${MAX_CPUS_VIRTUAL} with clock virtual)` });
    }
  });

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validate a partial config; throws ConfigError with a one-line message naming the field. */
export function makeConfig(input: unknown = {}): Config {
  const r = ConfigSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.length ? issue.path.join('.') : '(root)';
  let msg = issue.message;
  if (issue.code === 'unrecognized_keys') msg = `unknown field(s) ${issue.keys.join(', ')}`;
  throw new ConfigError(`config.${field}: ${msg}`);
}
