/*
 * One parse (issue 15): the config is parsed where it enters (makeConfig /
 * the CLI's plan) and a CPU worker receives it parsed — attachMachine reads
 * it back from the machine buffer without a zod call, every default (the
 * derived ones too) already in it.
 */
import { describe, it, expect, vi } from 'vitest';
import { Worker } from 'node:worker_threads';
import { ConfigSchema, makeConfig, isParsedConfig } from '../../src/config.js';
import { createMachine, attachMachine } from '../../src/machine/machine.js';

describe('the parsed config reaches the workers', () => {
  it('createMachine takes a parsed config as it is (no second parse)', () => {
    const cfg = makeConfig({ mem: '8M', swap: 0, cpus: 1, rmap: 'vmnode' });
    expect(isParsedConfig(cfg)).toBe(true);
    const spy = vi.spyOn(ConfigSchema, 'safeParse');
    const m = createMachine(cfg);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(m.cfg).toBe(cfg);
    // the derived defaults are filled in by the schema
    expect(cfg.rmapPool).toBe((8 << 20) / 4096 * 4);
    expect(cfg.pageCluster).toBe(2);
  });

  it('attachMachine on the main thread calls no parser', () => {
    const m = createMachine(makeConfig({ mem: '8M', swap: 0, cpus: 1 }));
    const spy = vi.spyOn(ConfigSchema, 'safeParse');
    const spy2 = vi.spyOn(ConfigSchema, 'parse');
    const a = attachMachine(m.sab);
    expect(spy).not.toHaveBeenCalled();
    expect(spy2).not.toHaveBeenCalled();
    spy.mockRestore();
    spy2.mockRestore();
    expect(a.cfg).toEqual(m.cfg);
  });

  it('a worker thread attaches with zero parses and gets the parsed config, defaults included', async () => {
    const cfg = makeConfig({ mem: '16M', swap: '4M', cpus: 2, rmap: 'ptechain25', locks: '2.4' });
    const m = createMachine(cfg);
    const wk = new Worker(new URL('./attach.worker.mjs', import.meta.url), { workerData: { sab: m.sab } });
    const msg = await new Promise<{ parses: number; cfg: unknown; nrFrames: number }>((res, rej) => {
      wk.once('message', res);
      wk.once('error', rej);
    });
    await wk.terminate();
    expect(msg.parses).toBe(0);
    expect(msg.cfg).toEqual(cfg);
    expect(msg.nrFrames).toBe(m.layout.nrFrames);
  });
});
