/*
 * Refault detection on the machine (issue 7), deterministically on the main
 * thread: an evicted page leaves a cookie in the nonresident table; faulting
 * it back counts workingset_refault_anon / _file once and records its
 * distance in this CPU's /proc/refaults histogram (the row the table's hand
 * predicts); a claimed cookie is gone; a swap slot's cookie dies when the
 * slot is freed (zap, swapoff), which the invariant checker verifies — and
 * catches when it does not happen; 2q's refault activation follows
 * workingset.c's rule.
 */
import { describe, it, expect } from 'vitest';
import { check_invariants } from '../../src/sim/checker.js';
import { mmput } from '../../src/vm/fork.js';
import { do_mmap, do_munmap, PROT_READ, MAP_SHARED } from '../../src/vm/mmap.js';
import { inode_alloc, inode_free, inode_generation } from '../../src/mm/files.js';
import { shrink_all_memory, sys_swapoff } from '../../src/reclaim/index.js';
import {
  nr_table,
  nr_file_key,
  nr_swap_key,
  refault_report,
  workingset_2q_insert,
  workingset_swapoff,
  WS_ACTIVE,
  WS_ACTIVATED,
  WS_FILE,
  WS_NEW_ANON,
  WS_READAHEAD,
  WS_SWAPIN,
} from '../../src/reclaim/workingset.js';
import { nr_hash, nr_cookie, remember_page, nr_refault_rows, nr_hand_slot, NR_SLOT0_NARROW, NR_NO_HOST } from '../../src/reclaim/nonresident.js';
import { G_LRU, L_NR_ACTIVE, globalLine, inodeBase } from '../../src/machine/layout.js';
import { SWAPPER_SPACE, mappingOfInode } from '../../src/machine/page.js';
import { SWP_ENTRY } from '../../src/mm/pte.js';
import type { Machine } from '../../src/machine/machine.js';
import { bootR, vmsum, newProc, mapAnon, put, get, tryGet, pteOf, isSwapPte, swapOffset } from './helpers.js';

type Cpu = ReturnType<typeof bootR>['cpu'];

/** Swap (and drop) whatever the policy can. */
const reclaimAll = (cpu: Cpu) => shrink_all_memory(cpu, 1 << 20) + shrink_all_memory(cpu, 1 << 20);

/** Where (mapping, index, ino) is remembered right now: slot and the hand of its bucket, or null. */
function cookieAt(m: Machine, mapping: number, index: number, ino: number): { slot: number; hand: number } | null {
  const t = nr_table(m.layout);
  const b = nr_hash(t, mapping, index);
  const c = nr_cookie(mapping, index, ino);
  for (let s = 0; s < t.numNr; s++) if (m.w[b + NR_SLOT0_NARROW + s] === c) return { slot: s, hand: nr_hand_slot(m.w, t, b) };
  return null;
}
const swapCookie = (m: Machine, entry: number) => cookieAt(m, SWAPPER_SPACE, nr_swap_key(entry), NR_NO_HOST);

/** Hits per histogram row, summed over every CPU. */
const rows = (m: Machine) => nr_refault_rows(m.w, m.layout, nr_table(m.layout)).map((r) => r.hits);

describe('refault detection', () => {
  it('an evicted anonymous page faulted back: workingset_refault_anon +1, its distance row +1, the cookie claimed', () => {
    const { m, cpu } = bootR({ policy: '2q', pageCluster: 0 }); // no read-ahead: one swap-in per fault
    const mm = newProc(cpu);
    const N = 300;
    const a = mapAnon(cpu, mm, N);
    for (let i = 0; i < N; i++) put(cpu, mm, a + i * 4096, 5000 + i);
    expect(reclaimAll(cpu)).toBeGreaterThan(N / 2);
    const victims = [...Array(N).keys()].filter((i) => isSwapPte(pteOf(cpu, mm, a + i * 4096)));
    expect(victims.length).toBeGreaterThan(N / 2);
    const t = nr_table(m.layout);
    for (const i of victims.slice(0, 5)) {
      const entry = pteOf(cpu, mm, a + i * 4096);
      const at = swapCookie(m, entry);
      expect(at, `page ${i} (slot ${swapOffset(entry)}) remembered`).not.toBeNull();
      const d = (at!.hand - at!.slot + t.numNr) % t.numNr; // slots written after it in its bucket
      const before = rows(m);
      const refaults = vmsum(m, 'workingset_refault_anon');
      expect(get(cpu, mm, a + i * 4096)).toBe(5000 + i);
      expect(vmsum(m, 'workingset_refault_anon') - refaults).toBe(1);
      const after = rows(m);
      expect(after[d]! - before[d]!, `row ${d}: distance (${d} + 1) x ${t.nrBuckets}`).toBe(1);
      expect(after.reduce((s, x) => s + x, 0) - before.reduce((s, x) => s + x, 0)).toBe(1);
      expect(swapCookie(m, entry), 'claimed: a second lookup would miss').toBeNull();
    }
    // a first-touch page is no lookup; the report adds up
    const rep = refault_report(m);
    expect(rep.found).toBe(vmsum(m, 'workingset_refault_anon') + vmsum(m, 'workingset_refault_file'));
    expect(rep.rows.reduce((s, r) => s + r.hits, 0)).toBe(rep.lookups);
    expect(rep.capacity).toBe(rep.nrBuckets * rep.numNr);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
    expect(check_invariants(cpu).violations).toEqual([]);
  });

  it('a page refaulted right after its eviction is found at distance 1 x nbuckets (histogram row 0)', () => {
    const { m, cpu } = bootR({ policy: '2q', pageCluster: 0 });
    const mm = newProc(cpu);
    const N = 300;
    const a = mapAnon(cpu, mm, N);
    for (let i = 0; i < N; i++) put(cpu, mm, a + i * 4096, i + 1);
    reclaimAll(cpu);
    // the page remembered last in its bucket sits under that bucket's hand: d = 0
    const t = nr_table(m.layout);
    const last = [...Array(N).keys()].find((i) => {
      const e = pteOf(cpu, mm, a + i * 4096);
      const at = isSwapPte(e) ? swapCookie(m, e) : null;
      return at !== null && at.slot === at.hand;
    });
    expect(last).toBeDefined();
    const before = rows(m)[0]!;
    expect(get(cpu, mm, a + last! * 4096)).toBe(last! + 1);
    expect(rows(m)[0]! - before).toBe(1);
    expect(t.nrBuckets).toBe(m.layout.nrBuckets);
    mmput(cpu, mm);
  });

  it('a dropped page-cache page read back through a file mapping: workingset_refault_file, one per page that had left', () => {
    const { m, cpu } = bootR({ policy: '2q', filePages: 64 });
    const ino = inode_alloc(cpu, 64, 0);
    const mm = newProc(cpu);
    const a = do_mmap(cpu, mm, 0, 64 * 4096, PROT_READ, MAP_SHARED, ino, 0);
    expect(a).toBeGreaterThan(0);
    for (let i = 0; i < 64; i++) expect(tryGet(cpu, mm, a + i * 4096)).toBe(0);
    expect(vmsum(m, 'workingset_refault_file')).toBe(0);
    reclaimAll(cpu);
    const ibase = inodeBase(m.layout, ino);
    const gone = [...Array(64).keys()].filter((i) => cookieAt(m, mappingOfInode(ino), i, nr_file_key(m.w, m.layout, ibase)) !== null);
    expect(gone.length).toBeGreaterThan(32);
    for (let i = 0; i < 64; i++) expect(tryGet(cpu, mm, a + i * 4096)).toBe(0);
    expect(vmsum(m, 'workingset_refault_file')).toBe(gone.length);
    expect(vmsum(m, 'workingset_refault_anon')).toBe(0);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
  });

  it("a deleted file's cookies do not match the next file created in its inode slot (the slot's generation is in the cookie)", () => {
    const { m, cpu } = bootR({ policy: '2q', filePages: 64 });
    const readAll = (ino: number) => {
      const mm = newProc(cpu);
      const a = do_mmap(cpu, mm, 0, 64 * 4096, PROT_READ, MAP_SHARED, ino, 0);
      expect(a).toBeGreaterThan(0);
      for (let i = 0; i < 64; i++) expect(tryGet(cpu, mm, a + i * 4096)).toBe(0);
      mmput(cpu, mm);
    };
    const old = inode_alloc(cpu, 64, 0);
    const oldGen = inode_generation(cpu, old);
    readAll(old);
    reclaimAll(cpu);
    const ib = inodeBase(m.layout, old);
    const oldKey = nr_file_key(m.w, m.layout, ib);
    const remembered = [...Array(64).keys()].filter((i) => cookieAt(m, mappingOfInode(old), i, oldKey) !== null);
    expect(remembered.length).toBeGreaterThan(32);
    inode_free(cpu, old);
    const neu = inode_alloc(cpu, 64, 0);
    expect(neu).toBe(old); // the same slot, hence the same mapping word and inode number
    expect(inode_generation(cpu, neu)).toBe(oldGen + 1);
    readAll(neu);
    // the old file's cookies are still there, and none of the new file's first reads matched one
    expect(vmsum(m, 'workingset_refault_file')).toBe(0);
    expect(nr_file_key(m.w, m.layout, ib)).not.toBe(oldKey);
    expect(remembered.filter((i) => cookieAt(m, mappingOfInode(old), i, oldKey) !== null)).toEqual(remembered);
    expect(check_invariants(cpu).violations).toEqual([]);
  });
});

describe('swap-entry invalidation (seed wiki)', () => {
  it('a swap slot freed by zap (munmap) takes its cookie with it; the checker sees no stale cookie', () => {
    const { m, cpu } = bootR({ policy: '2q' });
    const mm = newProc(cpu);
    const N = 200;
    const a = mapAnon(cpu, mm, N);
    for (let i = 0; i < N; i++) put(cpu, mm, a + i * 4096, i);
    reclaimAll(cpu);
    const entries = [...Array(N).keys()].map((i) => pteOf(cpu, mm, a + i * 4096)).filter(isSwapPte);
    const remembered = entries.filter((e) => swapCookie(m, e) !== null);
    expect(remembered.length).toBeGreaterThan(N / 4);
    expect(check_invariants(cpu).violations).toEqual([]);
    expect(do_munmap(cpu, mm, a, N * 4096)).toBe(0); // free_swap_and_cache → swap_free → 0
    for (const e of remembered) expect(swapCookie(m, e), `slot ${swapOffset(e)}`).toBeNull();
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
  });

  it('swapoff leaves no cookie of the area; a stale one (planted) is what the checker reports and what swapoff sweeps', () => {
    const { m, cpu } = bootR({ policy: 'clock', mem: '3M' });
    const mm = newProc(cpu);
    const N = 200;
    const a = mapAnon(cpu, mm, N);
    for (let i = 0; i < N; i++) put(cpu, mm, a + i * 4096, 100 + i);
    reclaimAll(cpu);
    const entries = [...Array(N).keys()].map((i) => pteOf(cpu, mm, a + i * 4096)).filter(isSwapPte);
    expect(entries.filter((e) => swapCookie(m, e) !== null).length).toBeGreaterThan(0);
    // plant a cookie for a slot nobody uses (the invalidation the wiki asks for, skipped once)
    const stale = SWP_ENTRY(0, m.layout.nrSwap - 2);
    remember_page(m.w, nr_table(m.layout), SWAPPER_SPACE, nr_swap_key(stale), NR_NO_HOST);
    expect(check_invariants(cpu).violations.join('\n')).toMatch(new RegExp(`workingset: free swap slot ${m.layout.nrSwap - 2} still has a nonresident cookie`));
    expect(sys_swapoff(cpu)).toBe(0);
    expect(swapCookie(m, stale)).toBeNull();
    for (const e of entries) expect(swapCookie(m, e)).toBeNull();
    expect(workingset_swapoff(cpu)).toBe(0); // nothing left to sweep
    for (let i = 0; i < N; i++) expect(get(cpu, mm, a + i * 4096)).toBe(100 + i);
    expect(vmsum(m, 'workingset_refault_anon')).toBe(0); // swapoff's reads are no refaults
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
  });
});

describe('2q refault activation (mm/workingset.c)', () => {
  it('activates a refault iff its distance <= nr_active, and only with config.refaultActivation', () => {
    const on = bootR({ policy: '2q', refaultActivation: true });
    const off = bootR({ policy: '2q' });
    for (const { m } of [on, off]) m.w[globalLine(m.layout, G_LRU) + L_NR_ACTIVE] = 100; // the rule reads the list length only
    const pfn = 1;
    expect(workingset_2q_insert(on.cpu, pfn, WS_SWAPIN, 64)).toBe(WS_ACTIVE | WS_ACTIVATED);
    expect(workingset_2q_insert(on.cpu, pfn, WS_FILE, 100)).toBe(WS_ACTIVE | WS_ACTIVATED);
    expect(workingset_2q_insert(on.cpu, pfn, WS_SWAPIN, 128)).toBe(0);
    expect(workingset_2q_insert(on.cpu, pfn, WS_SWAPIN, -1)).toBe(0);
    expect(workingset_2q_insert(on.cpu, pfn, WS_NEW_ANON, -1)).toBe(0); // since 5.9 anon pages start inactive
    expect(workingset_2q_insert(off.cpu, pfn, WS_SWAPIN, 64)).toBe(WS_ACTIVE); // 2.6: swap-ins active, no activation counted
    expect(workingset_2q_insert(off.cpu, pfn, WS_NEW_ANON, -1)).toBe(WS_ACTIVE);
    expect(workingset_2q_insert(off.cpu, pfn, WS_FILE, 64)).toBe(0);
    expect(workingset_2q_insert(off.cpu, pfn, WS_READAHEAD, 64)).toBe(0);
  });

  it('end to end: refaults near the active list size are activated and counted (workingset_activate_anon)', () => {
    const { m, cpu } = bootR({ policy: '2q', refaultActivation: true, pageCluster: 0 });
    const mm = newProc(cpu);
    const N = 480; // a 2 MiB machine holds about 450: refaults come back within ~100 evictions
    const a = mapAnon(cpu, mm, N);
    for (let round = 0; round < 3; round++) for (let i = 0; i < N; i++) put(cpu, mm, a + i * 4096, round * 1000 + i);
    for (let i = 0; i < N; i++) expect(get(cpu, mm, a + i * 4096)).toBe(2000 + i);
    const refaults = vmsum(m, 'workingset_refault_anon');
    const act = vmsum(m, 'workingset_activate_anon');
    expect(refaults).toBeGreaterThan(0);
    expect(act).toBeGreaterThan(0);
    expect(act).toBeLessThanOrEqual(refaults);
    // every activated refault was within the active list's reach: the found rows below nr_active
    const t = nr_table(m.layout);
    const near = refault_report(m).rows.filter((r) => r.to > 0 && r.to <= m.w[globalLine(m.layout, G_LRU) + L_NR_ACTIVE]! + t.nrBuckets);
    expect(near.reduce((s, r) => s + r.hits, 0)).toBeGreaterThan(0);
    expect(check_invariants(cpu).violations).toEqual([]);
    mmput(cpu, mm);
  });
});
