/*
 * tlb.ts — TLB shootdown, modelled as the IPI handshake it is.
 *
 * The simulated MMU keeps no translation cache, but a user access is still
 * not atomic: a CPU walks pgd → pte, then loads/stores the frame. If another
 * CPU clears that pte and frees the frame in between, the access would hit a
 * reused frame — exactly what flush_tlb_* + its IPI acknowledgement prevents
 * in the kernel (mmu_gather frees pages only after every CPU has flushed).
 *
 * So each CPU's per-CPU line PC_TLB_SEQ is a sequence counter: odd while a
 * user access is in flight (tlb_access_begin/end, Atomics.add on its own
 * line). flush_tlb_others(), called after ptes are cleared and before their
 * pages are freed, waits until every other CPU's counter is even or has moved
 * on: from then on no CPU can still be using a stale translation. A user
 * access never waits on anything, so the wait is bounded (no deadlock); it is
 * the simulated cost of the shootdown IPI (`nr_tlb_remote_flush`).
 *
 * flush_tlb_mm only waits for the CPUs in the mm's mm_cpumask (MM_CPUMASK,
 * set by a CPU the first time it accesses the mm, never cleared — as the
 * kernel's lazy mask), so one process's munmap does not wait for CPUs running
 * other processes.
 */
import type { CpuBase } from '../machine/cpu.js';
import { PC_TLB_SEQ, MM_CPUMASK, percpuBase, mmBase } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { spin_relax } from '../sync/relax.js';

export function tlb_access_begin(cpu: CpuBase): void {
  Atomics.add(cpu.w, cpu.pc + PC_TLB_SEQ, 1);
}
export function tlb_access_end(cpu: CpuBase): void {
  Atomics.add(cpu.w, cpu.pc + PC_TLB_SEQ, 1);
}

/** The mm_cpumask bit of a CPU. */
export const cpumask_bit = (cpu: number) => 1 << (cpu < 31 ? cpu : 31);

/** Note that this CPU uses mm (switch_mm): called before every user access. */
export function mm_cpumask_set(cpu: CpuBase, mm: number): void {
  const off = mmBase(cpu.l, mm) + MM_CPUMASK;
  const bit = cpumask_bit(cpu.id);
  if ((cpu.w[off]! & bit) === 0) Atomics.or(cpu.w, off, bit);
}

function wait_cpu(w: Int32Array, off: number): void {
  const s = Atomics.load(w, off);
  if ((s & 1) === 0) return;
  for (let spins = 1; Atomics.load(w, off) === s; spins++) spin_relax(w, off, s, spins);
}

/** flush_tlb_mm: wait for the other CPUs of mm's cpumask to leave any user access begun before now. */
export function flush_tlb_mm(cpu: CpuBase, mm: number): void {
  const w = cpu.w;
  const l = cpu.l;
  const mask = Atomics.load(w, mmBase(l, mm) + MM_CPUMASK) & ~cpumask_bit(cpu.id);
  if (mask === 0) {
    w[cpu.vm + VM.nr_tlb_local_flush_all]!++;
    return;
  }
  w[cpu.vm + VM.nr_tlb_remote_flush]!++;
  for (let c = 0; c < l.nrCpuSlots; c++) {
    if (c === cpu.id || (mask & cpumask_bit(c)) === 0) continue;
    wait_cpu(w, percpuBase(l, c) + PC_TLB_SEQ);
  }
}

/** Wait until no other CPU is inside a user access that began before now. */
export function flush_tlb_others(cpu: CpuBase): void {
  const w = cpu.w;
  const l = cpu.l;
  const n = l.nrCpuSlots;
  cpu.w[cpu.vm + VM.nr_tlb_remote_flush]!++;
  for (let c = 0; c < n; c++) {
    if (c === cpu.id) continue;
    wait_cpu(w, percpuBase(l, c) + PC_TLB_SEQ);
  }
}
