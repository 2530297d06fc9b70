/*
 * keepawake.ts — host side only: while a virtual-clock run hands its turn
 * among more worker threads than the host has cores, one thread per host
 * core spins at the lowest priority (nice 19), so that no core halts
 * between two turns.
 *
 * Why: under the virtual clock one CPU thread runs at a time (timing/
 * conductor.ts). A hand-over is a futex wake-up of a sleeping thread
 * (Atomics.notify) while the giver goes to sleep (Atomics.wait); the
 * receiver is woken onto another core, which, idle since the last turn,
 * has halted. On a virtual machine waking a halted vCPU is a trip through
 * the hypervisor; on this 2-core VM a hand-over took ~26 µs that way. A
 * core that runs a keeper does not halt: the kernel preempts the keeper
 * for the woken thread at once (nice 19 weighs 15 against nice 0's 1024,
 * so a keeper takes ~1.5% of a core from a CPU thread it shares one with).
 * bench/vclock.ts `keepawake` measures it: host seconds of a 64-CPU
 * page_fault1 point with and without.
 *
 * What it changes: host speed only. The keepers touch nothing of the
 * machine; every simulated figure of the virtual clock is unchanged. The
 * host clock never uses them (they would take host time from the run they
 * measure). Linux only: there setpriority on the calling thread (pid 0)
 * lowers that thread alone; elsewhere it would lower the whole process, so
 * no keeper is started. A keeper that cannot lower its priority never
 * spins.
 *
 * The keepers' own CPU time is theirs, not the run's: keepers_cpu_ms reads
 * it from /proc (each keeper stores its thread id), and sim/run.ts takes it
 * out of the process CPU time it reports.
 *
 * Locking: word 0 of a shared buffer is the number of runs that want the
 * cores kept awake; the main thread adds and subtracts with Atomics and
 * notifies; the keepers read it with Atomics.load and sleep on it
 * (Atomics.wait) at 0. Word 1 + i is keeper i's thread id, stored once by
 * that keeper (Atomics.store), read by the main thread (Atomics.load; 0:
 * not yet known). The keepers are started once per process and unref'd:
 * they never keep the process alive.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';

/** Can this host keep its cores awake (a thread's own priority can be lowered)? */
export const KEEPAWAKE_SUPPORTED = process.platform === 'linux';

const KEEPER = `
const { workerData } = require('node:worker_threads');
const want = new Int32Array(workerData.sab);
let lowest = true;
try { require('node:os').setPriority(19); } catch { lowest = false; }
try { Atomics.store(want, 1 + workerData.i, Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop())); } catch {}
if (lowest) for (;;) { Atomics.wait(want, 0, 0); while (Atomics.load(want, 0) > 0); }
`;

let want: Int32Array | undefined;

/** Start the keepers (one per host core) if there are none yet. */
function keepers(): Int32Array {
  if (want) return want;
  const n = availableParallelism();
  want = new Int32Array(new SharedArrayBuffer(4 * (1 + n)));
  for (let i = 0; i < n; i++) new Worker(KEEPER, { eval: true, workerData: { sab: want.buffer, i } }).unref();
  return want;
}

/** Host CPU ms the keepers have used so far (0 with none; from /proc/PID/task/TID/stat, 10 ms ticks). */
export function keepers_cpu_ms(): number {
  if (!want) return 0;
  let ms = 0;
  for (let i = 1; i < want.length; i++) {
    const tid = Atomics.load(want, i);
    if (tid === 0) continue;
    try {
      const st = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' '); // f[11], f[12]: utime, stime in ticks
      ms += (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      // the keeper has gone (the process is exiting)
    }
  }
  return ms;
}

/** Keep the host's cores awake until the returned function is called (once). No-op where unsupported. */
export function keep_awake(): () => void {
  if (!KEEPAWAKE_SUPPORTED) return () => undefined;
  const w = keepers();
  Atomics.add(w, 0, 1);
  Atomics.notify(w, 0);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    Atomics.sub(w, 0, 1);
  };
}
