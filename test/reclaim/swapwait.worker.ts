// Worker for swapwait.test.ts: CPU 1 of the test machine faults on one address
// and reports what it read. ctl: [0] started, [1] done, [2] word read, [3] access result.
import { workerData } from 'node:worker_threads';
import { attachMachine } from '../../src/machine/machine.js';
import { makeCpu } from '../../src/vm/cpu.js';
import { user_access } from '../../src/vm/access.js';

const { sab, ctl: ctlBuf, mm, addr } = workerData as { sab: SharedArrayBuffer; ctl: SharedArrayBuffer; mm: number; addr: number };
const ctl = new Int32Array(ctlBuf);
const cpu = makeCpu(attachMachine(sab), 1);
const buf = new Int32Array(2);
Atomics.store(ctl, 0, 1);
Atomics.notify(ctl, 0);
const rc = user_access(cpu, mm, addr, false, buf, 2);
ctl[2] = buf[0]!;
ctl[3] = rc;
Atomics.store(ctl, 1, 1);
Atomics.notify(ctl, 1);
