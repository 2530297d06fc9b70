// Runs vitest with its JSON reporter and prints the closing line CI reads:
// "N passed, N failed". Exits non-zero when a test failed, a test file could
// not run, or no test ran at all.
//
// Issue 18: the stress tests draw one fresh seed per run (SMPVM_STRESS_SEED
// repeats it: test/stress-ops.ts) and record the random operations they ran
// in SMPVM_STRESS_OPS_FILE; the total is printed, and the whole suite (no
// file filter) must have run at least STRESS_OPS_MIN of them.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, existsSync } from 'node:fs';

const STRESS_OPS_MIN = 1_000_000;
const out = '.vitest-results.json';
const opsFile = '.stress-ops.tsv';
rmSync(out, { force: true });
rmSync(opsFile, { force: true });
const seed = process.env.SMPVM_STRESS_SEED ?? String(1 + Math.floor(Math.random() * 1e6));
console.log(`stress seed ${seed} (repeat with SMPVM_STRESS_SEED=${seed})`);
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)];
const r = spawnSync('npx', args, { stdio: 'inherit', env: { ...process.env, SMPVM_STRESS_SEED: seed, SMPVM_STRESS_OPS_FILE: opsFile } });
let passed = 0;
let failed = 0;
try {
  const j = JSON.parse(readFileSync(out, 'utf8'));
  passed = j.numPassedTests;
  failed = j.numFailedTests;
  // a test file that failed to load has no failed tests of its own: count it
  for (const f of j.testResults ?? []) if (f.status === 'failed' && (f.assertionResults ?? []).every((a) => a.status !== 'failed')) failed++;
} catch {
  failed = Math.max(failed, 1);
}
const lines = existsSync(opsFile) ? readFileSync(opsFile, 'utf8').split('\n').filter(Boolean) : [];
const stressOps = lines.reduce((a, l) => a + Number(l.split('\t')[0]), 0);
console.log(`random stress operations this run: ${stressOps.toLocaleString('en-US')} in ${lines.length} runs, stress seed ${seed}`);
if (process.argv.length <= 2 && stressOps < STRESS_OPS_MIN) {
  console.log(`stress: ${stressOps.toLocaleString('en-US')} random operations is below the ${STRESS_OPS_MIN.toLocaleString('en-US')} a CI run must execute`);
  failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 || r.status !== 0 ? 1 : 0);
