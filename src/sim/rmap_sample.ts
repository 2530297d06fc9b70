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
 *
 * Under the virtual clock the host-time moments would make the results
 * depend on the host, so the CPUs sample instead: at an op boundary, the
 * CPU holding the turn whose clock has reached the next multiple of
 * RMAP_SAMPLE_VT_NS takes the sample (rmap_vt_sample) into the conductor's
 * header (timing/conductor.ts vt_sample_record), while every CPU is still
 * in its op loop; the orchestrator reads them after the run
 * (rmap_vt_overhead). Same plain reads, at deterministic virtual times.
 */
import { MM_WORDS, MM_PGD, MM_RSS, NIL } from '../machine/layout.js';
import type { Machine } from '../machine/machine.js';
import type { Cpu } from '../vm/cpu.js';
import { vt_sample_record, vt_samples } from '../timing/conductor.js';

/** The virtual-clock sample period, virtual ns. */
export const RMAP_SAMPLE_VT_NS = 20_000;

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

/** A sample under the virtual clock, taken by the turn holder `cpu` between its operations. */
export function rmap_vt_sample(cpu: Cpu): void {
  vt_sample_record(cpu.rmap.metadataBytes(cpu), mappedPtes(cpu), RMAP_SAMPLE_VT_NS);
}

/** A virtual-clock run's samples (rmap_vt_sample) as the run's RmapOverhead. */
export function rmap_vt_overhead(m: Machine, scheme: string): RmapOverhead {
  const s = vt_samples(m.w, m.layout);
  const none = s.samples === 0;
  const per = (b: number, p: number) => (none || p === 0 ? null : b / p);
  return {
    scheme,
    samples: s.samples,
    sampleMs: RMAP_SAMPLE_VT_NS / 1e6,
    peakBytes: none ? null : s.peakBytes,
    peakMappedPtes: none ? null : s.peakPtes,
    endBytes: none ? null : s.endBytes,
    endMappedPtes: none ? null : s.endPtes,
    bytesPerPtePeak: per(s.peakBytes, s.peakPtes),
    bytesPerPteEnd: per(s.endBytes, s.endPtes),
  };
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
