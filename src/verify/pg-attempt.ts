// One connection attempt with node-postgres from the operator machine, reduced to plain data the
// probes judge. pg is imported lazily: startup must not pay for it. Passwords only ever reach pg
// through its password callback; messages come from the server or TLS and never contain one.
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';

export interface AttemptOptions {
  host: string;
  port: number;
  user: string;
  /** TLS options, or false for a plain (non-TLS) connection. */
  ssl: ConnectionOptions | false;
  /** undefined: any password request aborts the attempt (recorded as `passwordAsked`). */
  password: string | undefined;
  timeoutMs: number;
  /**
   * Talk over this stream (e.g. an SSH-forwarded channel) instead of a TCP connection to host:port;
   * host still names the server for TLS.
   */
  stream?: Duplex | undefined;
}

export type AttemptResult =
  | { kind: 'connected'; tls: string | null }
  | {
      kind: 'failed';
      /** SQLSTATE for server errors (28P01, 28000, …), Node/OpenSSL code for others. */
      code: string | undefined;
      /** The server sent an ErrorResponse (as opposed to a TLS, socket or timeout failure). */
      server: boolean;
      message: string;
      /** Negotiated TLS version when the handshake completed before the failure. */
      tls: string | null;
      passwordAsked: boolean;
    };

const PASSWORD_ASKED = 'pgharden: password requested and none given';

interface ConnectionInternals {
  connection?: {
    once(event: 'sslconnect', listener: () => void): void;
    stream?: {
      once(event: string, l: () => void): void;
      getProtocol?: () => string | null;
      destroy(): void;
    };
  };
}

export async function attempt(o: AttemptOptions): Promise<AttemptResult> {
  const { default: pg } = await import('pg');
  const given = o.stream;
  let passwordAsked = false as boolean;
  let tls = null as string | null;
  const client = new pg.Client({
    host: o.host,
    port: o.port,
    user: o.user,
    database: 'postgres',
    application_name: 'pgharden-verify',
    ssl: o.ssl,
    ...(given === undefined ? {} : { stream: () => asSocket(given) }),
    connectionTimeoutMillis: o.timeoutMs,
    query_timeout: o.timeoutMs,
    // A callback, so pg never falls back to PGPASSWORD or ~/.pgpass of the operator.
    password: () => {
      passwordAsked = true;
      if (o.password === undefined) return Promise.reject(new Error(PASSWORD_ASKED));
      return Promise.resolve(o.password);
    },
  });
  client.on('error', () => undefined); // late socket errors after a failed connect
  const internals = client as unknown as ConnectionInternals;
  internals.connection?.once('sslconnect', () => {
    const stream = internals.connection?.stream;
    stream?.once('secureConnect', () => {
      tls = stream.getProtocol?.() ?? null;
    });
  });
  try {
    await client.connect();
  } catch (err) {
    // pg leaves the socket open when the password callback fails; the server would hold it until
    // authentication_timeout (1 min) and keep the CLI alive that long.
    internals.connection?.stream?.destroy();
    const e = err as { code?: unknown; message?: unknown; severity?: unknown };
    return {
      kind: 'failed',
      code: typeof e.code === 'string' ? e.code : undefined,
      server: typeof e.severity === 'string',
      message:
        passwordAsked && o.password === undefined ? 'the server asked for a password' : String(e.message),
      tls,
      passwordAsked,
    };
  }
  try {
    const r = await client.query<{ version: string | null }>(
      'SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    return { kind: 'connected', tls: r.rows[0]?.version ?? tls };
  } catch {
    // Logged in: that is what the probes judge; the version query is a detail (the socket knows it).
    return { kind: 'connected', tls };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * pg drives its stream like a net.Socket: setNoDelay, connect(port, host), then waits for
 * 'connect'. An already-open stream only needs to say so.
 */
function asSocket(stream: Duplex): Duplex {
  return Object.assign(stream, {
    setNoDelay: () => stream,
    setKeepAlive: () => stream,
    connect: () => {
      process.nextTick(() => stream.emit('connect'));
      return stream;
    },
  });
}
