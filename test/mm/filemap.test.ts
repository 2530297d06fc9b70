/*
 * filemap.test.ts — inodes, file contents and the page cache
 * (src/mm/files.ts, src/mm/filemap.ts) under every lock scheme.
 */
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { createMachine, type Machine } from '../../src/machine/machine.js';
import { makeCpuBase, type CpuBase } from '../../src/machine/cpu.js';
import {
  I_INO,
  I_NRPAGES,
  I_SIZE,
  I_FLAGS,
  I_MMAP,
  NIL,
  PAGE_WORDS,
  STAMP_WORDS,
  PG_COUNT,
  PG_FLAGS,
  PG_MAPPING,
  PG_INDEX,
  PG_PRIVATE,
  PG_HASH_NEXT,
  frameBase,
  inodeBase,
  pageStruct,
} from '../../src/machine/layout.js';
import { PG_swapcache, SWAPPER_SPACE, mappingOfInode, mappingOfAnon } from '../../src/machine/page.js';
import { VM } from '../../src/machine/vmstat.js';
import { SITE } from '../../src/sync/classes.js';
import { mem_init, __alloc_pages, nr_free_pages } from '../../src/mm/page_alloc.js';
import { page_count, __free_page } from '../../src/mm/page_ref.js';
import { drain_all_pages } from '../../src/mm/pcp.js';
import { check_free_lists } from '../../src/mm/free_check.js';
import {
  inode_alloc,
  inode_free,
  inode_in_use,
  I_SHMEM,
  file_word,
  file_store_word,
  file_page_written,
  read_file_page_into,
  writeback_page,
} from '../../src/mm/files.js';
import {
  find_get_page,
  add_to_page_cache,
  remove_from_page_cache,
  truncate_inode_pages,
  inode_nrpages,
  page_cache_mapping,
  cache_lock,
  cache_unlock,
  __find_page,
} from '../../src/mm/filemap.js';

const SCHEMES = ['bkl', '2.4', 'split'] as const;

function boot(locks: (typeof SCHEMES)[number] = 'split', cfg: Record<string, unknown> = {}): { m: Machine; cpu: CpuBase } {
  const m = createMachine({ mem: '8M', cpus: 2, locks, maxFiles: 8, filePages: 64, debug: true, ...cfg });
  mem_init(m);
  return { m, cpu: makeCpuBase(m, 0) };
}

/** Every bucket head is at rest (a pfn or NIL, not a locked encoding) and every chain is well-formed. */
function cachedPages(m: Machine): number[] {
  const l = m.layout;
  const out: number[] = [];
  for (let b = 0; b <= l.pcHashMask; b++) {
    const h = m.w[l.pcHash + b]!;
    expect(h).toBeGreaterThanOrEqual(-1);
    for (let pfn = h, guard = 0; pfn !== NIL; pfn = m.w[pageStruct(l, pfn) + PG_HASH_NEXT]!) {
      expect(++guard).toBeLessThan(l.nrFrames);
      out.push(pfn);
    }
  }
  return out;
}

function newPage(cpu: CpuBase): number {
  const pfn = __alloc_pages(cpu, 0, SITE.test);
  expect(pfn).toBeGreaterThan(0);
  return pfn;
}

describe('inodes', () => {
  it('allocates slots, refuses when full, reuses freed slots', () => {
    const { m, cpu } = boot();
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push(inode_alloc(cpu, 10 + i, 0));
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(inode_alloc(cpu, 1, 0)).toBe(NIL);
    const ib = inodeBase(m.layout, 3);
    expect(m.w[ib + I_INO]).toBe(3);
    expect(m.w[ib + I_SIZE]).toBe(13);
    expect(m.w[ib + I_NRPAGES]).toBe(0);
    expect(m.w[ib + I_MMAP]).toBe(NIL);
    inode_free(cpu, 3);
    expect(inode_in_use(cpu, 3)).toBe(false);
    expect(m.w[ib + I_INO]).toBe(NIL);
    expect(() => inode_free(cpu, 3)).toThrow(/not allocated/);
    expect(inode_alloc(cpu, 5, I_SHMEM)).toBe(3);
    expect(m.w[ib + I_FLAGS]).toBe(I_SHMEM);
    expect(() => inode_alloc(cpu, 65, 0)).toThrow(/filePages/);
  });

  it('refuses to free a mapped inode', () => {
    const { m, cpu } = boot();
    const ino = inode_alloc(cpu, 4, 0);
    m.w[inodeBase(m.layout, ino) + I_MMAP] = 7;
    expect(() => inode_free(cpu, ino)).toThrow(/mapped/);
  });
});

describe('file contents', () => {
  it('are a deterministic function of (ino, index, word)', () => {
    expect(file_word(2, 5, 17)).toBe(file_word(2, 5, 17));
    const seen = new Set<number>();
    for (let ino = 0; ino < 4; ino++)
      for (let index = 0; index < 4; index++) for (let k = 0; k < 4; k++) seen.add(file_word(ino, index, k));
    expect(seen.size).toBe(64);
    // independent of the machine
    const a = boot();
    const b = boot('2.4');
    const pa = newPage(a.cpu);
    const pb = newPage(b.cpu);
    read_file_page_into(a.cpu, 1, 9, pa);
    read_file_page_into(b.cpu, 1, 9, pb);
    const fa = a.m.w.subarray(frameBase(a.m.layout, pa), frameBase(a.m.layout, pa) + PAGE_WORDS);
    const fb = b.m.w.subarray(frameBase(b.m.layout, pb), frameBase(b.m.layout, pb) + PAGE_WORDS);
    expect(Array.from(fa)).toEqual(Array.from(fb));
    for (let k = 0; k < PAGE_WORDS; k++) expect(fa[k]).toBe(file_word(1, 9, k));
    expect(a.cpu.w[a.cpu.vm + VM.pgpgin]).toBe(1);
    expect(() => read_file_page_into(a.cpu, 1, 64, pa)).toThrow(/outside/);
  });

  it('written-back stamp words overlay the pattern; a new file in the slot is pristine', () => {
    const { m, cpu } = boot();
    const ino = inode_alloc(cpu, 8, 0);
    const pfn = newPage(cpu);
    read_file_page_into(cpu, ino, 3, pfn);
    const f = frameBase(m.layout, pfn);
    const stamp = [0x57a40001, 42, 7, -5];
    for (let k = 0; k < STAMP_WORDS; k++) m.w[f + k] = stamp[k]!;
    m.w[f + STAMP_WORDS] = 12345; // beyond the stamp: not stored
    expect(file_page_written(cpu, ino, 3)).toBe(false);
    writeback_page(cpu, ino, 3, pfn);
    expect(file_page_written(cpu, ino, 3)).toBe(true);
    expect(cpu.w[cpu.vm + VM.page_writeback]).toBe(1);
    const again = newPage(cpu);
    read_file_page_into(cpu, ino, 3, again);
    const g = frameBase(m.layout, again);
    for (let k = 0; k < STAMP_WORDS; k++) expect(m.w[g + k]).toBe(stamp[k]);
    for (let k = STAMP_WORDS; k < PAGE_WORDS; k++) expect(m.w[g + k]).toBe(file_word(ino, 3, k));
    for (let k = 0; k < STAMP_WORDS; k++) expect(file_store_word(cpu, ino, 3, k)).toBe(stamp[k]);
    expect(file_store_word(cpu, ino, 3, STAMP_WORDS)).toBe(file_word(ino, 3, STAMP_WORDS));
    // other pages of the file are untouched
    read_file_page_into(cpu, ino, 4, again);
    expect(m.w[g]).toBe(file_word(ino, 4, 0));
    // delete and recreate: the slot's store is cleared
    inode_free(cpu, ino);
    expect(inode_alloc(cpu, 8, 0)).toBe(ino);
    expect(file_page_written(cpu, ino, 3)).toBe(false);
    read_file_page_into(cpu, ino, 3, again);
    expect(m.w[g]).toBe(file_word(ino, 3, 0));
  });
});

for (const locks of SCHEMES) {
  describe(`page cache (${locks})`, () => {
    it('add / find / duplicate / remove', () => {
      const { m, cpu } = boot(locks);
      const ino = inode_alloc(cpu, 16, 0);
      const mapping = mappingOfInode(ino);
      const pfn = newPage(cpu);
      const p = pageStruct(m.layout, pfn);
      expect(find_get_page(cpu, mapping, 5)).toBe(-1);
      expect(add_to_page_cache(cpu, pfn, mapping, 5)).toBe(true);
      expect(m.w[p + PG_MAPPING]).toBe(mapping);
      expect(m.w[p + PG_INDEX]).toBe(5);
      expect(page_count(cpu, pfn)).toBe(2); // ours + the cache's
      expect(inode_nrpages(cpu, ino)).toBe(1);
      expect(page_cache_mapping(cpu, pfn)).toBe(mapping);
      expect(find_get_page(cpu, mapping, 5)).toBe(pfn);
      expect(page_count(cpu, pfn)).toBe(3);
      __free_page(cpu, pfn);
      expect(find_get_page(cpu, mapping, 6)).toBe(-1);
      expect(find_get_page(cpu, mappingOfInode(ino + 1), 5)).toBe(-1);
      // the race loser's page is left alone
      const loser = newPage(cpu);
      expect(add_to_page_cache(cpu, loser, mapping, 5)).toBe(false);
      expect(page_count(cpu, loser)).toBe(1);
      expect(m.w[pageStruct(m.layout, loser) + PG_MAPPING]).toBe(0);
      expect(inode_nrpages(cpu, ino)).toBe(1);
      __free_page(cpu, loser);
      // removal unlinks but leaves the cache's reference to the caller
      expect(remove_from_page_cache(cpu, pfn)).toBe(true);
      expect(m.w[p + PG_MAPPING]).toBe(0);
      expect(inode_nrpages(cpu, ino)).toBe(0);
      expect(find_get_page(cpu, mapping, 5)).toBe(-1);
      expect(page_count(cpu, pfn)).toBe(2);
      expect(remove_from_page_cache(cpu, pfn)).toBe(false);
      __free_page(cpu, pfn);
      __free_page(cpu, pfn);
      expect(cachedPages(m)).toEqual([]);
      drain_all_pages(cpu);
      expect(check_free_lists(m)).toEqual([]);
      expect(nr_free_pages(m)).toBe(m.layout.nrFrames - 1);
    });

    it('swap cache: keyed by (SWAPPER_SPACE, entry), keeps the anon mapping', () => {
      const { m, cpu } = boot(locks);
      const ino = inode_alloc(cpu, 16, 0);
      const pfn = newPage(cpu);
      const p = pageStruct(m.layout, pfn);
      const anon = mappingOfAnon(4);
      m.w[p + PG_MAPPING] = anon;
      m.w[p + PG_INDEX] = 77;
      const entry = (1 << 1) | (300 << 8);
      expect(add_to_page_cache(cpu, pfn, SWAPPER_SPACE, entry)).toBe(true);
      expect(m.w[p + PG_FLAGS]! & PG_swapcache).toBe(PG_swapcache);
      expect(m.w[p + PG_PRIVATE]).toBe(entry);
      expect(m.w[p + PG_MAPPING]).toBe(anon);
      expect(m.w[p + PG_INDEX]).toBe(77);
      expect(page_cache_mapping(cpu, pfn)).toBe(SWAPPER_SPACE);
      expect(find_get_page(cpu, SWAPPER_SPACE, entry)).toBe(pfn);
      __free_page(cpu, pfn);
      expect(find_get_page(cpu, SWAPPER_SPACE, entry + 256)).toBe(-1);
      // a file page with index == entry is a different key
      expect(find_get_page(cpu, mappingOfInode(ino), entry)).toBe(-1);
      expect(find_get_page(cpu, anon, 77)).toBe(-1);
      const dup = newPage(cpu);
      expect(add_to_page_cache(cpu, dup, SWAPPER_SPACE, entry)).toBe(false);
      expect(m.w[pageStruct(m.layout, dup) + PG_FLAGS]! & PG_swapcache).toBe(0);
      __free_page(cpu, dup);
      expect(remove_from_page_cache(cpu, pfn)).toBe(true);
      expect(m.w[p + PG_FLAGS]! & PG_swapcache).toBe(0);
      expect(m.w[p + PG_PRIVATE]).toBe(0);
      expect(m.w[p + PG_MAPPING]).toBe(anon);
      expect(find_get_page(cpu, SWAPPER_SPACE, entry)).toBe(-1);
      expect(page_count(cpu, pfn)).toBe(2);
    });

    it('many keys sharing buckets stay findable through inserts and removals', () => {
      const { m, cpu } = boot(locks, { mem: '2M' }); // 512 frames, 256 buckets
      const inos = [inode_alloc(cpu, 64, 0), inode_alloc(cpu, 64, 0), inode_alloc(cpu, 64, 0)];
      const keys: [number, number][] = [];
      for (const ino of inos) for (let i = 0; i < 64; i++) keys.push([mappingOfInode(ino), i]);
      for (let s = 0; s < 200; s++) keys.push([SWAPPER_SPACE, (1 << 1) | (s << 8)]);
      expect(keys.length).toBeGreaterThan(m.layout.pcHashMask + 1); // forces shared buckets
      const pfns = keys.map(([mapping, index]) => {
        const pfn = newPage(cpu);
        expect(add_to_page_cache(cpu, pfn, mapping, index)).toBe(true);
        __free_page(cpu, pfn); // the cache holds the only reference
        return pfn;
      });
      expect(cachedPages(m).sort((a, b) => a - b)).toEqual([...pfns].sort((a, b) => a - b));
      let longest = 0;
      for (let b = 0; b <= m.layout.pcHashMask; b++) {
        let len = 0;
        for (let q = m.w[m.layout.pcHash + b]!; q !== NIL; q = m.w[pageStruct(m.layout, q) + PG_HASH_NEXT]!) len++;
        longest = Math.max(longest, len);
      }
      expect(longest).toBeGreaterThanOrEqual(3); // chains shared across mappings and the swap cache
      expect(longest).toBeLessThan(12); // but the hash spreads both key kinds
      for (let i = 0; i < keys.length; i += 2) {
        expect(remove_from_page_cache(cpu, pfns[i]!)).toBe(true);
        __free_page(cpu, pfns[i]!);
      }
      for (let i = 0; i < keys.length; i++) {
        const [mapping, index] = keys[i]!;
        cache_lock(cpu, mapping, SITE.test);
        expect(__find_page(cpu, mapping, index)).toBe(i % 2 === 0 ? -1 : pfns[i]);
        cache_unlock(cpu, mapping);
      }
      for (const ino of inos) expect(inode_nrpages(cpu, ino)).toBe(32);
      expect(cachedPages(m).length).toBe(keys.length / 2);
    });

    it('truncate_inode_pages drops the cache; mapped pages survive uncached', () => {
      const { m, cpu } = boot(locks);
      drain_all_pages(cpu);
      const before = nr_free_pages(m);
      const ino = inode_alloc(cpu, 32, 0);
      const other = inode_alloc(cpu, 32, 0);
      const mapping = mappingOfInode(ino);
      const pfns: number[] = [];
      for (let i = 0; i < 32; i += 3) {
        const pfn = newPage(cpu);
        read_file_page_into(cpu, ino, i, pfn);
        expect(add_to_page_cache(cpu, pfn, mapping, i)).toBe(true);
        pfns.push(pfn);
      }
      const keep = newPage(cpu);
      expect(add_to_page_cache(cpu, keep, mappingOfInode(other), 0)).toBe(true);
      __free_page(cpu, keep);
      // all but the first: drop our reference (cache-only); the first stays "mapped" (our ref)
      for (const pfn of pfns.slice(1)) __free_page(cpu, pfn);
      truncate_inode_pages(cpu, ino);
      expect(inode_nrpages(cpu, ino)).toBe(0);
      for (let i = 0; i < 32; i++) expect(find_get_page(cpu, mapping, i)).toBe(-1);
      const first = pageStruct(m.layout, pfns[0]!);
      expect(m.w[first + PG_COUNT]).toBe(1);
      expect(m.w[first + PG_MAPPING]).toBe(0);
      expect(cachedPages(m)).toEqual([keep]);
      __free_page(cpu, pfns[0]!);
      drain_all_pages(cpu);
      expect(nr_free_pages(m)).toBe(before - 1); // only `keep` is still cached
      inode_free(cpu, other);
      drain_all_pages(cpu);
      expect(nr_free_pages(m)).toBe(before);
      expect(cachedPages(m)).toEqual([]);
      expect(check_free_lists(m)).toEqual([]);
    });
  });
}

/*
 * Two CPUs (real worker threads) hammer the one hash table through two
 * different cache locks (an inode's tree_lock vs swapper_space's), so only
 * the bucket bit-lock keeps shared chains intact under `split`. Each worker
 * toggles its own keys in and out of the cache; afterwards every page is
 * either free or cached exactly once. (With the bucket lock disabled the
 * split run failed 3 times out of 3 at 200000 operations per CPU: a broken
 * chain or "page N not cached under ..."; at 50000 it could pass.)
 * The worker body is an eval'd module so the test needs no extra file.
 */
const WORKER_SRC = (root: string) => `
const { workerData, parentPort } = require('node:worker_threads');
import('tsx/esm/api').then(async (tsx) => {
  tsx.register();
  const { attachMachine } = await import('${root}src/machine/machine.ts');
  const { makeCpuBase } = await import('${root}src/machine/cpu.ts');
  const { __alloc_pages } = await import('${root}src/mm/page_alloc.ts');
  const { __free_page } = await import('${root}src/mm/page_ref.ts');
  const fm = await import('${root}src/mm/filemap.ts');
  const { sab, id, iters, mapping, shift, gate } = workerData;
  const cpu = makeCpuBase(attachMachine(sab), id);
  const g = new Int32Array(gate);
  Atomics.add(g, 0, 1);
  while (Atomics.load(g, 0) < 2) {}
  const { seeded, randInt } = await import('${root}test/rng.ts');
  const rng = seeded(id * 7919 + 1);
  let errs = 0;
  for (let i = 0; i < iters; i++) {
    const index = randInt(rng, 0, 63) << shift;
    const got = fm.find_get_page(cpu, mapping, index);
    if (got >= 0) {
      if (!fm.remove_from_page_cache(cpu, got)) errs++;
      __free_page(cpu, got);
      __free_page(cpu, got);
    } else {
      const pfn = __alloc_pages(cpu, 0, 0);
      if (pfn < 0 || !fm.add_to_page_cache(cpu, pfn, mapping, index)) errs++;
      if (pfn >= 0) __free_page(cpu, pfn);
    }
  }
  parentPort.postMessage({ errs });
}).catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
`;

describe('page cache under real concurrency', () => {
  for (const locks of ['split', '2.4'] as const) {
    it(`two CPUs sharing buckets through different cache locks (${locks})`, async () => {
      const m = createMachine({ mem: '1M', cpus: 2, locks, maxFiles: 4, filePages: 64, debug: true });
      mem_init(m);
      const cpu = makeCpuBase(m, 0);
      const ino = inode_alloc(cpu, 64, 0);
      const root = new URL('../../', import.meta.url).href;
      const gate = new SharedArrayBuffer(4);
      const jobs = [
        { id: 0, mapping: mappingOfInode(ino), shift: 0 },
        { id: 1, mapping: SWAPPER_SPACE, shift: 8 },
      ].map(
        (j) =>
          new Promise<{ errs?: number; error?: string }>((resolve, reject) => {
            const wk = new Worker(WORKER_SRC(root), { eval: true, workerData: { sab: m.sab, iters: locks === 'split' ? 200000 : 50000, gate, ...j } });
            // a corrupted chain can loop forever: fail instead of hanging
            const timer = setTimeout(() => {
              void wk.terminate();
              resolve({ error: `cpu ${j.id}: no answer in 30 s (looping on a broken hash chain?)` });
            }, 30_000);
            wk.once('message', (r) => {
              clearTimeout(timer);
              void wk.terminate();
              resolve(r);
            });
            wk.once('error', (e) => {
              clearTimeout(timer);
              reject(e);
            });
          }),
      );
      const res = await Promise.all(jobs);
      for (const r of res) {
        expect(r.error).toBeUndefined();
        expect(r.errs).toBe(0);
      }
      const cached = cachedPages(m);
      expect(new Set(cached).size).toBe(cached.length);
      expect(inode_nrpages(cpu, ino)).toBe(cached.filter((p) => page_cache_mapping(cpu, p) !== SWAPPER_SPACE).length);
      drain_all_pages(makeCpuBase(m, 2));
      const map = new Uint8Array(m.layout.nrFrames);
      expect(check_free_lists(m, map)).toEqual([]);
      for (const p of cached) expect(map[p]).toBe(0);
      expect(nr_free_pages(m) + cached.length).toBe(m.layout.nrFrames - 1);
    });
  }
});
