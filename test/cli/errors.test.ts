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
  writeFileSync(join(dir, 'wrong-type.json'), JSON.stringify({ lockdep: 'yes' }));
  writeFileSync(join(dir, 'cpus0.json'), JSON.stringify({ cpus: 0 }));
  writeFileSync(join(dir, 'spec-range.json'), JSON.stringify({ workload: { name: 'random', maxTasks: 0 } }));
  writeFileSync(join(dir, 'spec-unknown.json'), JSON.stringify({ workload: { name: 'random', colour: 'red' } }));
});

const f = (name: string) => join(dir, name);

const BAD: [string, () => string[], RegExp][] = [
  // issue 15's table: one line naming the field — the flag typed, or the config file's field
  ['cpus 0', () => ['run', '--cpus', '0'], /^smpvm: --cpus: must be >= 1$/],
  ['swap device latency 0 (issue 18)', () => ['run', '--writeout', 'async', '--swap-latency', '0'], /^smpvm: --swap-latency: must be > 0$/],
  ['swap device latency negative', () => ['run', '--swap-latency', '-5'], /^smpvm: --swap-latency: must be > 0$/],
  ['swap device bandwidth negative', () => ['run', '--swap-bandwidth', '-3'], /^smpvm: --swap-bandwidth: must be > 0$/],
  ['write-out mode unknown', () => ['run', '--writeout', 'later'], /^smpvm: --writeout: unknown value "later" \(sync, async\)$/],
  ['freeable without the clock policy', () => ['run', '--freeable', '--policy', '2q'], /^smpvm: --freeable: the freeable queue is part of the clock policy \(policy is 2q\)$/],
  ['mem 1K', () => ['run', '--mem', '1K'], /^smpvm: --mem: must be at least 1M$/],
  ['unknown workload', () => ['run', '--workload', 'nosuch'], /^smpvm: --workload: unknown workload 'nosuch'; known: page_fault1_processes, .*random, pressure, highorder$/],
  ['unknown config field', () => ['run', '--config', f('unknown-field.json')], /^smpvm: config: unknown field\(s\) bogus$/],
  ['a config field of the wrong type', () => ['run', '--config', f('wrong-type.json')], /^smpvm: config\.lockdep: Invalid input: expected boolean, received string$/],
  ['a config field out of range', () => ['run', '--config', f('cpus0.json')], /^smpvm: config\.cpus: must be >= 1$/],
  ['a workload spec field out of range (file)', () => ['run', '--config', f('spec-range.json')], /^smpvm: config\.workload\.maxTasks: must be >= 1$/],
  ['an unknown workload spec field (file)', () => ['run', '--config', f('spec-unknown.json')], /^smpvm: config\.workload: unknown field\(s\) colour for workload random$/],
  ['a will-it-scale test without its variant', () => ['run', '--workload', 'page_fault1'], /did you mean page_fault1_processes or page_fault1_threads\?/],
  ['trace is not a --workload', () => ['run', '--workload', 'trace'], /^smpvm: --workload: unknown workload 'trace'/],
  ['cpus not a number', () => ['run', '--cpus', 'two'], /^smpvm: --cpus: not an integer: "two"$/],
  ['a CPU list for run', () => ['run', '--cpus', '1,2'], /^smpvm: --cpus: not an integer: "1,2"$/],
  ['cpus above the maximum', () => ['run', '--cpus', '65'], /^smpvm: --cpus: must be <= 64 with clock host \(up to 256 with clock virtual\)$/],
  ['scale cpus not increasing', () => ['scale', '--cpus', '2,1'], /^smpvm: --cpus: CPU counts must increase/],
  ['scale cpus 0', () => ['scale', '--cpus', '0,1'], /^smpvm: --cpus: must be >= 1$/],
  ['memory too small for the workload', () => ['run', '--workload', 'page_fault1_processes', '--cpus', '2', '--mem', '4M'], /^smpvm: --mem: 4M is too small for page_fault1_processes: it needs 3M per CPU × 2 CPU\(s\) = 6M \(raise it\)$/],
  ['region too large for the memory', () => ['run', '--mem', '16M', '--region', '64M'], /^smpvm: --mem: 16M is too small .* \(raise it or lower --region\)$/],
  ['memory not a size', () => ['run', '--mem', 'lots'], /^smpvm: --mem: not a size: "lots" \(use e\.g\. 64M\)$/],
  ['swap negative', () => ['run', '--swap', '-1'], /^smpvm: --swap: not a size: "-1"/],
  ['swap with an unknown unit', () => ['run', '--swap', '5Q'], /^smpvm: --swap: not a size: "5Q"/],
  ['swap too large', () => ['run', '--swap', '5G'], /^smpvm: --swap: must be at most 4G$/],
  ['malformed config JSON', () => ['run', '--config', f('bad.json')], /--config .*bad\.json: not valid JSON/],
  ['config not an object', () => ['run', '--config', f('array.json')], /expected a JSON object/],
  ['config file missing', () => ['run', '--config', f('nope.json')], /--config .*nope\.json: cannot read \(ENOENT\)/],
  ['unknown lock scheme (flag)', () => ['run', '--locks', 'rcu'], /^smpvm: --locks: unknown value "rcu" \(bkl, 2\.4, split\)$/],
  ['unknown lock scheme (file)', () => ['run', '--config', f('locks.json')], /^smpvm: config\.locks: unknown value "rcu"/],
  ['unknown rmap scheme', () => ['run', '--rmap', 'magic'], /^smpvm: --rmap: unknown value "magic"/],
  ['a TLB of 0 entries', () => ['run', '--tlb-entries', '0'], /^smpvm: --tlb-entries: must be >= 1$/],
  ['a TLB size not a power of two', () => ['run', '--tlb-entries', '48'], /^smpvm: --tlb-entries: must be a power of two$/],
  ['an order above the allocator maximum', () => ['run', '--workload', 'highorder', '-p', 'orderMax=11'], /^smpvm: workload\.orderMax: must be <= 10 \(got 11\)$/],
  ['unknown migrate method', () => ['run', '--migrate-method', 'teleport'], /^smpvm: --migrate-method: unknown value "teleport" \(flip, swap\)$/],
  ['unknown lock implementation', () => ['run', '--lock-impl', 'rcu'], /^smpvm: --lock-impl: unknown value "rcu"/],
  ['unknown replacement policy', () => ['run', '--policy', 'arc'], /^smpvm: --policy: unknown value "arc"/],
  ['unknown pressure pattern', () => ['run', '--workload', 'pressure', '--pattern', 'zigzag'], /^smpvm: --pattern: unknown value "zigzag" \(uniform, zipf, looping, sequential\)$/],
  ['a pattern for a workload without one', () => ['run', '--pattern', 'zipf'], /^smpvm: --pattern: not a setting of workload page_fault1_processes$/],
  ['unknown stress scheme', () => ['stress', '--locks', 'split,rcu'], /^smpvm: --locks: unknown value "rcu"/],
  ['unknown planted bug', () => ['stress', '--inject', 'no_rcu'], /^smpvm: --inject: unknown value "no_rcu"/],
  ['negative checkpoints', () => ['stress', '--checkpoints', '-1'], /^smpvm: --checkpoints: must be >= 0$/],
  ['duration and ops together', () => ['run', '--duration', '1', '--ops', '5'], /--duration and --ops are exclusive/],
  ['negative duration', () => ['run', '--duration', '-1'], /^smpvm: --duration: not a number of seconds: "-1"$/],
  ['zero duration for start', () => ['start', '--duration', '0'], /^smpvm: --duration: must be > 0 seconds$/],
  ['ops 0', () => ['run', '--ops', '0'], /^smpvm: --ops: must be >= 1$/],
  ['swapoff past the run', () => ['run', '--duration', '2', '--swapoff-at', '5'], /^smpvm: --swapoff-at: 5 s is past the end of the run \(--duration 2 s\)$/],
  ['swapoff at the run\'s end', () => ['run', '--duration', '2', '--swapoff-at', '2'], /^smpvm: --swapoff-at: 2 s is past the end of the run/],
  ['swapoff past a virtual run', () => ['run', '--clock', 'virtual', '--duration', '0.01', '--swapoff-at', '1'], /^smpvm: --swapoff-at: 1 virtual s is past the end of the run \(--duration 0\.01 virtual s\)$/],
  ['negative swapoff time', () => ['run', '--swapoff-at', '-1'], /^smpvm: --swapoff-at: must be >= 0 seconds \(a time into the run\)$/],
  ['swapoff time not a number', () => ['run', '--swapoff-at', 'soon'], /^smpvm: --swapoff-at: not a number of seconds: "soon"$/],
  ['swapoff without swap', () => ['run', '--swap', '0', '--swapoff-at', '1'], /^smpvm: --swapoff-at: there is no swap area to switch off \(--swap 0\)$/],
  ['swapoff in an --ops run', () => ['run', '--ops', '5', '--swapoff-at', '1'], /^smpvm: --swapoff-at: needs a timed run \(--duration\); with --ops the run has no known end$/],
  ['bad seed', () => ['run', '--seed', 'x'], /^smpvm: --seed: not an integer: "x"$/],
  ['unknown option', () => ['run', '--frobnicate'], /unknown option '--frobnicate'/],
  ['unknown command', () => ['explode'], /unknown command 'explode'/],
  ['missing option value', () => ['run', '--cpus'], /option '-c, --cpus <n>' argument missing/],
  ['trace ring not a number', () => ['profile', '--trace-ring', 'lots'], /^smpvm: --trace-ring: not an integer: "lots"$/],
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
    expect(err.trimEnd()).toMatch(msg);
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
    expect(r.stderr).toBe('smpvm: --cpus: must be >= 1\n');
  });

  it('prints help listing every command, exit 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    for (const c of ['run', 'scale', 'profile', 'stress', 'start']) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
  });
});
