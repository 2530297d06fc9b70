// Worker for swapoff-busy.test.ts: CPU 1 holds one process's mmap_sem for
// writing (as an mmap would) across CPU 0's swapoff, and lets go only once
// swapoff sleeps on it (its down_read published RWSEM_WAITERS) or swapoff
// has returned. With `exit`, the process exits meanwhile: its last task's
// mmput, under the held lock if swapoff pins the mm (then the put is not the
// last one), else after the unlock. ctl: [0] 1 = holds it, 2 = done;
// [1] swapoff returned (the test sets it); [2] 1 if swapoff slept on the
// lock; [3] mm_users after our mmput.
import { workerData } from 'node:worker_threads';
import { attachMachine } from '../../src/machine/machine.js';
import { makeCpu } from '../../src/vm/cpu.js';
import { mmput } from '../../src/vm/fork.js';
import { mmap_write_lock, mmap_write_unlock } from '../../src/sync/scheme.js';
import { RWSEM_WAITERS } from '../../src/sync/rwsem.js';
import { SITE } from '../../src/sync/classes.js';
import { LK_STATE, MM_MMAP_SEM, MM_USERS, mmBase } from '../../src/machine/layout.js';

const { sab, ctl: ctlBuf, mm, exit } = workerData as { sab: SharedArrayBuffer; ctl: SharedArrayBuffer; mm: number; exit: boolean };
const ctl = new Int32Array(ctlBuf);
const cpu = makeCpu(attachMachine(sab), 1);
const w = cpu.w;
const b = mmBase(cpu.l, mm);
mmap_write_lock(cpu, mm, SITE.do_mmap);
Atomics.store(ctl, 0, 1);
Atomics.notify(ctl, 0);
while ((Atomics.load(w, b + MM_MMAP_SEM + LK_STATE) & RWSEM_WAITERS) === 0 && Atomics.load(ctl, 1) === 0) Atomics.wait(ctl, 1, 0, 1);
ctl[2] = (Atomics.load(w, b + MM_MMAP_SEM + LK_STATE) & RWSEM_WAITERS) !== 0 ? 1 : 0;
const pinned = Atomics.load(w, b + MM_USERS) > 1; // never the last put under the lock: exit_mmap takes it
if (exit && pinned) {
  mmput(cpu, mm);
  ctl[3] = Atomics.load(w, b + MM_USERS);
}
mmap_write_unlock(cpu, mm);
if (exit && !pinned) {
  mmput(cpu, mm);
  ctl[3] = 0;
}
Atomics.store(ctl, 0, 2);
Atomics.notify(ctl, 0);
