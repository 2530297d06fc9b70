// Worker bootstrap for swapoff-busy.test.ts (as swapwait.worker.mjs): the
// TypeScript entry is loaded through tsx's API, which Node 20 needs for workers.
import { tsImport } from 'tsx/esm/api';

await tsImport('./swapoff-busy.worker.ts', import.meta.url);
