// Open one authenticated ssh2 connection to a target, through its ProxyJump chain. Owns the connect
// timer (paused while the operator answers a prompt), the host key check, and the translation of
// ssh2/socket failures into RemoteErrors with stable codes.
import type { Client, ClientChannel, ClientErrorExtensions } from 'ssh2';
import type { Readable } from 'node:stream';
import { makeAuth } from './auth.js';
import { RemoteError } from './errors.js';
import { abortReason } from './exec.js';
import { verifyHostKey } from './host-key.js';
import type { HostKeyInfo, Secrets, SshTarget, UnknownHostKeyPolicy } from './types.js';

export interface HopOptions {
  hostKeys: UnknownHostKeyPolicy;
  secrets?: Secrets | undefined;
  signal?: AbortSignal | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** ssh2 keepalive: a dead peer is noticed after interval × (countMax + 1). */
  keepaliveIntervalMs?: number | undefined;
  keepaliveCountMax?: number | undefined;
}

export interface Hop {
  client: Client;
  hostKey: HostKeyInfo;
  target: SshTarget;
  /** The hop we tunnel through; ended when this one closes. */
  jump?: Hop | undefined;
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

type Ssh2Error = Error & ClientErrorExtensions & { code?: string };

export function mapConnectError(target: SshTarget, err: Ssh2Error, tried: readonly string[]): RemoteError {
  const { node, host, port, user } = target;
  const where = `${host}:${port}`;
  if (err.level === 'client-socket' && err.code !== undefined && UNREACHABLE.has(err.code)) {
    return new RemoteError(
      node,
      'ssh.unreachable',
      `${node}: cannot reach ${where}: ${err.code}`,
      'check the host address and port, and that sshd runs and is not firewalled',
      { cause: err },
    );
  }
  if (err.code === 'ETIMEDOUT' || err.level === 'client-timeout') {
    return new RemoteError(node, 'ssh.timeout', `${node}: ${where} timed out (${err.message})`, undefined, {
      cause: err,
    });
  }
  if (err.level === 'client-authentication') {
    const what =
      tried.length > 0 ? `tried ${tried.join(', ')}` : 'no key file, agent or default key was available';
    return new RemoteError(
      node,
      'ssh.auth-failed',
      `${node}: SSH authentication failed for ${user}@${where} (${what})`,
      `put the public key into ~${user}/.ssh/authorized_keys on ${host}, or set ssh.identityFile / ssh.user`,
      { cause: err },
    );
  }
  return new RemoteError(
    node,
    'ssh.handshake-failed',
    `${node}: SSH handshake with ${where} failed: ${err.message}`,
    undefined,
    {
      cause: err,
    },
  );
}

/** A setTimeout that stops while we wait for a human, so a slow answer does not count as a slow host. */
function pausableTimer(ms: number, onFire: () => void) {
  let remaining = ms;
  let started = Date.now();
  let handle: NodeJS.Timeout | undefined = setTimeout(onFire, remaining);
  let waiting = 0;
  return {
    async around<T>(p: Promise<T>): Promise<T> {
      if (waiting++ === 0 && handle !== undefined) {
        clearTimeout(handle);
        handle = undefined;
        remaining -= Date.now() - started;
      }
      try {
        return await p;
      } finally {
        if (--waiting === 0 && remaining !== Infinity) {
          started = Date.now();
          handle = setTimeout(onFire, Math.max(remaining, 0));
        }
      }
    },
    stop(): void {
      remaining = Infinity;
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
    },
  };
}

function forwardThrough(jump: Hop, target: SshTarget): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    jump.client.forwardOut('127.0.0.1', 0, target.host, target.port, (err, stream) => {
      if (err === undefined) {
        resolve(stream);
        return;
      }
      reject(
        new RemoteError(
          target.node,
          'ssh.unreachable',
          `${target.node}: cannot reach ${target.host}:${target.port} via jump host ${jump.target.host}: ${err.message}`,
          'check the address as the jump host sees it, and AllowTcpForwarding on the jump host',
          { cause: err },
        ),
      );
    });
  });
}

export async function openHop(target: SshTarget, options: HopOptions): Promise<Hop> {
  options.signal?.throwIfAborted();
  const jump = target.proxyJump === undefined ? undefined : await openHop(target.proxyJump, options);
  try {
    const sock = jump === undefined ? undefined : await forwardThrough(jump, target);
    const hop = await handshake(target, options, sock);
    if (jump !== undefined) {
      hop.jump = jump;
      hop.client.once('close', () => jump.client.end());
    }
    return hop;
  } catch (err) {
    jump?.client.end();
    throw err;
  }
}

async function handshake(target: SshTarget, options: HopOptions, sock: Readable | undefined): Promise<Hop> {
  const { default: ssh2 } = await import('ssh2');
  const client = new ssh2.Client();
  const env = options.env ?? process.env;
  let fatal: Error | undefined;
  let hostKey: HostKeyInfo | undefined;

  return new Promise<Hop>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error): void => {
      fatal ??= err;
      client.destroy();
      sock?.destroy();
    };
    const timer = pausableTimer(target.readyTimeoutMs, () =>
      fail(
        new RemoteError(
          target.node,
          'ssh.timeout',
          `${target.node}: no SSH session with ${target.host}:${target.port} within ${target.readyTimeoutMs} ms`,
          'the host may drop packets or sshd may hang; raise ssh.timeoutMs or ConnectTimeout if it is just slow',
        ),
      ),
    );
    const onAbort = (): void => {
      if (options.signal !== undefined) fail(abortReason(options.signal));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      timer.stop();
      options.signal?.removeEventListener('abort', onAbort);
      if (err === undefined && hostKey !== undefined) {
        resolve({ client, hostKey, target });
        return;
      }
      client.destroy();
      reject(err ?? new Error('ssh: ready without a verified host key'));
    };
    const auth = makeAuth(target, {
      secrets: options.secrets,
      env,
      parseKey: (data, passphrase) => ssh2.utils.parseKey(data, passphrase),
      whileWaitingForOperator: (p) => timer.around(p),
      fail,
    });

    client.on('ready', () => finish(fatal));
    client.on('error', (err: Ssh2Error) => finish(fatal ?? mapConnectError(target, err, auth.tried)));
    client.on('close', () =>
      finish(
        fatal ??
          new RemoteError(
            target.node,
            'ssh.handshake-failed',
            `${target.node}: ${target.host}:${target.port} closed the connection during the SSH handshake`,
          ),
      ),
    );
    client.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      ...(sock === undefined ? {} : { sock }),
      readyTimeout: 0, // ours: see pausableTimer
      keepaliveInterval: options.keepaliveIntervalMs ?? 5000,
      keepaliveCountMax: options.keepaliveCountMax ?? 3,
      authHandler: auth.handler,
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        verifyHostKey(target, key, options.hostKeys, (p) => timer.around(p)).then(
          (info) => {
            hostKey = info;
            verify(true);
          },
          (err: unknown) => {
            fatal ??= err as Error;
            verify(false);
          },
        );
      },
    });
    // Small request/response packets: with Nagle each one waits for the peer's delayed ACK (~40 ms
    // per exec round trip measured on loopback, ~4 ms without).
    client.setNoDelay(true);
  });
}
