/*
 * ptmalloc.ts — the user-space allocator a malloc test runs on: glibc's
 * ptmalloc2 as far as it decides which system calls happen (malloc/malloc.c
 * on i386: SIZE_SZ 4, 8-byte alignment, MINSIZE 16).
 *
 * Modelled:
 *   - request2size: a chunk is the request plus its 4-byte size word,
 *     rounded up to 8, at least 16 bytes; its header is written (a 16-byte
 *     content stamp at the chunk start: prev_size, size, then the first 8
 *     user bytes) and read back by free — the only memory these tests touch;
 *   - mmap threshold (M_MMAP_THRESHOLD, default 128 KiB): a chunk at least
 *     that large is mmap()ed on its own and munmap()ed by free; freeing one
 *     raises the threshold to its size (and the trim threshold to twice
 *     that) while the size is at most DEFAULT_MMAP_THRESHOLD_MAX (512 KiB on
 *     32-bit), glibc's dynamic threshold;
 *   - the top chunk: a heap chunk is carved from the bins first (first fit,
 *     split), else from top; when top is too small the main arena sbrk()s
 *     the shortfall plus M_TOP_PAD (128 KiB), page-rounded (falling back to
 *     mmap when brk fails);
 *   - free of a chunk below FASTBIN_CONSOLIDATION_THRESHOLD (64 KiB) puts
 *     it in a bin (tcache/fastbins: no coalescing, no trim); a larger one
 *     merges with top when it borders it, and then, if top reaches
 *     M_TRIM_THRESHOLD (128 KiB), systrim gives back all but M_TOP_PAD with
 *     a negative sbrk;
 *   - arenas: _processes use the main arena (brk heap); in _threads every
 *     worker thread gets an arena of its own (will-it-scale's threads are
 *     never the main thread), whose heap is one HEAP_MAX_SIZE (1 MiB on
 *     32-bit) mmap; trimming it is madvise(MADV_DONTNEED) of the tail
 *     (shrink_heap).
 * Not modelled: glibc reserves a non-main heap PROT_NONE and mprotect()s it
 * read/write as it grows (one mprotect per first growth past the high-water
 * mark, none in the steady state these tests measure); here the heap is
 * mapped read/write at once. A non-main heap never grows past its first
 * 1 MiB (a request that does not fit fails: mmapThreshold is at most 512
 * KiB, so a heap chunk always fits an empty heap). Bins are one first-fit
 * list, not glibc's size classes (the tests free what they allocate, one
 * chunk at a time, so the choice of bin does not change a system call).
 *
 * CPU-local: an allocator belongs to one simulated thread.
 */
import { PAGE_SIZE } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { sys_brk } from '../vm/brk.js';
import { sys_madvise, MADV_DONTNEED } from '../vm/madvise.js';
import { do_mmap, do_munmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../vm/mmap.js';
import { user_access, ACCESS_OK } from '../vm/access.js';
import { makeStamp, nextVersion, stampCheck, type Oracle } from './oracle.js';
import type { Cpu } from '../vm/cpu.js';

export const MINSIZE = 16;
export const FASTBIN_CONSOLIDATION_THRESHOLD = 64 * 1024;
export const DEFAULT_MMAP_THRESHOLD_MAX = 512 * 1024;
export const HEAP_MAX_SIZE = 2 * DEFAULT_MMAP_THRESHOLD_MAX;

export interface MallocParams {
  /** M_MMAP_THRESHOLD, bytes */
  mmapThreshold: number;
  /** M_TRIM_THRESHOLD, bytes */
  trimThreshold: number;
  /** M_TOP_PAD, bytes */
  topPad: number;
}

export const MALLOC_DEFAULTS: MallocParams = { mmapThreshold: 128 * 1024, trimThreshold: 128 * 1024, topPad: 128 * 1024 };

const PAGE_ALIGN = (n: number) => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
export const request2size = (n: number) => Math.max(MINSIZE, (n + 4 + 7) & ~7);

export interface Arena {
  cpu: Cpu;
  mm: number;
  main: boolean;
  /** top chunk [top, end); end = the break (main) or the heap's used end (non-main) */
  top: number;
  end: number;
  /** non-main: the heap mapping [heap, heap + HEAP_MAX_SIZE) */
  heap: number;
  /** free heap chunks: chunk address → size */
  bins: Map<number, number>;
  /** live chunks: user pointer → [chunk size, mmapped?, stamp version] */
  live: Map<number, [number, boolean, number]>;
  p: MallocParams;
  oracle: Oracle;
  buf: Int32Array;
  syscalls: number;
}

export function newArena(cpu: Cpu, mm: number, main: boolean, p: MallocParams, oracle: Oracle): Arena {
  const a: Arena = { cpu, mm, main, top: 0, end: 0, heap: 0, bins: new Map(), live: new Map(), p: { ...p }, oracle, buf: new Int32Array(4), syscalls: 0 };
  if (main) {
    a.top = a.end = sys_brk(cpu, mm, 0);
    a.syscalls++;
  } else {
    const h = do_mmap(cpu, mm, 0, HEAP_MAX_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    a.syscalls++;
    if (h < 0) throw new Error(`ptmalloc: cannot map a ${HEAP_MAX_SIZE >> 10} KiB arena heap (${h}) on cpu ${cpu.id}`);
    a.heap = a.top = a.end = h;
  }
  return a;
}

function writeHeader(a: Arena, chunk: number, size: number, mmapped: boolean): number {
  const v = nextVersion(a.oracle);
  makeStamp(a.oracle, a.buf, chunk >>> 12, v);
  const r = user_access(a.cpu, a.mm, chunk, true, a.buf, 4);
  if (r !== ACCESS_OK) throw new Error(`ptmalloc: header write at 0x${chunk.toString(16)} faulted (${r}) on cpu ${a.cpu.id}`);
  a.live.set(chunk + 8, [size, mmapped, v]);
  return chunk + 8;
}

/** malloc(n): the user pointer, or 0 when the system gives no memory. */
export function malloc(a: Arena, n: number): number {
  const nb = request2size(n);
  if (nb >= a.p.mmapThreshold) {
    const size = PAGE_ALIGN(nb + 4);
    const m = do_mmap(a.cpu, a.mm, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    a.syscalls++;
    return m < 0 ? 0 : writeHeader(a, m, size, true);
  }
  for (const [c, size] of a.bins) {
    if (size < nb) continue;
    a.bins.delete(c);
    if (size - nb >= MINSIZE) a.bins.set(c + nb, size - nb);
    return writeHeader(a, c, size - nb >= MINSIZE ? nb : size, false);
  }
  if (a.end - a.top < nb + MINSIZE) {
    const grow = PAGE_ALIGN(nb + MINSIZE - (a.end - a.top) + (a.main ? a.p.topPad : 0));
    if (a.main) {
      const want = a.end + grow;
      a.syscalls++;
      if (sys_brk(a.cpu, a.mm, want) !== want) return 0;
      a.end = want;
    } else {
      if (a.end + grow > a.heap + HEAP_MAX_SIZE) return 0;
      a.end += grow; // grow_heap: within the read/write heap mapping, no system call (see the header)
    }
  }
  const c = a.top;
  a.top += nb;
  return writeHeader(a, c, nb, false);
}

/** free(p) of a pointer malloc returned: checks the header it wrote, then returns the chunk. */
export function free(a: Arena, p: number): void {
  const e = a.live.get(p);
  if (!e) throw new Error(`ptmalloc: free(0x${p.toString(16)}) of a pointer not allocated`);
  a.live.delete(p);
  const [size, mmapped, v] = e;
  const chunk = p - 8;
  const r = user_access(a.cpu, a.mm, chunk, false, a.buf, 4);
  if (r !== ACCESS_OK) throw new Error(`ptmalloc: header read at 0x${chunk.toString(16)} faulted (${r}) on cpu ${a.cpu.id}`);
  a.oracle.checks++;
  const key = chunk >>> 12;
  if (a.buf[1] !== key || a.buf[2] !== v || a.buf[3] !== stampCheck(key, v)) {
    a.cpu.w[a.cpu.vm + VM.oracle_fail]!++;
    if (a.oracle.failures.length < 20) a.oracle.failures.push(`ptmalloc cpu ${a.cpu.id}: chunk header at 0x${chunk.toString(16)} reads [${Array.from(a.buf).join(',')}], wrote v${v}`);
  }
  if (mmapped) {
    do_munmap(a.cpu, a.mm, chunk, size);
    a.syscalls++;
    if (size > a.p.mmapThreshold && size <= DEFAULT_MMAP_THRESHOLD_MAX) {
      a.p.mmapThreshold = size;
      a.p.trimThreshold = 2 * size;
    }
    return;
  }
  if (size < FASTBIN_CONSOLIDATION_THRESHOLD || chunk + size !== a.top) {
    a.bins.set(chunk, size);
    return;
  }
  a.top = chunk;
  if (a.end - a.top < a.p.trimThreshold) return;
  // systrim / shrink_heap: keep top_pad (and a minimal top chunk), give back whole pages
  const extra = Math.floor((a.end - a.top - a.p.topPad - MINSIZE) / PAGE_SIZE) * PAGE_SIZE;
  if (extra <= 0) return;
  a.syscalls++;
  if (a.main) {
    if (sys_brk(a.cpu, a.mm, a.end - extra) === a.end - extra) a.end -= extra;
  } else if (sys_madvise(a.cpu, a.mm, a.end - extra, extra, MADV_DONTNEED) === 0) {
    a.end -= extra;
  }
}
