/*
 * oom.ts — killing simulated processes: the OOM killer, and SIGBUS for the
 * users of a swap slot that could not be read (seed 004).
 *
 * A simulated process is an mm driven by one CPU's workload (MM_OWNER_CPU).
 * The kernel cannot run another CPU's task, so killing is a flag: MM_KILLED
 * (in the mm table) holds the signal — SIGKILL from the OOM killer, SIGBUS
 * after a swap read error. The owning CPU's workload looks at the flag
 * before every operation and when an access fails with VM_FAULT_OOM or
 * VM_FAULT_SIGBUS, and exits the task (mmput: every page, pte table and swap
 * slot of it is freed). A task whose flag is set gets no more memory
 * (alloc.ts), so its CPU reaches that check quickly.
 *
 * OUT_OF_MEMORY (2.4 mm/oom_kill.c, reduced: badness = rss). When direct
 * reclaim cannot free anything and no page is left:
 *   - a victim chosen earlier that is still exiting (K_OOM_VICTIM, checked
 *     against its MM_GEN) is waited for — one kill at a time, 2.6's
 *     TIF_MEMDIE rule — unless waiting is pointless;
 *   - else the mm with the largest rss among those the caller can wait for
 *     is flagged SIGKILL (oom_kill). Waiting is only possible for an mm run
 *     by another CPU that is running (worker mode; not under `bkl`, where
 *     the waiter holds kernel_flag the victim needs). So the candidates are
 *     the faulting task's own mm and, when waiting is possible, the mms of
 *     other running CPUs; the faulting task itself dies when it is the
 *     biggest — or when no victim can be waited for (2.4 do_page_fault's
 *     "VM: killing process").
 *
 * SIGBUS FOR A LOST SLOT. When a swap slot cannot be read, every process
 * holding the slot's entry in a pte lost that page: each is flagged SIGBUS
 * (and nothing else is touched). The page is not resident, so no rmap scheme
 * can name its users — pte chains, vm_nodes and objrmap index resident pages
 * only — and they are found the only way a swap entry can be: walking every
 * mm's page tables for it (the scan rmap, as try_to_unuse does for swapoff).
 *
 * Locking: MM_KILLED with Atomics.compareExchange (the first signal wins);
 * K_OOM_* with Atomics. The SIGBUS walk takes mmlist_lock → each mm's
 * page_table_lock (the `scan` rmap's edge), with no other lock held.
 */
import { sleep_on } from '../timing/conductor.js';
import type { CpuBase } from '../machine/cpu.js';
import { LS_BKL } from '../machine/cpu.js';
import {
  G_KSWAPD,
  H_RUNNING,
  K_OOM_VICTIM,
  K_OOM_GEN,
  K_IO_WAIT,
  MM_KILLED,
  MM_PGD,
  MM_RSS,
  MM_GEN,
  MM_OWNER_CPU,
  MM_MMLIST_NEXT,
  PAGE_WORDS,
  NIL,
  globalLine,
  mmBase,
} from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { mmlist_lock, mmlist_unlock, mm_ptl_lock, mm_ptl_unlock } from '../sync/scheme.js';
import { mmlist_first } from '../mm/mm_struct.js';
import { is_swap_pte, SWP_OFFSET } from '../mm/pte.js';

export const SIGBUS = 7;
export const SIGKILL = 9;

/** Signal that killed mm's task(s), 0 if none. */
export const mm_killed = (w: Int32Array, l: CpuBase['l'], mm: number) => Atomics.load(w, mmBase(l, mm) + MM_KILLED);

/** Flag mm killed by sig (first signal wins). True if this call set it. */
export function mm_kill(cpu: CpuBase, mm: number, sig: number): boolean {
  return Atomics.compareExchange(cpu.w, mmBase(cpu.l, mm) + MM_KILLED, 0, sig) === 0;
}

const mmAlive = (w: Int32Array, l: CpuBase['l'], mm: number) => w[mmBase(l, mm) + MM_PGD] !== NIL;

/** Is an OOM victim still exiting? */
function victim_pending(cpu: CpuBase): number {
  const w = cpu.w;
  const g = globalLine(cpu.l, G_KSWAPD);
  const v = Atomics.load(w, g + K_OOM_VICTIM) - 1;
  if (v < 0) return NIL;
  const b = mmBase(cpu.l, v);
  if (mmAlive(w, cpu.l, v) && w[b + MM_GEN] === Atomics.load(w, g + K_OOM_GEN) && w[b + MM_KILLED] !== 0) return v;
  Atomics.compareExchange(w, g + K_OOM_VICTIM, v + 1, 0);
  return NIL;
}

/** An OOM victim chosen earlier has not finished exiting (allocators wait for it rather than scan). */
export const oom_victim_exiting = (cpu: CpuBase) => Atomics.load(cpu.w, globalLine(cpu.l, G_KSWAPD) + K_OOM_VICTIM) !== 0 && victim_pending(cpu) !== NIL;

/** Can this CPU wait for a task of CPU `owner` to exit? */
function can_wait_for(cpu: CpuBase, owner: number): boolean {
  return (
    cpu.lockScheme !== LS_BKL &&
    owner !== cpu.id &&
    owner >= 0 &&
    owner < cpu.l.nrCpus &&
    Atomics.load(cpu.w, H_RUNNING) > 1
  );
}

export const OOM_FAIL = 0; // give up: the allocation fails (the faulting task is killed)
export const OOM_RETRY = 1; // memory may come back: retry the allocation

/**
 * out_of_memory: no page left and reclaim made no progress. `mm` is the mm
 * the allocation is for (NIL if none: a new mm's pgd). Returns OOM_RETRY
 * after choosing (or finding) a victim other CPUs will free, sleeping ~1 ms
 * first, or OOM_FAIL — in which case `mm`, if any, has been flagged SIGKILL.
 */
export function out_of_memory(cpu: CpuBase, mm: number): number {
  const w = cpu.w;
  const l = cpu.l;
  const g = globalLine(l, G_KSWAPD);
  if (mm >= 0 && mm_killed(w, l, mm) !== 0) return OOM_FAIL;
  const pending = victim_pending(cpu);
  if (pending !== NIL && pending !== mm) {
    if (can_wait_for(cpu, w[mmBase(l, pending) + MM_OWNER_CPU]!)) {
      w[cpu.vm + VM.oom_wait]!++;
      sleep_on(w, g + K_IO_WAIT, 0, 1);
      return OOM_RETRY;
    }
  }
  // select_bad_process: the largest rss among what we may kill
  let victim = mm;
  let best = mm >= 0 ? Atomics.load(w, mmBase(l, mm) + MM_RSS) : -1;
  for (let c = 0; c < l.maxMm; c++) {
    if (c === mm || !mmAlive(w, l, c)) continue;
    const b = mmBase(l, c);
    if (w[b + MM_KILLED] !== 0 || !can_wait_for(cpu, w[b + MM_OWNER_CPU]!)) continue;
    const rss = Atomics.load(w, b + MM_RSS);
    if (rss > best) {
      best = rss;
      victim = c;
    }
  }
  if (victim < 0) return OOM_FAIL;
  if (mm_kill(cpu, victim, SIGKILL)) w[cpu.vm + VM.oom_kill]!++;
  if (victim === mm) return OOM_FAIL;
  Atomics.store(w, g + K_OOM_GEN, w[mmBase(l, victim) + MM_GEN]!);
  Atomics.store(w, g + K_OOM_VICTIM, victim + 1);
  w[cpu.vm + VM.oom_wait]!++;
  sleep_on(w, g + K_IO_WAIT, 0, 1);
  return OOM_RETRY;
}

/**
 * kill_swap_users: flag SIGBUS every live mm that has `entry` in a pte (see
 * the header). Returns how many were newly signalled (counted in sigbus).
 * Called with no lock held.
 */
export function kill_swap_users(cpu: CpuBase, entry: number): number {
  const w = cpu.w;
  const l = cpu.l;
  const off = SWP_OFFSET(entry);
  let killed = 0;
  mmlist_lock(cpu, SITE.mmlist);
  for (let mm = mmlist_first(cpu); mm >= 0; mm = w[mmBase(l, mm) + MM_MMLIST_NEXT]!) {
    mm_ptl_lock(cpu, mm, SITE.try_to_unuse);
    const pgd = w[mmBase(l, mm) + MM_PGD]!;
    let found = false;
    if (pgd !== NIL) {
      for (let i = 0; i < 768 && !found; i++) {
        const e = Atomics.load(w, l.frames + pgd * PAGE_WORDS + i);
        if (e === 0) continue;
        const t = l.frames + (e >>> 12) * PAGE_WORDS;
        for (let s = 0; s < 1024; s++) {
          const pte = Atomics.load(w, t + s);
          if (is_swap_pte(pte) && SWP_OFFSET(pte) === off) {
            found = true;
            break;
          }
        }
      }
    }
    mm_ptl_unlock(cpu, mm);
    if (found && mm_kill(cpu, mm, SIGBUS)) killed++;
  }
  mmlist_unlock(cpu);
  w[cpu.vm + VM.sigbus]! += killed;
  return killed;
}
