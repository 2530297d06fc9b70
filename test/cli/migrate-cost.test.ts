/*
 * `smpvm migrate-cost` (issue 19): the migrate bench reachable from the CLI.
 * It is listed in `smpvm --help`; a small run writes the results JSON with a
 * row per rmap scheme × method × K and prints the text view of exactly that
 * JSON; the walk visits say what each design must look at to find a page's
 * mappers (scan: every pte of every process; a chain: one entry per
 * mapper); bad flags are one line naming the flag, exit 2, before anything
 * is measured.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { bufferIo } from '../../src/cli/io.js';
import { formatMigrateCost, type MigrateCostResults } from '../../src/cli/migrate-cost.js';
import { RMAP_SCHEMES, MIGRATE_METHODS } from '../../src/config.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smpvm-migrate-cost-'));
});

describe('smpvm migrate-cost', () => {
  it('is listed in smpvm --help', async () => {
    const io = bufferIo();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.stdout()).toMatch(/^ {2}migrate-cost \[options\] +what moving a specific page costs/m);
  });

  it('writes the results JSON and prints its text view; scan visits every pte, the chains one entry per mapper', async () => {
    const out = join(dir, 'm.json');
    const io = bufferIo();
    const code = await main(['migrate-cost', '--pages', '16', '--sharers', '1,3', '--out', out], io);
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(out, 'utf8')) as MigrateCostResults;
    expect(io.stdout()).toBe(`${formatMigrateCost(r)}wrote ${out}\n`);
    expect(r.methods).toEqual([...MIGRATE_METHODS]);
    expect(r.migrate).toHaveLength(RMAP_SCHEMES.length * MIGRATE_METHODS.length * 2);
    expect(r.compact).toHaveLength(RMAP_SCHEMES.length * MIGRATE_METHODS.length);
    for (const row of r.migrate) {
      expect(row.moved).toBe(16);
      expect(row.usPerPage).toBeGreaterThan(0);
      // scan reads every pte of every page table of every process (1024 per table) for each page
      if (row.rmap === 'scan') expect(row.visitsPerPage).toBeGreaterThanOrEqual(1024 * row.K);
      // a pte chain or vm_node list holds one entry per mapper: the walk visits exactly those
      if (row.rmap === 'ptechain' || row.rmap === 'vmnode') expect(row.visitsPerPage).toBe(row.K);
    }
    for (const c of r.compact) {
      expect(c.blocks).toBeGreaterThan(0);
      expect(c.migrated).toBeGreaterThan(0);
    }
  }, 120_000);

  const BAD: [string, string[], RegExp][] = [
    ['unknown method', ['--method', 'teleport'], /^smpvm: --method: unknown value "teleport" \(flip, swap\)$/],
    ['sharers 0', ['--sharers', '0'], /^smpvm: --sharers: must be >= 1$/],
    ['sharers not increasing', ['--sharers', '4,1'], /^smpvm: --sharers: sharer counts must increase/],
    ['pages below the minimum', ['--pages', '5'], /^smpvm: --pages: must be >= 16$/],
    ['pages not a number', ['--pages', 'many'], /^smpvm: --pages: not an integer: "many"$/],
  ];
  for (const [what, args, msg] of BAD) {
    it(`bad input: ${what} → one line, exit 2, nothing written`, async () => {
      const out = join(dir, `bad-${args[0]}.json`);
      const io = bufferIo();
      expect(await main(['migrate-cost', ...args, '--out', out], io)).toBe(2);
      expect(io.stderr().trimEnd()).toMatch(msg);
      expect(io.stderr().trimEnd().split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    });
  }
});
