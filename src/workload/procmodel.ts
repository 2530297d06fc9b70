/*
 * procmodel.ts — what a simulated process believes about its own memory.
 *
 * Each task keeps the regions it mapped (its own model of the VMA list, kept
 * without looking at the kernel) and the content oracle's expectation for
 * every page it has written (DESIGN.md §5): the version stamp it last wrote,
 * or nothing (zero-fill / file contents). fork copies the model, as the
 * kernel copies the address space; munmap and mremap edit it the way the
 * kernel should edit the VMAs. A disagreement between the model and the
 * kernel (a SIGSEGV inside a mapped region, a stale stamp) is a failure.
 *
 * CPU-local: a model is only touched by the CPU that runs its task.
 */
export const R_ANON = 0;
export const R_FILE_PRIVATE = 1;
export const R_FILE_SHARED = 2;
export const R_ANON_SHARED = 3;

export interface Region {
  start: number;
  end: number;
  kind: number;
  writable: boolean;
  /** inode for file regions and shared anon (the shmem inode, learned after mmap) */
  file: number;
  /** file page index of `start` */
  pgoff: number;
  /** shared content key space: for R_ANON_SHARED a per-mapping id (fork shares it) */
  shareId: number;
}

export interface ProcModel {
  regions: Region[];
  /** private pages written by this process: vpage → version */
  priv: Map<number, number>;
}

export function newModel(): ProcModel {
  return { regions: [], priv: new Map() };
}

export function forkModel(p: ProcModel): ProcModel {
  return { regions: p.regions.map((r) => ({ ...r })), priv: new Map(p.priv) };
}

export function findRegion(p: ProcModel, addr: number): Region | undefined {
  for (const r of p.regions) if (r.start <= addr && addr < r.end) return r;
  return undefined;
}

/** Remove [start, end) from the model, splitting regions; forget private stamps there. */
export function unmapModel(p: ProcModel, start: number, end: number): void {
  const out: Region[] = [];
  for (const r of p.regions) {
    if (r.end <= start || r.start >= end) {
      out.push(r);
      continue;
    }
    if (r.start < start) out.push({ ...r, end: start });
    if (r.end > end) out.push({ ...r, start: end, pgoff: r.pgoff + ((end - r.start) >>> 12) });
  }
  p.regions = out.sort((a, b) => a.start - b.start);
  for (let a = start; a < end; a += 4096) p.priv.delete(a >>> 12);
}

/** Move the pages of [old, old+len) to neu (mremap moved them). */
export function moveModel(p: ProcModel, old: number, len: number, neu: number): void {
  const moved = new Map<number, number>();
  for (let a = 0; a < len; a += 4096) {
    const v = p.priv.get((old + a) >>> 12);
    if (v !== undefined) moved.set((neu + a) >>> 12, v);
    p.priv.delete((old + a) >>> 12);
  }
  for (const [k, v] of moved) p.priv.set(k, v);
}
