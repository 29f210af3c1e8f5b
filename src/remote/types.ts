// Contract between the engine and the SSH layer. The engine never imports ssh2; it sees these types.
import type { Duplex } from 'node:stream';
import type { PghardenError } from '../core/errors.js';

/** Where and how to reach one node over SSH, after inventory + ~/.ssh/config resolution. */
export interface SshTarget {
  /** Inventory name of the node or pooler, used in every error message. */
  node: string;
  host: string;
  port: number;
  user: string;
  /** Key files to try in order (already ~-expanded). Empty: agent and default keys. */
  identityFiles: string[];
  /** known_hosts file to verify against (and to append to when the operator accepts a new key). */
  knownHostsPath: string;
  /** Hop through this host first (ProxyJump). */
  proxyJump?: SshTarget | undefined;
  /** Bound on TCP connect + SSH handshake + auth (ssh2 readyTimeout). */
  readyTimeoutMs: number;
}

export interface HostKeyInfo {
  node: string;
  host: string;
  port: number;
  /** e.g. ssh-ed25519 */
  keyType: string;
  /** OpenSSH form: SHA256:<base64 without padding> */
  fingerprint: string;
  /** Key types known_hosts does have for this host (an unknown key of another type: worth saying). */
  otherKnownKeyTypes?: string[] | undefined;
}

/** What to do with a host key that known_hosts does not know. A changed key is always refused. */
export type UnknownHostKeyDecision = 'reject' | 'accept-once' | 'accept-and-save';
export type UnknownHostKeyPolicy =
  'reject' | 'accept-and-save' | ((info: HostKeyInfo) => Promise<UnknownHostKeyDecision>);

export interface Secrets {
  /** Passphrase for an encrypted SSH key file; undefined when there is none to give. */
  keyPassphrase?: (file: string) => Promise<string | undefined>;
  /** sudo password for `sudo -S -p ''` (fed on stdin, never a pty) when `sudo -n` says one is required. */
  sudoPassword?: (node: string, user: string) => Promise<string | undefined>;
  /** Answers to keyboard-interactive prompts (one per prompt), or undefined to skip that method. */
  keyboardInteractive?: (
    node: string,
    prompts: { prompt: string; echo: boolean }[],
  ) => Promise<string[] | undefined>;
}

export interface ExecOptions {
  /** Written to the remote command's stdin, then EOF. Secrets go here, never into the command line. */
  stdin?: string | Buffer;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Run as this OS user (sudo -u when it is not the SSH user). */
  asUser?: string;
}

export interface ExecResult {
  code: number | null;
  signal?: string | undefined;
  stdout: string;
  stderr: string;
}

export interface WriteFileOptions {
  /** Owner of the final file; the file is written as this user (sudo when it differs from the SSH user). */
  owner: string;
  mode: number;
  signal?: AbortSignal;
}

export interface RemoteSession {
  readonly node: string;
  readonly target: SshTarget;
  readonly hostKey: HostKeyInfo;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  readFile(path: string, options?: { asUser?: string; signal?: AbortSignal }): Promise<Buffer>;
  /** Upload to a temp file in the same directory, then rename into place with owner and mode. */
  writeFileAtomic(path: string, content: string | Buffer, options: WriteFileOptions): Promise<void>;
  /**
   * A TCP stream to host:port as the node itself reaches it (SSH direct-tcpip): no process on the
   * node. Rejects with remote.forward-refused when sshd does not allow it (AllowTcpForwarding no);
   * callers then fall back to a command. Optional: sessions that cannot forward leave it out.
   */
  forwardTcp?(host: string, port: number, signal?: AbortSignal): Promise<Duplex>;
  close(): Promise<void>;
  /**
   * Settles once the connection is gone: undefined after close(), the error (ssh.disconnected) when
   * it dropped. Never rejects, so nobody has to handle it.
   */
  readonly closed: Promise<PghardenError | undefined>;
}
