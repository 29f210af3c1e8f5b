// Import of PEM certificates, chains and private keys (SPEC §6). Certificates are parsed twice: by
// @peculiar/x509 for extensions, and by node's OpenSSL-backed X509Certificate for the public key,
// fingerprint and signature checks, which also covers MD5/SHA-1/DSA certs WebCrypto cannot verify.
import { createPrivateKey, createPublicKey, KeyObject, X509Certificate, type webcrypto } from 'node:crypto';
import { x509 } from './x509.js';
import {
  decodePem,
  isEncryptedLegacy,
  loadSource,
  PkiInputError,
  toPem,
  type PemBlock,
  type PemSource,
} from './pem.js';

/** Exposes the parsed ASN.1 (a protected member) for fields without a getter: version, raw OIDs. */
class AsnCertificate extends x509.X509Certificate {
  get structure() {
    return this.asn;
  }
}

export interface ParsedCert {
  /** File (or name) it came from, and its position there: 0 is the first block (the leaf). */
  file: string;
  index: number;
  der: Uint8Array;
  cert: x509.X509Certificate;
  native: X509Certificate;
  version: 1 | 2 | 3;
  signatureOid: string;
}

/** What `lintCertificate` and `keyMatchesCert` accept: parsed, from the library, DER or PEM. */
export type CertInput =
  ParsedCert | x509.X509Certificate | X509Certificate | Uint8Array | ArrayBuffer | string;

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);

export function parseCertDer(der: Uint8Array, file: string, index: number, line?: number): ParsedCert {
  const where = line === undefined ? `certificate ${index + 1}` : `the block at line ${line}`;
  try {
    const cert = new AsnCertificate(der);
    const native = new X509Certificate(der);
    const { tbsCertificate, signatureAlgorithm } = cert.structure;
    const v = Number(tbsCertificate.version); // 0, 1, 2 encode v1, v2, v3
    const version = v === 0 ? 1 : v === 1 ? 2 : 3;
    return { file, index, der, cert, native, version, signatureOid: signatureAlgorithm.algorithm };
  } catch (err) {
    throw new PkiInputError(
      'cert.unparseable',
      file,
      `${file}: ${where} is not a valid X.509 certificate (${(err as Error).message})`,
      `check it with: openssl x509 -in ${file} -noout -text`,
      { cause: err },
    );
  }
}

export function toParsedCert(input: CertInput, file = 'certificate', index = 0): ParsedCert {
  if (typeof input === 'string') {
    const first = parseCertificateBlocks(file, Buffer.from(input, 'utf8')).certs[0];
    if (first === undefined) throw new Error('unreachable: parseCertificateBlocks returns ≥ 1 cert');
    return { ...first, index };
  }
  if (input instanceof x509.X509Certificate) return parseCertDer(new Uint8Array(input.rawData), file, index);
  if (input instanceof X509Certificate) return parseCertDer(input.raw, file, index);
  if (input instanceof Uint8Array) return parseCertDer(input, file, index);
  if (input instanceof ArrayBuffer) return parseCertDer(new Uint8Array(input), file, index);
  return input;
}

export interface CertificateFile {
  file: string;
  certs: ParsedCert[];
  /** Labels of the other blocks in the file (e.g. a `PRIVATE KEY` next to the certificate). */
  otherBlocks: string[];
}

/** The certificates of a PEM file, leaf first. Throws when there is none. */
export function parseCertificateBlocks(file: string, bytes: Uint8Array): CertificateFile {
  const blocks = decodePem(file, bytes, 'certificate');
  const certBlocks = blocks.filter((b) => CERT_LABELS.has(b.label));
  if (certBlocks.length === 0) {
    const found = [...new Set(blocks.map((b) => b.label))].join(', ');
    throw new PkiInputError(
      'pem.unexpected-block',
      file,
      `${file}: expected a CERTIFICATE block, found ${found}`,
      /PRIVATE KEY/.test(found)
        ? 'this is a key: pass it with --key; give the certificate file here'
        : 'give a PEM file with -----BEGIN CERTIFICATE----- blocks',
    );
  }
  return {
    file,
    certs: certBlocks.map((b, i) => parseCertDer(b.der, file, i, b.line)),
    otherBlocks: blocks.filter((b) => !CERT_LABELS.has(b.label)).map((b) => b.label),
  };
}

export async function readCertificateFile(src: PemSource): Promise<CertificateFile> {
  const { name, bytes } = await loadSource(src);
  return parseCertificateBlocks(name, bytes);
}

/** Certificates of a PEM certificate or chain file, leaf first. */
export async function readCertificates(src: PemSource): Promise<ParsedCert[]> {
  return (await readCertificateFile(src)).certs;
}

export interface KeyDescription {
  /** `RSA`, `RSA-PSS`, `ECDSA`, `Ed25519`, `Ed448`, `DSA`, `X25519`, `X448`, `DH`. */
  type: string;
  bits?: number | undefined;
  /** `P-256`, `P-384`, `P-521`, or OpenSSL's name of another curve. */
  curve?: string | undefined;
  /** e.g. `ECDSA P-256`, `RSA 3072`, `Ed25519`, `DSA 2048`. */
  text: string;
}

const CURVES: Record<string, { name: string; bits: number }> = {
  prime256v1: { name: 'P-256', bits: 256 },
  secp384r1: { name: 'P-384', bits: 384 },
  secp521r1: { name: 'P-521', bits: 521 },
};

export function describeKey(key: KeyObject): KeyDescription {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const type = key.asymmetricKeyType === 'rsa' ? 'RSA' : 'RSA-PSS';
      return { type, bits: details.modulusLength, text: `${type} ${details.modulusLength ?? '?'}` };
    }
    case 'dsa':
      return { type: 'DSA', bits: details.modulusLength, text: `DSA ${details.modulusLength ?? '?'}` };
    case 'ec': {
      const raw = details.namedCurve ?? 'unknown curve';
      const known = CURVES[raw];
      return {
        type: 'ECDSA',
        curve: known?.name ?? raw,
        bits: known?.bits,
        text: `ECDSA ${known?.name ?? raw}`,
      };
    }
    case 'ed25519':
      return { type: 'Ed25519', bits: 256, text: 'Ed25519' };
    case 'ed448':
      return { type: 'Ed448', bits: 456, text: 'Ed448' };
    default: {
      const type = (key.asymmetricKeyType ?? 'unknown').toUpperCase();
      return { type, text: type };
    }
  }
}

export type KeyContainer = 'pkcs8' | 'pkcs1' | 'sec1' | 'dsa';

export interface PrivateKeyInfo {
  file: string;
  key: KeyObject;
  container: KeyContainer;
  /** How the file is encrypted. The decrypted key lives in memory only. */
  encryption: 'none' | 'pkcs8' | 'legacy-pem';
  description: KeyDescription;
}

export interface ReadKeyOptions {
  /** Asked only when the key is encrypted; undefined → `key.encrypted-no-passphrase`. */
  passphrase?: () => Promise<string | undefined>;
}

const KEY_LABELS: Record<string, KeyContainer> = {
  'PRIVATE KEY': 'pkcs8',
  'ENCRYPTED PRIVATE KEY': 'pkcs8',
  'RSA PRIVATE KEY': 'pkcs1',
  'EC PRIVATE KEY': 'sec1',
  'DSA PRIVATE KEY': 'dsa',
};

/** Key types that cannot sign, so no TLS certificate can be used with them. */
const NON_SIGNING = new Set(['x25519', 'x448', 'dh']);

export async function readPrivateKey(src: PemSource, opts: ReadKeyOptions = {}): Promise<PrivateKeyInfo> {
  const { name, bytes } = await loadSource(src);
  const blocks = decodePem(name, bytes, 'private key');
  const block = blocks.find((b) => KEY_LABELS[b.label] !== undefined);
  if (block === undefined) throw noKeyBlock(name, blocks);
  const container = KEY_LABELS[block.label] ?? 'pkcs8';
  const encryption =
    block.label === 'ENCRYPTED PRIVATE KEY' ? 'pkcs8' : isEncryptedLegacy(block) ? 'legacy-pem' : 'none';
  let passphrase: string | undefined;
  if (encryption !== 'none') {
    passphrase = await opts.passphrase?.();
    if (passphrase === undefined) {
      throw new PkiInputError(
        'key.encrypted-no-passphrase',
        name,
        `${name} is encrypted and no passphrase was given`,
        'pass --passphrase-file FILE (servers cannot prompt: deploy it decrypted, 0600)',
      );
    }
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({
      key: toPem(block.label, block.der, block.headers),
      format: 'pem',
      ...(passphrase === undefined ? {} : { passphrase }),
    });
  } catch (err) {
    // A wrong passphrase either fails the padding check or decrypts to garbage that does not parse.
    throw encryption !== 'none'
      ? new PkiInputError(
          'key.wrong-passphrase',
          name,
          `${name}: the passphrase does not decrypt this key`,
          undefined,
          {
            cause: err,
          },
        )
      : new PkiInputError(
          'key.unparseable',
          name,
          `${name}: the ${block.label} block is not a valid private key (${(err as Error).message})`,
          `check it with: openssl pkey -in ${name} -noout`,
          { cause: err },
        );
  }
  const description = describeKey(key);
  if (NON_SIGNING.has(key.asymmetricKeyType ?? '')) {
    throw new PkiInputError(
      'key.unsupported',
      name,
      `${name}: ${description.text} keys only agree on secrets and cannot sign; a TLS certificate key must sign`,
      'use an ECDSA P-256/P-384 or RSA ≥ 2048 key',
    );
  }
  return { file: name, key, container, encryption, description };
}

function noKeyBlock(name: string, blocks: PemBlock[]): PkiInputError {
  if (blocks.some((b) => b.label === 'OPENSSH PRIVATE KEY')) {
    return new PkiInputError(
      'key.unsupported',
      name,
      `${name} is an OpenSSH-format private key; TLS needs a PEM key (PKCS#8, PKCS#1 or SEC1)`,
      `convert a copy: cp ${name} tls.key && ssh-keygen -p -m PKCS8 -f tls.key`,
    );
  }
  const found = [...new Set(blocks.map((b) => b.label))].join(', ');
  return new PkiInputError(
    'pem.unexpected-block',
    name,
    `${name}: expected a private key (PRIVATE KEY, RSA/EC PRIVATE KEY or ENCRYPTED PRIVATE KEY), found ${found}`,
    found.includes('CERTIFICATE') ? 'this is a certificate: give the key file that belongs to it' : undefined,
  );
}

export type KeyInput = KeyObject | webcrypto.CryptoKey | PrivateKeyInfo;

function toKeyObject(key: KeyInput): KeyObject {
  if (key instanceof KeyObject) return key;
  if ('container' in key) return key.key;
  return KeyObject.from(key);
}

function publicOf(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}

/** Does the private (or public) key belong to the certificate? Compares the public keys. */
export function keyMatchesCert(key: KeyInput, cert: CertInput): boolean {
  const mine = publicOf(toKeyObject(key));
  const theirs = toParsedCert(cert).native.publicKey;
  // rsaEncryption and RSASSA-PSS SPKIs of one key differ in their OID; the modulus decides.
  const rsa = (k: KeyObject) => k.asymmetricKeyType === 'rsa' || k.asymmetricKeyType === 'rsa-pss';
  if (rsa(mine) && rsa(theirs)) {
    const a = mine.export({ format: 'jwk' });
    const b = theirs.export({ format: 'jwk' });
    return a.n === b.n && a.e === b.e;
  }
  return mine.export({ type: 'spki', format: 'der' }).equals(theirs.export({ type: 'spki', format: 'der' }));
}

/** Throws `key.mismatch` (exit 2) unless the key belongs to the certificate. */
export function assertKeyMatchesCert(key: KeyInput, cert: CertInput, keyFile = 'the key'): void {
  if (keyMatchesCert(key, cert)) return;
  const parsed = toParsedCert(cert);
  throw new PkiInputError(
    'key.mismatch',
    keyFile,
    `${keyFile} does not belong to ${parsed.file} (${parsed.cert.subject}): the public keys differ`,
    'give the key the certificate was issued for, or issue a new certificate for this key',
  );
}
