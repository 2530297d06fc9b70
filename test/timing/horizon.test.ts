/*
 * The horizon a giver passes with the turn (conductor.ts pick → VS_LOW →
 * resume) is the one the new turn holder would find by scanning the slots:
 * runs under VtTuning.checkHorizon, which scans at every turn as well and
 * throws on a difference — strict order and a quantum, parks with and
 * without deadlines (kswapd's sleep, I/O waits under swap), every kind of
 * waiter (tas, ticket, MCS spinners; rwsems and page locks).
 */
import { describe, it, expect } from 'vitest';
import { runMachine } from '../../src/sim/run.js';
import { usePool } from '../helpers.js';

const CASES = [
  { label: 'page_fault1_threads, tas, 2.4, quantum 0', config: { cpus: 8, locks: '2.4', lockImpl: 'tas', quantum: 0, mem: '64M', swap: 0 }, spec: { name: 'page_fault1_threads', regionBytes: 1 << 20 }, ops: 4 },
  { label: 'page_fault1_processes, mcs, split, quantum 1000', config: { cpus: 8, locks: 'split', lockImpl: 'mcs', quantum: 1000, mem: '64M', swap: 0 }, spec: { name: 'page_fault1_processes', regionBytes: 1 << 20 }, ops: 4 },
  { label: 'random with swap and kswapd, ticket, split, quantum 0', config: { cpus: 6, locks: 'split', quantum: 0, mem: '4M', swap: '32M' }, spec: { name: 'random' }, ops: 300 },
];

describe('conductor: the horizon handed over with the turn', () => {
  const pool = usePool(9);
  for (const c of CASES) {
    it(`${c.label}: equals a scan at every turn`, async () => {
      const o = await runMachine({ config: { clock: 'virtual', seed: 11, ...c.config }, spec: c.spec, opsPerCpu: c.ops, pool: pool(), vtTuning: { checkHorizon: true } });
      expect(o.error?.message).toBeUndefined();
      expect(o.vt!.handoffs).toBeGreaterThan(100);
    }, 120_000);
  }
});
