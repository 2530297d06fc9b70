/*
 * anon_obj.ts — the anonymous object of the object-based schemes: anon_vma
 * (objrmap.ts, members are VMAs) and anonmm (anonmm.ts, members are mms).
 * Both are 8 words in the rmap pool (type-stable, SLAB_DESTROY_BY_RCU-like:
 * the lock word is never reinitialised) heading an intrusive doubly-linked
 * list that runs through two words of each member:
 *
 *   object: { lock (LOCK_WORDS), head member, nr members, free-list link }
 *   member: next / prev at `m.next` / `m.prev` of `m.base(l, id)`
 *
 * Locking: the object's lock (class anon_vma: anon_vma->lock, or anonmm's,
 * which takes its place in the object-rmap order, REFERENCE.md §3.5) guards
 * the list, nr and the members' link words; add/del assert it.
 */
import type { CpuBase } from '../machine/cpu.js';
import { NIL, type Layout } from '../machine/layout.js';
import { C_ANON_VMA } from '../sync/classes.js';
import { scheme_spin_lock, scheme_spin_unlock, scheme_assert_spin_locked } from '../sync/scheme.js';
import type { SlabCache } from '../mm/slab.js';
import { poolCacheFor, poolObj, poolInUse } from './pool.js';

export const AO_LOCK = 0; // spinlock footprint, LOCK_WORDS
export const AO_HEAD = 4; // first member, NIL if none
export const AO_NR = 5; // members on the list
export const AO_FREE_NEXT = 6; // free-list link while free
export const AO_WORDS = 8;

/** Where a member's list words are. */
export interface AnonMembers {
  readonly base: (l: Layout, id: number) => number;
  readonly next: number;
  readonly prev: number;
}

const memo: { l: Layout | null; c: SlabCache | null } = { l: null, c: null };
/** The pool's slab cache for anonymous objects. */
export const anonObjCache = (cpu: CpuBase) => poolCacheFor(cpu.l, AO_FREE_NEXT, memo);

export function anon_obj_lock(cpu: CpuBase, id: number, site: number): void {
  scheme_spin_lock(cpu, poolObj(cpu.l, id) + AO_LOCK, C_ANON_VMA, site);
}
export function anon_obj_unlock(cpu: CpuBase, id: number): void {
  scheme_spin_unlock(cpu, poolObj(cpu.l, id) + AO_LOCK, C_ANON_VMA);
}

/** Put member el at the head of object id's list. The object's lock held. */
export function anon_obj_add(cpu: CpuBase, id: number, el: number, m: AnonMembers): void {
  scheme_assert_spin_locked(cpu, poolObj(cpu.l, id) + AO_LOCK, C_ANON_VMA);
  const w = cpu.w;
  const ob = poolObj(cpu.l, id);
  const b = m.base(cpu.l, el);
  const first = w[ob + AO_HEAD]!;
  w[b + m.next] = first;
  w[b + m.prev] = NIL;
  if (first !== NIL) w[m.base(cpu.l, first) + m.prev] = el;
  w[ob + AO_HEAD] = el;
  w[ob + AO_NR]!++;
}

/** Take member el off object id's list; true if the list is now empty. The object's lock held. */
export function anon_obj_del(cpu: CpuBase, id: number, el: number, m: AnonMembers): boolean {
  scheme_assert_spin_locked(cpu, poolObj(cpu.l, id) + AO_LOCK, C_ANON_VMA);
  const w = cpu.w;
  const ob = poolObj(cpu.l, id);
  const b = m.base(cpu.l, el);
  const next = w[b + m.next]!;
  const prev = w[b + m.prev]!;
  if (prev === NIL) w[ob + AO_HEAD] = next;
  else w[m.base(cpu.l, prev) + m.next] = next;
  if (next !== NIL) w[m.base(cpu.l, next) + m.prev] = prev;
  w[ob + AO_NR]!--;
  return w[ob + AO_HEAD] === NIL;
}

/**
 * Checker (quiescent): `named[id]` members name object id; each such list
 * holds exactly those (`stray(el)` says why a listed member does not name
 * it, or null), linked both ways, AO_NR of them; the objects in use are
 * exactly the named ones.
 */
export function anon_obj_check(w: Int32Array, l: Layout, add: (s: string) => void, what: string, named: Int32Array, m: AnonMembers, stray: (el: number, id: number) => string | null): void {
  let live = 0;
  for (let id = 0; id < l.rmapEntries; id++) {
    if (named[id] === 0) continue;
    live++;
    const ob = poolObj(l, id);
    let k = 0;
    let prev = NIL;
    for (let el = w[ob + AO_HEAD]!; el !== NIL && k <= named[id]!; el = w[m.base(l, el) + m.next]!) {
      const why = stray(el, id);
      if (why !== null) add(`${what} ${id} lists ${why}`);
      if (w[m.base(l, el) + m.prev] !== prev) add(`${what} ${id}: member ${el} prev ${w[m.base(l, el) + m.prev]} != ${prev}`);
      prev = el;
      k++;
    }
    if (k !== named[id] || w[ob + AO_NR] !== k) add(`${what} ${id}: ${named[id]} members name it, list has ${k}, nr ${w[ob + AO_NR]}`);
  }
  if (live !== poolInUse(w, l)) add(`${live} ${what}s named != ${poolInUse(w, l)} allocated (leak)`);
}
