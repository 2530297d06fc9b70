/*
 * procstat.ts — one thread's line of /proc (Linux proc(5): /proc/PID/task/
 * TID/stat, /proc/thread-self/stat): its scheduler state and CPU time. Node
 * 20 has no per-thread CPU clock (process.threadCpuUsage is Node 23.9+).
 * Host-side only; no shared memory.
 */
import { readFileSync } from 'node:fs';

export interface TaskStat {
  /** field 3: R running or runnable, S sleeping, D disk sleep, … */
  state: string;
  /** fields 14 + 15, utime + stime, in ms (USER_HZ = 100: 10 ms resolution) */
  cpuMs: number;
  /** field 19 */
  nice: number;
}

/** The stat line at `path` (default: the calling thread's), or null if it cannot be read (not Linux; the thread has gone). */
export function task_stat(path = '/proc/thread-self/stat'): TaskStat | null {
  let st: string;
  try {
    st = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const f = st.slice(st.lastIndexOf(')') + 2).split(' '); // f[0] is field 3; comm may hold spaces and ')'
  return { state: f[0]!, cpuMs: (Number(f[11]) + Number(f[12])) * 10, nice: Number(f[16]) };
}
