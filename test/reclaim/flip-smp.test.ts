/*
 * try_to_flip_page_to on 2 CPUs, every rmap scheme: CPU 1 (a worker) reads
 * and writes one page through each of its mappings — private after fork,
 * shared anonymous, a shared file — while CPU 0 (this thread) flips that
 * page from frame to frame. The worker checks every value it reads (the
 * value it just wrote through another mapping, or the value written before
 * the fork); after every flip each former pte names the new frame and the
 * old frame is ours with nobody mapping it, and is freed; at the end the
 * checker is clean. Lockdep and the debug lock checks are on. The
 * interleaving is the host's (no seed decides it); a failure prints the
 * scheme and kind. CPU 1 is one worker thread for the whole file, given
 * each test's machine in turn.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { Worker } from 'node:worker_threads';
import { check_invariants } from '../../src/sim/checker.js';
import { mmput } from '../../src/vm/fork.js';
import { PG_COUNT, PG_MAPCOUNT } from '../../src/machine/layout.js';
import { pte_pfn } from '../../src/mm/pte.js';
import { __alloc_pages } from '../../src/mm/page_alloc.js';
import { __free_pages } from '../../src/mm/page_ref.js';
import { SITE } from '../../src/sync/classes.js';
import { RMAP_SCHEMES } from '../../src/config.js';
import { lru_add_drain } from '../../src/reclaim/index.js';
import { migrate_page, MIGRATE_OK } from '../../src/reclaim/migrate.js';
import { readLockdepReport, formatLockdepReport } from '../../src/sync/lockdep.js';
import { bootR, pteOf, pageWord, vmsum } from './helpers.js';
import { KINDS } from './flip_kinds.js';
import type { FlipJob } from './flip.worker.js';

const FLIPS = Number(process.env.SMPVM_FLIP_SMP_FLIPS ?? 100);

/** CPU 1: one worker for every test of the file (its start-up through tsx costs more than a test's flips) */
let worker1: Worker | undefined;
let workerError: Error | undefined;
function cpu1(): Worker {
  if (!worker1) {
    // the first, or a new one after an error ended the last (that test failed with it)
    workerError = undefined;
    const w = new Worker(new URL('./flip.worker.mjs', import.meta.url));
    w.on('error', (e) => (workerError = e));
    w.once('exit', () => (worker1 = undefined));
    worker1 = w;
  }
  return worker1;
}

describe('try_to_flip_page_to on 2 CPUs while the other CPU reads and writes the page', () => {
  afterAll(async () => {
    await worker1?.terminate();
  });
  for (const rmap of RMAP_SCHEMES) {
    for (const [kind, setup] of Object.entries(KINDS)) {
      it(`${rmap}: ${kind}`, async () => {
        const { m, cpu } = bootR({ rmap, locks: 'split', cpus: 2, mem: '4M', swap: 0, filePages: 8 });
        const s = setup(cpu);
        lru_add_drain(cpu);
        const ctl = new Int32Array(new SharedArrayBuffer(32));
        const worker = cpu1();
        // the worker answers 'done' once it has seen the stop request; if it dies instead, 'exit' ends the wait
        const finished = new Promise<void>((ok) => {
          const end = () => {
            worker.off('message', end);
            worker.off('exit', end);
            ok();
          };
          worker.on('message', end);
          worker.on('exit', end);
        });
        worker.postMessage({ sab: m.sab, ctl: ctl.buffer, mms: s.mms, addrs: s.addrs, shared: s.shared, value: s.value } satisfies FlipJob);
        const t0 = performance.now();
        const failure = () => workerError;
        const problems: string[] = [];
        const faults0 = vmsum(m, 'pgfault');
        let moved = 0;
        let raced = 0;
        try {
          for (const end = Date.now() + 20_000; Atomics.load(ctl, 0) === 0; await new Promise((r) => setTimeout(r, 1))) {
            if (failure()) throw failure();
            if (Date.now() > end) throw new Error('timed out waiting for CPU 1 to start');
          }
          for (let f = 0; f < FLIPS && problems.length === 0; f++) {
            // let CPU 1 get some accesses in between
            for (const seen = Atomics.load(ctl, 3), end = Date.now() + 2000; Atomics.load(ctl, 3) < seen + 4 && Date.now() < end; );
            const old = pte_pfn(pteOf(cpu, s.mms[0]!, s.addrs[0]!));
            const to = __alloc_pages(cpu, 0, SITE.test);
            if (migrate_page(cpu, old, to) !== MIGRATE_OK) {
              raced++;
              __free_pages(cpu, to, 0);
              continue;
            }
            moved++;
            for (let i = 0; i < s.mms.length; i++) {
              const now = pte_pfn(pteOf(cpu, s.mms[i]!, s.addrs[i]!));
              if (now !== to) problems.push(`flip ${f}: mapping ${i} names frame ${now}, not the new ${to}`);
            }
            if (pageWord(m, old, PG_COUNT) !== 1 || pageWord(m, old, PG_MAPCOUNT) !== -1) {
              problems.push(`flip ${f}: old frame ${old} has _count ${pageWord(m, old, PG_COUNT)}, _mapcount ${pageWord(m, old, PG_MAPCOUNT)}`);
            }
            __free_pages(cpu, old, 0);
            if (pageWord(m, old, PG_COUNT) !== 0) problems.push(`flip ${f}: old frame ${old} not free after the free`);
          }
        } finally {
          Atomics.store(ctl, 1, 1);
          await finished;
        }
        if (failure()) throw failure();
        if (ctl[4]! > 0) problems.push(`CPU 1: ${ctl[4]} bad accesses; first through mapping ${ctl[5]}: expected ${ctl[6]}, read ${ctl[7]}`);
        problems.push(...check_invariants(cpu).violations);
        const ld = readLockdepReport(m.w, m.layout.lockdep);
        if (ld.count) problems.push(formatLockdepReport(ld));
        if (problems.length) console.error(`flip-smp ${rmap} / ${kind} failed:\n${problems.slice(0, 10).join('\n')}`);
        expect(problems).toEqual([]);
        const t = ((performance.now() - t0) / 1000).toFixed(1);
        console.log(`flip-smp ${rmap} / ${kind}: ${moved} flips, ${raced} reported busy, ${ctl[3]} accesses by CPU 1, ${vmsum(m, 'pgfault') - faults0} of them faulted on a pte mid-flip (${t} s)`);
        expect(moved).toBeGreaterThan(FLIPS / 2);
        expect(ctl[3]).toBeGreaterThan(FLIPS);
        for (const mm of s.mms) mmput(cpu, mm);
      });
    }
  }
});
