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
 * spins. Off where spinning costs more than it saves: under a cgroup CPU
 * quota (/sys/fs/cgroup/cpu.max; the keepers would spend the quota) and
 * when SMPVM_KEEPAWAKE=0 (a laptop on battery, a burstable VM's credits).
 *
 * The keepers' own CPU time is theirs, not the run's: keepers_cpu_ms reads
 * it from /proc (procstat.ts; each keeper stores its thread id), and
 * sim/run.ts takes it out of the process CPU time it reports.
 *
 * Locking: a shared buffer. Word 0 is the number of runs that want the
 * cores kept awake; the main thread adds and subtracts with Atomics and
 * notifies; the keepers read it with Atomics.load and sleep on it
 * (Atomics.wait) at 0. Word 1 + i is keeper i's thread id, and word 1 + n
 * + i the number of times it woke to spin; keeper i alone writes both
 * (Atomics.store, Atomics.add), the main thread reads them (Atomics.load;
 * a tid of 0: not yet known). The keepers are started once per process and
 * unref'd: they never keep the process alive.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { task_stat } from './procstat.js';

/** Under a cgroup v2 CPU quota (cpu.max other than "max ...")? */
function cpuQuota(): boolean {
  try {
    return !readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').startsWith('max');
  } catch {
    return false;
  }
}

/** Can and may this host keep its cores awake (Linux, no CPU quota, not SMPVM_KEEPAWAKE=0)? */
export const KEEPAWAKE_SUPPORTED = process.platform === 'linux' && process.env.SMPVM_KEEPAWAKE !== '0' && !cpuQuota();

const KEEPER = `
const { workerData } = require('node:worker_threads');
const { sab, i, n } = workerData;
const want = new Int32Array(sab);
let lowest = true;
try { require('node:os').setPriority(19); } catch { lowest = false; }
try { Atomics.store(want, 1 + i, Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop())); } catch {}
if (lowest) for (;;) { Atomics.wait(want, 0, 0); Atomics.add(want, 1 + n + i, 1); while (Atomics.load(want, 0) > 0); }
`;

let want: Int32Array | undefined;
let nKeepers = 0;

/** Start the keepers (one per host core) if there are none yet. */
function keepers(): Int32Array {
  if (want) return want;
  nKeepers = availableParallelism();
  want = new Int32Array(new SharedArrayBuffer(4 * (1 + 2 * nKeepers)));
  for (let i = 0; i < nKeepers; i++) {
    const k = new Worker(KEEPER, { eval: true, workerData: { sab: want.buffer, i, n: nKeepers } });
    k.on('error', () => undefined); // a keeper that fails leaves a core to halt; nothing simulated depends on it
    k.unref();
  }
  return want;
}

/** Host CPU ms the keepers have used so far (0 with none; 10 ms resolution). */
export function keepers_cpu_ms(): number {
  let ms = 0;
  for (const tid of keeper_tids()) ms += task_stat(`/proc/self/task/${tid}/stat`)?.cpuMs ?? 0;
  return ms;
}

/** The keepers' thread ids (those known yet). */
export function keeper_tids(): number[] {
  const t: number[] = [];
  for (let i = 0; i < nKeepers; i++) {
    const tid = Atomics.load(want!, 1 + i);
    if (tid !== 0) t.push(tid);
  }
  return t;
}

/** How many times the keepers have woken to spin, in all. */
export function keeper_wakes(): number {
  let n = 0;
  for (let i = 0; i < nKeepers; i++) n += Atomics.load(want!, 1 + nKeepers + i);
  return n;
}

/** Keep the host's cores awake until the returned function is called (once; later calls do nothing). No-op where unsupported. */
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
