/*
 * cli/progress.ts — the progress bar (cli-progress, only when stdout is a
 * terminal, only for long runs and sweeps) and the host idle sampler behind
 * the scaling CSV's *_idle columns.
 */
import { cpus as hostCpus } from 'node:os';
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
}

function sample(): Ticks {
  let idle = 0;
  let total = 0;
  for (const c of hostCpus()) {
    const t = c.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
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
}
