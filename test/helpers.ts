// Test helpers: boot a small machine and a CPU context on the main thread.
import { bootMachine } from '../src/sim/boot.js';
import { makeCpu, type Cpu } from '../src/vm/cpu.js';
import type { Machine } from '../src/machine/machine.js';

export function boot(cfg: Record<string, unknown> = {}): { m: Machine; cpu: Cpu } {
  const m = bootMachine({ mem: '8M', swap: 0, cpus: 1, lockdep: true, debug: true, ...cfg });
  return { m, cpu: makeCpu(m, 0) };
}
