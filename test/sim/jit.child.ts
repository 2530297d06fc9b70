/*
 * jit.child.ts — run by test/sim/jit.test.ts in a child `node --trace-opt
 * --trace-deopt` (V8's traces go to its stdout): three virtual-clock runs of
 * page_fault1 on one pool, a marker line before each, so the test can count
 * what V8 compiled and threw away in each run. argv[2] = 'untracked' runs
 * with sim/jit.ts's flag (as every pool does), 'tracked' without it (what
 * the test shows would happen otherwise).
 */
import { runMachine, createRunPool } from '../../src/sim/run.js';
import { setFlagsFromString } from 'node:v8';

const pool = createRunPool(2);
if (process.argv[2] === 'tracked') setFlagsFromString('--track-field-types');
for (let run = 0; run < 3; run++) {
  console.log(`=== run ${run}`);
  const r = await runMachine({
    config: { clock: 'virtual', mem: '32M', swap: 0, cpus: 1, seed: 7 },
    spec: { name: 'page_fault1_processes', regionBytes: 1 << 20 },
    opsPerCpu: 12,
    pool,
  });
  if (r.error || !r.checker.ok) throw new Error(`run ${run}: ${r.error?.message ?? r.checker.violations[0]}`);
}
console.log('=== end');
await pool.destroy();
