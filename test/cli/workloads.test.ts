/*
 * Issue 20's workloads at the command line: --help lists every one; bad
 * workload input (an unknown name, a parameter out of range, a malloc size
 * on the wrong side of the mmap threshold) is one line, exit 2; a run prints
 * the per-step latency and the rmap overhead lines, and the JSON carries
 * them.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { bufferIo } from '../../src/cli/io.js';

const NEW = [
  ...['brk1', 'brk2', 'malloc1', 'malloc2', 'mmap2', 'tlb_flush1', 'tlb_flush2', 'tlb_flush3'].flatMap((b) => [`${b}_processes`, `${b}_threads`]),
  'fork',
  'fork_big',
  'exec',
  'shared_file',
];

const BAD: [string, string[], RegExp][] = [
  ['unknown workload', ['run', '-w', 'vfork'], /unknown workload 'vfork'; known: .*fork_big, exec, shared_file/],
  ['a will-it-scale test without its variant', ['run', '-w', 'tlb_flush2'], /did you mean tlb_flush2_processes or tlb_flush2_threads\?/],
  ['a negative size', ['run', '-w', 'malloc2_processes', '-p', 'size=-5'], /^smpvm: workload\.size: must be at least 0 bytes \(got -5\)$/m],
  ['a negative resident size', ['run', '-w', 'fork_big', '-p', 'residentBytes=-1M'], /workload\.residentBytes: must be at least 0 bytes \(got -1048576\)/],
  ['malloc2 above the mmap threshold', ['run', '-w', 'malloc2_threads', '-p', 'size=256K'], /workload\.size: malloc2 allocates from the heap; 262144 bytes is at or above mmapThreshold 128 KiB/],
  ['malloc1 below the mmap threshold', ['run', '-w', 'malloc1_processes', '-p', 'size=1K'], /workload\.size: malloc1 allocates above the mmap threshold; 1024 bytes is below mmapThreshold 128 KiB/],
  ['an mmap threshold above the 32-bit maximum', ['run', '-w', 'malloc1_processes', '-p', 'mmapThreshold=1M'], /workload\.mmapThreshold: must be at most 524288 bytes/],
  ['shared_file with no processes', ['run', '-w', 'shared_file', '-p', 'processes=0'], /workload\.processes: must be >= 1 \(got 0\)/],
  ['a size that is not one', ['run', '-w', 'malloc2_processes', '-p', 'size=lots'], /workload\.size: not a size: "lots"/],
  ['a --param without =', ['run', '-w', 'fork', '-p', 'heapPages'], /--param: expected key=value, got "heapPages"/],
];

describe('issue 20 workloads at the command line', () => {
  it('--help of run lists every new workload', async () => {
    const io = bufferIo();
    await main(['run', '--help'], io);
    const help = io.stdout().replace(/\s+/g, ' ');
    for (const n of NEW) expect(help).toContain(n);
  });

  it.each(BAD)('bad input: %s → one line, exit 2', async (_n, argv, msg) => {
    const io = bufferIo();
    const code = await main(argv, io);
    expect(code).toBe(2);
    expect(io.stdout()).toBe('');
    expect(io.stderr().trimEnd().split('\n')).toHaveLength(1);
    expect(io.stderr()).toMatch(msg);
  });

  it('a fork run prints the step latency and the rmap overhead, and writes them to the JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smpvm-wl-'));
    const json = join(dir, 'r.json');
    const io = bufferIo();
    const code = await main(['run', '-w', 'fork_big', '-p', 'residentBytes=2M', '--cpus', '1', '--rmap', 'ptechain25', '--duration', '0.3', '--json', json], io);
    expect(code, io.stderr()).toBe(0);
    expect(io.stdout()).toMatch(/fork_big step latency \([\d,]+ steps, 3% buckets\): p50 [\d.]+ us, p90 [\d.]+ us, p99 [\d.]+ us/);
    expect(io.stdout()).toMatch(/rmap ptechain25: metadata peak [\d.]+ (KiB|MiB) \([\d.]+ bytes\/mapped pte, [\d,]+ ptes\), end/);
    const r = JSON.parse(readFileSync(json, 'utf8'));
    expect(r.opLatency.count).toBeGreaterThan(0);
    expect(r.rmap.scheme).toBe('ptechain25');
    expect(r.rmap.samples).toBeGreaterThan(0);
    expect(r.rmap.peakBytes).toBeGreaterThan(0);
    expect(r.rmap.peakMappedPtes).toBeGreaterThanOrEqual(512); // the 2 MiB parent
    expect(r.rmap.bytesPerPtePeak).toBeCloseTo(r.rmap.peakBytes / r.rmap.peakMappedPtes, 6);
  }, 60_000);
});
