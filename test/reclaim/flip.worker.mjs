// Worker bootstrap for flip-smp.test.ts (as swapwait.worker.mjs): the
// TypeScript entry is loaded through tsx's API, which Node 20 needs for workers.
import { tsImport } from 'tsx/esm/api';

await tsImport('./flip.worker.ts', import.meta.url);
