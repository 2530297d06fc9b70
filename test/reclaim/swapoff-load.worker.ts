// Worker for swapoff-load.test.ts: CPU 1 faults the test's pages while CPU 0
// runs swapoff. pages: [mm, addr] pairs; vals: the value each page holds (the
// test's, then ours). Each round reads every page, checks it, writes a new
// value. ctl: [0] started, [1] rounds done, [2] stop request, [3] failures,
// [4] first failing page + 1, [5] what it read there.
import { workerData } from 'node:worker_threads';
import { attachMachine } from '../../src/machine/machine.js';
import { makeCpu } from '../../src/vm/cpu.js';
import { user_access, ACCESS_OK } from '../../src/vm/access.js';

const { sab, ctl: ctlBuf, pages: pagesBuf, vals: valsBuf } = workerData as { sab: SharedArrayBuffer; ctl: SharedArrayBuffer; pages: SharedArrayBuffer; vals: SharedArrayBuffer };
const ctl = new Int32Array(ctlBuf);
const pages = new Int32Array(pagesBuf);
const vals = new Int32Array(valsBuf);
const cpu = makeCpu(attachMachine(sab), 1);
const buf = new Int32Array(2);
const n = vals.length;
Atomics.store(ctl, 0, 1);
Atomics.notify(ctl, 0);
for (let round = 1; Atomics.load(ctl, 2) === 0 || round < 3; round++) {
  for (let i = 0; i < n; i++) {
    const mm = pages[2 * i]!;
    const addr = pages[2 * i + 1]! >>> 0;
    const rc = user_access(cpu, mm, addr, false, buf, 2);
    if (rc !== ACCESS_OK || buf[0] !== vals[i] || buf[1] !== (vals[i]! ^ 0x5a5a5a5a)) {
      if (Atomics.add(ctl, 3, 1) === 0) {
        ctl[4] = i + 1;
        ctl[5] = rc !== ACCESS_OK ? rc : buf[0]!;
      }
    }
    const v = (round << 16) | i;
    buf[0] = v;
    buf[1] = v ^ 0x5a5a5a5a;
    if (user_access(cpu, mm, addr, true, buf, 2) === ACCESS_OK) Atomics.store(vals, i, v);
    else Atomics.add(ctl, 3, 1);
  }
  Atomics.store(ctl, 1, round);
}
Atomics.store(ctl, 0, 2);
Atomics.notify(ctl, 0);
