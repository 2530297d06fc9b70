/*
 * Bad input: every case is one line on stderr ("smpvm: ..."), no stack
 * trace, exit code 2. A CPU that throws: one line naming the CPU and the
 * operation, exit 1. And the same through a real process (exit status).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli.js';
import { bufferIo } from '../../src/cli/io.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smpvm-err-'));
  writeFileSync(join(dir, 'bad.json'), '{ "cpus": 2, ');
  writeFileSync(join(dir, 'unknown-field.json'), JSON.stringify({ cpus: 2, bogus: 1 }));
  writeFileSync(join(dir, 'array.json'), '[1, 2]');
  writeFileSync(join(dir, 'locks.json'), JSON.stringify({ locks: 'rcu' }));
});

const f = (name: string) => join(dir, name);

const BAD: [string, () => string[], RegExp][] = [
  ['unknown workload', () => ['run', '--workload', 'page_fault9_processes'], /unknown workload 'page_fault9_processes'; known: page_fault1_processes/],
  ['a will-it-scale test without its variant', () => ['run', '--workload', 'page_fault1'], /did you mean page_fault1_processes or page_fault1_threads\?/],
  ['cpus 0', () => ['run', '--cpus', '0'], /config\.cpus: must be >= 1/],
  ['cpus not a number', () => ['run', '--cpus', 'two'], /--cpus: not an integer: "two"/],
  ['a CPU list for run', () => ['run', '--cpus', '1,2'], /--cpus: one CPU count expected/],
  ['scale cpus not increasing', () => ['scale', '--cpus', '2,1'], /--cpus: CPU counts must increase/],
  ['scale cpus 0', () => ['scale', '--cpus', '0,1'], /--cpus: CPU counts must be >= 1/],
  ['memory too small for the workload', () => ['run', '--workload', 'page_fault1_processes', '--cpus', '2', '--mem', '4M'], /memory too small for page_fault1_processes: it needs 3M per CPU × 2 CPU\(s\) = 6M, mem is 4M/],
  ['region too large for the memory', () => ['run', '--mem', '16M', '--region', '64M'], /memory too small for page_fault1_processes/],
  ['memory not a size', () => ['run', '--mem', 'lots'], /config\.mem: not a size: "lots"/],
  ['malformed config JSON', () => ['run', '--config', f('bad.json')], /--config .*bad\.json: not valid JSON/],
  ['config not an object', () => ['run', '--config', f('array.json')], /expected a JSON object/],
  ['config file missing', () => ['run', '--config', f('nope.json')], /--config .*nope\.json: cannot read \(ENOENT\)/],
  ['unknown config field', () => ['run', '--config', f('unknown-field.json')], /config\.\(root\): unknown field\(s\) bogus/],
  ['unknown lock scheme (flag)', () => ['run', '--locks', 'rcu'], /config\.locks: Invalid option: expected one of "bkl"\|"2\.4"\|"split"/],
  ['unknown lock scheme (file)', () => ['run', '--config', f('locks.json')], /config\.locks: Invalid option/],
  ['unknown rmap scheme', () => ['run', '--rmap', 'magic'], /config\.rmap: Invalid option/],
  ['unknown lock implementation', () => ['run', '--lock-impl', 'rcu'], /config\.lockImpl: Invalid option/],
  ['unknown replacement policy', () => ['run', '--policy', 'arc'], /config\.policy: Invalid option/],
  ['unknown pressure pattern', () => ['run', '--workload', 'pressure', '--pattern', 'zigzag'], /--pattern: unknown pattern 'zigzag' \(uniform, zipf, looping, sequential\)/],
  ['a pattern for a workload without one', () => ['run', '--pattern', 'zipf'], /--pattern: applies to the pressure workload only/],
  ['unknown stress scheme', () => ['stress', '--locks', 'split,rcu'], /config\.locks: Invalid option/],
  ['duration and ops together', () => ['run', '--duration', '1', '--ops', '5'], /--duration and --ops are exclusive/],
  ['negative duration', () => ['run', '--duration', '-1'], /--duration: seconds > 0 expected/],
  ['ops 0', () => ['run', '--ops', '0'], /--ops: must be >= 1/],
  ['bad seed', () => ['run', '--seed', 'x'], /--seed: not an integer/],
  ['unknown option', () => ['run', '--frobnicate'], /unknown option '--frobnicate'/],
  ['unknown command', () => ['explode'], /unknown command 'explode'/],
  ['missing option value', () => ['run', '--cpus'], /option '-c, --cpus <n>' argument missing/],
  ['trace ring not a number', () => ['profile', '--trace-ring', 'lots'], /--trace-ring: not an integer/],
];

describe('bad input: one line, exit 2', () => {
  it.each(BAD)('%s', async (_name, argv, msg) => {
    const io = bufferIo();
    const code = await main(argv(), io);
    const err = io.stderr();
    expect(code).toBe(2);
    expect(io.stdout()).toBe('');
    expect(err.endsWith('\n')).toBe(true);
    expect(err.trimEnd().split('\n')).toHaveLength(1);
    expect(err).toMatch(/^smpvm: /);
    expect(err).not.toMatch(/\n\s+at /);
    expect(err).toMatch(msg);
  });
});

describe('a CPU that throws', () => {
  it('ends the run with one line naming the CPU and the operation, exit 1', async () => {
    // reclaim makes any region that passes the memory check fit (page-cache copies
    // are dropped, anonymous ones swapped), so run the vm_node pool dry instead:
    // the fault path returns VM_FAULT_OOM and page_fault2 throws
    writeFileSync(join(dir, 'tiny-pool.json'), JSON.stringify({ rmap: 'vmnode', rmapPool: 64 }));
    const io = bufferIo();
    const code = await main(['run', '--workload', 'page_fault2_processes', '--cpus', '1', '--mem', '8M', '--swap', '0', '--region', '6M', '--duration', '5', '--config', join(dir, 'tiny-pool.json')], io);
    expect(code).toBe(1);
    expect(io.stderr().trimEnd().split('\n')).toHaveLength(1);
    expect(io.stderr()).toMatch(/^smpvm: cpu 0 failed in page_fault2_processes: /);
  });
});

describe('as a process', () => {
  const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
  const run = (...argv: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...argv], { encoding: 'utf8', timeout: 60_000 });

  it('exits 2 with one line on stderr for bad input', () => {
    const r = run('run', '--cpus', '0');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('smpvm: config.cpus: must be >= 1\n');
  });

  it('prints help listing every command, exit 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    for (const c of ['run', 'scale', 'profile', 'stress', 'start']) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
  });
});
