/*
 * Help agrees with what runs: every "(default X)" in a command's --help is
 * compared with the plan that command makes when no flag is given (the
 * schema's defaults under the command's own, cli/options.ts COMMANDS).
 */
import { describe, it, expect } from 'vitest';
import { main } from '../../src/cli.js';
import { bufferIo } from '../../src/cli/io.js';
import { COMMANDS, planBase, finishPlan, willItScaleBase, parseCpuList } from '../../src/cli/options.js';
import { fmtBytes } from '../../src/config.js';

async function help(cmd: string): Promise<Map<string, string>> {
  const io = bufferIo();
  expect(await main([cmd, '--help'], io)).toBe(0);
  // commander wraps long descriptions: join each option's lines first
  const opts = io.stdout().split(/\n(?=\s+(?:-\w, )?--)/);
  const out = new Map<string, string>();
  for (const o of opts) {
    const flag = /--[a-z-]+/.exec(o)?.[0];
    const d = /\(default ([^)]*)\)\s*$/.exec(o.replace(/\s+/g, ' ').replace(/\n[\s\S]*$/, ''));
    if (flag && d) out.set(flag, d[1]!.trim());
  }
  return out;
}

const sizeText = (b: number) => (b === 0 ? '0: none' : fmtBytes(b));

describe('--help defaults are the defaults a run uses', () => {
  for (const cmd of ['run', 'scale', 'profile', 'stress'] as const) {
    it(`${cmd}`, async () => {
      const d = COMMANDS[cmd];
      const h = await help(cmd);
      const base = planBase({}, d);
      const cpus = 'cpuList' in d ? parseCpuList(d.cpuList) : undefined;
      const wl = cmd === 'scale' ? `${willItScaleBase(base.workload)}_processes` : base.workload;
      const plan = finishPlan(base, cpus?.at(-1), wl, cpus?.at(-1));
      const c = plan.config;
      const expected: Record<string, string> = {
        '--workload': base.workload,
        '--cpus': 'cpuList' in d ? d.cpuList : String(c.cpus),
        '--mem': sizeText(c.mem),
        '--swap': sizeText(c.swap),
        '--rmap': c.rmap,
        '--locks': 'locksList' in d ? d.locksList : c.locks,
        '--lock-impl': c.lockImpl,
        '--policy': c.policy,
        '--seed': String(c.seed),
        '--duration': String(plan.durationMs! / 1000),
        '--lockdep': c.lockdep ? 'on' : 'off',
        '--hold-time': c.holdTime ? 'on' : 'off',
      };
      if (cmd === 'profile') expected['--trace-ring'] = String(c.traceRing);
      for (const [flag, v] of Object.entries(expected)) expect(h.get(flag), `${cmd} ${flag}`).toBe(v);
      expect(h.has('--ops'), `${cmd} --ops says it has no default`).toBe(true);
    });
  }

  it('stress --help names each planted bug with the settings it runs on', async () => {
    const io = bufferIo();
    await main(['stress', '--help'], io);
    for (const bug of ['no_zone_lock', 'no_lru_lock', 'no_pte_lock', 'no_swap_dup', 'no_migrate_copy']) expect(io.stdout()).toMatch(new RegExp(`^  ${bug} +\\S.*\\n +runs on: --locks `, 'm'));
    expect(io.stdout()).toMatch(/--mem 1M; --swap 8M/);
  });
});
