/*
 * access.ts — the simulated MMU: a user-mode load or store by a task.
 *
 * The hardware walk reads pgd → pte without locks; a present pte that allows
 * the access gets its accessed (and, for a store, dirty) bit set with a
 * compareExchange against the value it read, as the i386 page walker's
 * locked update does (a plain OR could set them on a pte another CPU just
 * cleared or turned into a swap entry; on a lost race the walk restarts),
 * and the data moves between the frame and the caller's buffer. Anything else raises a page
 * fault (handle_mm_fault) and the access is retried; a fault that fails is
 * returned to the task as SIGSEGV / SIGBUS / OOM.
 *
 * First the CPU's TLB (mm/tlb.ts): a hit whose cached pte allows the access
 * with its A (and for a store D) bit already set goes straight to the frame,
 * without reading the page table; otherwise the walk, and its result is
 * cached (tlb_fill). A store through an entry cached by a read walks again,
 * to set D, as the i386 walker does. So a translation stays usable after its
 * pte changed until the TLB is flushed: flush_tlb_* and its IPIs.
 *
 * The lookup, the walk and the data access are bracketed by
 * tlb_access_begin/end (one instruction): flush IPIs are taken at its
 * start, and a CPU that clears ptes and frees pages waits for accesses
 * still in flight — the TLB-shootdown acknowledgement.
 *
 * Debug builds check every TLB hit and every walk's result as the kernel's
 * CONFIG_DEBUG_PAGEALLOC checks a use after free (it unmaps freed pages, so
 * a stale pointer faults): the frame a translation reaches must still be in use
 * (_count > 0, or frozen at 0 by a migration that holds its page lock) and
 * not a page table. The shootdown protocol guarantees it —
 * whoever frees a frame first waits out every access that began before its
 * flush request, and every later access drains the request first — so a
 * hit on a free frame or a page table is a missing TLB flush, reported
 * (the CPU throws) before the stale store lands: otherwise a store into a
 * frame reused as a page table tore ptes, and the run failed later and
 * elsewhere (a swap entry that was never allocated, a frame number out of
 * range). A frame reused for user data is the content oracle's to catch.
 *
 * Locking rule for the walk's reads of the pgd entry and the pte: plain
 * (tear-free, aligned Int32) loads, as the hardware walker's. They come
 * after tlb_access_begin's Atomics.add (a full barrier, and an effect V8
 * does not move loads across) and each later access depends on the value
 * read (address dependency); what they may miss is exactly what a racing
 * Atomics.load could miss, and the shootdown protocol covers both. An
 * Atomics.load costs ~9 ns on Node 20 against ~1.6 ns for a plain load
 * (measured), and the walk runs twice per fault.
 */
import { PAGE_WORDS, MM_PGD, PG_COUNT, PG_FLAGS, mmBase, pageStruct } from '../machine/layout.js';
import { PG_locked, PG_pgtable } from '../machine/page.js';
import { VM } from '../machine/vmstat.js';
import { tlb_access_begin, tlb_access_end, tlb_lookup, tlb_fill, mm_cpumask_set } from '../mm/tlb.js';
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_ACCESSED, _PAGE_DIRTY, pgd_index, pte_index } from '../mm/pte.js';
import { handle_mm_fault } from './fault.js';
import type { Cpu } from './cpu.js';

export const ACCESS_OK = 0;

/**
 * Copy n words between buf and the page at addr (word-aligned, within one
 * page): store if write, else load. Returns ACCESS_OK or a VM_FAULT_* error.
 */
export function user_access(cpu: Cpu, mm: number, addr: number, write: boolean, buf: Int32Array, n: number): number {
  const w = cpu.w;
  const frames = cpu.l.frames;
  const want = write ? _PAGE_PRESENT | _PAGE_RW : _PAGE_PRESENT;
  const bits = write ? _PAGE_ACCESSED | _PAGE_DIRTY : _PAGE_ACCESSED;
  const wordInPage = (addr & 0xfff) >>> 2;
  const vpn = addr >>> 12;
  cpu.w[cpu.vm + VM.touch]!++;
  mm_cpumask_set(cpu, mm);
  for (;;) {
    tlb_access_begin(cpu);
    let pte = tlb_lookup(cpu, mm, vpn);
    if ((pte & (want | bits)) !== (want | bits)) {
      pte = walk(cpu, mm, addr, want, bits);
      if (pte === WALK_RETRY) {
        tlb_access_end(cpu);
        continue;
      }
      if (pte !== 0) {
        if (cpu.debug) debug_pagealloc_hit(cpu, mm, addr, pte, 'page walk');
        tlb_fill(cpu, mm, vpn, pte);
      }
    } else if (cpu.debug) debug_pagealloc_hit(cpu, mm, addr, pte, 'TLB entry');
    if (pte !== 0) {
      const f = frames + (pte >>> 12) * PAGE_WORDS + wordInPage;
      if (write) for (let i = 0; i < n; i++) w[f + i] = buf[i]!;
      else for (let i = 0; i < n; i++) buf[i] = w[f + i]!;
      tlb_access_end(cpu);
      return ACCESS_OK;
    }
    tlb_access_end(cpu);
    const r = handle_mm_fault(cpu, mm, addr, write);
    if (r < 0) return r;
  }
}

/**
 * Debug builds: a translation, from the TLB or from a walk, must reach a
 * frame in use that is not a page table (see the header). A walk is as
 * safe to check as a hit: whoever clears the pte frees its page only after
 * a shootdown, which waits for this access to end, and free_pte_table waits
 * for it too before the table it read goes (tlb_sync_walkers).
 */
function debug_pagealloc_hit(cpu: Cpu, mm: number, addr: number, pte: number, how: string): void {
  const pfn = pte >>> 12;
  const p = pageStruct(cpu.l, pfn);
  // _count 0 and unlocked: a locked page at 0 is frozen by a migration (page_freeze_refs), still in use.
  // The count first: a migration locks before it freezes, so a frozen count read here is followed by a
  // locked flag (it unlocks only after its shootdown, which waits for this access to end)
  const count = Atomics.load(cpu.w, p + PG_COUNT);
  const flags = Atomics.load(cpu.w, p + PG_FLAGS);
  const free = count === 0 && (flags & PG_locked) === 0;
  if (!free && (flags & PG_pgtable) === 0) return;
  tlb_access_end(cpu); // the access is over: a CPU shooting down this one's TLB must not wait for it for ever
  throw new Error(
    `debug_pagealloc: cpu ${cpu.id}'s ${how} for mm ${mm} at 0x${addr.toString(16)} reached pfn ${pfn}, which is ${free ? 'free' : 'a page table now'}: a stale translation, a TLB flush missing`,
  );
}

/** walk()'s answer when the pte changed under it: walk again. */
const WALK_RETRY = 1; // no pte is present with pfn 0 and no other bit

/**
 * The hardware walk after a TLB miss: the pte for addr if it allows the
 * access (with `bits` set in it), 0 if it does not (fault), WALK_RETRY.
 */
function walk(cpu: Cpu, mm: number, addr: number, want: number, bits: number): number {
  const w = cpu.w;
  const frames = cpu.l.frames;
  const pgd = w[mmBase(cpu.l, mm) + MM_PGD]!;
  const e = w[frames + pgd * PAGE_WORDS + pgd_index(addr)]!; // plain: see the header
  if (e === 0) return 0;
  const ptep = frames + ((e >>> 12) << 10) + pte_index(addr);
  const pte = w[ptep]!;
  if ((pte & want) !== want) return 0;
  // the walker sets A/D with a locked cmpxchg on the pte it read: a pte
  // cleared meanwhile (zap, reclaim's swap entry) must not get the bits
  if ((pte & bits) !== bits && Atomics.compareExchange(w, ptep, pte, pte | bits) !== pte) return WALK_RETRY;
  return pte | bits;
}

/** One-word store (the page_fault1 inner loop). */
export function user_write_word(cpu: Cpu, mm: number, addr: number, value: number): number {
  const w = cpu.w;
  const ad = _PAGE_ACCESSED | _PAGE_DIRTY;
  const need = _PAGE_PRESENT | _PAGE_RW | ad;
  const vpn = addr >>> 12;
  mm_cpumask_set(cpu, mm);
  for (;;) {
    tlb_access_begin(cpu);
    let pte = tlb_lookup(cpu, mm, vpn);
    if ((pte & need) !== need) {
      pte = walk(cpu, mm, addr, _PAGE_PRESENT | _PAGE_RW, ad);
      if (pte === WALK_RETRY) {
        tlb_access_end(cpu);
        continue;
      }
      if (pte !== 0) {
        if (cpu.debug) debug_pagealloc_hit(cpu, mm, addr, pte, 'page walk');
        tlb_fill(cpu, mm, vpn, pte);
      }
    } else if (cpu.debug) debug_pagealloc_hit(cpu, mm, addr, pte, 'TLB entry');
    if (pte !== 0) {
      w[cpu.l.frames + (pte >>> 12) * PAGE_WORDS + ((addr & 0xfff) >>> 2)] = value;
      tlb_access_end(cpu);
      return ACCESS_OK;
    }
    tlb_access_end(cpu);
    const r = handle_mm_fault(cpu, mm, addr, true);
    if (r < 0) return r;
  }
}
