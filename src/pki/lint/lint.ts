// `lintCertificate`: the rules of SPEC §6 over one certificate file's worth of certificates (leaf
// first), with the optional key, trust anchors and host names. No I/O; the engine calls it on every
// certificate it generates or imports, `lintFiles` after reading files.
import { x509 } from '../x509.js';
import { toParsedCert, type CertInput, type KeyInput, type ParsedCert } from '../import.js';
import { EXTENSION_NAMES, extendedKeyUsages, isSelfSigned } from '../inspect.js';
import { checkChain } from './chain.js';
import { createContext, label, type LintContext } from './context.js';
import {
  checkKeyAlgorithm,
  checkKeyFile,
  checkKeyMatch,
  checkSignature,
  type KeyFileStat,
} from './crypto.js';
import type { LintFinding } from './finding.js';
import { checkNames } from './names.js';
import type { LintProfile } from './profiles.js';

/** How the first certificate is used: decides the EKU, SAN and CA:FALSE rules. */
export type CertUsage = 'server' | 'client' | 'ca';

export interface LintInput {
  /** Leaf first, then the rest of its file (intermediates, maybe the root). */
  certs: readonly CertInput[];
  key?: KeyInput | undefined;
  /** The key file is encrypted (true also when it could not be decrypted). */
  keyEncrypted?: boolean | undefined;
  keyFile?: KeyFileStat | undefined;
  /** Name of the key in messages (its path). */
  keyName?: string | undefined;
  /** Trust anchors clients use (`--ca`). */
  caCerts?: readonly CertInput[] | undefined;
  /** Names and IPs clients use with `sslmode=verify-full`. */
  hosts?: readonly string[] | undefined;
  profile?: LintProfile | undefined;
  /** Default: `inferUsage`. */
  usage?: CertUsage | undefined;
  /** For a client certificate: the database role its CN must equal (no pg_ident map). */
  clientRole?: string | undefined;
  /** Name of the certificate file in findings when `certs` are not already parsed. */
  file?: string | undefined;
  now?: Date | undefined;
}

/**
 * Server when hosts are given, the EKU allows serverAuth or there is no EKU; client when the EKU
 * says clientAuth and not serverAuth; a self-signed CA linted on its own (no hosts) is a CA.
 */
export function inferUsage(leaf: ParsedCert, hosts: readonly string[] = []): CertUsage {
  if (hosts.length > 0) return 'server';
  const eku = extendedKeyUsages(leaf.cert);
  if (eku !== undefined && eku.includes('clientAuth') && !eku.includes('serverAuth')) return 'client';
  const ca = leaf.cert.getExtension(x509.BasicConstraintsExtension)?.ca === true;
  return ca && isSelfSigned(leaf) ? 'ca' : 'server';
}

const DAY_MS = 86_400_000;

function checkValidity(ctx: LintContext, cert: ParsedCert): void {
  const where = label(cert);
  const { notBefore, notAfter } = cert.cert;
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const days = Math.floor((notAfter.getTime() - ctx.now.getTime()) / DAY_MS);
  if (notAfter < ctx.now) {
    ctx.report('cert.expired', `${where} expired on ${day(notAfter)} (${-days} days ago)`, cert);
  } else if (notBefore > ctx.now) {
    ctx.report('cert.not-yet-valid', `${where} is valid only from ${notBefore.toISOString()}`, cert);
  } else if (days < 7) {
    ctx.report('cert.expiring', `${where} expires on ${day(notAfter)}: ${days} days left`, cert);
  } else if (days < 30) {
    ctx.report('cert.expires-soon', `${where} expires on ${day(notAfter)}: ${days} days left`, cert);
  }
}

// Extensions each stack handles; a critical one outside the set makes it reject the certificate.
const OPENSSL_KNOWN = new Set([...Object.keys(EXTENSION_NAMES), '2.5.29.46']);
const WEBPKI_KNOWN = new Set(['2.5.29.15', '2.5.29.17', '2.5.29.19', '2.5.29.30', '2.5.29.31', '2.5.29.37']);

function checkStructure(ctx: LintContext, cert: ParsedCert, selfSigned: boolean): void {
  const where = label(cert);
  // A self-signed v1 root is still accepted as a trust anchor; intermediates and leaves are not.
  if (cert.version !== 3 && !selfSigned)
    ctx.report('cert.v1', `${where} is an X.509 v${cert.version} certificate`, cert);
  const known = ctx.profile === 'postgres' ? OPENSSL_KNOWN : WEBPKI_KNOWN;
  for (const ext of cert.cert.extensions) {
    if (!ext.critical || known.has(ext.type)) continue;
    const name = EXTENSION_NAMES[ext.type] ?? ext.type;
    ctx.report('cert.unknown-critical-extension', `${where} has a critical ${name} extension`, cert);
  }
}

function checkLeafUse(ctx: LintContext, leaf: ParsedCert, usage: CertUsage, input: LintInput): void {
  const where = label(leaf);
  const eku = extendedKeyUsages(leaf.cert);
  if (leaf.cert.getExtension(x509.BasicConstraintsExtension)?.ca === true) {
    ctx.report('cert.leaf-is-ca', `${where} is used as a ${usage} certificate but says CA:TRUE`, leaf);
  }
  if (usage === 'server') {
    if (eku !== undefined && !eku.includes('serverAuth')) {
      ctx.report(
        'cert.eku-no-server-auth',
        `${where} is used as a server certificate; its EKU is ${eku.join(', ')}`,
        leaf,
      );
    }
    checkNames(ctx, leaf, input.hosts ?? []);
  } else {
    if (eku !== undefined && !eku.includes('clientAuth')) {
      ctx.report(
        'cert.eku-no-client-auth',
        `${where} is used as a client certificate; its EKU is ${eku.join(', ')}`,
        leaf,
      );
    }
    const cn = leaf.cert.subjectName.getField('CN')[0];
    if (input.clientRole !== undefined && cn !== input.clientRole) {
      ctx.report(
        'cert.cn-not-role',
        `${where} has CN ${cn ?? '(none)'}, not the role ${input.clientRole}`,
        leaf,
      );
    }
  }
}

function keyFactsOf(input: LintKeyInput) {
  const key = input.key;
  return {
    key,
    encrypted: input.keyEncrypted ?? (key !== undefined && 'encryption' in key && key.encryption !== 'none'),
    file: input.keyFile,
    name: input.keyName ?? (key !== undefined && 'file' in key ? key.file : undefined),
  };
}

function lintNow(input: LintInput): LintFinding[] {
  const ctx = createContext(input.profile ?? 'postgres', input.now ?? new Date());
  const file = input.file ?? 'certificate';
  const certs = input.certs.map((c, i) => toParsedCert(c, file, i));
  const anchors = input.caCerts?.map((c, i) => toParsedCert(c, 'ca', i));
  const keyFacts = keyFactsOf(input);
  const [leaf] = certs;
  if (leaf !== undefined) {
    const usage = input.usage ?? inferUsage(leaf, input.hosts);
    for (const cert of certs) {
      checkValidity(ctx, cert);
      checkStructure(ctx, cert, isSelfSigned(cert));
      checkKeyAlgorithm(ctx, cert);
      checkSignature(ctx, cert);
    }
    if (usage !== 'ca') checkLeafUse(ctx, leaf, usage, input);
    checkChain(ctx, certs, anchors);
    checkKeyMatch(ctx, leaf, keyFacts);
  }
  checkKeyFile(ctx, keyFacts);
  return ctx.findings;
}

/**
 * Findings for one certificate file's certificates. Async by contract, so that a check needing I/O
 * later (CRL, OCSP) changes no caller; today's checks are small and synchronous.
 */
export function lintCertificate(input: LintInput): Promise<LintFinding[]> {
  return new Promise((resolve) => resolve(lintNow(input)));
}

export type LintKeyInput = Pick<
  LintInput,
  'key' | 'keyEncrypted' | 'keyFile' | 'keyName' | 'profile' | 'now'
>;

/** The key-only rules (encryption, file mode), for a key whose certificate could not be read. */
export function lintKey(input: LintKeyInput): LintFinding[] {
  const ctx = createContext(input.profile ?? 'postgres', input.now ?? new Date());
  checkKeyFile(ctx, keyFactsOf(input));
  return ctx.findings;
}
