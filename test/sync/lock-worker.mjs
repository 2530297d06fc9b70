// Worker bootstrap for the sync tests. On Node 20.20 `execArgv: ['--import', 'tsx']`
// does not reach a worker's own entry module ("Unknown file extension .ts"),
// so the TypeScript entry is loaded through tsx's API instead.
import { tsImport } from 'tsx/esm/api';

await tsImport('./lock-worker.ts', import.meta.url);
