/*
 * register.ts — load every optional scheme, policy and workload module so
 * that they register themselves (rmap schemes, reclaim hooks, workloads).
 * Imported once by the worker entry and by the orchestrator, so main thread
 * and workers always agree on what exists.
 */
export {};
