/*
 * sweep/grid.ts: a grid's points (cartesian product, fixed fields under
 * each, hashes that name a point whatever the key order) and its checks
 * (one-line errors naming the field, exit 2 through the CLI).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, gridPoints, parseGrid, pointHash, GridError } from '../../../src/cli/sweep/grid.js';
import { main } from '../../../src/cli.js';
import { bufferIo } from '../../../src/cli/io.js';

describe('grid points', () => {
  it('are the cartesian product of the axes, last axis fastest, with the fixed fields under each', () => {
    const g = parseGrid({ fixed: { workload: 'page_fault1_processes', ops: 2 }, axes: { cpus: [1, 2], locks: ['bkl', '2.4', 'split'] } });
    const pts = gridPoints(g);
    expect(pts.map((p) => `${p.at.cpus}/${p.at.locks}`)).toEqual(['1/bkl', '1/2.4', '1/split', '2/bkl', '2/2.4', '2/split']);
    expect(pts[4]!.config).toEqual({ workload: 'page_fault1_processes', ops: 2, cpus: 2, locks: '2.4' });
    expect(new Set(pts.map((p) => p.hash)).size).toBe(6);
  });

  it('a point is named by its content, not by its key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,{"x":1,"y":2}]},"b":1}');
    expect(pointHash({ cpus: 2, locks: 'split' })).toBe(pointHash({ locks: 'split', cpus: 2 }));
    expect(pointHash({ cpus: 2, locks: 'split' })).not.toBe(pointHash({ cpus: 1, locks: 'split' }));
    expect(pointHash({ cpus: 2 })).toMatch(/^[0-9a-f]{16}$/);
  });

  it('an ops axis replaces a fixed duration, and the other way round', () => {
    const pts = gridPoints(parseGrid({ fixed: { duration: 1 }, axes: { ops: [1, 2] } }));
    expect(pts[0]!.config).toEqual({ ops: 1 });
  });
});

describe('bad grids: one line naming the field', () => {
  const bad: [string, unknown, RegExp][] = [
    ['not an object', [1, 2], /^grid: expected a JSON object/],
    ['an unknown top-level field', { axes: { cpus: [1] }, grid: 1 }, /^grid: unknown field\(s\) grid/],
    ['an unknown axis', { axes: { cpu: [1, 2] } }, /^grid\.axes\.cpu: unknown axis/],
    ['an unknown value', { axes: { locks: ['split', 'rcu'] } }, /^grid\.axes\.locks\[1\]: unknown value "rcu" \(bkl, 2\.4, split\)$/],
    ['an unknown workload', { axes: { workload: ['page_fault9'] } }, /^grid\.axes\.workload\[0\]: unknown workload "page_fault9"/],
    ['a value out of range', { axes: { cpus: [0] } }, /^grid\.axes\.cpus\[0\]: .*>= 1/],
    ['an empty grid', { fixed: { cpus: 1 }, axes: {} }, /^grid\.axes: empty grid/],
    ['an empty axis', { axes: { cpus: [] } }, /^grid\.axes\.cpus: expected a non-empty array/],
    ['a value twice', { axes: { cpus: [1, 1] } }, /^grid\.axes\.cpus: a value appears twice/],
    ['an axis also fixed', { fixed: { cpus: 1 }, axes: { cpus: [1, 2] } }, /^grid\.axes\.cpus: also in grid\.fixed/],
    ['an unknown fixed field', { fixed: { bogus: 1 }, axes: { cpus: [1] } }, /^grid\.fixed\.bogus: unknown field/],
    ['a bad fixed value', { fixed: { mem: '5Q' }, axes: { cpus: [1] } }, /^grid\.fixed\.mem: not a size/],
    ['duration and ops fixed together', { fixed: { duration: 1, ops: 2 }, axes: { cpus: [1] } }, /^grid\.fixed: duration and ops are exclusive/],
  ];
  it.each(bad)('%s', (_n, j, msg) => {
    expect(() => parseGrid(j)).toThrow(GridError);
    expect(() => parseGrid(j)).toThrow(msg);
  });

  it('through the CLI: exit 2, one line, before any point runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smpvm-grid-'));
    const f = join(dir, 'g.json');
    writeFileSync(f, JSON.stringify({ axes: { locks: ['split', 'rcu'] } }));
    writeFileSync(join(dir, 'junk.json'), '{"axes": ');
    for (const [args, msg] of [
      [[f, '--out', join(dir, 'o')], /^smpvm: grid\.axes\.locks\[1\]: /],
      [[join(dir, 'junk.json')], /^smpvm: grid ".*junk\.json": not JSON/],
      [[join(dir, 'none.json')], /^smpvm: grid ".*none\.json": cannot read \(ENOENT\)/],
    ] as [string[], RegExp][]) {
      const io = bufferIo();
      expect(await main(['sweep', ...args], io)).toBe(2);
      expect(io.stderr().trimEnd().split('\n')).toHaveLength(1);
      expect(io.stderr()).toMatch(msg);
    }
  });
});
