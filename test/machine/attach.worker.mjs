// Worker bootstrap for attach.test.ts (as test/sync/lock-worker.mjs): the
// TypeScript entry is loaded through tsx's API, which Node 20 needs for workers.
import { tsImport } from 'tsx/esm/api';

await tsImport('./attach.worker.ts', import.meta.url);
