import { describe, it, expect } from 'vitest';
import { makeConfig, parseSize, ConfigError, DEFAULT_QUANTUM_NS } from '../src/config.js';

describe('config', () => {
  it('defaults the quantum to 0 (strict order) at any CPU count; a given quantum stays', () => {
    expect(DEFAULT_QUANTUM_NS).toBe(0);
    for (const cpus of [1, 16, 128]) expect(makeConfig({ clock: 'virtual', cpus }).quantum).toBe(0);
    expect(makeConfig({ clock: 'virtual', cpus: 2, quantum: 500 }).quantum).toBe(500);
  });

  it('has defaults that build a small machine', () => {
    const c = makeConfig({});
    expect(c.mem).toBe(64 << 20);
    expect(c.cpus).toBe(2);
    expect(c.rmap).toBe('scan');
    expect(c.locks).toBe('split');
  });
  it('parses sizes', () => {
    expect(parseSize('64M')).toBe(64 << 20);
    expect(parseSize('1G')).toBe(1 << 30);
    expect(parseSize('4096K')).toBe(4 << 20);
    expect(parseSize('12MiB')).toBe(12 << 20);
    expect(parseSize('lots')).toBeNaN();
    expect(makeConfig({ mem: '256M' }).mem).toBe(256 << 20);
  });
  it.each([
    [{ cpus: 0 }, /^config\.cpus: /],
    [{ mem: '5G' }, /^config\.mem: must be at most/],
    [{ mem: 'many' }, /^config\.mem: not a size/],
    [{ mem: 4097 }, /^config\.mem: /],
    [{ rmap: 'bogus' }, /^config\.rmap: /],
    [{ locks: 'giant' }, /^config\.locks: /],
    [{ lockImpl: 'spin' }, /^config\.lockImpl: /],
    [{ nrBucketBytes: 32 }, /^config\.nrBucketBytes: /],
    [{ colour: 'red' }, /unknown field\(s\) colour/],
  ])('rejects %j with a one-line error naming the field', (input, re) => {
    let err: unknown;
    try {
      makeConfig(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(re);
    expect(msg.includes('\n')).toBe(false);
  });
});
