// The cluster CA (SPEC §6) and what it signs: its own certificate once, then server and client leaves.
import { createPublicKey, randomBytes, X509Certificate as NodeX509 } from 'node:crypto';
import { isIP } from 'node:net';
import { UsageError } from '../core/errors.js';
import { keyMatchesCert, parseCertificateBlocks } from './import.js';
import {
  exportPrivateKeyPem,
  generateKeyPair,
  keyObjectOf,
  keyTypeOf,
  loadPrivateKey,
  signingAlgorithm,
  type CryptoKey,
  type KeyType,
} from './keys.js';
import { x509 } from './x509.js';

export const CA_DAYS = 3650;
export const LEAF_DAYS = 365;
const DAY_MS = 86_400_000;

export interface Ca {
  cert: x509.X509Certificate;
  certPem: string;
  signingKey: CryptoKey;
  /** p256, p384, rsa3072, … of the CA key. */
  keyLabel: string;
  /** Hex SKI of the CA: the AKI of everything it signs, and how a CRL names its issuer's key. */
  keyId: string;
  /** root.key is stored encrypted (a passphrase is needed to sign). */
  keyEncrypted: boolean;
}

export interface NewCa extends Ca {
  /** PKCS#8 PEM, encrypted when a passphrase was given. Written once, to root.key, 0600. */
  keyPem: string;
}

export type LeafKind = 'node' | 'pooler' | 'client';

export interface LeafSpec {
  /** Subject CN and file stem: node/pooler name or database role. */
  name: string;
  kind: LeafKind;
  /** DNS names and IP addresses for the SAN (servers only; empty for clients). */
  sans: string[];
}

export interface IssuedLeaf {
  cert: x509.X509Certificate;
  certPem: string;
  keyPem: string;
  keyLabel: string;
}

/** `generation`: a CA made by a CA rotation carries its date, so operators can tell the two apart. */
export function caSubject(cluster: string, generation?: string): x509.JsonName {
  return [{ CN: [`${cluster} pgharden CA${generation === undefined ? '' : ` ${generation}`}`] }];
}

/** A random positive serial of exactly 16 bytes: first byte 0x01–0x7f (no sign bit, no leading zero). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) % 0x7f) + 1;
  return bytes.toString('hex');
}

/** Backdated a little: a node whose clock runs a few minutes behind must not see "not yet valid". */
function notBeforeFrom(now: Date): Date {
  return new Date(now.getTime() - 5 * 60_000);
}

export async function createCa(opts: {
  cluster: string;
  keyType?: KeyType;
  days?: number;
  passphrase?: string;
  now?: Date;
  /** CN suffix for a CA that replaces another (rotate --new-ca). */
  generation?: string;
}): Promise<NewCa> {
  const now = opts.now ?? new Date();
  const keys = await generateKeyPair(opts.keyType ?? 'p256');
  const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey);
  const name = caSubject(opts.cluster, opts.generation);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name,
    issuer: name,
    notBefore: notBeforeFrom(now),
    notAfter: new Date(now.getTime() + (opts.days ?? CA_DAYS) * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: signingAlgorithm(keys.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ski,
    ],
  });
  return {
    cert,
    certPem: `${cert.toString('pem')}\n`,
    keyPem: exportPrivateKeyPem(keys.privateKey, opts.passphrase),
    signingKey: keys.privateKey,
    keyLabel: keyTypeOf(keyObjectOf(keys.privateKey)),
    keyId: ski.keyId,
    keyEncrypted: opts.passphrase !== undefined,
  };
}

/**
 * An existing CA from the PEM texts of root.crt and root.key: it must be a CA certificate, and the key
 * must be its key (a mismatched pair would sign leaves nobody can verify).
 */
export async function loadCa(
  certPem: string,
  keyPem: string,
  files: { cert: string; key: string },
  passphrase?: string,
): Promise<Ca> {
  // The first block: during a CA rotation root.crt may hold the new CA followed by the old one.
  const first = parseCertificateBlocks(files.cert, Buffer.from(certPem, 'utf8')).certs[0];
  if (first === undefined) throw new Error(`unreachable: ${files.cert} parsed without a certificate`);
  const cert = first.cert;
  if (cert.getExtension(x509.BasicConstraintsExtension)?.ca !== true) {
    throw new UsageError(
      'pki.ca-not-ca',
      `${files.cert} is not a CA certificate (no basicConstraints CA:TRUE)`,
      'root.crt must be the CA that signs the cluster certificates',
    );
  }
  const key = await loadPrivateKey(
    { name: files.key, data: keyPem },
    { ...(passphrase === undefined ? {} : { passphrase }), passphraseFlag: '--ca-passphrase-file' },
  );
  if (!keyMatchesCert(key.keyObject, cert)) {
    throw new UsageError(
      'pki.ca-key-mismatch',
      `${files.key} is not the private key of ${files.cert}`,
      'put the matching pair back, or move both away to create a new CA',
    );
  }
  if (key.signingKey === undefined) {
    throw new UsageError(
      'pki.ca-key-unsupported',
      `${files.key} is a ${key.label} key; pgharden signs with ECDSA (P-256/P-384/P-521) or RSA CA keys`,
      'use a CA with an ECDSA or RSA key',
    );
  }
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const keyId = ski?.keyId ?? Buffer.from(await cert.publicKey.getKeyIdentifier()).toString('hex');
  return {
    cert,
    certPem,
    signingKey: key.signingKey,
    keyLabel: key.label,
    keyId,
    keyEncrypted: key.encrypted,
  };
}

/** Days from `now` until the certificate expires (negative once expired). */
export function daysLeft(cert: x509.X509Certificate, now: Date): number {
  return Math.floor((cert.notAfter.getTime() - now.getTime()) / DAY_MS);
}

/** True when `cert` carries this CA's issuer name and a signature its key verifies. */
export function signedBy(cert: x509.X509Certificate, ca: Ca): boolean {
  if (cert.issuer !== ca.cert.subject) return false;
  // node:crypto's verify is OpenSSL's, the code PostgreSQL and libpq run (and it is synchronous but
  // cheap: one signature check, no key generation).
  return new NodeX509(Buffer.from(cert.rawData)).verify(
    createPublicKey({ key: Buffer.from(ca.cert.publicKey.rawData), format: 'der', type: 'spki' }),
  );
}

export function sanExtension(sans: readonly string[]): x509.SubjectAlternativeNameExtension {
  return new x509.SubjectAlternativeNameExtension(
    sans.map((value) => ({ type: isIP(value) === 0 ? ('dns' as const) : ('ip' as const), value })),
  );
}

function leafExtensions(spec: LeafSpec, rsa: boolean): x509.Extension[] {
  const usage = x509.KeyUsageFlags.digitalSignature | (rsa ? x509.KeyUsageFlags.keyEncipherment : 0);
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usage, true),
    new x509.ExtendedKeyUsageExtension([
      spec.kind === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth,
    ]),
    ...(spec.sans.length > 0 ? [sanExtension(spec.sans)] : []),
  ];
}

/** A new key pair and certificate for one leaf, signed by the CA. Never outlives the CA. */
export async function issueLeaf(
  ca: Ca,
  spec: LeafSpec,
  opts: { keyType: KeyType; days?: number; now?: Date },
): Promise<IssuedLeaf> {
  const now = opts.now ?? new Date();
  const keys = await generateKeyPair(opts.keyType);
  const wanted = now.getTime() + (opts.days ?? LEAF_DAYS) * DAY_MS;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [spec.name] }],
    issuer: ca.cert.subjectName,
    notBefore: notBeforeFrom(now),
    notAfter: new Date(Math.min(wanted, ca.cert.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: signingAlgorithm(ca.signingKey),
    extensions: [
      ...leafExtensions(spec, opts.keyType.startsWith('rsa')),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.AuthorityKeyIdentifierExtension(ca.keyId),
    ],
  });
  return {
    cert,
    certPem: `${cert.toString('pem')}\n`,
    keyPem: exportPrivateKeyPem(keys.privateKey),
    keyLabel: keyTypeOf(keyObjectOf(keys.privateKey)),
  };
}
