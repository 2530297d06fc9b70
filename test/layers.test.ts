/*
 * The layering check (scripts/check-layers.mjs, also run first by `npm test`):
 * the tree passes, and a planted upward import or folder cycle fails, with
 * the edge named.
 */
import { describe, it, expect } from 'vitest';
import { cpSync, mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without type declarations
import { checkLayers, LAYERS, layerOf } from '../scripts/check-layers.mjs';

type Problem = { from: string; to: string; spec: string; why: string };
const root = fileURLToPath(new URL('..', import.meta.url));
const check = (dir: string) => checkLayers(dir) as { problems: Problem[]; files: number };

function plantedCopy(file: string, line: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'smpvm-layers-'));
  for (const d of ['src', 'workers', 'bench']) cpSync(join(root, d), join(dir, d), { recursive: true });
  appendFileSync(join(dir, file), `\n${line}\n`);
  return dir;
}

describe('layering: every import goes down', () => {
  it('the tree has no upward import and no folder cycle', () => {
    const r = check(root);
    expect(r.files).toBeGreaterThan(100);
    expect(r.problems).toEqual([]);
  });

  it('knows every src/ folder, in the documented order', () => {
    expect(LAYERS).toEqual(['config', 'machine', 'timing', 'sync', 'mm', 'rmap', 'reclaim', 'vm', 'workload', 'sim', 'report', 'cli', 'workers', 'bench']);
    expect(layerOf('src/config.ts')).toBe('config');
    expect(layerOf('src/cli.ts')).toBe('cli');
    expect(layerOf('src/cli/io.ts')).toBe('cli');
    expect(layerOf('workers/cpu.ts')).toBe('workers');
  });

  it('fails on a planted upward import (mm/ importing reclaim/), naming the edge and the cycle', () => {
    const dir = plantedCopy('src/mm/pte.ts', "import { put_page } from '../reclaim/lru.js';");
    try {
      const whys = check(dir).problems.map((p) => `${p.from}: ${p.why}`);
      expect(whys).toContain('src/mm/pte.ts: upward import: mm -> reclaim');
      expect(whys.some((w) => /folder cycle: .*mm -> reclaim/.test(w) || /folder cycle: .*reclaim -> .*mm/.test(w))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails when src/ imports bench/', () => {
    const dir = plantedCopy('src/cli/io.ts', "export { hostCores } from '../../bench/common.js';");
    try {
      expect(check(dir).problems.map((p) => p.why)).toContain('upward import: cli -> bench');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
