/*
 * src/timing — the virtual clock (issue 17, DESIGN.md §6): the conductor
 * (conductor.ts: which CPU runs, parking, hand-over; vt_region.ts: its
 * shared words and the orchestrator's side), the cost table (cost.ts), the
 * topology (topology.ts) and who holds which line (coherence.ts). A layer
 * between machine/ and sync/: it imports only machine/ (and config types);
 * the lock library, the places where work is done (charge) and the run
 * orchestrator call it.
 *
 * vt_begin is what a CPU worker calls to join a virtual-clock run.
 *
 * Locking: the cost table and topology are per-thread copies, written once
 * by vt_begin before the CPU runs; the conductor's shared state follows the
 * protocol in conductor.ts (only the turn holder writes it).
 */
import type { Machine } from '../machine/machine.js';
import { set_trace_clock } from '../machine/trace.js';
import { installCosts, CostError } from './cost.js';
import { parseTopology, setTopology } from './topology.js';
import { vt_attach, clock_ms, type VtTuning } from './conductor.js';
import { coherence_attach, coherence_detach } from './coherence.js';

/** Join machine `m`'s virtual-clock run as CPU slot `slot` (returns at its first turn). */
export function vt_begin(m: Machine, slot: number, tuning: VtTuning = {}): void {
  const cfg = m.cfg;
  const cost = cfg.cost;
  if (cost === undefined || typeof cost === 'string') throw new CostError('config.cost: the cost table was not resolved before boot');
  installCosts(cost);
  const topo = parseTopology(cfg.topology ?? cost.topology);
  if (!topo) throw new CostError(`config.topology: expected SOCKETSxCORES, got ${cfg.topology ?? cost.topology}`);
  setTopology(topo, m.layout.nrCpuSlots);
  set_trace_clock(clock_ms);
  coherence_attach(m.w, m.layout, slot);
  vt_attach(m.w, m.layout, slot, cfg.quantum, tuning);
}

/** Leave it (host-clock stamps again for a pooled worker's next run). */
export function vt_end(): void {
  coherence_detach();
  set_trace_clock(() => performance.now());
}

export * from './conductor.js';
export * from './cost.js';
export * from './topology.js';
export * from './coherence.js';
