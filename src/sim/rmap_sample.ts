/*
 * rmap_sample.ts — what a run's reverse map costs in memory (issue 20 item
 * 4): the scheme's metadata bytes (RmapScheme.metadataBytes: pte_chain
 * blocks, vm_nodes, chain pages beside pte tables, anon_vmas — beyond the
 * struct page and vm_area_struct words) and the number of mapped ptes (the
 * sum of every live mm's rss), sampled by the orchestrator on the monitor
 * CPU while the workload runs.
 *
 * A sample is plain reads of counters the CPUs keep changing (the way
 * /proc/meminfo is read), so it can be off by the objects in flight; the
 * peak is the largest sample, so a peak shorter than the sampling period
 * can be missed. Samples count only while every CPU is still running (the
 * last one is the run's "end": after it the CPUs tear their workload down).
 * Of equal metadata samples (scan and hint keep none), the peak is the one
 * with the most mapped ptes.
 * Runs on the main thread; allocates one object per run.
 */
import { MM_WORDS, MM_PGD, MM_RSS, NIL } from '../machine/layout.js';
import type { Cpu } from '../vm/cpu.js';

export interface RmapOverhead {
  scheme: string;
  /** samples taken, and the period between them (ms) */
  samples: number;
  sampleMs: number;
  /** the largest metadata sample, and the mapped ptes at that sample */
  peakBytes: number | null;
  peakMappedPtes: number | null;
  /** the last sample before the CPUs stopped */
  endBytes: number | null;
  endMappedPtes: number | null;
  /** bytes per mapped pte at the peak sample and at the end (null: no pte mapped) */
  bytesPerPtePeak: number | null;
  bytesPerPteEnd: number | null;
}

/** Mapped ptes: the rss of every live mm. */
export function mappedPtes(cpu: Cpu): number {
  const w = cpu.w;
  const l = cpu.l;
  let n = 0;
  for (let mm = 0; mm < l.maxMm; mm++) if (w[l.mmTable + mm * MM_WORDS + MM_PGD] !== NIL) n += w[l.mmTable + mm * MM_WORDS + MM_RSS]!;
  return n;
}

export class RmapSampler {
  readonly r: RmapOverhead;
  constructor(
    private monitor: Cpu,
    sampleMs: number,
  ) {
    this.r = {
      scheme: monitor.rmap.name,
      samples: 0,
      sampleMs,
      peakBytes: null,
      peakMappedPtes: null,
      endBytes: null,
      endMappedPtes: null,
      bytesPerPtePeak: null,
      bytesPerPteEnd: null,
    };
  }

  sample(): void {
    const bytes = this.monitor.rmap.metadataBytes(this.monitor);
    const ptes = mappedPtes(this.monitor);
    const r = this.r;
    r.samples++;
    const perPte = ptes > 0 ? bytes / ptes : null;
    if (r.peakBytes === null || bytes > r.peakBytes || (bytes === r.peakBytes && ptes > r.peakMappedPtes!)) {
      r.peakBytes = bytes;
      r.peakMappedPtes = ptes;
      r.bytesPerPtePeak = perPte;
    }
    r.endBytes = bytes;
    r.endMappedPtes = ptes;
    r.bytesPerPteEnd = perPte;
  }
}
