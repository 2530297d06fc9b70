/*
 * Hemment's pagable_node (seed 000: "by using a link, I could copy a
 * physical page's contents to another physical page, and update the link"),
 * modelled by `vmnode`: the page's vm_node set hangs off one word of its
 * struct page (PG_RMAP), and try_to_flip_page_to (src/reclaim/flip.ts) moves
 * the set by moving that word. This test shows it and compares it with the
 * other way of moving the page, the swap-cache method (migrate.ts), on the
 * same three kinds of page:
 *   flip: every vm_node survives, word for word (the same node ids, the
 *     same pte and vma words, the same links); the new frame's head names
 *     the old head node; not one node freed or allocated, no fault.
 *   swap: try_to_unmap frees every node (each pte becomes a swap entry or
 *     none), and each mapper's next access faults and allocates a new one.
 */
import { describe, it, expect } from 'vitest';
import { PG_RMAP, NIL, type Layout } from '../../src/machine/layout.js';
import { pte_pfn } from '../../src/mm/pte.js';
import { __alloc_pages } from '../../src/mm/page_alloc.js';
import { __free_pages } from '../../src/mm/page_ref.js';
import { SITE } from '../../src/sync/classes.js';
import { lru_add_drain } from '../../src/reclaim/index.js';
import { migrate_page, MIGRATE_OK } from '../../src/reclaim/migrate.js';
import { poolObj, poolInUse, poolCached } from '../../src/rmap/pool.js';
import { VN_NEXT, VM_NODE_WORDS } from '../../src/rmap/vmnode.js';
import { check_invariants } from '../../src/sim/checker.js';
import { bootR, get, pteOf, vmsum, pageWord } from './helpers.js';
import { KINDS } from './flip_kinds.js';

/** vm_nodes on lists: the pool's objects in use less those in the per-CPU caches. */
const live = (w: Int32Array, l: Layout) => poolInUse(w, l) - poolCached(w, l);

/** The vm_node list of page pfn: each node's id and its four words, from the head. */
function nodes(w: Int32Array, l: Layout, head: number): number[][] {
  const out: number[][] = [];
  for (let n = head; n !== NIL; n = w[poolObj(l, n) + VN_NEXT]!) {
    const b = poolObj(l, n);
    out.push([n, ...w.subarray(b, b + VM_NODE_WORDS)]);
  }
  return out;
}

describe("vmnode: a flip moves Hemment's pagable_node link, one word; the swap method rebuilds the vm_nodes", () => {
  for (const [kind, setup] of Object.entries(KINDS)) {
    it(`${kind}: flip keeps every vm_node, word for word`, () => {
      const { m, cpu } = bootR({ rmap: 'vmnode', mem: '4M', swap: 0, filePages: 8, migrateMethod: 'flip' });
      const s = setup(cpu);
      lru_add_drain(cpu);
      const old = pte_pfn(pteOf(cpu, s.mms[0]!, s.addrs[0]!));
      const head = pageWord(m, old, PG_RMAP);
      const before = nodes(m.w, m.layout, head);
      expect(before).toHaveLength(s.mms.length); // one vm_node per mapping pte
      const inUse = live(m.w, m.layout);
      const faults = vmsum(m, 'pgfault');
      const to = __alloc_pages(cpu, 0, SITE.test);
      expect(migrate_page(cpu, old, to)).toBe(MIGRATE_OK);
      expect(pageWord(m, to, PG_RMAP)).toBe(head); // the one link, moved
      expect(pageWord(m, old, PG_RMAP)).toBe(NIL);
      expect(nodes(m.w, m.layout, head)).toEqual(before); // no vm_node rewritten
      expect(live(m.w, m.layout)).toBe(inUse); // none freed, none allocated
      for (let i = 0; i < s.mms.length; i++) expect(get(cpu, s.mms[i]!, s.addrs[i]!)).toBe(s.value);
      expect(vmsum(m, 'pgfault')).toBe(faults);
      __free_pages(cpu, old, 0);
      expect(check_invariants(cpu).violations).toEqual([]);
    });

    it(`${kind}: the swap method frees every vm_node and the faults build new ones`, () => {
      const { m, cpu } = bootR({ rmap: 'vmnode', mem: '4M', swap: '4M', filePages: 8, migrateMethod: 'swap' });
      const s = setup(cpu);
      lru_add_drain(cpu);
      const old = pte_pfn(pteOf(cpu, s.mms[0]!, s.addrs[0]!));
      const k = nodes(m.w, m.layout, pageWord(m, old, PG_RMAP)).length;
      expect(k).toBe(s.mms.length);
      const inUse = live(m.w, m.layout);
      const faults = vmsum(m, 'pgfault');
      const to = __alloc_pages(cpu, 0, SITE.test);
      expect(migrate_page(cpu, old, to)).toBe(MIGRATE_OK);
      expect(pageWord(m, to, PG_RMAP)).toBe(NIL); // nothing maps the new frame yet
      expect(live(m.w, m.layout)).toBe(inUse - k); // try_to_unmap freed all k
      for (let i = 0; i < s.mms.length; i++) expect(get(cpu, s.mms[i]!, s.addrs[i]!)).toBe(s.value);
      expect(vmsum(m, 'pgfault')).toBe(faults + k); // each mapper faulted the page back
      expect(live(m.w, m.layout)).toBe(inUse); // and allocated its vm_node again
      expect(nodes(m.w, m.layout, pageWord(m, to, PG_RMAP))).toHaveLength(k);
      __free_pages(cpu, old, 0);
      expect(check_invariants(cpu).violations).toEqual([]);
    });
  }
});
