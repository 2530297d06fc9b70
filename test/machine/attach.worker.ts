// A worker that attaches to a machine buffer as a CPU worker does, counting
// every zod parse of a config made meanwhile (attach.test.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigSchema } from '../../src/config.js';
import { attachMachine } from '../../src/machine/machine.js';

let parses = 0;
for (const k of ['parse', 'safeParse', 'parseAsync', 'safeParseAsync'] as const) {
  const orig = ConfigSchema[k].bind(ConfigSchema) as (...a: unknown[]) => unknown;
  (ConfigSchema as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => {
    parses++;
    return orig(...a);
  };
}
const m = attachMachine(workerData.sab as SharedArrayBuffer);
parentPort!.postMessage({ parses, cfg: m.cfg, nrFrames: m.layout.nrFrames });
