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
 */
import type { CpuBase } from '../machine/cpu.js';
import { PC_TLB_SEQ, percpuBase } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';

export function tlb_access_begin(cpu: CpuBase): void {
  Atomics.add(cpu.w, cpu.pc + PC_TLB_SEQ, 1);
}
export function tlb_access_end(cpu: CpuBase): void {
  Atomics.add(cpu.w, cpu.pc + PC_TLB_SEQ, 1);
}

/** Wait until no other CPU is inside a user access that began before now. */
export function flush_tlb_others(cpu: CpuBase): void {
  const w = cpu.w;
  const l = cpu.l;
  const n = l.nrCpuSlots;
  cpu.w[cpu.vm + VM.nr_tlb_remote_flush]!++;
  for (let c = 0; c < n; c++) {
    if (c === cpu.id) continue;
    const off = percpuBase(l, c) + PC_TLB_SEQ;
    const s = Atomics.load(w, off);
    if ((s & 1) === 0) continue;
    while (Atomics.load(w, off) === s);
  }
}
