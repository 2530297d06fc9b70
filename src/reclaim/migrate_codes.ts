/*
 * migrate_codes.ts — what a page migration returns and which page state the
 * new frame inherits, shared by both methods: through the swap cache
 * (migrate.ts) and by rewriting the ptes (flip.ts). Constants only; no
 * shared memory, no locking.
 */
import { PG_error, PG_referenced, PG_uptodate, PG_dirty, PG_active, PG_anon, PG_hot, PG_test, PG_readahead, PG_freeable } from '../machine/page.js';

export const MIGRATE_OK = 0;
/** in use right now: not on an LRU list, locked, under write-out, pinned, or an rmap / pte trylock failed */
export const MIGRATE_BUSY = 1;
/** anonymous and no swap slot to move it through (the swap method only) */
export const MIGRATE_NOSWAP = 2;
/** never movable here (compound; shmem under the swap method) */
export const MIGRATE_UNMOVABLE = 3;

/**
 * Page state the new frame inherits; the rest (lock, LRU, cache membership)
 * it gets by the usual paths. PG_freeable (a page parked on the clock
 * policy's freeable queue) moves too, copied under the frozen count; the
 * migration then drops it from the old frame and queues the new one
 * (freeable.ts freeable_migrate), FQ_NR unchanged.
 */
export const MIGRATE_FLAGS = PG_error | PG_referenced | PG_uptodate | PG_dirty | PG_active | PG_anon | PG_hot | PG_test | PG_readahead | PG_freeable;

/** config.migrateMethod as the CPU carries it (its index in config.ts MIGRATE_METHODS) */
export const METHOD_FLIP = 0;
export const METHOD_SWAP = 1;
