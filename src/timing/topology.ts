/*
 * topology.ts — where each simulated CPU sits (`--topology SOCKETSxCORES`)
 * and what a cache-line transfer between two of them costs.
 *
 * CPU numbering follows Linux on Intel servers: CPUs 0 .. S*C-1 are the first
 * hardware thread of each core, socket by socket (socket = cpu / C); CPUs
 * S*C .. 2*S*C-1 are their SMT siblings in the same order, and so on. So
 * `2x28` with 112 CPUs is Aaron Lu's 2-socket Skylake-SP with HT (56 CPUs per
 * socket). Slots beyond the workload CPUs (kswapd, the monitor) are placed by
 * the same rule.
 *
 * line_ns(a, b): 0 for the same CPU, then same core (SMT siblings share L1/L2),
 * same socket, cross socket, from the cost table (cost.ts C_LINE_*). A
 * directory/snoop distinction beyond that is not modelled.
 *
 * Per-thread tables, filled once by setTopology; no shared memory.
 */
import { COST, C_LINE_CORE, C_LINE_SOCKET, C_LINE_CROSS } from './cost.js';

export interface Topology {
  sockets: number;
  coresPerSocket: number;
}

/** Parse "2x28"; null if malformed. */
export function parseTopology(s: string): Topology | null {
  const m = /^([1-9]\d*)x([1-9]\d*)$/.exec(s);
  if (!m) return null;
  return { sockets: Number(m[1]), coresPerSocket: Number(m[2]) };
}

let coreOf = new Int32Array(0);
let socketOf = new Int32Array(0);

/** Place `slots` CPU slots on topology `t`. */
export function setTopology(t: Topology, slots: number): void {
  coreOf = new Int32Array(slots);
  socketOf = new Int32Array(slots);
  const cores = t.sockets * t.coresPerSocket;
  for (let c = 0; c < slots; c++) {
    coreOf[c] = c % cores;
    socketOf[c] = ((c % cores) / t.coresPerSocket) | 0;
  }
}

/** Virtual ns for a line last written by CPU `from` to reach CPU `to`. */
export function line_ns(from: number, to: number): number {
  if (from === to || from < 0) return 0;
  if (coreOf[from] === coreOf[to]) return COST[C_LINE_CORE]!;
  return socketOf[from] === socketOf[to] ? COST[C_LINE_SOCKET]! : COST[C_LINE_CROSS]!;
}
