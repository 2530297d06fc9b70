/*
 * register.ts — load every optional scheme, policy and workload module so
 * that they register themselves (rmap schemes, reclaim hooks, workloads).
 * Imported once by the worker entry and by the orchestrator, so main thread
 * and workers always agree on what exists.
 *
 * The rmap schemes also hand the invariant checker their own structural
 * checks (chain packing, pool accounting, anon_vma lists), run for the
 * scheme the machine was built with.
 */
import { registerCheck } from './checker.js';
import { ptechain_check } from '../rmap/ptechain.js';
import { vmnode_check } from '../rmap/vmnode.js';
import { ptechain25_check } from '../rmap/ptechain25.js';
import { hint_check } from '../rmap/hint.js';
import { objrmap_check } from '../rmap/objrmap.js';

registerCheck((cpu, out, ctx) => {
  const w = cpu.w;
  const l = cpu.l;
  switch (cpu.rmap.name) {
    case 'ptechain':
      return ptechain_check(w, l, out, ctx.mapped, ctx.free);
    case 'vmnode':
      return vmnode_check(w, l, out, ctx.mapped, ctx.free);
    case 'ptechain25':
      return ptechain25_check(w, l, out, ctx.mapped, ctx.free);
    case 'hint':
      return hint_check(w, l, out, ctx.mapped, ctx.free);
    case 'objrmap':
      return objrmap_check(w, l, out, ctx.mapped);
  }
});

// page reclaim and the swap cache (reclaim/index.ts installs its VM hooks on import),
// its checker steps, and the `pressure` workload
import { reclaim_checks, reclaim_quiesce } from '../reclaim/index.js';
import { registerQuiesce } from './checker.js';
import '../workload/pressure.js';
import '../workload/tracewl.js'; // issue 7: smpvm replay --cpus N
import '../workload/lockcount.js'; // issue 17: the lock-collapse microbenchmark
registerQuiesce(reclaim_quiesce);
registerCheck(reclaim_checks);
