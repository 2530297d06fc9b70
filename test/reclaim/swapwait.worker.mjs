// Worker bootstrap for swapwait.test.ts (as test/sync/lock-worker.mjs): the
// TypeScript entry is loaded through tsx's API, which Node 20 needs for workers.
import { tsImport } from 'tsx/esm/api';

await tsImport('./swapwait.worker.ts', import.meta.url);
