/*
 * kswapd.ts — the kswapd thread's life (2.4/2.6 mm/vmscan.c kswapd()):
 * a CPU slot of its own (layout kswapdCpu = cfg.cpus) running in its own
 * worker, from the same start barrier as the workload CPUs.
 *
 *   loop:
 *     stop flag, or every workload CPU done        → exit
 *     stop-the-world requested                      → park (checkpoint)
 *     free < pages_high and woken / free < low     → kswapd_balance (one
 *                                                     round: up to
 *                                                     SWAP_CLUSTER_MAX pages)
 *     else                                          → kswapd_sleep (Atomics.wait
 *                                                     on K_WAKE, ≤ KSWAPD_NAP_MS,
 *                                                     so a checkpoint or the
 *                                                     stop flag is seen soon)
 *
 * A round that frees nothing (everything referenced, locked or unswappable)
 * is followed by a nap: kswapd does not spin; allocating CPUs fall back to
 * direct reclaim. Between rounds kswapd holds no lock and no isolated page,
 * which is where it parks for checkpoints (it counts in H_RUNNING while it
 * runs, like a workload CPU).
 *
 * Locking: none held between rounds; see vmscan.ts for a round's.
 */
import { H_STOP, H_STW, H_RUNNING, G_KSWAPD, K_IO_WAIT, globalLine } from '../machine/layout.js';
import type { ReclaimCpu } from './context.js';
import { kswapd_balance, kswapd_sleep } from './vmscan.js';

/** Longest kswapd sleep between checks of the stop / stop-the-world flags. */
export const KSWAPD_NAP_MS = 5;

/**
 * Run kswapd until the run stops (H_STOP) or it is the last one counted in
 * H_RUNNING. `park` is the runtime's stop-the-world parking (sim/cpuloop.ts).
 * Returns the number of balance rounds run.
 */
export function kswapd_run(cpu: ReclaimCpu, park: (w: Int32Array) => void): number {
  const w = cpu.w;
  let rounds = 0;
  let work = true;
  while (Atomics.load(w, H_STOP) === 0 && Atomics.load(w, H_RUNNING) > 1) {
    if (Atomics.load(w, H_STW) !== 0) {
      park(w);
      continue;
    }
    if (work) {
      const freed = kswapd_balance(cpu);
      rounds++;
      if (freed > 0) continue;
      if (freed === 0) {
        // nothing reclaimable now (2.6's all_unreclaimable): nap, whatever the wake-ups say
        Atomics.wait(w, globalLine(cpu.l, G_KSWAPD) + K_IO_WAIT, 0, KSWAPD_NAP_MS);
        work = true;
        continue;
      }
    }
    work = kswapd_sleep(cpu, KSWAPD_NAP_MS);
  }
  return rounds;
}
