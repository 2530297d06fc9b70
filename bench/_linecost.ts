import { runMachine, createRunPool } from '../src/sim/run.js';
import { buildResults } from '../src/sim/results.js';
import { calibrate } from '../src/sim/calibrate.js';
import { checkCostTable } from '../src/timing/cost.js';
const MiB = 1 << 20;
const pool = createRunPool(3);
const cal = await calibrate((s) => console.log(`calibrate: ${s}`));
const base = JSON.parse(JSON.stringify(cal.table));
const Ls = (process.argv[2] ?? '0,25,50,100').split(',').map(Number);
console.log('locks mode host ' + Ls.map((L) => `L=${L}`).join(' '));
for (const locks of ['bkl', '2.4', 'split']) for (const mode of ['processes', 'threads']) {
  const spec = { name: `page_fault1_${mode}`, regionBytes: MiB };
  const config = { cpus: 2, locks, mem: 64 * MiB, swap: 0, populate: true };
  const h = await runMachine({ config, spec, durationMs: 1000, pool });
  const hostRate = (h.perCpu.reduce((a, c) => a + c.units, 0) / h.durationMs) * 1000;
  const cols: string[] = [];
  for (const L of Ls) {
    const t = JSON.parse(JSON.stringify(base));
    for (const n of ['line_same_core', 'line_same_socket', 'line_cross_socket']) t.costs[n].value = L;
    const table = checkCostTable(t, 'host');
    const o = await runMachine({ config: { ...config, clock: 'virtual', cost: table }, spec, opsPerCpu: 16, pool });
    const r = buildResults(o, { spec, opsPerCpu: 16 });
    cols.push(`${(r.opsPerSec / 1e3).toFixed(0)}k(${(r.opsPerSec / hostRate).toFixed(2)}) xfer/op ${((r.virtual?.lineTransfers ?? 0) / r.ops).toFixed(2)}`);
  }
  console.log(`${locks} ${mode} ${(hostRate / 1e3).toFixed(0)}k ${cols.join('  ')}`);
}
await pool.destroy();
