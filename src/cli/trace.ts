/*
 * cli/trace.ts — `smpvm trace convert IN OUT [--format F] [--from F]`:
 * rewrite a page-reference trace in another format (issue 20 item 5).
 *
 *   smpvm    smpvm's compact binary format (workload/trace_bin.ts): the
 *            default, what `replay` reads fastest
 *   oracleGeneral  libCacheSim's 24-byte records (so libCacheSim's cachesim
 *            can run the same references); it has no op field, so writes
 *            become reads: the command says how many
 *   text     `R|W <hex page>` lines (workload/trace.ts)
 *
 * IN is read like `replay` reads it (any format, plain, gzip or zstd;
 * --from forces the input format). A malformed IN is one line naming the
 * line or record, exit 2; nothing is written then.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { oneOf, issueLine } from '../config.js';
import { readTrace, formatTrace, TraceError, TRACE_FORMATS } from '../workload/trace.js';
import { encodeSmpvm, encodeOracleGeneral } from '../workload/trace_bin.js';
import { OP_WRITE } from '../reclaim/page_trace.js';
import { checkOutput } from './outputs.js';
import { CliError, EXIT_OK, type Io } from './io.js';

export const OUT_FORMATS = ['smpvm', 'oracleGeneral', 'text'] as const;

const ConvertFlags = z.object({
  format: oneOf(OUT_FORMATS).default('smpvm'),
  from: oneOf(TRACE_FORMATS).default('auto'),
});

export interface ConvertOpts {
  format?: string;
  from?: string;
}

export async function cmdTraceConvert(io: Io, input: string, output: string, opts: ConvertOpts): Promise<number> {
  const r = ConvertFlags.safeParse(opts);
  if (!r.success) throw new CliError(issueLine(r.error, (path) => `--${String(path[0])}`));
  const o = r.data;
  checkOutput('OUT', output);
  let t;
  try {
    t = await readTrace(input, o.from);
  } catch (e) {
    if (e instanceof TraceError) throw new CliError(e.message);
    const err = e as NodeJS.ErrnoException;
    throw new CliError(`${input}: cannot read (${err.code ?? err.message})`);
  }
  const data = o.format === 'smpvm' ? encodeSmpvm(t) : o.format === 'oracleGeneral' ? encodeOracleGeneral(t) : Buffer.from(formatTrace(t));
  try {
    writeFileSync(output, data);
  } catch (e) {
    throw new CliError(`${output}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let writes = 0;
  for (let i = 0; i < t.length; i++) if (t.ops[i] === OP_WRITE) writes++;
  const lost = o.format === 'oracleGeneral' && writes > 0 ? `; oracleGeneral has no op field: ${writes} writes became reads` : '';
  io.out(`${input} -> ${output}: ${t.length} references, ${o.format}, ${data.length} bytes (${(data.length / Math.max(1, t.length)).toFixed(2)} per reference)${lost}\n`);
  return EXIT_OK;
}

/** Add `trace convert` to the program (src/cli.ts). */
export function addTraceCommand(p: Command, io: Io, done: (code: number) => void): void {
  const t = p.command('trace').description('page-reference trace files: convert between formats');
  t.command('convert')
    .description('rewrite a trace in another format (smpvm binary, libCacheSim oracleGeneral, text)')
    .argument('<in>', 'input trace: text, smpvm or oracleGeneral; plain, .gz or .zst')
    .argument('<out>', 'output file')
    .option('--format <f>', `output format: ${OUT_FORMATS.join(', ')} (default smpvm)`)
    .option('--from <f>', `input format: ${TRACE_FORMATS.join(', ')} (default auto)`)
    .action(async (input: string, output: string, o: ConvertOpts) => done(await cmdTraceConvert(io, input, output, o)));
}
