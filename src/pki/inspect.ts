// A certificate as plain, JSON-safe data (`certs inspect`, and what lint rules read). Names follow
// OpenSSL's (`sha256WithRSAEncryption`, `serverAuth`) so output can be compared with `openssl x509 -text`.
import { x509 } from './x509.js';
import { describeKey, type KeyDescription, type ParsedCert } from './import.js';

export type HashName = 'md2' | 'md4' | 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

export interface SignatureAlgorithm {
  oid: string;
  /** OpenSSL's name, e.g. `ecdsa-with-SHA256`; the OID when unknown. */
  name: string;
  family: 'rsa' | 'rsa-pss' | 'ecdsa' | 'eddsa' | 'dsa' | 'unknown';
  /** undefined for EdDSA (no separate hash) and unknown algorithms. */
  hash: HashName | undefined;
}

const SIGNATURES: Record<string, Omit<SignatureAlgorithm, 'oid'>> = {
  '1.2.840.113549.1.1.2': { name: 'md2WithRSAEncryption', family: 'rsa', hash: 'md2' },
  '1.2.840.113549.1.1.3': { name: 'md4WithRSAEncryption', family: 'rsa', hash: 'md4' },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', family: 'rsa', hash: 'md5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', family: 'rsa', hash: 'sha1' },
  '1.3.14.3.2.29': { name: 'sha1WithRSA', family: 'rsa', hash: 'sha1' },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', family: 'rsa', hash: 'sha224' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', family: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', family: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', family: 'rsa', hash: 'sha512' },
  '1.2.840.113549.1.1.10': { name: 'rsassaPss', family: 'rsa-pss', hash: undefined },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', family: 'ecdsa', hash: 'sha1' },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', family: 'ecdsa', hash: 'sha224' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', family: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', family: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', family: 'ecdsa', hash: 'sha512' },
  '1.3.101.112': { name: 'ED25519', family: 'eddsa', hash: undefined },
  '1.3.101.113': { name: 'ED448', family: 'eddsa', hash: undefined },
  '1.2.840.10040.4.3': { name: 'dsaWithSHA1', family: 'dsa', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.1': { name: 'dsa_with_SHA224', family: 'dsa', hash: 'sha224' },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa_with_SHA256', family: 'dsa', hash: 'sha256' },
};

const PSS_HASHES: Record<string, HashName> = {
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

export function signatureAlgorithm(parsed: ParsedCert): SignatureAlgorithm {
  const known = SIGNATURES[parsed.signatureOid];
  if (known === undefined)
    return { oid: parsed.signatureOid, name: parsed.signatureOid, family: 'unknown', hash: undefined };
  if (known.family !== 'rsa-pss') return { oid: parsed.signatureOid, ...known };
  // RSASSA-PSS carries its hash in the parameters; @peculiar/x509 decodes them.
  const alg = parsed.cert.signatureAlgorithm as { hash?: { name?: string } };
  const hash = PSS_HASHES[alg.hash?.name ?? ''] ?? 'sha1'; // RFC 4055 default hash is SHA-1
  return { oid: parsed.signatureOid, name: `rsassaPss (${hash.toUpperCase()})`, family: 'rsa-pss', hash };
}

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

const KEY_USAGES: [number, string][] = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
  [x509.KeyUsageFlags.encipherOnly, 'encipherOnly'],
  [x509.KeyUsageFlags.decipherOnly, 'decipherOnly'],
];

export const EXTENSION_NAMES: Record<string, string> = {
  '2.5.29.14': 'subjectKeyIdentifier',
  '2.5.29.15': 'keyUsage',
  '2.5.29.17': 'subjectAltName',
  '2.5.29.18': 'issuerAltName',
  '2.5.29.19': 'basicConstraints',
  '2.5.29.30': 'nameConstraints',
  '2.5.29.31': 'cRLDistributionPoints',
  '2.5.29.32': 'certificatePolicies',
  '2.5.29.33': 'policyMappings',
  '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.36': 'policyConstraints',
  '2.5.29.37': 'extendedKeyUsage',
  '2.5.29.54': 'inhibitAnyPolicy',
  '1.3.6.1.5.5.7.1.1': 'authorityInfoAccess',
  '1.3.6.1.5.5.7.1.24': 'tlsFeature',
};

export type CertRole = 'leaf' | 'intermediate' | 'root';

export interface CertInfo {
  subject: string;
  issuer: string;
  commonName: string | undefined;
  role: CertRole;
  /** Subject equals issuer and the certificate verifies with its own key. */
  selfSigned: boolean;
  san: { dns: string[]; ip: string[]; other: string[] };
  key: KeyDescription;
  signatureAlgorithm: string;
  version: 1 | 2 | 3;
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter (negative once expired). */
  daysLeft: number;
  /** Upper-case hex, as `openssl x509 -serial` prints it. */
  serial: string;
  /** `AB:CD:…`, as `openssl x509 -fingerprint -sha256` prints it. */
  sha256Fingerprint: string;
  extendedKeyUsage: string[] | undefined;
  basicConstraints: { ca: boolean; pathLength: number | undefined; critical: boolean } | undefined;
  keyUsage: string[] | undefined;
  subjectKeyId: string | undefined;
  authorityKeyId: string | undefined;
  criticalExtensions: string[];
}

const DAY_MS = 86_400_000;

const colonHex = (hex: string): string => (hex.toUpperCase().match(/../g) ?? []).join(':');

export function subjectAltNames(parsed: ParsedCert): CertInfo['san'] {
  const san = { dns: [] as string[], ip: [] as string[], other: [] as string[] };
  let ext: x509.SubjectAlternativeNameExtension | null;
  try {
    ext = parsed.cert.getExtension(x509.SubjectAlternativeNameExtension);
  } catch {
    // @peculiar/x509 refuses otherName/X.400 entries; OpenSSL's text form still has DNS and IP.
    for (const entry of (parsed.native.subjectAltName ?? '').split(', ')) {
      const [kind, value = ''] = entry.split(/:(.*)/s);
      if (kind === 'DNS') san.dns.push(value);
      else if (kind === 'IP Address') san.ip.push(value);
      else if (entry !== '') san.other.push(entry);
    }
    return san;
  }
  for (const name of ext?.names.items ?? []) {
    if (name.type === 'dns') san.dns.push(name.value);
    else if (name.type === 'ip') san.ip.push(name.value);
    else san.other.push(`${name.type}:${name.value}`);
  }
  return san;
}

export function extendedKeyUsages(cert: x509.X509Certificate): string[] | undefined {
  const ext = cert.getExtension(x509.ExtendedKeyUsageExtension);
  return ext?.usages.map((u) => EKU_NAMES[String(u)] ?? String(u));
}

export function isSelfSigned(parsed: ParsedCert): boolean {
  return parsed.native.checkIssued(parsed.native) && parsed.native.verify(parsed.native.publicKey);
}

export function certRole(parsed: ParsedCert): CertRole {
  const ca = parsed.cert.getExtension(x509.BasicConstraintsExtension)?.ca === true;
  if (ca && isSelfSigned(parsed)) return 'root';
  return ca ? 'intermediate' : 'leaf';
}

export function certInfo(parsed: ParsedCert, now: Date = new Date()): CertInfo {
  const { cert, native } = parsed;
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    commonName: cert.subjectName.getField('CN')[0],
    role: certRole(parsed),
    selfSigned: isSelfSigned(parsed),
    san: subjectAltNames(parsed),
    key: describeKey(native.publicKey),
    signatureAlgorithm: signatureAlgorithm(parsed).name,
    version: parsed.version,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    daysLeft: Math.floor((cert.notAfter.getTime() - now.getTime()) / DAY_MS),
    serial: native.serialNumber.toUpperCase(),
    sha256Fingerprint: native.fingerprint256,
    extendedKeyUsage: extendedKeyUsages(cert),
    basicConstraints:
      bc === null ? undefined : { ca: bc.ca, pathLength: bc.pathLength, critical: bc.critical },
    keyUsage:
      ku === null
        ? undefined
        : KEY_USAGES.filter(([flag]) => (ku.usages & flag) !== 0).map(([, name]) => name),
    subjectKeyId: (() => {
      const id = cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
      return id === undefined ? undefined : colonHex(id);
    })(),
    authorityKeyId: (() => {
      const id = cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
      return id === undefined ? undefined : colonHex(id);
    })(),
    criticalExtensions: cert.extensions
      .filter((e) => e.critical)
      .map((e) => EXTENSION_NAMES[e.type] ?? e.type),
  };
}
