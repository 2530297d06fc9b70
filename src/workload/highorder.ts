/*
 * highorder.ts — the fragmentation workload (seed 004, the 1998 thread on
 * 2.1.76's "memory fragmentation": kernel stacks, network buffers and
 * huge-page-like blocks need physically contiguous free areas, which
 * order-0 user pages with mixed lifetimes break up).
 *
 * Each CPU runs one process with an anonymous region of `pages` pages,
 * all faulted in at the start (what is left free is then wherever the
 * region's frames are not). A step faults in (writes a stamp to) `touches` random pages of it, each
 * given a lifetime — short (`shortLife` steps) or, `longPercent` of the
 * time, long (`longLife` steps) — and looks at `frees` random pages, freeing
 * with madvise(DONTNEED) those whose lifetime is over (fewer looks than
 * touches keep most of the region mapped, the free frames scattered); a page still alive must read back
 * its stamp (the check a move through flip or the swap cache must pass).
 * With probability `requestPercent`/100 the step also asks for a block of
 * order uniform in [orderMin, orderMax] and holds it `blockLife` steps.
 * The request goes, in order, to:
 *   1. the free lists (__alloc_pages, above the min watermark);
 *   2. unless compact=0, building a block from a chosen range by moving its
 *      pages (compact_pages: steal_specific_page for its free frames,
 *      migrate_page — flip or swap, config.migrateMethod — for its used
 *      ones): the specific-page move seed 004 wants the reverse map for;
 *   3. reclaim: one round of try_to_free_pages, then the free lists again;
 * or fails. Results (extra): requests, where each was served (compaction's
 * blocks split into builtByMoving, pages moved out of it, and
 * compactedFree, a block found whole and free that the free lists' per-order
 * watermark check had refused), failures,
 * pages moved and bytes copied (pgmigrate_success on this CPU during
 * compaction, × 4 KiB), blocks built by moving, what the reverse-map walks
 * of compaction visited (rmap_walk_visit: chain entries, VMAs, or every pte
 * of every mm for `scan`) and the time compaction took (compactNs, built or
 * not); the request latency (every step of the three) is the run's
 * opLatency histogram. Times are clock_ms's: host time, or virtual time
 * under the virtual clock (deterministic for a seed).
 *
 * CPU-local state; bookkeeping allocated at create(); the request path is
 * the allocator's own.
 */
import { NIL, PAGE_SIZE, G_ZONE, Z_MIN, globalLine, MAX_ORDER } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { SITE } from '../sync/classes.js';
import { mm_alloc } from '../mm/mm_struct.js';
import { __alloc_pages, zone_watermark_ok } from '../mm/page_alloc.js';
import { __free_pages } from '../mm/page_ref.js';
import { do_mmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../vm/mmap.js';
import { sys_madvise, MADV_DONTNEED } from '../vm/madvise.js';
import { mmput } from '../vm/fork.js';
import { user_access, ACCESS_OK } from '../vm/access.js';
import { compact_pages } from '../reclaim/compact.js';
import { try_to_free_pages } from '../reclaim/index.js';
import { cpuRandom } from '../machine/cpu.js';
import { clock_ms } from '../timing/index.js';
import { newLatency, record } from './latency.js';
import { paramInt, paramFields } from './params.js';
import type { Cpu } from '../vm/cpu.js';
import type { Workload, WorkloadSpec, WorkloadSetup, WorkloadInstance } from './types.js';

export interface HighorderParams {
  pages: number;
  touches: number;
  frees: number;
  shortLife: number;
  longLife: number;
  longPercent: number;
  requestPercent: number;
  orderMin: number;
  orderMax: number;
  blockLife: number;
  compact: number;
}

export const HIGHORDER_DEFAULTS: HighorderParams = {
  pages: 512,
  touches: 16,
  frees: 4,
  shortLife: 8,
  longLife: 400,
  longPercent: 25,
  requestPercent: 25,
  orderMin: 2,
  orderMax: 5,
  blockLife: 4,
  compact: 1,
};

const FIELDS = Object.keys(HIGHORDER_DEFAULTS) as (keyof HighorderParams)[];

function params(spec: WorkloadSpec): HighorderParams {
  const d = HIGHORDER_DEFAULTS;
  const p: HighorderParams = {
    pages: paramInt(spec, 'pages', d.pages, 1, 1 << 20),
    touches: paramInt(spec, 'touches', d.touches, 1, 4096),
    frees: paramInt(spec, 'frees', d.frees, 1, 4096),
    shortLife: paramInt(spec, 'shortLife', d.shortLife, 1, 1 << 20),
    longLife: paramInt(spec, 'longLife', d.longLife, 1, 1 << 20),
    longPercent: paramInt(spec, 'longPercent', d.longPercent, 0, 100),
    requestPercent: paramInt(spec, 'requestPercent', d.requestPercent, 0, 100),
    orderMin: paramInt(spec, 'orderMin', d.orderMin, 1, MAX_ORDER - 1),
    // "an order above the allocator's maximum" is this bound's error
    orderMax: paramInt(spec, 'orderMax', d.orderMax, 1, MAX_ORDER - 1),
    blockLife: paramInt(spec, 'blockLife', d.blockLife, 1, 1 << 20),
    compact: paramInt(spec, 'compact', d.compact, 0, 1),
  };
  if (p.orderMax < p.orderMin) paramInt(spec, 'orderMax', d.orderMax, p.orderMin, MAX_ORDER - 1);
  return p;
}

/** Blocks a CPU holds at once. */
const HELD = 64;

export const HIGHORDER: Workload = {
  name: 'highorder',
  description:
    'fragmentation: order-0 faults and frees with mixed lifetimes while requests ask for order-2..5 blocks (free lists, then a block built by moving pages, then reclaim)',
  spec: paramFields(FIELDS),
  validate: (spec) => void params(spec),
  // without swap the region must fit with room to spare; with swap it may be larger than RAM (bench/highorder.ts)
  minMemPerCpu: (spec, cfg) => (cfg.swap > 0 ? (params(spec).pages * PAGE_SIZE) / 2 : params(spec).pages * PAGE_SIZE + (1 << 20)),
  setup(): WorkloadSetup {
    return { files: [], sharedMm: -1, sharedFiles: [] };
  },
  create(cpu: Cpu, spec: WorkloadSpec): WorkloadInstance {
    const p = params(spec);
    const w = cpu.w;
    const mm = mm_alloc(cpu, cpu.mmCache);
    if (mm === NIL) throw new Error(`highorder: cannot allocate an mm on cpu ${cpu.id}`);
    const base = do_mmap(cpu, mm, 0, p.pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base < 0) throw new Error(`highorder: mmap failed (${base}) on cpu ${cpu.id}`);
    const expires = new Float64Array(p.pages); // step at which the page is freed; 0 = not mapped
    const stamp = new Int32Array(p.pages);
    const heldPfn = new Int32Array(HELD);
    const heldOrder = new Int32Array(HELD);
    const heldUntil = new Float64Array(HELD);
    let nheld = 0;
    const buf = new Int32Array(2);
    const lat = newLatency();
    const failures: string[] = [];
    const n = { requests: 0, freeList: 0, built: 0, compactedFree: 0, reclaimed: 0, failed: 0, moved: 0, visits: 0, compactNs: 0, pageFaults: 0, frees: 0 };
    let steps = 0;
    const rand = (k: number) => cpuRandom(cpu) % k;
    const zmin = globalLine(cpu.l, G_ZONE) + Z_MIN;

    function touch(i: number): void {
      const addr = base + i * PAGE_SIZE;
      if (expires[i] !== 0) {
        const r = user_access(cpu, mm, addr, false, buf, 2);
        if (r !== ACCESS_OK || buf[0] !== stamp[i] || buf[1] !== ~stamp[i]!) {
          w[cpu.vm + VM.oracle_fail]!++;
          if (failures.length < 20) failures.push(`highorder cpu ${cpu.id} page ${i}: expected stamp ${stamp[i]}, read [${buf[0]},${buf[1]}] (access ${r})`);
        }
        return;
      }
      const v = ((steps << 8) | (i & 0xff) | 1) & 0x7fffffff;
      buf[0] = v;
      buf[1] = ~v;
      const r = user_access(cpu, mm, addr, true, buf, 2);
      if (r !== ACCESS_OK) throw new Error(`highorder: write at 0x${addr.toString(16)} failed (${r}) on cpu ${cpu.id}`);
      stamp[i] = v;
      expires[i] = steps + (rand(100) < p.longPercent ? p.longLife : p.shortLife);
      n.pageFaults++;
    }

    function release(k: number): void {
      __free_pages(cpu, heldPfn[k]!, heldOrder[k]!);
      nheld--;
      heldPfn[k] = heldPfn[nheld]!;
      heldOrder[k] = heldOrder[nheld]!;
      heldUntil[k] = heldUntil[nheld]!;
    }

    /** One high-order request: free lists, then a block built by moving pages, then reclaim. */
    function request(order: number): void {
      n.requests++;
      const t0 = clock_ms();
      let pfn = zone_watermark_ok(cpu, order, w[zmin]!) ? __alloc_pages(cpu, order, SITE.__alloc_pages) : -1;
      if (pfn >= 0) n.freeList++;
      if (pfn < 0 && p.compact === 1) {
        const before = w[cpu.vm + VM.pgmigrate_success]!;
        const visits = w[cpu.vm + VM.rmap_walk_visit]!;
        const c0 = clock_ms();
        pfn = compact_pages(cpu, order);
        n.compactNs += (clock_ms() - c0) * 1e6;
        const moved = w[cpu.vm + VM.pgmigrate_success]! - before;
        n.moved += moved;
        n.visits += w[cpu.vm + VM.rmap_walk_visit]! - visits;
        // a block whose pages were moved out, or one compaction found whole and free (taken
        // with steal_specific_page where the free lists' per-order watermark check refused)
        if (pfn >= 0 && moved > 0) n.built++;
        else if (pfn >= 0) n.compactedFree++;
      }
      if (pfn < 0) {
        try_to_free_pages(cpu);
        pfn = __alloc_pages(cpu, order, SITE.__alloc_pages);
        if (pfn >= 0) n.reclaimed++;
      }
      record(lat, clock_ms() - t0);
      if (pfn < 0) {
        n.failed++;
        return;
      }
      if (nheld === HELD) release(0);
      heldPfn[nheld] = pfn;
      heldOrder[nheld] = order;
      heldUntil[nheld] = steps + p.blockLife;
      nheld++;
    }

    // fill the region first: its pages take every frame they can, later frees leave scattered holes
    for (let i = 0; i < p.pages; i++) touch(i);
    return {
      step() {
        steps++;
        for (let k = nheld - 1; k >= 0; k--) if (heldUntil[k]! <= steps) release(k);
        for (let t = 0; t < p.touches; t++) touch(rand(p.pages));
        for (let t = 0; t < p.frees; t++) {
          const i = rand(p.pages);
          if (expires[i] !== 0 && expires[i]! <= steps) {
            if (sys_madvise(cpu, mm, base + i * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED) !== 0) throw new Error(`highorder: madvise failed on cpu ${cpu.id}`);
            expires[i] = 0;
            n.frees++;
          }
        }
        if (rand(100) < p.requestPercent) request(p.orderMin + rand(p.orderMax - p.orderMin + 1));
        return 1;
      },
      end() {
        while (nheld > 0) release(nheld - 1);
        mmput(cpu, mm);
      },
      result() {
        return {
          units: steps,
          failures,
          extra: {
            requests: n.requests,
            fromFreeLists: n.freeList,
            builtByMoving: n.built,
            compactedFree: n.compactedFree,
            fromReclaim: n.reclaimed,
            failed: n.failed,
            pagesMoved: n.moved,
            bytesCopied: n.moved * PAGE_SIZE,
            rmapWalkVisits: n.visits,
            compactNs: Math.round(n.compactNs),
            pageFaults: n.pageFaults,
            pageFrees: n.frees,
          },
          latency: lat,
          latencyOf: 'high-order request',
        };
      },
    };
  },
  teardown() {},
};
