// The first messages of PostgreSQL's wire protocol, over any stream: the TLS upgrade (SSLRequest,
// then a handshake that verifies the served chain against a CA bundle) and a plain startup packet
// (what pg_hba.conf answers a non-TLS client). Used over an SSH forwarded channel, they show what a
// new client gets from the server without starting a process on the node (a psql plus an
// `openssl s_client` there cost ~80 ms of CPU per look).
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';

/** Int32 length 8, then the SSLRequest code 80877103 (PostgreSQL protocol, "SSLRequest"). */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

export type ServedTls =
  | { kind: 'served'; certDer: Buffer }
  /** The server answered N: ssl is off. */
  | { kind: 'no-tls' }
  /** The handshake failed (untrusted chain, protocol, …) or the stream ended: the message says which. */
  | { kind: 'failed'; message: string };

/**
 * Asks the server at the other end of `stream` for TLS and returns the certificate it serves once
 * the chain verified against `caPem`. The host name is not checked (the caller compares
 * fingerprints). Ends the stream.
 */
export function servedTls(stream: Duplex, caPem: string, timeoutMs = 10_000): Promise<ServedTls> {
  return exchange<ServedTls>(stream, timeoutMs, 'no TLS answer', (finish) => {
    stream.once('data', (b: Buffer) => {
      if (b[0] === 0x4e) return finish({ kind: 'no-tls' }); // 'N'
      if (b[0] !== 0x53 || b.length !== 1) {
        return finish({ kind: 'failed', message: 'not a PostgreSQL answer to SSLRequest' });
      }
      const tls = tlsConnect({
        socket: stream,
        ca: caPem,
        rejectUnauthorized: true,
        checkServerIdentity: () => undefined,
        minVersion: 'TLSv1.2',
      });
      tls.once('secureConnect', () => {
        const der = tls.getPeerCertificate().raw;
        tls.destroy();
        finish({ kind: 'served', certDer: der });
      });
      tls.once('error', (e: Error) => finish({ kind: 'failed', message: e.message }));
    });
    stream.write(SSL_REQUEST);
  });
}

export type PlainStartup =
  /** pg_hba.conf (or the server) refused before asking for anything: the error message. */
  | { kind: 'refused'; message: string }
  /** The server authenticated the client at once (trust) or asked for a password / SASL. */
  | { kind: 'accepted' | 'password-asked' }
  | { kind: 'failed'; message: string };

/**
 * Sends a protocol 3.0 startup packet without TLS and reads the first answer. Never sends a
 * password: an authentication request means some rule takes plain TCP for this user. Ends the stream.
 */
export function plainStartup(
  stream: Duplex,
  user: string,
  database: string,
  timeoutMs = 10_000,
): Promise<PlainStartup> {
  return exchange<PlainStartup>(stream, timeoutMs, 'no answer', (finish) => {
    let got = Buffer.alloc(0);
    stream.on('data', (b: Buffer) => {
      got = Buffer.concat([got, b]);
      if (got.length < 5) return;
      const type = String.fromCharCode(got[0] ?? 0);
      const length = got.readInt32BE(1);
      if (got.length < 1 + length) return;
      const body = got.subarray(5, 1 + length);
      if (type === 'R') {
        return finish({ kind: body.readInt32BE(0) === 0 ? 'accepted' : 'password-asked' });
      }
      if (type === 'E') return finish({ kind: 'refused', message: errorText(body) });
      finish({ kind: 'failed', message: `unexpected message ${JSON.stringify(type)}` });
    });
    const params = Buffer.from(`user\0${user}\0database\0${database}\0application_name\0pgharden\0\0`);
    const head = Buffer.alloc(8);
    head.writeInt32BE(8 + params.length, 0);
    head.writeInt32BE(196608, 4); // protocol 3.0
    stream.write(Buffer.concat([head, params]));
  });
}

/** The M (message) field of an ErrorResponse body: code byte + NUL-terminated string pairs. */
function errorText(body: Buffer): string {
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const code = String.fromCharCode(body[i] ?? 0);
    const end = body.indexOf(0, i + 1);
    if (end < 0) break;
    if (code === 'M') return body.subarray(i + 1, end).toString('utf8');
    i = end + 1;
  }
  return 'error';
}

/**
 * The frame of one request/answer on a fresh stream: `start` writes and listens, and calls finish
 * once; a timeout, an error or an early close finish it as failed. The stream is destroyed after.
 */
function exchange<R>(
  stream: Duplex,
  timeoutMs: number,
  silence: string,
  start: (finish: (r: R | { kind: 'failed'; message: string }) => void) => void,
): Promise<R | { kind: 'failed'; message: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: R | { kind: 'failed'; message: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ kind: 'failed', message: `${silence} in ${timeoutMs} ms` }),
      timeoutMs,
    );
    stream.on('error', (e: Error) => finish({ kind: 'failed', message: e.message }));
    stream.once('close', () => finish({ kind: 'failed', message: 'the connection closed' }));
    start(finish);
  });
}
