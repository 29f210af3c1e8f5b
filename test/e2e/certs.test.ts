// `pgharden certs issue/revoke/crl` with the bundled CLI, and the issued certificates served by the lab's
// real PostgreSQL 15 with ssl=on and verified by psql with sslmode=verify-full. The primary is restored
// exactly afterwards (other e2e files expect the insecure lab).
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLab } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { handTls, type HandTls } from './hand-tls.js';
import { jsonEvents, runCli } from './rig.js';

let lab: Lab;
let node: LabNode;
let work: string;
let pki: string;
let tls: HandTls;

/** psql over TCP from the operator side, with a clean libpq environment. */
function tcpPsql(conninfo: string, sql: string) {
  return execa(join(node.binDir, 'psql'), [conninfo, '-XAtc', sql], {
    reject: false,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      PGPASSWORD: lab.passwords['app'] ?? '',
      PGCONNECT_TIMEOUT: '5',
    },
    extendEnv: false,
  });
}

beforeAll(async () => {
  const l = await readLab('streaming');
  if (!l) throw new Error('the streaming lab is not up (test/e2e/global-setup.ts brings it up)');
  lab = l;
  const primary = lab.nodes.find((n) => n.role === 'primary');
  if (!primary) throw new Error('the streaming lab has no primary');
  node = primary;
  work = await mkdtemp(join(tmpdir(), 'pgharden-certs-'));
  pki = join(work, 'pki');
  tls = handTls(node, 'certs');
  await tls.prepare();
  expect(await tls.sql('SHOW ssl')).toBe('off');
});

afterAll(async () => {
  if (node === undefined) return;
  const after = await tls.restore();
  await rm(work, { recursive: true, force: true });
  expect(after.ssl).toBe('off');
  expect(after.autoConf).toBe(after.autoConfBefore);
  expect(after.nonDefaultTlsFiles).toBe('0');
});

describe('certs issue on the lab inventory', () => {
  it('issues the CA, a server cert per node and the app client cert; a second run keeps them', async () => {
    const run = await runCli(['certs', 'issue', '-i', lab.inventoryPath, '--out', pki, '--client', 'app']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const n of lab.nodes)
      expect(run.stdout).toMatch(
        new RegExp(`issued +${n.name}\\.crt +server ${n.name} +p256 .*SAN ${n.host.replaceAll('.', '\\.')}`),
      );
    expect(run.stdout).toMatch(/issued +app\.crt +client app +p256/);
    expect(run.stdout).not.toMatch(/PRIVATE KEY/);
    expect((await stat(pki)).mode & 0o777).toBe(0o700);
    expect((await stat(join(pki, 'pg1.key'))).mode & 0o777).toBe(0o600);

    const again = await runCli([
      'certs',
      'issue',
      '-i',
      lab.inventoryPath,
      '--out',
      pki,
      '--client',
      'app',
      '--json',
    ]);
    expect(again.code).toBe(0);
    const events = jsonEvents(again.stdout);
    expect(events.at(-1)).toMatchObject({
      type: 'summary',
      command: 'certs issue',
      exitCode: 0,
      counts: { issued: 0, reused: 2, kept: 2 * (lab.nodes.length + 1) },
    });
    expect(events.filter((e) => e.type === 'pki:file')).toHaveLength(2 * (lab.nodes.length + 2));
  });

  it('rejects --days beyond 825 and a revoke without a PKI directory, with exit 2', async () => {
    const days = await runCli(['certs', 'issue', '-i', lab.inventoryPath, '--out', pki, '--days', '1000']);
    expect(days.code).toBe(2);
    expect(days.stderr).toContain('--days 1000');
    const revoke = await runCli(['certs', 'revoke', 'pg2']);
    expect(revoke.code).toBe(2);
    expect(revoke.stderr).toContain('--dir');
  });
});

describe('PostgreSQL 15 serves the issued certificate', () => {
  beforeAll(async () => {
    await tls.enable(pki);
    expect(await tls.waitForSsl('on')).toBe('on');
  });

  const conninfo = (extra: string) =>
    `host=${node.host} port=${node.port} dbname=postgres user=app sslmode=verify-full ${extra}`;

  it('psql with sslmode=verify-full connects over TLS', async () => {
    const r = await tcpPsql(
      conninfo(`sslrootcert=${join(pki, 'root.crt')}`),
      'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('t');
  });

  it('presents the app client certificate, which the server verifies', async () => {
    const r = await tcpPsql(
      conninfo(
        `sslrootcert=${join(pki, 'root.crt')} sslcert=${join(pki, 'app.crt')} sslkey=${join(pki, 'app.key')}`,
      ),
      'SELECT ssl, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('t|/CN=app');
  });

  it('another CA → "certificate verify failed"; a name not in the SAN → refused', async () => {
    const other = join(work, 'other');
    expect((await runCli(['certs', 'issue', '-i', lab.inventoryPath, '--out', other])).code).toBe(0);
    const wrongCa = await tcpPsql(conninfo(`sslrootcert=${join(other, 'root.crt')}`), 'SELECT 1');
    expect(wrongCa.exitCode).not.toBe(0);
    expect(wrongCa.stderr).toContain('certificate verify failed');

    const wrongName = await tcpPsql(
      `host=db.invalid hostaddr=${node.host} port=${node.port} dbname=postgres user=app sslmode=verify-full sslrootcert=${join(pki, 'root.crt')}`,
      'SELECT 1',
    );
    expect(wrongName.exitCode).not.toBe(0);
    expect(wrongName.stderr).toMatch(/does not match host name "db\.invalid"/);
  });
});

describe('certs revoke and certs crl', () => {
  it('revokes the app client cert into root.crl that openssl then enforces; certs crl lists it', async () => {
    const r = await runCli(['certs', 'revoke', 'app', '--dir', pki, '--reason', 'keyCompromise']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/revoked CN=app \(serial [0-9a-f]{32}, keyCompromise\)/);
    expect(await readFile(join(pki, 'root.crl'), 'utf8')).toMatch(/^-----BEGIN X509 CRL-----\n/);

    const verify = await execa(
      'openssl',
      ['verify', '-crl_check', '-CRLfile', 'root.crl', '-CAfile', 'root.crt', 'app.crt'],
      { cwd: pki, reject: false },
    );
    expect(verify.exitCode).not.toBe(0);
    expect(verify.stdout + verify.stderr).toContain('certificate revoked');

    const crl = await runCli(['certs', 'crl', '-i', lab.inventoryPath, '--dir', pki, '--json']);
    expect(crl.code).toBe(0);
    const events = jsonEvents(crl.stdout);
    expect(events.filter((e) => e.type === 'crl:entry')).toEqual([
      expect.objectContaining({ reason: 'keyCompromise' }),
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'summary', signature: 'ok', revoked: 1, number: 1 });

    const foreign = await runCli(['certs', 'revoke', join(work, 'other', 'pg1.crt'), '--dir', pki]);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain('was not issued by the CA');
  });
});
