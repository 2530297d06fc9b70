/*
 * tlb.ts — per-CPU TLBs and their shootdown: flush_tlb_mm, flush_tlb_page,
 * flush_tlb_others, and the IPI that carries a flush to another CPU.
 *
 * The TLB: each simulated CPU caches translations in a small set-associative
 * TLB in its per-CPU area (config.tlbEntries entries, TLB_WAYS ways; entry =
 * mm + 1, virtual page number, the pte as the walk left it, A/D bits set).
 * The simulated MMU (vm/access.ts) looks there before walking the page table
 * and fills an entry after a walk; a hit uses the cached pte and never reads
 * the page table — so after a pte changes, a CPU that still caches the old
 * one reads and writes the old frame until its TLB is flushed. Tagged by mm
 * (as PCID/ASID): switching between processes flushes nothing.
 *
 * The shootdown (2.4/2.6 arch/i386/kernel/smp.c flush_tlb_others, the
 * call_function IPI): whoever changes a present pte flushes its own TLB and
 * sends a flush to every other CPU that may cache the mm (mm_cpumask: set by
 * a CPU at its first access to the mm, never cleared — the kernel's lazy
 * mask), then waits for their acknowledgement before it frees or reuses
 * what the old pte named. The IPI is a per-CPU mailbox (PC_TLB_MBOX): the
 * sender puts mm + 1 in a free slot (coalescing a request for the same mm;
 * TLB_FLUSH_ALL when the mailbox is full or the flush is for every mm) and
 * bumps PC_TLB_PENDING. The target takes its interrupts at an instruction
 * boundary: at the start of each user access (tlb_access_begin) it drains
 * its mailbox and flushes (flush_tlb_func). A user access is one
 * instruction, bracketed by PC_TLB_SEQ (odd while in flight), so the sender
 * waits only for targets caught inside one: once a target's sequence moves,
 * that access is over and its next one drains the mailbox first (the
 * sender's post and its read of the sequence are sequentially consistent
 * against the target's increment and its read of PC_TLB_PENDING: either the
 * sender sees the access in flight and waits it out, or the target sees the
 * request). A target never waits on anything inside an access, so the wait
 * is bounded: the simulated IPI round trip. Its time is accounted in
 * lock_stat under the pseudo-class tlb_shootdown_ack (acquisitions =
 * shootdowns sent, contentions = ones that had to wait, wait time) and the
 * waiting CPU parks with the conductor under the virtual clock (spin_relax).
 *
 * Batching (mmu_gather): callers clear a whole range or a page's every pte
 * first and flush once (vm/memory.ts zap_pte_range, the rmap walks).
 *
 * vmstat: nr_tlb_remote_flush (shootdowns sent with at least one target),
 * nr_tlb_remote_flush_received (requests a CPU drained from its mailbox),
 * nr_tlb_local_flush_all (own TLB flushed for an mm or whole),
 * nr_tlb_local_flush_one (own TLB flushed for one page).
 *
 * Locking: the TLB entries and PC_TLB_FILL / PC_TLB_ACK are the owning
 * CPU's alone (plain loads and stores). PC_TLB_SEQ is written by its owner
 * (Atomics.add) and read by senders; mailbox slots and PC_TLB_PENDING are
 * written by senders and drained by the owner, all with Atomics. No lock.
 * The planted bug no_tlb_flush sends no IPIs: only the local TLB is flushed.
 */
import type { CpuBase } from '../machine/cpu.js';
import {
  PC_TLB_SEQ,
  PC_TLB_PENDING,
  PC_TLB_FILL,
  PC_TLB_ACK,
  PC_TLB_MBOX,
  TLB_MBOX_SLOTS,
  TE_MM,
  TE_VPN,
  TE_PTE,
  TE_WORDS,
  MM_CPUMASK,
  percpuBase,
  mmBase,
} from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { INJECTIONS } from '../config.js';
import { spin_relax } from '../sync/relax.js';
import { C_TLB_ACK, SITE } from '../sync/classes.js';
import { lockstatAcquired } from '../sync/lockstat.js';
import { clock_ms, vtOn } from '../timing/conductor.js';

const INJECT_NO_TLB_FLUSH = INJECTIONS.indexOf('no_tlb_flush');

/** A mailbox request for every mm (mm + 1 is never negative). */
export const TLB_FLUSH_ALL = -1;

/* ---- the TLB itself: the owning CPU only ---- */

/** The cached pte for (mm, vpn), or 0 on a miss. */
export function tlb_lookup(cpu: CpuBase, mm: number, vpn: number): number {
  const w = cpu.w;
  const l = cpu.l;
  const ways = l.tlbWays;
  let e = cpu.pc + l.tlb + (vpn & (l.tlbSets - 1)) * ways * TE_WORDS;
  for (let i = 0; i < ways; i++, e += TE_WORDS) if (w[e + TE_VPN] === vpn && w[e + TE_MM] === mm + 1) return w[e + TE_PTE]!;
  return 0;
}

/** Cache pte for (mm, vpn): its own entry if present, else a free way, else the round-robin victim. */
export function tlb_fill(cpu: CpuBase, mm: number, vpn: number, pte: number): void {
  const w = cpu.w;
  const l = cpu.l;
  const ways = l.tlbWays;
  const set = cpu.pc + l.tlb + (vpn & (l.tlbSets - 1)) * ways * TE_WORDS;
  let victim = -1;
  for (let i = 0, e = set; i < ways; i++, e += TE_WORDS) {
    if (w[e + TE_VPN] === vpn && w[e + TE_MM] === mm + 1) {
      victim = e;
      break;
    }
    if (victim < 0 && w[e + TE_MM] === 0) victim = e;
  }
  if (victim < 0) victim = set + (w[cpu.pc + PC_TLB_FILL]!++ & (ways - 1)) * TE_WORDS;
  w[victim + TE_MM] = mm + 1;
  w[victim + TE_VPN] = vpn;
  w[victim + TE_PTE] = pte;
}

/** Drop this CPU's entries of mm (every entry if mm is TLB_FLUSH_ALL - 1, i.e. -2). */
function local_flush_mm(cpu: CpuBase, mm: number): void {
  const w = cpu.w;
  const l = cpu.l;
  const tag = mm + 1;
  for (let e = cpu.pc + l.tlb, end = e + l.tlbWays * l.tlbSets * TE_WORDS; e < end; e += TE_WORDS) {
    if (tag === TLB_FLUSH_ALL || w[e + TE_MM] === tag) w[e + TE_MM] = 0;
  }
  w[cpu.vm + VM.nr_tlb_local_flush_all]!++;
}

/** Drop this CPU's entry of (mm, vpn) (__flush_tlb_one / invlpg). */
function local_flush_one(cpu: CpuBase, mm: number, vpn: number): void {
  const w = cpu.w;
  const l = cpu.l;
  const ways = l.tlbWays;
  let e = cpu.pc + l.tlb + (vpn & (l.tlbSets - 1)) * ways * TE_WORDS;
  for (let i = 0; i < ways; i++, e += TE_WORDS) if (w[e + TE_VPN] === vpn && w[e + TE_MM] === mm + 1) w[e + TE_MM] = 0;
  w[cpu.vm + VM.nr_tlb_local_flush_one]!++;
}

/** flush_tlb_func: the IPI handler — drain the mailbox and flush what it asks. */
function tlb_drain_mailbox(cpu: CpuBase): void {
  const w = cpu.w;
  Atomics.exchange(w, cpu.pc + PC_TLB_PENDING, 0);
  for (let s = 0; s < TLB_MBOX_SLOTS; s++) {
    const tag = Atomics.exchange(w, cpu.pc + PC_TLB_MBOX + s, 0);
    if (tag === 0) continue;
    local_flush_mm(cpu, tag - 1);
    w[cpu.vm + VM.nr_tlb_remote_flush_received]!++;
  }
}

/* ---- a user access: one instruction, interrupts taken before it ---- */

export function tlb_access_begin(cpu: CpuBase): void {
  Atomics.add(cpu.w, cpu.pc + PC_TLB_SEQ, 1);
  if (Atomics.load(cpu.w, cpu.pc + PC_TLB_PENDING) !== 0) tlb_drain_mailbox(cpu);
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

/* ---- sending ---- */

/** Post flush request `tag` (mm + 1, or TLB_FLUSH_ALL) in CPU c's mailbox. */
function tlb_post(w: Int32Array, pc: number, tag: number): void {
  let posted = false;
  for (let s = 0; s < TLB_MBOX_SLOTS && !posted; s++) {
    const cur = Atomics.compareExchange(w, pc + PC_TLB_MBOX + s, 0, tag);
    posted = cur === 0 || cur === tag || cur === TLB_FLUSH_ALL;
  }
  if (!posted) Atomics.store(w, pc + PC_TLB_MBOX, TLB_FLUSH_ALL); // full: one flush of everything covers every request
  Atomics.add(w, pc + PC_TLB_PENDING, 1);
}

/**
 * How long a shootdown waits for one CPU's acknowledgement on the host
 * clock before it gives up with an error: CONFIG_CSD_LOCK_WAIT_DEBUG's
 * "csd: Detected non-responsive CSD lock" (5 s in the kernel too). An access
 * lasts well under a microsecond, so only a CPU that died inside one (or a
 * bug) trips it — a hang of the sender, and of every lock it holds, made an
 * error. Under the virtual clock the waiter parks and the conductor reports
 * the deadlock instead.
 */
export const CSD_LOCK_TIMEOUT_MS = 5000;

/** Wait until CPU c is not inside a user access begun before now. Returns the spins it took. */
function wait_cpu(cpu: CpuBase, c: number, off: number): number {
  const w = cpu.w;
  const s = Atomics.load(w, off);
  if ((s & 1) === 0) return 0;
  let spins = 1;
  let t0 = -1;
  for (; Atomics.load(w, off) === s; spins++) {
    spin_relax(w, off, s, spins);
    if (vtOn || (spins & 0xffff) !== 0) continue;
    const now = performance.now();
    if (t0 < 0) t0 = now;
    else if (now - t0 > CSD_LOCK_TIMEOUT_MS) {
      throw new Error(`csd_lock_wait: cpu ${cpu.id} waited ${CSD_LOCK_TIMEOUT_MS / 1000} s for cpu ${c} to acknowledge a TLB flush (it stays inside one user access)`);
    }
  }
  return spins;
}

/** Is CPU slot c one this CPU must flush or wait for: another slot, in `mask` (or `all`)? */
const other_in_mask = (cpu: CpuBase, c: number, mask: number, all: boolean) => c !== cpu.id && (all || (mask & cpumask_bit(c)) !== 0);

/**
 * Send flush `tag` to every CPU slot in `mask` but this one and wait for
 * each to acknowledge (leave the access it may be in). `all`: every slot.
 */
function shootdown(cpu: CpuBase, mask: number, all: boolean, tag: number, site: number): void {
  const w = cpu.w;
  const l = cpu.l;
  const n = l.nrCpuSlots;
  let sent = 0;
  for (let c = 0; c < n; c++) {
    if (!other_in_mask(cpu, c, mask, all)) continue;
    tlb_post(w, percpuBase(l, c), tag);
    sent++;
  }
  if (sent === 0) return;
  w[cpu.vm + VM.nr_tlb_remote_flush]!++;
  let t0 = -1;
  let spins = 0;
  for (let c = 0; c < n; c++) {
    if (!other_in_mask(cpu, c, mask, all)) continue;
    const off = percpuBase(l, c) + PC_TLB_SEQ;
    if ((Atomics.load(w, off) & 1) === 0) continue;
    if (t0 < 0) t0 = clock_ms();
    spins += wait_cpu(cpu, c, off);
  }
  lockstatAcquired(cpu, cpu.pc + PC_TLB_ACK, C_TLB_ACK, 0, site, t0 < 0 ? -1 : clock_ms() - t0, spins);
}

/**
 * Wait until no other CPU that may use mm is inside a user access begun
 * before now: the half of a shootdown that freeing a page table needs. A
 * walk in flight may hold the pgd entry just cleared and read the table
 * after it was freed and reused; these TLBs cache final ptes only (no
 * paging-structure cache), so there is nothing to flush, only walks to wait
 * out — the kernel's tlb_remove_table, whose IPI (or RCU grace period)
 * keeps a lockless walker's table alive.
 */
export function tlb_sync_walkers(cpu: CpuBase, mm: number): void {
  const w = cpu.w;
  const l = cpu.l;
  const mask = Atomics.load(w, mmBase(l, mm) + MM_CPUMASK);
  for (let c = 0; c < l.nrCpuSlots; c++) {
    if (!other_in_mask(cpu, c, mask, false)) continue;
    wait_cpu(cpu, c, percpuBase(l, c) + PC_TLB_SEQ);
  }
}

/** flush_tlb_mm: flush mm's translations here and on every other CPU that may cache them; wait for them. */
export function flush_tlb_mm(cpu: CpuBase, mm: number): void {
  local_flush_mm(cpu, mm);
  if (cpu.inject === INJECT_NO_TLB_FLUSH) return; // (the planted bug: no IPI)
  shootdown(cpu, Atomics.load(cpu.w, mmBase(cpu.l, mm) + MM_CPUMASK), false, mm + 1, SITE.flush_tlb_mm);
}

/** flush_tlb_page: one page of mm here (invlpg); the other CPUs of mm flush the mm. */
export function flush_tlb_page(cpu: CpuBase, mm: number, addr: number): void {
  local_flush_one(cpu, mm, addr >>> 12);
  if (cpu.inject === INJECT_NO_TLB_FLUSH) return;
  shootdown(cpu, Atomics.load(cpu.w, mmBase(cpu.l, mm) + MM_CPUMASK), false, mm + 1, SITE.flush_tlb_mm);
}

/** flush_tlb_others for a walk that changed ptes of unknown mms (the rmap's try_to_unmap): every TLB, everywhere. */
export function flush_tlb_others(cpu: CpuBase): void {
  local_flush_mm(cpu, TLB_FLUSH_ALL - 1);
  if (cpu.inject === INJECT_NO_TLB_FLUSH) return;
  shootdown(cpu, 0, true, TLB_FLUSH_ALL, SITE.flush_tlb_others);
}
