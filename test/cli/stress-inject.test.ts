/*
 * `smpvm stress --inject BUG`, one test per planted bug, each on the
 * settings the command picks for it (cli/stress.ts INJECT): the run must
 * catch the bug (exit 1), say on its first line which bug was planted, give
 * the seed to reproduce it, and fail the way that bug fails (the pattern
 * per bug below), not of something unrelated, within 60 s — the missing pte
 * and LRU locks (no_pte_lock, no_lru_lock) and the skipped shmem swap-entry
 * record (no_shmem_swp) included. Races are timing-dependent:
 * a failure prints the whole output with the seed.
 */
import { describe, it, expect } from 'vitest';
import { main } from '../../src/cli.js';
import { bufferIo } from '../../src/cli/io.js';
import { INJECT } from '../../src/cli/stress.js';

/** What each bug's failure looks like (checker, BUG_ON or oracle text). */
const SIGNS: Record<keyof typeof INJECT, RegExp> = {
  no_zone_lock: /free page|free list|free_area|nr_free|buddy|count/,
  no_lru_lock: /free page|lru|LRU|count/,
  no_pte_lock: /pte|page cache|caches|cached|mapcount|rss|did not stop/,
  no_swap_dup: /swap|slot|did not stop/,
  no_migrate_copy: /content oracle: .*expected/,
  no_shmem_swp: /content oracle: .*expected/,
  free_under_writeback: /write-back|writeback|content oracle|swap|slot/,
  // a stale translation writes into the reused frame: another user page (the content oracle sees its data),
  // or a page table (the checker sees the table; or the stamp, read as a pte, names a swap entry that is
  // freed and allocated again while cached, a frame beyond the machine, or one that sends a walk round
  // for ever: ~1 of 6 seeds)
  no_tlb_flush: /content oracle: .*expected|lacks PG_pgtable|swap entry|Invalid atomic access index|did not stop/,
};

describe('stress --inject: each planted bug is caught on its own settings', () => {
  for (const bug of Object.keys(INJECT) as (keyof typeof INJECT)[]) {
    it(`${bug} is caught (exit 1, the seed, the bug named)`, async () => {
      const io = bufferIo();
      const t0 = Date.now();
      const code = await main(['stress', '--inject', bug, '--seed', '1'], io);
      const out = io.stdout();
      const ms = Date.now() - t0;
      const why = `seed 1, ${ms} ms:\n${out}\n${io.stderr()}`;
      expect(out.split('\n')[0], why).toMatch(new RegExp(`^planted bug: ${bug} — `));
      expect(code, why).toBe(1);
      expect(out, why).toMatch(new RegExp(`CAUGHT\\n.*\\n  reproduce: smpvm stress --locks \\S+ .*--seed 1 .*--inject ${bug}`));
      expect(io.stderr(), why).toMatch(new RegExp(`^smpvm: planted bug ${bug} caught under \\S+ \\(seed 1\\): `, 'm'));
      expect(out, why).toMatch(SIGNS[bug]);
      expect(ms, why).toBeLessThan(60_000); // the bound: each planted bug caught within 60 s
      console.log(`${bug}: caught in ${ms} ms`);
    }, 90_000);
  }
});
