// One SSH connection per node for the whole run: exec channels multiplexed under a MaxSessions
// semaphore, sudo for other users, files through exec (files.ts), and a `closed` promise so the engine learns
// about a drop instead of finding out at its next command.
import type { Duplex } from 'node:stream';
import type { PghardenError } from '../core/errors.js';
import { openHop, type Hop, type HopOptions } from './connect.js';
import { RemoteError } from './errors.js';
import { runChannel, Semaphore, type ChannelContext, type RawResult, type RunOptions } from './exec.js';
import { readRemoteFile, writeRemoteFileAtomic, type FileContext } from './files.js';
import { runAs, type AsUserOptions, type SudoContext } from './sudo.js';
import type {
  ExecOptions,
  ExecResult,
  HostKeyInfo,
  RemoteSession,
  Secrets,
  SshTarget,
  UnknownHostKeyPolicy,
  WriteFileOptions,
} from './types.js';

export interface ConnectOptions extends HopOptions {
  hostKeys: UnknownHostKeyPolicy;
  secrets?: Secrets | undefined;
  signal?: AbortSignal | undefined;
  /** sshd's MaxSessions (default 10): more concurrent channels than this wait their turn. */
  maxSessions?: number | undefined;
}

/** Connect, verify the host key, authenticate; throws a RemoteError/RemoteUsageError with a stable code. */
export async function connect(target: SshTarget, options: ConnectOptions): Promise<RemoteSession> {
  return new SshSession(await openHop(target, options), options);
}

/** A session that is not going to close by itself: close() ends it; ssh2 `close` settles `closed`. */
class SshSession implements RemoteSession {
  readonly node: string;
  readonly target: SshTarget;
  readonly hostKey: HostKeyInfo;
  readonly closed: Promise<PghardenError | undefined>;
  readonly #hop: Hop;
  readonly #slots: Semaphore;
  readonly #deathListeners = new Set<(err: RemoteError) => void>();
  readonly #sudo: SudoContext;
  readonly #files: FileContext;
  readonly #channels: ChannelContext;
  #dead: RemoteError | undefined;
  #closing = false;

  constructor(hop: Hop, options: ConnectOptions) {
    this.#hop = hop;
    this.node = hop.target.node;
    this.target = hop.target;
    this.hostKey = hop.hostKey;
    this.#slots = new Semaphore(options.maxSessions ?? 10);
    const { node, host, port } = hop.target;
    let lastError: Error | undefined;
    hop.client.on('error', (err: Error) => {
      lastError = err;
    });
    this.closed = new Promise((resolve) => {
      hop.client.once('close', () => {
        const why = lastError === undefined ? '' : ` (${lastError.message})`;
        this.#dead = this.#closing
          ? new RemoteError(node, 'ssh.closed', `${node}: the SSH session was closed`)
          : new RemoteError(
              node,
              'ssh.disconnected',
              `${node}: SSH connection to ${host}:${port} dropped${why}`,
              'a command that was running may still complete on the node; check its state before retrying',
              { cause: lastError },
            );
        for (const fn of this.#deathListeners) fn(this.#dead);
        this.#deathListeners.clear();
        resolve(this.#closing ? undefined : this.#dead);
      });
    });
    this.#channels = {
      node,
      client: hop.client,
      dead: () => this.#dead,
      onDeath: (fn) => {
        this.#deathListeners.add(fn);
        return () => this.#deathListeners.delete(fn);
      },
    };
    this.#sudo = {
      node,
      sshUser: hop.target.user,
      secrets: options.secrets,
      state: { passwordNeeded: false, passwords: new Map() },
      run: (command, opts) => this.#run(command, opts),
    };
    this.#files = {
      node,
      runAs: (command, opts) => runAs(this.#sudo, command, opts),
    };
  }

  async #run(command: string, options: RunOptions): Promise<RawResult> {
    const release = await this.#slots.acquire(options.signal);
    try {
      return await runChannel(this.#channels, command, options);
    } finally {
      release();
    }
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const r = await runAs(this.#sudo, command, options satisfies AsUserOptions);
    return {
      code: r.code,
      signal: r.signal,
      stdout: r.stdout.toString('utf8'),
      stderr: r.stderr.toString('utf8'),
    };
  }

  /** Like exec, stdout/stderr as Buffers (binary output, e.g. `cat` of a DER file). */
  async execRaw(command: string, options: ExecOptions = {}): Promise<RawResult> {
    return runAs(this.#sudo, command, options);
  }

  readFile(path: string, options: { asUser?: string; signal?: AbortSignal } = {}): Promise<Buffer> {
    return readRemoteFile(this.#files, path, options);
  }

  writeFileAtomic(path: string, content: string | Buffer, options: WriteFileOptions): Promise<void> {
    return writeRemoteFileAtomic(this.#files, path, content, options);
  }

  async forwardTcp(host: string, port: number, signal?: AbortSignal): Promise<Duplex> {
    const dead = this.#dead;
    if (dead !== undefined) throw dead;
    // A forwarded channel takes a session slot like an exec, until it closes.
    const release = await this.#slots.acquire(signal);
    try {
      const stream = await new Promise<Duplex>((resolve, reject) => {
        this.#hop.client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => {
          if (err === undefined) resolve(ch);
          else
            reject(
              this.#dead ??
                new RemoteError(
                  this.node,
                  'remote.forward-refused',
                  `${this.node}: sshd did not forward to ${host}:${port}: ${err.message}`,
                  undefined,
                  { cause: err },
                ),
            );
        });
      });
      stream.once('close', release);
      return stream;
    } catch (err) {
      release();
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#dead === undefined && !this.#closing) {
      this.#closing = true;
      this.#hop.client.end();
      // A peer that never answers our disconnect must not hold close() hostage.
      const force = setTimeout(() => this.#hop.client.destroy(), 2000);
      await this.closed;
      clearTimeout(force);
    } else {
      await this.closed;
    }
  }
}
