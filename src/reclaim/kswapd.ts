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
 * The swap device's completions (writeback.ts) are taken here on every
 * loop, and kswapd sleeps no longer than until the next one is due, so
 * written pages become freeable even when no CPU enters reclaim.
 *
 * Locking: none held between rounds; see vmscan.ts for a round's.
 */
import { sleep_on, vt_checkpoint_due, vt_checkpoint_park } from '../timing/conductor.js';
import { H_STOP, H_STW, H_RUNNING, G_KSWAPD, K_IO_WAIT, globalLine } from '../machine/layout.js';
import type { ReclaimCpu } from './context.js';
import { kswapd_balance, kswapd_sleep } from './vmscan.js';
import { wb_complete, wb_next_ms } from './writeback.js';

/** kswapd's nap when nothing is reclaimable right now (pages come back from other CPUs soon). */
export const KSWAPD_NAP_MS = 5;
/**
 * Longest idle sleep. kswapd sleeps until woken — by wakeup_kswapd, or by
 * the orchestrator (sim/run.ts kick_kswapd) when it raises the stop or
 * stop-the-world flag or the CPUs are done — so this only bounds a missed
 * kick. Short polling naps would wake it hundreds of times a second, and on
 * a host with no spare core each wake-up preempts a workload CPU, perhaps one
 * holding a spinlock its peer then spins on (measured: 5 ms naps cost
 * page_fault1's 2-CPU runs several per cent).
 */
export const KSWAPD_IDLE_MS = 250;

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
    // virtual clock: park between balance rounds for a checkpoint that is due (timing/conductor.ts)
    if (vt_checkpoint_due()) vt_checkpoint_park();
    if (Atomics.load(w, H_STW) !== 0) {
      park(w);
      continue;
    }
    wb_complete(cpu);
    if (work) {
      const freed = kswapd_balance(cpu);
      rounds++;
      if (freed > 0) continue;
      if (freed === 0) {
        // nothing reclaimable now (2.6's all_unreclaimable): nap, whatever the wake-ups say
        sleep_on(w, globalLine(cpu.l, G_KSWAPD) + K_IO_WAIT, 0, Math.min(KSWAPD_NAP_MS, Math.max(0.001, wb_next_ms(cpu))));
        work = true;
        continue;
      }
    }
    work = kswapd_sleep(cpu, Math.min(KSWAPD_IDLE_MS, Math.max(0.001, wb_next_ms(cpu))));
  }
  return rounds;
}
