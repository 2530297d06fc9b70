/*
 * cost.ts — the one cost table of the virtual clock (issue 17, DESIGN.md §6):
 * what each piece of simulated work costs, in virtual nanoseconds, and how
 * it is loaded.
 *
 * A table is a JSON file (src/timing/presets/*.json, or any file written by
 * `smpvm calibrate` or by hand):
 *
 *   { "name": "...", "description": "...", "topology": "2x28",
 *     "costs": { "<entry>": { "value": 250, "unit": "ns", "source": "..." }, ... } }
 *
 * Every entry of COST_NAMES must be present with the unit COST_UNITS gives
 * ("ns" or "factor") and a finite value >= 0; anything else is a CostError
 * naming the entry (the CLI prints it and exits 2). The file's sources stay
 * in the file; the machine carries its name, the sha256 of its canonical
 * JSON (every key sorted) and the values (config.ts ResolvedCostSchema), and
 * every result names the table by both.
 *
 * Charging: install() copies the values into COST (a Float64Array indexed by
 * the C_* constants) in each worker; the conductor's charge(COST[C_X]) is
 * one branch and an add. Nothing here is shared memory; no locking.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../config.js';

type Unit = 'ns' | 'factor';

/** The entries, their units, and what each one times. */
export const COST_SPEC = [
  ['syscall_entry', 'ns', 'one system call entry + exit (mmap, munmap, mremap, fork, exit)'],
  ['fault_entry', 'ns', 'page-fault exception entry + exit (before mmap_sem is taken)'],
  ['user_step', 'ns', "a workload step's user-mode work outside the kernel (the will-it-scale loop body)"],
  ['pte_write', 'ns', 'set_pte / pte_clear on a cached page-table line'],
  ['clear_page', 'ns', 'clear_page of 4 KiB'],
  ['copy_page', 'ns', 'copy_page of 4 KiB'],
  ['list_op', 'ns', 'a list link or unlink on cached lines (LRU, buddy, pcp)'],
  ['hash_step', 'ns', 'one page-cache hash-chain step'],
  ['buddy_split', 'ns', 'one buddy split or merge step in zone->free_area'],
  ['page_alloc', 'ns', 'the allocator fast path: take one page from the pcp list (or the buddy) and prep it'],
  ['page_free', 'ns', 'the free fast path: put one page back on the pcp list'],
  ['lock_op', 'ns', 'an uncontended lock acquire or release on a line this CPU owns'],
  ['line_same_core', 'ns', 'a cache-line transfer between SMT siblings of one core'],
  ['line_same_socket', 'ns', 'a cache-line transfer between cores of one socket'],
  ['line_cross_socket', 'ns', 'a cache-line transfer between sockets'],
  ['ticket_reread', 'factor', "ticket lock release: share of the other spinners' line re-reads served before the successor's"],
  ['tas_race', 'factor', 'tas/ttas release: share of the other spinners whose atomic wins the line before the successor'],
  ['futex_wake', 'ns', 'futex / rwsem / page-lock wake-up: from the waker\'s release to the sleeper running'],
  ['io_page', 'factor', 'multiplier on config.swapIoUs for a simulated swap I/O (1 = the configured latency)'],
  ['struct_page_miss', 'ns', 'a struct page line not in this CPU\'s cache (free_pcppages_bulk / rmqueue_bulk walk cold pages)'],
  ['fault_walk', 'ns', 'the fault under mmap_sem outside the timed pieces: find_vma, the pgd/pte walk, the fault bookkeeping'],
] as const satisfies readonly (readonly [string, Unit, string])[];

export type CostName = (typeof COST_SPEC)[number][0];
export const COST_NAMES: readonly CostName[] = COST_SPEC.map((e) => e[0]);

export const C_SYSCALL = 0;
export const C_FAULT = 1;
export const C_USER_STEP = 2;
export const C_PTE_WRITE = 3;
export const C_CLEAR_PAGE = 4;
export const C_COPY_PAGE = 5;
export const C_LIST_OP = 6;
export const C_HASH_STEP = 7;
export const C_BUDDY_SPLIT = 8;
export const C_PAGE_ALLOC = 9;
export const C_PAGE_FREE = 10;
export const C_LOCK_OP = 11;
export const C_LINE_CORE = 12;
export const C_LINE_SOCKET = 13;
export const C_LINE_CROSS = 14;
export const C_TICKET_REREAD = 15;
export const C_TAS_RACE = 16;
export const C_FUTEX_WAKE = 17;
export const C_IO_PAGE = 18;
export const C_PAGE_MISS = 19;
export const C_FAULT_WALK = 20;
if (COST_NAMES.length !== 21 || COST_NAMES[C_FAULT_WALK] !== 'fault_walk') throw new Error('cost.ts: C_* constants out of step with COST_SPEC');

/** The installed costs of this thread, by C_* index (virtual ns, or a factor). */
export const COST = new Float64Array(COST_NAMES.length);

export type ResolvedCost = NonNullable<Exclude<Config['cost'], string>>;

export class CostError extends Error {
  override name = 'CostError';
}

/** Names of the presets shipped in src/timing/presets (copied to dist by the build). */
export const COST_PRESETS = ['skylake-2s-112', 'amd-48'] as const;
export const DEFAULT_COST_PRESET = 'skylake-2s-112';

function presetFile(name: string): string {
  // dist/src/timing/cost.js → ../../../src/timing/presets (the JSON files are not compiled)
  const here = new URL('.', import.meta.url);
  const a = new URL(`presets/${name}.json`, here);
  if (existsSync(a)) return a.pathname;
  return new URL(`../../../src/timing/presets/${name}.json`, here).pathname;
}

/** JSON with every object's keys sorted: the text the table's hash is taken over. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Check a parsed cost file; `what` names it in errors. */
export function checkCostTable(v: unknown, what: string): ResolvedCost {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CostError(`${what}: expected a JSON object`);
  const o = v as Record<string, unknown>;
  if (typeof o.name !== 'string' || o.name === '') throw new CostError(`${what}: name: a non-empty string expected`);
  if (typeof o.topology !== 'string' || !/^[1-9]\d*x[1-9]\d*$/.test(o.topology)) throw new CostError(`${what}: topology: SOCKETSxCORES expected, e.g. 2x28`);
  const costs = o.costs as Record<string, unknown> | undefined;
  if (costs === null || typeof costs !== 'object' || Array.isArray(costs)) throw new CostError(`${what}: costs: an object of entries expected`);
  const ns: Record<string, number> = {};
  for (const [name, unit] of COST_SPEC) {
    const e = costs[name] as Record<string, unknown> | undefined;
    if (e === undefined) throw new CostError(`${what}: costs.${name}: missing`);
    if (e === null || typeof e !== 'object') throw new CostError(`${what}: costs.${name}: {value, unit, source} expected`);
    if (typeof e.value !== 'number' || !Number.isFinite(e.value) || e.value < 0) throw new CostError(`${what}: costs.${name}.value: a number >= 0 expected`);
    if (e.unit !== unit) throw new CostError(`${what}: costs.${name}.unit: must be "${unit}"`);
    if (typeof e.source !== 'string' || e.source === '') throw new CostError(`${what}: costs.${name}.source: say where the number comes from`);
    ns[name] = e.value;
  }
  for (const k of Object.keys(costs)) if (!(COST_NAMES as readonly string[]).includes(k)) throw new CostError(`${what}: costs.${k}: unknown entry`);
  const hash = createHash('sha256').update(canonical(v)).digest('hex').slice(0, 16);
  return { name: o.name, hash, topology: o.topology, ns };
}

/** Load a cost table: a preset name, or a JSON file's path. */
export function loadCostTable(nameOrFile: string): ResolvedCost {
  const isPreset = (COST_PRESETS as readonly string[]).includes(nameOrFile);
  const file = isPreset ? presetFile(nameOrFile) : nameOrFile;
  const what = isPreset ? `cost preset ${nameOrFile}` : `--cost ${nameOrFile}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const hint = isPreset ? '' : ` (not a file, nor a preset: ${COST_PRESETS.join(', ')})`;
    throw new CostError(`${what}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})${hint}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CostError(`${what}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  return checkCostTable(v, what);
}

/**
 * The config a virtual-clock run boots with: its `cost` resolved to a
 * table (a name or file loaded; absent: the default preset). Host-clock
 * configs are returned as they are.
 */
export function resolveCost<T extends Record<string, unknown>>(cfg: T): T {
  if (cfg.clock !== 'virtual') return cfg;
  const c = cfg.cost;
  if (c !== undefined && typeof c !== 'string') return cfg;
  return { ...cfg, cost: loadCostTable(c ?? DEFAULT_COST_PRESET) };
}

/** Copy a resolved table into COST (each worker, before its CPU runs). */
export function installCosts(t: ResolvedCost): void {
  for (let i = 0; i < COST_NAMES.length; i++) {
    const v = t.ns[COST_NAMES[i]!];
    if (v === undefined) throw new CostError(`cost table ${t.name}: costs.${COST_NAMES[i]}: missing`);
    COST[i] = v;
  }
}
