/*
 * Bad input for the virtual clock's flags (issue 17): one line on stderr
 * naming the flag or field, exit 2 — before any worker starts.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { bufferIo } from '../../src/cli/io.js';

let dir: string;
const f = (name: string) => join(dir, name);
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smpvm-vclock-'));
  writeFileSync(f('malformed.json'), '{ "name": "x", ');
  const good = JSON.parse(readFileSync(new URL('../../src/timing/presets/amd-48.json', import.meta.url), 'utf8'));
  delete good.costs.clear_page;
  writeFileSync(f('missing.json'), JSON.stringify(good));
});

const BAD: [string, () => string[], RegExp][] = [
  ['--cpus 0', () => ['run', '--clock', 'virtual', '--cpus', '0'], /^smpvm: --cpus: must be >= 1$/],
  ['--cpus 100000', () => ['run', '--clock', 'virtual', '--cpus', '100000'], /^smpvm: --cpus: must be <= 256$/],
  ['--cpus 65 on the host clock', () => ['run', '--cpus', '65'], /^smpvm: --cpus: must be <= 64 with clock host \(up to 256 with clock virtual\)$/],
  ['--topology 3x', () => ['run', '--clock', 'virtual', '--topology', '3x'], /^smpvm: --topology: expected SOCKETSxCORES, e\.g\. 2x28$/],
  ['--quantum -1', () => ['run', '--clock', 'virtual', '--quantum', '-1'], /^smpvm: --quantum: must be >= 0$/],
  ['--clock sundial', () => ['run', '--clock', 'sundial'], /^smpvm: --clock: unknown value "sundial" \(host, virtual\)$/],
  ['--quantum without the virtual clock', () => ['run', '--quantum', '10'], /^smpvm: --quantum: applies to the virtual clock only/],
  ['a malformed cost file', () => ['run', '--clock', 'virtual', '--cost', f('malformed.json')], /^smpvm: --cost .*malformed\.json: not valid JSON/],
  ['a cost file without an entry', () => ['run', '--clock', 'virtual', '--cost', f('missing.json')], /^smpvm: --cost .*missing\.json: costs\.clear_page: missing$/],
  ['no such cost file or preset', () => ['scale', '--clock', 'virtual', '--cost', 'cray-1'], /^smpvm: --cost cray-1: cannot read \(ENOENT\) \(not a file, nor a preset: skylake-2s-112, amd-48\)$/],
];

describe('virtual clock flags, bad input: one line, exit 2', () => {
  it.each(BAD)('%s', async (_name, argv, msg) => {
    const io = bufferIo();
    const code = await main(argv(), io);
    expect(code).toBe(2);
    const err = io.stderr();
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err.trim()).toMatch(msg);
  });
});
