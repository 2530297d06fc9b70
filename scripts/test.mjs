// Runs vitest with its JSON reporter and prints the closing line CI reads:
// "N passed, N failed". Exits non-zero when a test failed, a test file could
// not run, or no test ran at all.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const out = '.vitest-results.json';
rmSync(out, { force: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)];
const r = spawnSync('npx', args, { stdio: 'inherit' });
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
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 || r.status !== 0 ? 1 : 0);
