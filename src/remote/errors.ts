// Errors of the remote layer: each carries the node it concerns and a stable code the engine and the
// tests switch on. Operational failures are FailedError (exit 1, nothing changed by us); a missing or
// wrong secret or key file is the operator's input, so UsageError (exit 2), like any missing secret.
import { FailedError, PghardenError, UsageError } from '../core/errors.js';

export type RemoteErrorCode =
  | 'ssh.unreachable'
  | 'ssh.timeout'
  | 'ssh.handshake-failed'
  | 'ssh.host-key-unknown'
  | 'ssh.host-key-changed'
  | 'ssh.host-key-revoked'
  | 'ssh.auth-failed'
  | 'ssh.disconnected'
  | 'ssh.channel-failed'
  | 'ssh.exec-timeout'
  | 'ssh.closed'
  | 'sudo.failed'
  | 'remote.not-found'
  | 'remote.read-failed'
  | 'remote.write-failed'
  | 'remote.forward-refused'
  | 'psql.failed'
  | 'psql.bad-output';

export type RemoteUsageErrorCode =
  | 'ssh.key-passphrase-needed'
  | 'ssh.key-passphrase-wrong'
  | 'ssh.identity-file-unreadable'
  | 'ssh.known-hosts-unreadable'
  | 'ssh.known-hosts-unwritable'
  | 'sudo.password-required'
  | 'sudo.password-wrong';

export class RemoteError extends FailedError {
  readonly node: string;
  declare readonly code: RemoteErrorCode;
  constructor(node: string, code: RemoteErrorCode, message: string, hint?: string, options?: ErrorOptions) {
    super(code, message, hint, options);
    this.node = node;
  }
}

export class RemoteUsageError extends UsageError {
  readonly node: string;
  declare readonly code: RemoteUsageErrorCode;
  constructor(
    node: string,
    code: RemoteUsageErrorCode,
    message: string,
    hint?: string,
    options?: ErrorOptions,
  ) {
    super(code, message, hint, options);
    this.node = node;
  }
}

/** Brand-safe check (instanceof breaks across bundle/test module copies). */
export function remoteErrorCode(err: unknown): string | undefined {
  return PghardenError.is(err) && 'node' in err ? err.code : undefined;
}
