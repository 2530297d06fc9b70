/*
 * cli/progress.ts — the progress bar (cli-progress, only when stdout is a
 * terminal, only for long runs and sweeps) and the host idle sampler behind
 * the scaling CSV's *_idle columns.
 */
import { cpus as hostCpus } from 'node:os';
import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { Io } from './io.js';

/** A run is "long" from this many milliseconds on. */
export const LONG_RUN_MS = 2000;

export interface Progress {
  /** fraction 0..1 of the whole job */
  update(f: number, label?: string): void;
  stop(): void;
}

const none: Progress = { update() {}, stop() {} };

/** A bar on stderr when stdout is a TTY and the job is long; otherwise nothing. */
export function progressBar(io: Io, long: boolean, label: string): Progress {
  if (!io.isTTY || !long) return none;
  const bar = new cliProgress.SingleBar(
    { format: '{label} [{bar}] {percentage}% | ETA {eta}s', hideCursor: true, clearOnComplete: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1000, 0, { label });
  return {
    update(f, l) {
      bar.update(Math.max(0, Math.min(1000, Math.round(f * 1000))), l ? { label: l } : undefined);
    },
    stop() {
      bar.stop();
    },
  };
}

interface Ticks {
  idle: number;
  total: number;
  /** /proc/stat's aggregate steal and its total (every column), jiffies; null off Linux */
  steal: number | null;
  stealTotal: number;
}

/** The aggregate `cpu` line of /proc/stat: [steal, sum of every column], or null where there is none. */
function stealTicks(): [number, number] | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8');
    const v = f.slice(0, f.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
    return v.length >= 8 && v.every(Number.isFinite) ? [v[7]!, v.reduce((a, b) => a + b, 0)] : null;
  } catch {
    return null;
  }
}

function sample(): Ticks {
  let idle = 0;
  let total = 0;
  for (const c of hostCpus()) {
    const t = c.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  const st = stealTicks();
  return { idle, total, steal: st ? st[0] : null, stealTotal: st ? st[1] : 0 };
}

/**
 * Host idle % between mark() calls: will-it-scale's idle column, taken from
 * the host's /proc/stat through os.cpus() (every host core; other load on
 * the host counts as busy).
 */
export class IdleSampler {
  private first?: Ticks;
  private last?: Ticks;
  mark(): void {
    const s = sample();
    if (!this.first) this.first = s;
    else this.last = s;
  }
  /** idle % over the marked interval, null if it was too short to tell */
  pct(): number | null {
    if (!this.first || !this.last) return null;
    const total = this.last.total - this.first.total;
    if (total <= 0) return null;
    return ((this.last.idle - this.first.idle) / total) * 100;
  }
  /**
   * steal % over the marked interval: the time the hypervisor ran something
   * else while this VM's vCPUs wanted to run (/proc/stat; a lock holder
   * descheduled so is what makes a VM's lock waits jump to milliseconds);
   * null off Linux or if the interval was too short
   */
  stealPct(): number | null {
    const a = this.first;
    const b = this.last;
    if (!a || !b || a.steal === null || b.steal === null || b.stealTotal <= a.stealTotal) return null;
    return ((b.steal - a.steal) / (b.stealTotal - a.stealTotal)) * 100;
  }
}
