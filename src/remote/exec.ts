// One exec channel per command on a shared connection. Output is collected as Buffers (binary-safe;
// decoding is the caller's choice). Abort and timeout close the channel; sshd may ignore the TERM
// signal request, and the remote process may outlive the channel (LAB-NOTES "SSH faults").
import type { Client, ClientChannel } from 'ssh2';
import { RemoteError } from './errors.js';

export interface RawResult {
  code: number | null;
  signal?: string | undefined;
  stdout: Buffer;
  stderr: Buffer;
}

export interface RunOptions {
  stdin?: string | Buffer | undefined;
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

export interface ChannelContext {
  node: string;
  client: Client;
  /** The error the connection died with, once it did. */
  dead: () => RemoteError | undefined;
  /** Called when the connection dies; returns an unsubscribe. */
  onDeath: (fn: (err: RemoteError) => void) => () => void;
}

const OPEN_RETRIES = 12; // 2+4+…+100 ms: ~0.9 s before a real MaxSessions limit is reported

/** SSH_OPEN_CONNECT_FAILED: what sshd answers when no session slot is free. */
function isOpenFailed(err: Error): boolean {
  return (err as Error & { reason?: unknown }).reason === 2;
}

/** The abort reason as an Error (the engine aborts with an InterruptedError; the default is a DOMException). */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error(String(r));
}

/** FIFO counting semaphore; a waiter whose signal aborts leaves the queue. */
export class Semaphore {
  #free: number;
  readonly #queue: (() => void)[] = [];
  constructor(size: number) {
    this.#free = size;
  }
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#free > 0) {
      this.#free--;
    } else {
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const i = this.#queue.indexOf(wake);
          if (i >= 0) this.#queue.splice(i, 1);
          if (signal !== undefined) reject(abortReason(signal));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#queue.push(wake);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next === undefined) this.#free++;
      else next(); // hand the slot over directly
    };
  }
}

interface ChannelInternals {
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
}

/**
 * Ask sshd to SIGTERM the command's process group (OpenSSH ≥ 7.9 does, for exec sessions). ssh2's
 * public `signal()` sends nothing once our side has sent EOF — and we always send EOF right after
 * stdin — so go one level down; ssh2 is pinned, and a missing internal just means no signal.
 */
function sendTerm(channel: ClientChannel): void {
  const ch = channel as unknown as ChannelInternals;
  const id = ch.outgoing?.id;
  const state = ch.outgoing?.state;
  if (id === undefined || (state !== 'open' && state !== 'eof')) return;
  try {
    ch._client?._protocol?.signal?.(id, 'TERM');
  } catch {
    // the connection may be going away; close() is what ends the channel
  }
}

export function runChannel(
  ctx: ChannelContext,
  command: string,
  options: RunOptions = {},
): Promise<RawResult> {
  const { node, client } = ctx;
  return new Promise<RawResult>((resolve, reject) => {
    const dead = ctx.dead();
    if (dead !== undefined) {
      reject(dead);
      return;
    }
    if (options.signal?.aborted === true) {
      reject(abortReason(options.signal));
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let channel: ClientChannel | undefined;
    let exit: { code: number | null; signal?: string | undefined } | undefined;
    let done = false;
    let timer: NodeJS.Timeout | undefined;

    const cleanup = (): void => {
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      offDeath();
    };
    const stop = (reason: Error): void => {
      if (done) return;
      cleanup();
      if (channel !== undefined) {
        sendTerm(channel);
        channel.close();
      }
      reject(reason);
    };
    const onAbort = (): void => {
      if (options.signal !== undefined) stop(abortReason(options.signal));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const offDeath = ctx.onDeath((e) => stop(e));
    if (options.timeoutMs !== undefined) {
      const ms = options.timeoutMs;
      timer = setTimeout(
        () =>
          stop(
            new RemoteError(node, 'ssh.exec-timeout', `${node}: remote command still running after ${ms} ms`),
          ),
        ms,
      );
    }

    let attempts = 0;
    const open = (): void => {
      try {
        client.exec(command, onOpen);
      } catch (e) {
        cleanup();
        reject(
          ctx.dead() ??
            new RemoteError(node, 'ssh.disconnected', `${node}: not connected (${(e as Error).message})`),
        );
      }
    };
    const onOpen = (openErr: Error | undefined, ch: ClientChannel): void => {
      if (openErr !== undefined) {
        if (done) return;
        // sshd frees a session slot only in its channel garbage collection, after it has read our
        // CHANNEL_CLOSE: an open sent right behind that close can still find MaxSessions full.
        if (isOpenFailed(openErr) && attempts < OPEN_RETRIES && ctx.dead() === undefined) {
          setTimeout(open, Math.min(2 ** attempts++ * 2, 100));
          return;
        }
        cleanup();
        reject(
          ctx.dead() ??
            new RemoteError(
              node,
              'ssh.channel-failed',
              `${node}: cannot open an SSH channel: ${openErr.message}`,
              "is sshd MaxSessions on the node lower than pgharden's (10)?",
              { cause: openErr },
            ),
        );
        return;
      }
      if (done) {
        ch.close(); // aborted while the channel was opening
        return;
      }
      channel = ch;
      ch.on('data', (b: Buffer) => out.push(b));
      ch.stderr.on('data', (b: Buffer) => err.push(b));
      ch.on('exit', (code: number | null, signal?: string) => {
        exit = { code, signal };
      });
      ch.on('close', () => {
        // The connection's own 'close' runs before ssh2 closes its channels: a channel closed with
        // no exit status on a dead connection was cut, not finished.
        if (done) return;
        const gone = exit === undefined ? ctx.dead() : undefined;
        cleanup();
        if (gone !== undefined) reject(gone);
        else
          resolve({
            code: exit?.code ?? null,
            signal: exit?.signal,
            stdout: Buffer.concat(out),
            stderr: Buffer.concat(err),
          });
      });
      ch.on('error', () => undefined); // surfaced through 'close' / connection death
      if (options.stdin !== undefined) ch.end(options.stdin);
      else ch.end();
    };

    open();
  });
}
