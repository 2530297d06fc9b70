// Worker for flip-smp.test.ts: CPU 1 of the test machine reads and writes one
// page through every mapping while CPU 0 flips it. One worker serves every
// test of the file: each test posts a job (its machine, ctl and mappings),
// the worker runs it until the stop request and answers 'done'. ctl: [0]
// started, [1] stop request, [2] done, [3] accesses, [4] errors, [5..7]
// first error (mapping, expected, got). Shared kinds: write a counter through
// mapping i, read it back through mapping i+1 (must be the value just
// written). Private kind: every mapping must read the value the parent wrote
// before the fork.
import { parentPort } from 'node:worker_threads';
import { attachMachine } from '../../src/machine/machine.js';
import { makeCpu } from '../../src/vm/cpu.js';
import { user_access, ACCESS_OK } from '../../src/vm/access.js';

export interface FlipJob {
  sab: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  mms: number[];
  addrs: number[];
  shared: boolean;
  value: number;
}

function access({ sab, ctl: ctlBuf, mms, addrs, shared, value }: FlipJob): void {
  const ctl = new Int32Array(ctlBuf);
  const cpu = makeCpu(attachMachine(sab), 1);
  const buf = new Int32Array(2);
  const k = mms.length;
  function fail(i: number, want: number, got: number): void {
    if (Atomics.add(ctl, 4, 1) === 0) {
      ctl[5] = i;
      ctl[6] = want;
      ctl[7] = got;
    }
  }
  Atomics.store(ctl, 0, 1);
  let c = 1;
  for (let n = 0; Atomics.load(ctl, 1) === 0; n++) {
    const i = n % k;
    // a word of its own per mapping pair, away from the page's first words
    const off = 64 + 8 * i;
    if (shared) {
      buf[0] = c;
      buf[1] = ~c;
      if (user_access(cpu, mms[i]!, addrs[i]! + off, true, buf, 2) !== ACCESS_OK) fail(i, c, -1);
      const j = (i + 1) % k;
      buf[0] = buf[1] = 0;
      if (user_access(cpu, mms[j]!, addrs[j]! + off, false, buf, 2) !== ACCESS_OK) fail(j, c, -1);
      else if (buf[0] !== c || buf[1] !== ~c) fail(j, c, buf[0]!);
      c++;
    } else {
      buf[0] = 0;
      if (user_access(cpu, mms[i]!, addrs[i]!, false, buf, 2) !== ACCESS_OK) fail(i, value, -1);
      else if (buf[0] !== value) fail(i, value, buf[0]!);
    }
    Atomics.add(ctl, 3, 1);
  }
  Atomics.store(ctl, 2, 1);
}

parentPort!.on('message', (job: FlipJob) => {
  access(job);
  parentPort!.postMessage('done');
});
