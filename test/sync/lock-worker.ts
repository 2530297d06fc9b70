/*
 * lock-worker.ts — a simulated CPU for the sync tests: a worker thread that
 * attaches to the machine buffer it is sent and runs one scenario at a time
 * (scenarios.ts) as the CPU it is told, posting back the result or the error.
 * A scenario gets the CPU, its arguments and the attached machine.
 * Loaded through tsx (execArgv ['--import', 'tsx']), see harness.ts.
 */
import { parentPort } from 'node:worker_threads';
import { attachMachine } from '../../src/machine/machine.js';
import { makeCpuBase } from '../../src/machine/cpu.js';
import { SCENARIOS, type ScenarioName } from './scenarios.js';

interface Request {
  id: number;
  sab: SharedArrayBuffer;
  cpu: number;
  scenario: ScenarioName;
  args: unknown;
}

parentPort!.on('message', (req: Request) => {
  try {
    const attached = attachMachine(req.sab);
    const cpu = makeCpuBase(attached, req.cpu);
    const fn = SCENARIOS[req.scenario] as (c: typeof cpu, a: unknown, m: typeof attached) => unknown;
    const result = fn(cpu, req.args, attached);
    parentPort!.postMessage({ id: req.id, ok: true, result });
  } catch (e) {
    const err = e as Error;
    parentPort!.postMessage({ id: req.id, ok: false, error: `cpu ${req.cpu} ${req.scenario}: ${err.stack ?? err}` });
  }
});
