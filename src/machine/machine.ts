/*
 * machine.ts — the Machine: views over the one SharedArrayBuffer.
 *
 * `createMachine(cfg)` allocates the buffer and writes the header and the
 * initial (all-NIL) tables; `attachMachine(sab)` rebuilds the same views in
 * any thread (worker or main) from the header alone, so a worker is handed
 * only the buffer. Everything is addressed as Int32 words through `w`; `f64`
 * views the same memory as doubles for the few Float64 fields (lock_stat
 * times, trace ring). Offsets come only from layout.ts.
 *
 * Locking: the Machine object itself is immutable after creation; the words
 * it views follow their own modules' rules.
 */
import { makeConfig, RMAP_SCHEMES, LOCK_SCHEMES, LOCK_IMPLS, POLICIES, type Config } from '../config.js';
import {
  computeLayout,
  writeHeader,
  type Layout,
  MAGIC,
  LAYOUT_VERSION,
  H_MAGIC,
  H_VERSION,
  H_FLAGS,
  HF_LOCKDEP,
  HF_HOLDTIME,
  HF_DEBUG,
  NIL,
  PAGE_STRUCT_WORDS,
  PG_MAPCOUNT,
  PG_RMAP,
  PG_LRU_NEXT,
  PG_LRU_PREV,
  PG_HASH_NEXT,
  MM_WORDS,
  MM_PGD,
  VMA_WORDS,
  VMA_MM,
  INODE_WORDS,
  I_INO,
  I_MMAP,
} from './layout.js';

export interface Machine {
  readonly sab: SharedArrayBuffer;
  readonly w: Int32Array;
  readonly f64: Float64Array;
  readonly layout: Layout;
  readonly cfg: Config;
  readonly lockdep: boolean;
  readonly holdTime: boolean;
  readonly debug: boolean;
}

/** The config is kept in the buffer as JSON after the layout so attach needs only the buffer. */
const CFG_JSON_MAX_WORDS = 1024;

function views(sab: SharedArrayBuffer, cfg: Config, layout: Layout): Machine {
  const w = new Int32Array(sab, 0, layout.totalWords);
  const f64 = new Float64Array(sab, 0, layout.totalWords >>> 1);
  const flags = w[H_FLAGS]!;
  return {
    sab,
    w,
    f64,
    layout,
    cfg,
    lockdep: (flags & HF_LOCKDEP) !== 0,
    holdTime: (flags & HF_HOLDTIME) !== 0,
    debug: (flags & HF_DEBUG) !== 0,
  };
}

/** Fault in every host page of a fresh (all-zero) buffer: one zero store per 4 KiB (config.populate). */
export function populate(w: Int32Array): void {
  for (let i = 0; i < w.length; i += HOST_PAGE_WORDS) w[i] = 0;
}
const HOST_PAGE_WORDS = 1024;

/** Build a machine from a parsed config (makeConfig's; anything else is parsed here, once). */
export function createMachine(input: unknown = {}): Machine {
  const cfg = makeConfig(input);
  const layout = computeLayout(cfg);
  const json = new TextEncoder().encode(JSON.stringify(cfg));
  if (json.length > CFG_JSON_MAX_WORDS * 4 - 4) throw new Error('config too large to embed');
  const bytes = layout.totalWords * 4 + CFG_JSON_MAX_WORDS * 4;
  const sab = new SharedArrayBuffer(bytes);
  const w = new Int32Array(sab, 0, layout.totalWords);
  if (cfg.populate) populate(w);
  writeHeader(w, cfg, layout);
  const tail = new Int32Array(sab, layout.totalWords * 4, CFG_JSON_MAX_WORDS);
  tail[0] = json.length;
  new Uint8Array(sab, layout.totalWords * 4 + 4, json.length).set(json);
  // struct pages: no mapping, no rmap, unlinked
  for (let pfn = 0; pfn < layout.nrFrames; pfn++) {
    const p = layout.memMap + pfn * PAGE_STRUCT_WORDS;
    w[p + PG_MAPCOUNT] = -1;
    w[p + PG_RMAP] = NIL;
    w[p + PG_LRU_NEXT] = NIL;
    w[p + PG_LRU_PREV] = NIL;
    w[p + PG_HASH_NEXT] = NIL;
  }
  for (let i = 0; i < layout.maxMm; i++) w[layout.mmTable + i * MM_WORDS + MM_PGD] = NIL;
  for (let i = 0; i < layout.maxVma; i++) w[layout.vmaTable + i * VMA_WORDS + VMA_MM] = NIL;
  for (let i = 0; i < layout.maxFiles; i++) {
    w[layout.inodes + i * INODE_WORDS + I_INO] = NIL;
    w[layout.inodes + i * INODE_WORDS + I_MMAP] = NIL;
  }
  w.fill(NIL, layout.pcHash, layout.pcHash + layout.pcHashMask + 1);
  return views(sab, cfg, layout);
}

/**
 * Rebuild the views over an existing machine buffer (in a worker). The config
 * is the parsed one createMachine embedded (every default filled in): it is
 * read back as it is, not parsed again.
 */
export function attachMachine(sab: SharedArrayBuffer): Machine {
  const head = new Int32Array(sab, 0, 16);
  if (head[H_MAGIC] !== MAGIC || head[H_VERSION] !== LAYOUT_VERSION) throw new Error('not an smpvm machine buffer');
  // the config JSON sits in the last CFG_JSON_MAX_WORDS words of the buffer
  const tailOff = sab.byteLength - CFG_JSON_MAX_WORDS * 4;
  const len = new Int32Array(sab, tailOff, 1)[0]!;
  const bytes = new Uint8Array(len);
  bytes.set(new Uint8Array(sab, tailOff + 4, len));
  const cfg = JSON.parse(new TextDecoder().decode(bytes)) as Config;
  return views(sab, cfg, computeLayout(cfg));
}

export const schemeIds = { RMAP_SCHEMES, LOCK_SCHEMES, LOCK_IMPLS, POLICIES };
