/*
 * The per-CPU TLBs and their shootdown (src/mm/tlb.ts), deterministic: two
 * simulated CPUs driven from this thread. The MMU really uses a cached
 * translation (a pte changed behind its back is not seen until a flush);
 * the TLB is set-associative (a fifth page in a 4-entry TLB evicts one);
 * munmap on CPU 0 of a page CPU 1 caches sends CPU 1 a flush through its
 * mailbox, which CPU 1 takes before its next access (it faults: SIGSEGV),
 * counted in vmstat and lock_stat; with the planted bug no_tlb_flush CPU 1
 * still reads the freed frame — and a debug build says so at the access
 * (debug_pagealloc). A CPU that never acknowledges a shootdown stops the
 * sender with an error (csd_lock_wait). Bad TLB sizes are one-line config
 * errors.
 */
import { describe, it, expect } from 'vitest';
import { makeConfig } from '../../src/config.js';
import { do_munmap } from '../../src/vm/mmap.js';
import { user_access, ACCESS_OK } from '../../src/vm/access.js';
import { VM_FAULT_SIGSEGV } from '../../src/vm/fault.js';
import { tlb_lookup, flush_tlb_mm, CSD_LOCK_TIMEOUT_MS } from '../../src/mm/tlb.js';
import { pte_pfn, pte_index, mk_pte, _PAGE_PRESENT, _PAGE_USER, _PAGE_RW } from '../../src/mm/pte.js';
import { pte_table, free_pte_table } from '../../src/mm/pgtable.js';
import { sys_madvise, MADV_DONTNEED } from '../../src/vm/madvise.js';
import { mmap_write_lock, mmap_write_unlock } from '../../src/sync/scheme.js';
import { SITE } from '../../src/sync/classes.js';
import { PAGE_WORDS, PC_TLB_SEQ, PG_COUNT, pageStruct } from '../../src/machine/layout.js';
import { lru_add_drain } from '../../src/reclaim/lru.js';
import { lockStatRows } from '../../src/sync/lockstat_rows.js';
import { bootR, newProc, mapAnon, put, get, pteOf, vmsum } from '../reclaim/helpers.js';

const buf = new Int32Array(2);

describe('per-CPU TLBs', () => {
  it('the MMU uses its cached translation until the TLB is flushed', () => {
    const { cpu } = bootR({ cpus: 1, mem: '4M' });
    const mm = newProc(cpu);
    const a = mapAnon(cpu, mm, 2);
    expect(put(cpu, mm, a, 11)).toBe(0);
    expect(put(cpu, mm, a + 4096, 22)).toBe(0);
    const p0 = pte_pfn(pteOf(cpu, mm, a));
    const p1 = pte_pfn(pteOf(cpu, mm, a + 4096));
    expect(tlb_lookup(cpu, mm, a >>> 12) >>> 12).toBe(p0);
    // point the first pte at the second page behind the TLB's back (no flush)
    const ptep = cpu.l.frames + pte_table(cpu, mm, a) * PAGE_WORDS + pte_index(a);
    const saved = Atomics.exchange(cpu.w, ptep, mk_pte(p1, _PAGE_PRESENT | _PAGE_USER | _PAGE_RW));
    expect(get(cpu, mm, a)).toBe(11); // the TLB's p0, not the page table's p1
    Atomics.store(cpu.w, ptep, saved);
  });

  it('is set-associative: with 4 entries (one set of 4 ways) a fifth page evicts one', () => {
    const { cpu } = bootR({ cpus: 1, mem: '4M', tlbEntries: 4 });
    const mm = newProc(cpu);
    const a = mapAnon(cpu, mm, 5);
    for (let i = 0; i < 5; i++) expect(put(cpu, mm, a + i * 4096, i)).toBe(0);
    let cached = 0;
    for (let i = 0; i < 5; i++) if (tlb_lookup(cpu, mm, (a >>> 12) + i) !== 0) cached++;
    expect(cached).toBe(4);
  });

  for (const inject of ['none', 'no_tlb_flush'] as const) {
    it(`munmap on CPU 0 shoots down CPU 1's entry through its mailbox${inject === 'none' ? '' : ' — not with the planted bug no_tlb_flush'}`, () => {
      const { m, cpus } = bootR({ cpus: 2, mem: '4M', swap: 0, inject });
      const [c0, c1] = [cpus[0]!, cpus[1]!];
      const mm = newProc(c0); // one mm used by both CPUs: threads
      const a = mapAnon(c0, mm, 1);
      expect(put(c0, mm, a, 77)).toBe(0);
      expect(get(c1, mm, a)).toBe(77); // CPU 1 caches the translation
      expect(tlb_lookup(c1, mm, a >>> 12)).not.toBe(0);
      expect(do_munmap(c0, mm, a, 4096)).toBe(0);
      const rc = user_access(c1, mm, a, false, buf, 2);
      if (inject === 'none') {
        expect(rc).toBe(VM_FAULT_SIGSEGV); // the flush was taken before the access: no translation left
        expect(vmsum(m, 'nr_tlb_remote_flush')).toBe(1);
        expect(vmsum(m, 'nr_tlb_remote_flush_received')).toBe(1);
        const ack = lockStatRows(m).find((r) => r.class === 'tlb_shootdown_ack');
        expect(ack?.acquisitions).toBe(1);
        expect(ack?.contentions).toBe(0); // CPU 1 was not inside an access: nothing to wait for
      } else {
        expect(rc).toBe(ACCESS_OK); // a stale translation to a freed frame
        expect(buf[0]).toBe(77);
        expect(vmsum(m, 'nr_tlb_remote_flush')).toBe(0);
      }
    });
  }

  it('debug builds: a page walk that reaches a frame freed under its pte throws (debug_pagealloc)', () => {
    const { cpus } = bootR({ cpus: 2, mem: '4M', swap: 0, debug: true });
    const [c0, c1] = [cpus[0]!, cpus[1]!];
    const mm = newProc(c0);
    const a = mapAnon(c0, mm, 1);
    expect(put(c0, mm, a, 77)).toBe(0);
    lru_add_drain(c0);
    const pfn = tlb_lookup(c0, mm, a >>> 12) >>> 12;
    expect(tlb_lookup(c1, mm, a >>> 12)).toBe(0); // CPU 1 has no entry: its access walks
    const count = pageStruct(c0.l, pfn) + PG_COUNT;
    const refs = Atomics.exchange(c0.w, count, 0); // a put_page too many: freed while a pte still maps it
    expect(() => user_access(c1, mm, a, false, buf, 1)).toThrow(
      new RegExp(`^debug_pagealloc: cpu 1's page walk for mm ${mm} at 0x${a.toString(16)} reached pfn ${pfn}, which is free: a stale translation, a TLB flush missing$`),
    );
    expect(Atomics.load(c1.w, c1.pc + PC_TLB_SEQ) & 1).toBe(0);
    Atomics.store(c0.w, count, refs);
  });

  it('debug builds: an access through a stale entry to a freed frame throws (debug_pagealloc) and leaves no access in flight', () => {
    const { cpus } = bootR({ cpus: 2, mem: '4M', swap: 0, inject: 'no_tlb_flush', debug: true });
    const [c0, c1] = [cpus[0]!, cpus[1]!];
    const mm = newProc(c0);
    const a = mapAnon(c0, mm, 1);
    expect(put(c0, mm, a, 77)).toBe(0);
    expect(get(c1, mm, a)).toBe(77);
    const pfn = tlb_lookup(c1, mm, a >>> 12) >>> 12;
    expect(do_munmap(c0, mm, a, 4096)).toBe(0);
    lru_add_drain(c0); // the pagevec's reference: now the frame is free
    expect(() => user_access(c1, mm, a, false, buf, 1)).toThrow(
      new RegExp(`^debug_pagealloc: cpu 1's TLB entry for mm ${mm} at 0x${a.toString(16)} reached pfn ${pfn}, which is free: a stale translation, a TLB flush missing$`),
    );
    expect(Atomics.load(c1.w, c1.pc + PC_TLB_SEQ) & 1).toBe(0); // a shootdown to CPU 1 would not wait for ever
  });

  it('a shootdown that a CPU never acknowledges stops with an error after CSD_LOCK_TIMEOUT_MS, naming both CPUs', () => {
    const { cpus } = bootR({ cpus: 2, mem: '4M', swap: 0 });
    const [c0, c1] = [cpus[0]!, cpus[1]!];
    const mm = newProc(c0);
    const a = mapAnon(c0, mm, 1);
    expect(get(c1, mm, a)).toBe(0); // CPU 1 is in mm_cpumask
    Atomics.add(c1.w, c1.pc + PC_TLB_SEQ, 1); // and dies inside an access
    const t0 = performance.now();
    expect(() => flush_tlb_mm(c0, mm)).toThrow(/^csd_lock_wait: cpu 0 waited 5 s for cpu 1 to acknowledge a TLB flush/);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(CSD_LOCK_TIMEOUT_MS);
  }, CSD_LOCK_TIMEOUT_MS * 3);

  it('free_pte_table waits out another CPU\'s user access in flight before the table goes (here one that never ends: csd_lock_wait)', () => {
    const { cpus } = bootR({ cpus: 2, mem: '4M', swap: 0 });
    const [c0, c1] = [cpus[0]!, cpus[1]!];
    const mm = newProc(c0);
    const a = mapAnon(c0, mm, 1);
    expect(put(c0, mm, a, 5)).toBe(0);
    expect(get(c1, mm, a)).toBe(5); // CPU 1 uses mm
    expect(sys_madvise(c0, mm, a, 4096, MADV_DONTNEED)).toBe(0); // the table is empty now (and CPU 1's entry shot down)
    Atomics.add(c1.w, c1.pc + PC_TLB_SEQ, 1); // CPU 1 is inside an access: its walk may hold the pgd entry
    mmap_write_lock(c0, mm, SITE.test);
    expect(() => free_pte_table(c0, mm, a, 0)).toThrow(/^csd_lock_wait: cpu 0 waited 5 s for cpu 1/); // freed the table at once before
    mmap_write_unlock(c0, mm);
  }, CSD_LOCK_TIMEOUT_MS * 3);

  it('a TLB size of 0 or not a power of two is a one-line config error naming the field', () => {
    expect(() => makeConfig({ tlbEntries: 0 })).toThrow(/^config\.tlbEntries: must be >= 1$/);
    expect(() => makeConfig({ tlbEntries: 48 })).toThrow(/^config\.tlbEntries: must be a power of two$/);
    expect(makeConfig({ tlbEntries: 32 }).tlbEntries).toBe(32);
  });
});
