/*
 * boot.ts — build a machine ready to run: the buffer (machine/), the buddy
 * allocator's free lists (mem_init). start_kernel's role, on the main thread, before any CPU runs.
 */
import { createMachine, type Machine } from '../machine/machine.js';
import { mem_init } from '../mm/page_alloc.js';

export function bootMachine(cfg: unknown): Machine {
  const m = createMachine(cfg);
  mem_init(m);
  return m;
}
