// The wire-protocol probes against small TCP servers that answer the way PostgreSQL does (the e2e
// tests run them over SSH against the lab's real servers).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { plainStartup, servedTls } from './pg-wire.js';

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

async function serve(onSocket: (s: Socket) => void): Promise<Socket> {
  server = createServer(onSocket);
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const client = connect(address.port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  return client;
}

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

describe('plainStartup', () => {
  it('reports the server error of a refused startup, with the startup packet it sent', async () => {
    let packet: Buffer = Buffer.alloc(0);
    const client = await serve((s) =>
      s.once('data', (b: Buffer) => {
        packet = b;
        // Fields: severity, SQLSTATE, message; split in two writes like a slow server.
        const body = Buffer.from('SFATAL\0C28000\0Mno pg_hba.conf entry for host "127.0.1.1"\0\0');
        const m = message('E', body);
        s.write(m.subarray(0, 3));
        setTimeout(() => s.end(m.subarray(3)), 5);
      }),
    );
    const r = await plainStartup(client, 'postgres', 'postgres');
    expect(r).toEqual({ kind: 'refused', message: 'no pg_hba.conf entry for host "127.0.1.1"' });
    expect(packet.readInt32BE(0)).toBe(packet.length);
    expect(packet.readInt32BE(4)).toBe(196608);
    expect(packet.subarray(8).toString()).toBe(
      'user\0postgres\0database\0postgres\0application_name\0pgharden\0\0',
    );
  });

  it('tells a password request from trust, and never answers one', async () => {
    const asks = (code: number) => async () => {
      let after = 0;
      const client = await serve((s) => {
        s.once('data', () => {
          const body = Buffer.alloc(4);
          body.writeInt32BE(code, 0);
          s.write(message('R', body));
          s.on('data', () => (after += 1));
        });
      });
      const r = await plainStartup(client, 'app', 'postgres');
      return { r, after };
    };
    expect((await asks(10)()).r).toEqual({ kind: 'password-asked' });
    expect((await asks(0)()).r).toEqual({ kind: 'accepted' });
    expect((await asks(5)()).after).toBe(0);
  });

  it('a connection closed without an answer is a failure, not a refusal', async () => {
    const client = await serve((s) => s.once('data', () => s.destroy()));
    const r = await plainStartup(client, 'postgres', 'postgres');
    expect(r.kind).toBe('failed');
  });
});

describe('servedTls', () => {
  it('N to SSLRequest: no TLS', async () => {
    const client = await serve((s) => s.once('data', () => s.write('N')));
    expect(await servedTls(client, '')).toEqual({ kind: 'no-tls' });
  });

  it('returns the served certificate once its chain verifies, and fails against another CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgwire-'));
    try {
      const gen = (name: string): { cert: string; key: string } => {
        execFileSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'ec',
            '-pkeyopt',
            'ec_paramgen_curve:P-256',
            '-nodes',
            '-days',
            '1',
            '-subj',
            `/CN=${name}`,
            '-keyout',
            join(dir, `${name}.key`),
            '-out',
            join(dir, `${name}.crt`),
          ],
          { stdio: 'ignore' },
        );
        return {
          cert: readFileSync(join(dir, `${name}.crt`), 'utf8'),
          key: readFileSync(join(dir, `${name}.key`), 'utf8'),
        };
      };
      const served = gen('server');
      const other = gen('other');
      const tlsServer = (s: Socket): void => {
        s.once('data', (b: Buffer) => {
          expect([...b]).toEqual([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
          s.write('S');
          const t = new TLSSocket(s, { isServer: true, cert: served.cert, key: served.key });
          t.on('error', () => undefined);
        });
      };
      const ok = await servedTls(await serve(tlsServer), served.cert);
      expect(ok.kind).toBe('served');
      if (ok.kind === 'served') {
        const pem = served.cert.replace(/-----[^-]+-----|\s/g, '');
        expect(ok.certDer.toString('base64')).toBe(pem);
      }
      server?.close();
      const bad = await servedTls(await serve(tlsServer), other.cert);
      expect(bad.kind).toBe('failed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
