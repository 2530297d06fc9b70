/*
 * mremap (src/vm/mmap.ts move_page_tables) vs a flip of a page it moves
 * (src/reclaim/flip.ts): the flip clears every pte of the page and sets it
 * to the new frame with each pte lock held from the clear to the set, so
 * that no pte says "nothing here" to anyone who holds its lock. mremap used
 * to skip a pte it read none without the lock; in the flip's window it
 * skipped the page, then munmap of the old range zapped the pte the flip
 * had set meanwhile, and the new range had no page there: the next access
 * read a fresh zero page (the migrate stress: "expected stamp …, read
 * [0,0,0,0,0,0,0,0]" under anonmm and objrmap, with host load).
 *
 * Two threads: the flip runs here (CPU 0) and is held inside its window (a
 * hook on its TLB flush, between the clears and the sets) while a CPU worker
 * (CPU 1, test/sync/lock-worker.ts) runs mremap over the page; the flip
 * then completes. The data must be at the new address, the old frame free,
 * the checker clean. Under `2.4` and `split` (under `bkl` kernel_flag keeps
 * mremap out of the flip's window).
 */
import { describe, it, expect, vi, afterAll } from 'vitest';
import type { CpuWorker } from '../sync/harness.js';

const hook = vi.hoisted(() => ({ once: null as null | (() => void) }));
vi.mock('../../src/mm/tlb.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/mm/tlb.js')>();
  return {
    ...mod,
    flush_tlb_mm: (...a: Parameters<typeof mod.flush_tlb_mm>) => {
      mod.flush_tlb_mm(...a);
      const f = hook.once;
      hook.once = null;
      f?.();
    },
  };
});

const { check_invariants } = await import('../../src/sim/checker.js');
const { do_mmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } = await import('../../src/vm/mmap.js');
const { pte_pfn } = await import('../../src/mm/pte.js');
const { __alloc_pages } = await import('../../src/mm/page_alloc.js');
const { __free_pages } = await import('../../src/mm/page_ref.js');
const { SITE } = await import('../../src/sync/classes.js');
const { PAGE_WORDS, PG_COUNT } = await import('../../src/machine/layout.js');
const { lru_add_drain } = await import('../../src/reclaim/index.js');
const { migrate_page, MIGRATE_OK } = await import('../../src/reclaim/migrate.js');
const { startCpuWorker } = await import('../sync/harness.js');
const { bootR, newProc, mapAnon, get, put, pteOf, pageWord } = await import('../reclaim/helpers.js');

/** Block this thread for ms (the worker runs meanwhile). */
const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describe('mremap vs a flip of a page it moves', () => {
  let worker: CpuWorker | undefined;
  afterAll(async () => {
    await worker?.terminate();
  });
  for (const rmap of ['objrmap', 'anonmm'] as const) {
    for (const locks of ['split', '2.4'] as const) {
      it(`${rmap} under ${locks}: the page is at the new address after the move`, async () => {
        worker ??= startCpuWorker();
        const { m, cpu } = bootR({ rmap, locks, mem: '4M', swap: 0, cpus: 2 });
        const w = m.w;
        const scratch = __alloc_pages(cpu, 0, SITE.test); // the handshake word: a frame of the test's own
        const mark = m.layout.frames + scratch * PAGE_WORDS;
        const mm = newProc(cpu);
        const a = mapAnon(cpu, mm, 2);
        // a read-only neighbour right after it (no merge): mremap cannot grow in place, it moves
        expect(do_mmap(cpu, mm, a + 2 * 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)).toBe(a + 2 * 4096);
        expect(put(cpu, mm, a, 61)).toBe(0);
        expect(put(cpu, mm, a + 4096, 62)).toBe(0);
        lru_add_drain(cpu);
        const old = pte_pfn(pteOf(cpu, mm, a)); // the range's first page: mremap meets it before any pte lock
        await worker.run(m, 1, 'mremap', { warm: true }); // tsx's start-up, before the timed part
        const to = __alloc_pages(cpu, 0, SITE.test);
        let moved: Promise<number> | undefined;
        hook.once = () => {
          // the flip's window: the page's pte is clear, its lock held; mremap runs over it
          moved = worker!.run<number>(m, 1, 'mremap', { mm, old: a, len: 2 * 4096, mark });
          const end = Date.now() + 60_000;
          while (Atomics.load(w, mark) !== 1 && Date.now() < end) sleepSync(1);
          expect(Atomics.load(w, mark)).toBe(1);
          sleepSync(100); // mremap reaches the page's pte and waits for its lock (or, before the fix, skipped it)
        };
        expect(migrate_page(cpu, old, to)).toBe(MIGRATE_OK);
        expect(hook.once).toBe(null);
        const neu = await moved!;
        expect(neu).toBeGreaterThan(0);
        expect(pte_pfn(pteOf(cpu, mm, neu))).toBe(to); // before the fix: no pte there
        expect(get(cpu, mm, neu)).toBe(61); // before the fix: 0, a fresh zero page
        expect(get(cpu, mm, neu + 4096)).toBe(62);
        __free_pages(cpu, old, 0); // the flip's old frame, ours
        expect(pageWord(m, old, PG_COUNT)).toBe(0);
        __free_pages(cpu, scratch, 0);
        expect(check_invariants(cpu).violations).toEqual([]);
      });
    }
  }
});
