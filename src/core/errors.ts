// Errors → exit codes (SPEC §3). Identity is a Symbol.for brand, not instanceof, so it survives the
// esbuild bundle and vitest's module copies.
const BRAND = Symbol.for('pgharden.error');

export type ExitCode = 0 | 1 | 2 | 3 | 4 | 130;

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  verifyFailed: 3,
  rolledBack: 4,
  interrupted: 130,
} as const satisfies Record<string, ExitCode>;

export abstract class PghardenError extends Error {
  readonly [BRAND] = true;
  abstract readonly exitCode: Exclude<ExitCode, 0>;
  /** One line telling the operator what to do about it. */
  readonly hint: string | undefined;
  /** Stable machine-readable id, e.g. `ssh.host-key-unknown`, `inventory.invalid`. */
  readonly code: string;

  constructor(code: string, message: string, hint?: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.hint = hint;
    this.name = new.target.name;
  }

  static is(x: unknown): x is PghardenError {
    return typeof x === 'object' && x !== null && BRAND in x;
  }
}

/** The run failed; the cluster is as it was. */
export class FailedError extends PghardenError {
  override readonly exitCode = 1;
}
/** Flags, inventory, certificate file, missing secret: nothing was changed. */
export class UsageError extends PghardenError {
  override readonly exitCode = 2;
}
export class VerifyFailedError extends PghardenError {
  override readonly exitCode = 3;
}
export class RolledBackError extends PghardenError {
  override readonly exitCode = 4;
}
export class InterruptedError extends PghardenError {
  override readonly exitCode = 130;
}
/** Ours, not the operator's. */
export class BugError extends PghardenError {
  override readonly exitCode = 1;
}

export function toPghardenError(err: unknown): PghardenError {
  if (PghardenError.is(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BugError('bug', message, 'rerun with --verbose and report it with the run journal', {
    cause: err,
  });
}
