import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueLeaf, loadCa, randomSerial, signedBy, type NewCa } from './ca.js';
import { x509 } from './x509.js';
import { rejection } from '../../test/helpers/rejection.js';

const DAY = 86_400_000;
const files = { cert: 'root.crt', key: 'root.key' };

/** The DER INTEGER body of the serial, read by OpenSSL (node's X509Certificate), not by our library. */
function serialBytes(pem: string): Buffer {
  return Buffer.from(new X509Certificate(pem).serialNumber, 'hex');
}

let ca: NewCa;
beforeAll(async () => {
  ca = await createCa({ cluster: 'prod-main' });
});

describe('randomSerial', () => {
  it('is 16 bytes, positive and without a leading zero byte, every time', () => {
    for (let i = 0; i < 500; i++) {
      const bytes = Buffer.from(randomSerial(), 'hex');
      expect(bytes).toHaveLength(16);
      expect(bytes[0]).toBeGreaterThan(0);
      expect(bytes[0]).toBeLessThan(0x80);
    }
  });
});

describe('createCa', () => {
  it('is a P-256 CA for 10 years with the extensions of SPEC §6', () => {
    const native = new X509Certificate(ca.certPem);
    expect(native.ca).toBe(true);
    expect(native.subject).toBe('CN=prod-main pgharden CA');
    expect(native.issuer).toBe(native.subject);
    expect(native.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(native.verify(native.publicKey)).toBe(true);
    const years = (Date.parse(native.validTo) - Date.now()) / (365 * DAY);
    expect(years).toBeGreaterThan(9.9);
    expect(years).toBeLessThan(10.1);
    expect(serialBytes(ca.certPem)).toHaveLength(16);

    const bc = ca.cert.getExtension(x509.BasicConstraintsExtension);
    expect(bc).toMatchObject({ ca: true, pathLength: 0, critical: true });
    const ku = ca.cert.getExtension(x509.KeyUsagesExtension);
    expect(ku?.critical).toBe(true);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(ca.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toBe(ca.keyId);
    expect(ca.cert.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
  });

  it('signs with SHA-384 when the key is P-384', async () => {
    const p384 = await createCa({ cluster: 'c', keyType: 'p384' });
    expect(p384.cert.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-384' } });
    expect(p384.keyLabel).toBe('p384');
  });
});

describe('issueLeaf', () => {
  it('server: CN, SAN typed DNS vs IP (v4 and v6), serverAuth, CA:FALSE, SKI and AKI', async () => {
    const spec = { name: 'pg1', kind: 'node' as const, sans: ['10.0.0.11', 'pg1.internal', 'fd00::11'] };
    const leaf = await issueLeaf(ca, spec, { keyType: 'p256' });
    const native = new X509Certificate(leaf.certPem);
    expect(native.subject).toBe('CN=pg1');
    expect(native.subjectAltName).toBe(
      'IP Address:10.0.0.11, DNS:pg1.internal, IP Address:FD00:0:0:0:0:0:0:11',
    );
    expect(native.ca).toBe(false);
    expect(native.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(native.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(native.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(serialBytes(leaf.certPem)).toHaveLength(16);

    expect(leaf.cert.getExtension(x509.BasicConstraintsExtension)).toMatchObject({
      ca: false,
      critical: true,
    });
    const ku = leaf.cert.getExtension(x509.KeyUsagesExtension);
    expect(ku).toMatchObject({ usages: x509.KeyUsageFlags.digitalSignature, critical: true });
    expect(leaf.cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(ca.keyId);
    expect(leaf.cert.getExtension(x509.SubjectKeyIdentifierExtension)).not.toBeNull();
    const days = (leaf.cert.notAfter.getTime() - Date.now()) / DAY;
    expect(Math.round(days)).toBe(365);
    expect(signedBy(leaf.cert, ca)).toBe(true);
  });

  it('client: CN = role, clientAuth, no SAN; RSA keys add keyEncipherment', async () => {
    const leaf = await issueLeaf(
      ca,
      { name: 'app', kind: 'client', sans: [] },
      { keyType: 'rsa3072', days: 30 },
    );
    const native = new X509Certificate(leaf.certPem);
    expect(native.subject).toBe('CN=app');
    expect(native.subjectAltName).toBeUndefined();
    expect(native.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(native.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(leaf.cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    );
    expect(Math.round((leaf.cert.notAfter.getTime() - Date.now()) / DAY)).toBe(30);
  });

  it('never outlives its CA', async () => {
    const short = await createCa({ cluster: 'c', days: 10 });
    const leaf = await issueLeaf(short, { name: 'pg1', kind: 'node', sans: ['pg1'] }, { keyType: 'p256' });
    expect(leaf.cert.notAfter.getTime()).toBe(short.cert.notAfter.getTime());
  });
});

describe('loadCa', () => {
  it('loads a CA back and signs with it', async () => {
    const loaded = await loadCa(ca.certPem, ca.keyPem, files);
    expect(loaded.keyId).toBe(ca.keyId);
    expect(loaded.keyEncrypted).toBe(false);
    const leaf = await issueLeaf(loaded, { name: 'pg2', kind: 'node', sans: ['pg2'] }, { keyType: 'p256' });
    expect(signedBy(leaf.cert, ca)).toBe(true);
  });

  it('refuses a key that is not the certificate’s', async () => {
    const other = await createCa({ cluster: 'other' });
    const err = await rejection(loadCa(ca.certPem, other.keyPem, files));
    expect(err.code).toBe('pki.ca-key-mismatch');
    expect(err.exitCode).toBe(2);
  });

  it('refuses a leaf posing as the CA', async () => {
    const leaf = await issueLeaf(ca, { name: 'pg1', kind: 'node', sans: ['pg1'] }, { keyType: 'p256' });
    const err = await rejection(loadCa(leaf.certPem, leaf.keyPem, files));
    expect(err.code).toBe('pki.ca-not-ca');
  });

  it('an encrypted CA key needs --ca-passphrase-file', async () => {
    const enc = await createCa({ cluster: 'c', passphrase: 'pw' });
    const err = await rejection(loadCa(enc.certPem, enc.keyPem, files));
    expect(err.code).toBe('key.encrypted-no-passphrase');
    expect(err.hint).toContain('--ca-passphrase-file');
    expect((await loadCa(enc.certPem, enc.keyPem, files, 'pw')).keyEncrypted).toBe(true);
  });
});
