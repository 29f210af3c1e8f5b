import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCa, issueLeaf, type Ca } from './ca.js';
import { describeCrl, normalizeSerial, readCrlFile, revoke } from './crl.js';
import { issueToDir } from './issue.js';
import { readCertFile, requireCa } from './store.js';
import { x509 } from './x509.js';
import { rejection } from '../../test/helpers/rejection.js';

const run = promisify(execFile);
const DAY = 86_400_000;

let dir: string;
let ca: Ca;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgharden-crl-'));
  await issueToDir({
    dir,
    cluster: 'prod',
    leaves: [
      { name: 'pg1', kind: 'node', sans: ['10.0.0.11'] },
      { name: 'pg2', kind: 'node', sans: ['10.0.0.12'] },
      { name: 'app', kind: 'client', sans: [] },
    ],
  });
  ca = await requireCa(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cert = (name: string) => readCertFile(join(dir, `${name}.crt`));

async function openssl(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run('openssl', args, { cwd: dir });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('revoke', () => {
  it('writes root.crl (PEM X509 CRL) listing the serial with its reason, signed by the CA', async () => {
    const app = await cert('app');
    const before = Date.now();
    const r = await revoke(dir, app, 'keyCompromise');
    expect(r).toMatchObject({ status: 'added', serial: normalizeSerial(app.serialNumber) });
    const text = await readFile(join(dir, 'root.crl'), 'utf8');
    expect(text.split('\n')[0]).toBe('-----BEGIN X509 CRL-----');

    const crl = new x509.X509Crl(text);
    expect(await crl.verify({ publicKey: ca.cert })).toBe(true);
    expect(crl.issuer).toBe('CN=prod pgharden CA');
    expect(crl.findRevoked(app)?.reason).toBe(x509.X509CrlReason.keyCompromise);
    expect(crl.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(ca.keyId);
    const next = crl.nextUpdate?.getTime() ?? 0;
    expect(Math.round((next - before) / DAY)).toBe(30);
    expect(describeCrl(crl)).toMatchObject({ number: 1n, entries: [{ reason: 'keyCompromise' }] });
  });

  it('is idempotent, bumps the CRL number on every re-sign, and may change the reason', async () => {
    const app = await cert('app');
    const first = await revoke(dir, app, 'superseded');
    const again = await revoke(dir, app, 'superseded');
    expect(again.status).toBe('already');
    const changed = await revoke(dir, app, 'keyCompromise');
    expect(changed.status).toBe('reason-changed');
    const info = describeCrl(changed.crl);
    expect(info.number).toBe(3n);
    expect(info.entries).toHaveLength(1);
    // The first revocation date stays: that is when the certificate stopped being trusted.
    expect(info.entries[0]?.revoked).toEqual(describeCrl(first.crl).entries[0]?.revoked);
    expect(info.entries[0]?.reason).toBe('keyCompromise');
  });

  it('keeps earlier entries and takes a bare serial', async () => {
    const pg1 = await cert('pg1');
    await revoke(dir, pg1, 'cessationOfOperation');
    await revoke(dir, 'AB:CD:01', 'unspecified');
    const info = describeCrl((await readCrlFile(dir))!);
    expect(info.entries.map((e) => [e.serial, e.reason])).toEqual([
      [normalizeSerial(pg1.serialNumber), 'cessationOfOperation'],
      ['abcd01', 'unspecified'],
    ]);
  });

  it('refuses a certificate of another CA, the CA itself, and a CRL of another CA', async () => {
    const other = await createCa({ cluster: 'other' });
    const foreign = await issueLeaf(other, { name: 'pg1', kind: 'node', sans: ['x'] }, { keyType: 'p256' });
    expect(await rejection(revoke(dir, foreign.cert, 'superseded'))).toMatchObject({
      code: 'pki.not-issued-by-ca',
      exitCode: 2,
    });
    expect((await rejection(revoke(dir, ca.cert, 'cACompromise'))).code).toBe('pki.revoke-ca');

    const otherDir = await mkdtemp(join(tmpdir(), 'pgharden-crl-other-'));
    await writeFile(join(otherDir, 'root.crt'), other.certPem);
    await writeFile(join(otherDir, 'root.key'), other.keyPem);
    await revoke(otherDir, foreign.cert, 'superseded');
    await writeFile(join(dir, 'root.crl'), await readFile(join(otherDir, 'root.crl')));
    await rm(otherDir, { recursive: true, force: true });
    expect((await rejection(revoke(dir, await cert('app'), 'superseded'))).code).toBe('pki.crl-foreign');
  });

  it('no CA in the directory → exit 2 naming it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'pgharden-crl-empty-'));
    const err = await rejection(revoke(empty, 'abcd', 'superseded'));
    await rm(empty, { recursive: true, force: true });
    expect(err).toMatchObject({ code: 'pki.no-ca', exitCode: 2 });
  });
});

describe('the CRL with the openssl CLI', () => {
  it('`openssl crl` parses it; `openssl verify -crl_check` rejects the revoked cert only', async () => {
    await revoke(dir, await cert('pg2'), 'keyCompromise');
    await revoke(dir, await cert('app'), 'unspecified');
    const text = await openssl('crl', '-in', 'root.crl', '-noout', '-text');
    expect(text.code).toBe(0);
    expect(text.out).toContain('Issuer: CN = prod pgharden CA');
    expect(text.out).toContain('Key Compromise');
    expect(text.out).toMatch(/X509v3 CRL Number: *\n *2/);
    expect(text.out).toContain('Next Update');

    const check = (file: string) =>
      openssl('verify', '-x509_strict', '-crl_check', '-CRLfile', 'root.crl', '-CAfile', 'root.crt', file);
    const revoked = await check('pg2.crt');
    expect(revoked.code).not.toBe(0);
    expect(revoked.out).toContain('certificate revoked');
    expect((await check('app.crt')).out).toContain('certificate revoked');
    expect(await check('pg1.crt')).toMatchObject({ code: 0 });
  });
});
