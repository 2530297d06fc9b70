/*
 * hostprobe.ts — what the host charges for sharing one cache line: the
 * round trip of a line handed back and forth between two threads.
 *
 * Every simulated lock acquisition that bounces (lock_stat's acq-bounces)
 * and every list line two simulated CPUs both write costs about half of
 * this, so it is what a 2-CPU ratio is measured against. Bare metal reads
 * ~50-150 ns; a VM's vCPUs on different core complexes or sockets read far
 * more, and the figure can change while the VM runs (this project's VM has
 * read 240 ns to 1 us within one hour). `smpvm scale` measures it before its
 * points and prints it beside them; bench/scale.ts and clear_ceiling.ts too.
 *
 * The probe: this thread and one worker each own one word, on separate lines;
 * the worker echoes every value this thread writes, and the time per echo is
 * the round trip (two line transfers). The worker is an eval'd CommonJS
 * snippet, so it starts the same under tsx and from dist/.
 *
 * The second probe is the same echo with both sides asleep in Atomics.wait
 * between values (Atomics.notify after each store): a round trip is two
 * wake-ups of a sleeping thread, which is what a futex / rwsem waiter pays
 * on this host (the cost table's futex_wake: `smpvm calibrate`). A VM reads
 * tens of µs; bare metal a few.
 *
 * Locking: the probe's words are its own buffer's; each is written by one
 * side only (Atomics.store) and spun or slept on by the other.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { median } from './median.js';

/* probe words, each on its own 64-byte line */
const READY = 0;
const PING = 16;
const PONG = 32;
const STOP = -1; // written to PING: the probe ran out of time, the echo thread leaves
/** Time budget of one probe: a host that time-slices the two threads on one core would take minutes. */
const PROBE_BUDGET_MS = 2000;

const PONG_SRC = `
const { workerData } = require('node:worker_threads');
const w = new Int32Array(workerData.sab);
Atomics.store(w, ${READY}, 1);
Atomics.notify(w, ${READY});
for (let i = 1; i <= workerData.rounds; i++) {
  let v;
  while ((v = Atomics.load(w, ${PING})) !== i && v !== ${STOP}) if (workerData.sleep) Atomics.wait(w, ${PING}, v);
  if (v === ${STOP}) break;
  Atomics.store(w, ${PONG}, i);
  if (workerData.sleep) Atomics.notify(w, ${PONG});
}
`;

/** One probe of up to `rounds` round trips (fewer if the budget runs out): ns per round trip; `sleep`: both sides sleep between values. */
async function probeOnce(rounds: number, sleep: boolean): Promise<number> {
  const sab = new SharedArrayBuffer(256);
  const w = new Int32Array(sab);
  const wk = new Worker(PONG_SRC, { eval: true, workerData: { sab, rounds, sleep } });
  const exited = new Promise<void>((res, rej) => {
    wk.once('error', rej);
    wk.once('exit', () => res());
  });
  const ready = Atomics.waitAsync(w, READY, 0, 10_000);
  if (ready.async) await ready.value;
  if (Atomics.load(w, READY) !== 1) {
    await wk.terminate();
    throw new Error('hostprobe: the echo thread did not start within 10 s');
  }
  const t0 = performance.now();
  let done = 0;
  while (done < rounds) {
    Atomics.store(w, PING, done + 1);
    if (sleep) {
      Atomics.notify(w, PING);
      while (Atomics.load(w, PONG) !== done + 1) Atomics.wait(w, PONG, done);
    } else while (Atomics.load(w, PONG) !== done + 1);
    done++;
    if ((done & 1023) === 0 && performance.now() - t0 > PROBE_BUDGET_MS) break;
  }
  const ns = ((performance.now() - t0) * 1e6) / done;
  if (done < rounds) {
    Atomics.store(w, PING, STOP);
    Atomics.notify(w, PING);
  }
  await exited;
  return ns;
}

/**
 * The host's cache-line round trip between two threads, ns: the median of
 * `trials` probes. null on a host with one core, where the two threads would
 * take turns on it and the figure would be the scheduler's time slice.
 */
export const lineRoundTripNs = (rounds = 50_000, trials = 3): Promise<number | null> => probeMedian(rounds, trials, false);

/** The median of `trials` probes; null on a one-core host. */
async function probeMedian(rounds: number, trials: number, sleep: boolean): Promise<number | null> {
  if (availableParallelism() < 2) return null;
  const ns: number[] = [];
  for (let t = 0; t < trials; t++) ns.push(await probeOnce(rounds, sleep));
  return median(ns);
}

/**
 * The host's wake-up round trip between two sleeping threads, ns (two
 * wake-ups: from one thread's Atomics.notify until the other runs, and
 * back): the median of `trials` probes. null on a one-core host (there the
 * scheduler's own turn-taking would be measured).
 */
export const wakeRoundTripNs = (rounds = 2000, trials = 3): Promise<number | null> => probeMedian(rounds, trials, true);
