import { createHash, webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeCa, makeLeaf, type Issuer } from '../../test/corpus/certs/forge.js';
import { certsInspectCommand } from '../cli/certs-inspect.js';
import type { CliIo } from '../cli/io.js';
import { toParsedCert } from './import.js';
import { certInfo } from './inspect.js';
import { x509 } from './x509.js';

let root: Issuer;
let intermediate: Issuer;
let leafPem = '';

beforeAll(async () => {
  root = await makeCa('CN=forge root');
  intermediate = await makeCa('CN=forge intermediate', { signer: root });
  const leaf = await makeLeaf(intermediate, {
    cn: 'db1',
    dns: ['db1.example.com', '*.db.example.com'],
    ip: ['10.0.0.11', 'fd00::11'],
    eku: ['serverAuth', 'clientAuth'],
  });
  leafPem = leaf.cert.toString('pem');
});

describe('certInfo', () => {
  it('describes a leaf as plain data, with OpenSSL-style names', () => {
    const parsed = toParsedCert(leafPem, 'db1.crt');
    const now = new Date(parsed.cert.notBefore.getTime() + 86_400_000 * 10.5);
    const info = certInfo(parsed, now);
    const sha256 = createHash('sha256').update(parsed.der).digest('hex').toUpperCase();
    expect(info).toMatchObject({
      subject: 'CN=db1',
      issuer: 'CN=forge intermediate',
      commonName: 'db1',
      role: 'leaf',
      selfSigned: false,
      san: { dns: ['db1.example.com', '*.db.example.com'], ip: ['10.0.0.11', 'fd00::11'], other: [] },
      key: { type: 'ECDSA', curve: 'P-256', bits: 256, text: 'ECDSA P-256' },
      signatureAlgorithm: 'ecdsa-with-SHA256',
      version: 3,
      extendedKeyUsage: ['serverAuth', 'clientAuth'],
      basicConstraints: { ca: false, pathLength: undefined, critical: true },
      keyUsage: ['digitalSignature'],
      criticalExtensions: ['basicConstraints', 'keyUsage'],
      sha256Fingerprint: sha256.match(/../g)?.join(':'),
    });
    expect(info.daysLeft).toBe(355);
    expect(info.serial).toMatch(/^[0-9A-F]+$/);
    expect(info.authorityKeyId).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(JSON.parse(JSON.stringify(info))).toEqual(info); // JSON-safe: no class instances
  });

  it('labels roots and intermediates, and names RSA and Ed25519 keys and signatures', async () => {
    expect(certInfo(toParsedCert(root.cert)).role).toBe('root');
    expect(certInfo(toParsedCert(intermediate.cert)).role).toBe('intermediate');
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]) };
    const rsa = await webcrypto.subtle.generateKey({ ...alg, modulusLength: 1024 }, true, ['sign', 'verify']);
    const rsaCert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=rsa',
      keys: rsa,
      signingAlgorithm: alg,
    });
    expect(certInfo(toParsedCert(rsaCert))).toMatchObject({
      key: { text: 'RSA 1024' },
      signatureAlgorithm: 'sha256WithRSAEncryption',
      role: 'leaf',
    });
    const ed = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const edCert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=ed',
      keys: ed,
      signingAlgorithm: { name: 'Ed25519' },
    });
    expect(certInfo(toParsedCert(edCert))).toMatchObject({
      key: { text: 'Ed25519' },
      signatureAlgorithm: 'ED25519',
    });
  });
});

async function inspect(files: string[], json: boolean) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const io: CliIo = { stdout, stderr, env: {}, stdinTTY: false, stdoutTTY: false };
  const code = await certsInspectCommand(files, { json }, io);
  return { code, out, err };
}

describe('certs inspect', () => {
  it('prints a table per certificate of a chain, labelled', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgh-inspect-'));
    await writeFile(
      `${dir}/chain.crt`,
      leafPem + intermediate.cert.toString('pem') + root.cert.toString('pem'),
    );
    const r = await inspect([`${dir}/chain.crt`], false);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/chain\.crt {2}\[1\/3\] leaf\n {2}subject +CN=db1/);
    expect(r.out).toMatch(/\[2\/3\] intermediate/);
    expect(r.out).toMatch(
      /\[3\/3\] root\n {2}subject +CN=forge root\n {2}issuer +CN=forge root \(self-signed\)/,
    );
    expect(r.out).toMatch(/SAN IP +10\.0\.0\.11, fd00::11/);
    expect(r.out).toMatch(/validity +\S+Z → \S+Z \(\d+ days left\)/);

    const j = await inspect([`${dir}/chain.crt`, `${dir}/missing.crt`], true);
    const lines = j.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l['type'])).toEqual(['cert', 'cert', 'cert', 'error', 'summary']);
    expect(lines[0]).toMatchObject({
      v: 1,
      type: 'cert',
      file: `${dir}/chain.crt`,
      index: 0,
      role: 'leaf',
      subject: 'CN=db1',
    });
    expect(lines[3]).toMatchObject({ type: 'error', code: 'file.unreadable' });
    expect(lines[4]).toMatchObject({ type: 'summary', command: 'certs inspect', exitCode: 2 });
    expect(j.code).toBe(2);
    expect(j.err).toMatch(/✗ file\.unreadable: cannot read \S+missing\.crt: no such file/);
    await rm(dir, { recursive: true, force: true });
  });
});
