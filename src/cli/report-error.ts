// The one place errors become text and an exit code.
import { toPghardenError, type ExitCode } from '../core/errors.js';

export function report(err: unknown, stderr: NodeJS.WritableStream, verbose = false): Exclude<ExitCode, 0> {
  const e = toPghardenError(err);
  stderr.write(`✗ ${e.message}\n${e.hint === undefined ? '' : `  → ${e.hint}\n`}`);
  if (verbose && e.cause instanceof Error && e.cause.stack) stderr.write(`${e.cause.stack}\n`);
  return e.exitCode;
}
