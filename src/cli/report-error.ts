// The one place errors become text and an exit code.
import { toPghardenError, type ExitCode } from '../core/errors.js';
import type { CliIo, GlobalOptions } from './io.js';
import { envSecretValues } from './secrets.js';
import { jsonLine } from './views/json-lines.js';

export function report(err: unknown, stderr: NodeJS.WritableStream, verbose = false): Exclude<ExitCode, 0> {
  const e = toPghardenError(err);
  stderr.write(`✗ ${e.message}\n${e.hint === undefined ? '' : `  → ${e.hint}\n`}`);
  if (verbose && e.cause instanceof Error && e.cause.stack) stderr.write(`${e.cause.stack}\n`);
  return e.exitCode;
}

/** A command that failed: the error on stderr and, with --json, a summary line that carries it. */
export function reportFailure(
  err: unknown,
  command: string,
  global: GlobalOptions,
  io: CliIo,
): Exclude<ExitCode, 0> {
  const code = report(err, io.stderr, global.verbose === true);
  if (global.json === true) {
    const e = toPghardenError(err);
    jsonLine(
      io.stdout,
      { type: 'summary', command, exitCode: code, error: { code: e.code, message: e.message, hint: e.hint } },
      envSecretValues(io.env),
    );
  }
  return code;
}
