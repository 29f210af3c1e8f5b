import { describe, expect, it } from 'vitest';
import { judgeNoTls, judgeVerifyFull } from './peer.js';
import { sanNames } from './probes.js';

const failed = (msg: string) =>
  `psql: error: connection to server at "10.0.0.11", port 5432 failed: ${msg}\n`;

describe('peer probe verdicts from psql stderr', () => {
  it.each([
    [
      2,
      failed(
        'FATAL:  no pg_hba.conf entry for host "10.0.0.12", user "app", database "postgres", no encryption',
      ),
      true,
    ],
    [
      2,
      failed(
        'FATAL:  pg_hba.conf rejects connection for host "127.0.0.1", user "app", database "postgres", no encryption',
      ),
      true,
    ],
    [2, failed('fe_sendauth: no password supplied'), false],
    [2, failed('FATAL:  password authentication failed for user "app"'), false],
    [0, '', false],
    [2, failed('Connection refused'), false],
  ])('sslmode=disable: exit %i %j → ok %s', (code, stderr, ok) => {
    expect(judgeNoTls(code, stderr).ok).toBe(ok);
  });

  it.each([
    [0, '', true],
    [2, failed('fe_sendauth: no password supplied'), true],
    [
      2,
      failed(
        'FATAL:  no pg_hba.conf entry for host "10.0.0.12", user "app", database "postgres", SSL encryption',
      ),
      true,
    ],
    [2, failed('FATAL:  connection requires a valid client certificate'), true],
    [2, failed('FATAL:  certificate authentication failed for user "app"'), true],
    [2, failed('SSL error: certificate verify failed'), false],
    [2, failed('server certificate for "pg1" does not match host name "10.0.0.11"'), false],
    [2, failed('server does not support SSL, but SSL was required'), false],
  ])('sslmode=verify-full: exit %i %j → ok %s', (code, stderr, ok) => {
    expect(judgeVerifyFull(code, stderr).ok).toBe(ok);
  });

  it('SAN names from Node subjectAltName', () => {
    expect(sanNames('DNS:pg1.internal, IP Address:10.0.0.11, email:x@y')).toEqual([
      'pg1.internal',
      '10.0.0.11',
    ]);
    expect(sanNames(undefined)).toEqual([]);
  });
});
