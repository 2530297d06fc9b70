/*
 * The cost table (src/timing/cost.ts) and topology (topology.ts): presets
 * load with every entry and a stable hash; a bad table names the entry; the
 * line latencies follow the topology.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadCostTable, checkCostTable, installCosts, resolveCost, COST_NAMES, COST_PRESETS, CostError } from '../../src/timing/cost.js';
import { parseTopology, setTopology, line_ns } from '../../src/timing/topology.js';

const preset = (n: string) => JSON.parse(readFileSync(new URL(`../../src/timing/presets/${n}.json`, import.meta.url), 'utf8'));

describe('cost table', () => {
  it.each(COST_PRESETS)('preset %s has every entry with a unit and a source, and a stable hash', (name) => {
    const t = loadCostTable(name);
    expect(Object.keys(t.ns).sort()).toEqual([...COST_NAMES].sort());
    expect(t.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(loadCostTable(name).hash).toBe(t.hash);
    // the hash is over content, not key order
    const j = preset(name);
    const reordered = { costs: j.costs, topology: j.topology, description: j.description, name: j.name };
    expect(checkCostTable(reordered, 'x').hash).toBe(t.hash);
  });

  it('a changed number changes the hash', () => {
    const j = preset('amd-48');
    const a = checkCostTable(j, 'a').hash;
    j.costs.clear_page.value += 1;
    expect(checkCostTable(j, 'b').hash).not.toBe(a);
  });

  it.each([
    ['missing entry', (j: any) => delete j.costs.fault_entry, /costs\.fault_entry: missing/],
    ['negative value', (j: any) => (j.costs.lock_op.value = -1), /costs\.lock_op\.value: a number >= 0 expected/],
    ['wrong unit', (j: any) => (j.costs.ticket_reread.unit = 'ns'), /costs\.ticket_reread\.unit: must be "factor"/],
    ['no source', (j: any) => (j.costs.copy_page.source = ''), /costs\.copy_page\.source/],
    ['unknown entry', (j: any) => (j.costs.warp_drive = { value: 1, unit: 'ns', source: 'x' }), /costs\.warp_drive: unknown entry/],
    ['bad topology', (j: any) => (j.topology = '2by28'), /topology: SOCKETSxCORES expected/],
  ])('rejects a table with a %s, naming it', (_n, mutate, msg) => {
    const j = preset('skylake-2s-112');
    mutate(j);
    expect(() => checkCostTable(j, 't')).toThrow(CostError);
    expect(() => checkCostTable(j, 't')).toThrow(msg);
  });

  it('resolves a virtual config to the default preset; leaves host configs alone', () => {
    expect(resolveCost({ clock: 'host' })).toEqual({ clock: 'host' });
    const r = resolveCost({ clock: "virtual" }) as unknown as { cost: { name: string } };
    expect(r.cost.name).toBe('skylake-2s-112');
  });
});

describe('topology', () => {
  it('parses SOCKETSxCORES and rejects the rest', () => {
    expect(parseTopology('2x28')).toEqual({ sockets: 2, coresPerSocket: 28 });
    for (const bad of ['3x', 'x4', '0x4', '2x0', '2*28', '']) expect(parseTopology(bad)).toBeNull();
  });

  it('prices a line by same core (SMT sibling), same socket, cross socket', () => {
    const t = loadCostTable('skylake-2s-112');
    installCosts(t);
    setTopology(parseTopology('2x28')!, 114);
    expect(line_ns(3, 3)).toBe(0);
    expect(line_ns(-1, 3)).toBe(0);
    expect(line_ns(0, 56)).toBe(t.ns.line_same_core); // CPU 56 is CPU 0's SMT sibling
    expect(line_ns(0, 27)).toBe(t.ns.line_same_socket);
    expect(line_ns(0, 28)).toBe(t.ns.line_cross_socket);
    expect(line_ns(28, 112)).toBe(t.ns.line_cross_socket); // slot 112 (kswapd) sits on core 0
  });
});
