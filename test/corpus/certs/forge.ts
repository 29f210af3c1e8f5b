// In-process certificates for unit tests (ECDSA keys: milliseconds each), made with @peculiar/x509
// the way the engine will hand them to `lintCertificate`. Nothing is written to disk.
import { webcrypto } from 'node:crypto';
import { x509 } from '../../../src/pki/x509.js';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const DAY = 86_400_000;

export async function ecKeys(curve: 'P-256' | 'P-384' | 'P-521' = 'P-256'): Promise<CryptoKeyPair> {
  return await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify']);
}

export interface Issuer {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export async function makeCa(
  name = 'CN=forge CA',
  opts: { signer?: Issuer; days?: number; ca?: boolean } = {},
): Promise<Issuer> {
  const keys = await ecKeys();
  const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey);
  const extensions = [
    new x509.BasicConstraintsExtension(opts.ca ?? true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ski,
  ];
  const notAfter = new Date(Date.now() + (opts.days ?? 3650) * DAY);
  const cert =
    opts.signer === undefined
      ? await x509.X509CertificateGenerator.createSelfSigned({
          name,
          keys,
          notBefore: new Date(Date.now() - 2 * DAY),
          notAfter,
          signingAlgorithm: { ...EC, hash: 'SHA-256' },
          extensions,
        })
      : await x509.X509CertificateGenerator.create({
          subject: name,
          issuer: opts.signer.cert.subject,
          publicKey: keys.publicKey,
          signingKey: opts.signer.keys.privateKey,
          notBefore: new Date(Date.now() - DAY),
          notAfter,
          signingAlgorithm: { ...EC, hash: 'SHA-256' },
          extensions: [
            ...extensions,
            await x509.AuthorityKeyIdentifierExtension.create(opts.signer.keys.publicKey),
          ],
        });
  return { cert, keys };
}

export interface LeafOptions {
  cn?: string;
  dns?: string[];
  ip?: string[];
  eku?: ('serverAuth' | 'clientAuth')[] | null;
  ca?: boolean;
  /** Public key of the leaf: a CryptoKey, or SPKI DER (for keys nobody holds, e.g. RSA 9000). */
  publicKey?: webcrypto.CryptoKey | ArrayBuffer;
  extra?: x509.Extension[];
  from?: number;
  days?: number;
}

export async function makeLeaf(
  issuer: Issuer,
  o: LeafOptions = {},
): Promise<{ cert: x509.X509Certificate; keys?: CryptoKeyPair }> {
  const keys = o.publicKey === undefined ? await ecKeys() : undefined;
  const publicKey = o.publicKey ?? keys?.publicKey;
  if (publicKey === undefined) throw new Error('no public key');
  const names = [
    ...(o.dns ?? ['db1.example.com']).map((value) => ({ type: 'dns' as const, value })),
    ...(o.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const eku = o.eku === undefined ? ['serverAuth' as const] : o.eku;
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${o.cn ?? 'db1'}`,
    issuer: issuer.cert.subject,
    publicKey,
    signingKey: issuer.keys.privateKey,
    notBefore: new Date(Date.now() + (o.from ?? -1) * DAY),
    notAfter: new Date(Date.now() + (o.days ?? 365) * DAY),
    signingAlgorithm: { ...EC, hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(o.ca ?? false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ...(eku === null ? [] : [new x509.ExtendedKeyUsageExtension(eku.map((u) => x509.ExtendedKeyUsage[u]))]),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
      ...(o.extra ?? []),
    ],
  });
  return keys === undefined ? { cert } : { cert, keys };
}
