// The CA's certificate revocation list (SPEC §6): root.crl beside the CA, PEM `X509 CRL`, re-signed with
// a higher CRL number on every change. Rotation deploys it as ssl_crl_file.
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { signedBy, type Ca } from './ca.js';
import { signingAlgorithm } from './keys.js';
import { CERT_MODE, CRL_FILE, readOptional, requireCa, writeFileAtomic } from './store.js';
import { x509 } from './x509.js';

import { REVOCATION_REASONS, type RevocationReason } from './revocation-reasons.js';

export { REVOCATION_REASONS, type RevocationReason };

/** nextUpdate distance. A CRL past its nextUpdate makes OpenSSL reject every cert it covers. */
export const CRL_DAYS = 30;
const DAY_MS = 86_400_000;
const CRL_NUMBER_OID = '2.5.29.20';
const REASON_OID = '2.5.29.21';

export function isRevocationReason(s: unknown): s is RevocationReason {
  return typeof s === 'string' && (REVOCATION_REASONS as readonly string[]).includes(s);
}

export interface CrlEntryInfo {
  /** Lower-case hex, as x509 reports certificate serials. */
  serial: string;
  revoked: Date;
  /** One of REVOCATION_REASONS, or the RFC 5280 name of another code found in a foreign CRL. */
  reason: string;
}

export interface CrlInfo {
  issuer: string;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  number: bigint | undefined;
  entries: CrlEntryInfo[];
}

/** DER INTEGER of a non-negative bigint (CRL numbers are at most 20 octets: short-form length). */
function derInteger(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let body = Buffer.from(hex, 'hex');
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return Buffer.concat([Buffer.from([0x02, body.length]), body]);
}

function readDerInteger(der: Buffer): bigint | undefined {
  const len = der[1];
  if (der[0] !== 0x02 || len === undefined || len > 0x7f || der.length !== len + 2) return undefined;
  return BigInt(`0x${der.subarray(2).toString('hex') || '0'}`);
}

function reasonName(code: x509.X509CrlReason | undefined): string {
  return code === undefined ? 'unspecified' : (x509.X509CrlReason[code] ?? `code ${String(code)}`);
}

export function normalizeSerial(serial: string): string {
  return serial
    .replace(/[:\s]/g, '')
    .toLowerCase()
    .replace(/^(00)+(?=[0-9a-f]{2})/, '');
}

export function parseCrl(pem: string, file: string): x509.X509Crl {
  try {
    return new x509.X509Crl(pem);
  } catch (err) {
    throw new UsageError(
      'pki.crl-unreadable',
      `${file} is not a PEM X509 CRL (${(err as Error).message})`,
      'restore it from a backup, or move it away: the next revoke starts a new CRL',
      { cause: err },
    );
  }
}

export function describeCrl(crl: x509.X509Crl): CrlInfo {
  const num = crl.getExtension(CRL_NUMBER_OID);
  return {
    issuer: crl.issuer,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    number: num === null ? undefined : readDerInteger(Buffer.from(num.value)),
    entries: crl.entries.map((e) => ({
      serial: normalizeSerial(e.serialNumber),
      revoked: e.revocationDate,
      reason: reasonName(e.reason),
    })),
  };
}

/** Serials a CRL lists (normalized), for "is this leaf revoked?". */
export function revokedSerials(crl: x509.X509Crl | undefined): Set<string> {
  return new Set(crl === undefined ? [] : crl.entries.map((e) => normalizeSerial(e.serialNumber)));
}

/** Reason code `unspecified` as an explicit entry extension (DER ENUMERATED 0); see signCrl. */
const UNSPECIFIED_REASON = Buffer.from([0x0a, 0x01, 0x00]);

/**
 * Sign a CRL with these entries. @peculiar/x509 writes an entry without a reason as an *empty*
 * crlEntryExtensions SEQUENCE, which DER forbids (SIZE 1..MAX; OpenSSL tolerates it, strict parsers
 * need not), so `unspecified` is written as an explicit reasonCode 0 instead of being left out.
 */
export async function signCrl(
  ca: Ca,
  entries: readonly CrlEntryInfo[],
  opts: { number: bigint; now?: Date; days?: number },
): Promise<x509.X509Crl> {
  const now = opts.now ?? new Date();
  return x509.X509CrlGenerator.create({
    issuer: ca.cert.subjectName,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + (opts.days ?? CRL_DAYS) * DAY_MS),
    signingKey: ca.signingKey,
    signingAlgorithm: signingAlgorithm(ca.signingKey),
    extensions: [
      new x509.AuthorityKeyIdentifierExtension(ca.keyId),
      new x509.Extension(CRL_NUMBER_OID, false, derInteger(opts.number)),
    ],
    entries: entries.map((e) => {
      const code: x509.X509CrlReason | undefined =
        x509.X509CrlReason[e.reason as keyof typeof x509.X509CrlReason];
      return code === undefined || code === x509.X509CrlReason.unspecified
        ? {
            serialNumber: e.serial,
            revocationDate: e.revoked,
            extensions: [new x509.Extension(REASON_OID, false, UNSPECIFIED_REASON)],
          }
        : { serialNumber: e.serial, revocationDate: e.revoked, reason: code };
    }),
  });
}

/** PEM with the `X509 CRL` label OpenSSL and PostgreSQL read (the library's own label is `CRL`). */
export function crlPem(crl: x509.X509Crl): string {
  return `${x509.PemConverter.encode(crl.rawData, 'X509 CRL')}\n`;
}

/** root.crl of a directory, or undefined when nothing was revoked yet. */
export async function readCrlFile(dir: string): Promise<x509.X509Crl | undefined> {
  const path = join(dir, CRL_FILE);
  const text = await readOptional(path);
  return text === undefined ? undefined : parseCrl(text, path);
}

export interface RevokeResult {
  path: string;
  serial: string;
  /** added; already (same reason: only re-signed); reason-changed (kept the first revocation date). */
  status: 'added' | 'already' | 'reason-changed';
  crl: x509.X509Crl;
}

/**
 * Add a certificate (or a bare serial) to the CA's CRL and re-sign it. A certificate must be one this CA
 * issued; revoking twice keeps one entry. Re-signing also refreshes nextUpdate, so revoking again is how
 * an operator renews a CRL that is about to expire.
 */
export async function revoke(
  dir: string,
  target: x509.X509Certificate | string,
  reason: RevocationReason,
  opts: { passphrase?: string; now?: Date; days?: number } = {},
): Promise<RevokeResult> {
  const ca = await requireCa(dir, opts.passphrase);
  const serial = normalizeSerial(typeof target === 'string' ? target : target.serialNumber);
  if (!/^[0-9a-f]+$/.test(serial)) {
    throw new UsageError('pki.bad-serial', `${String(target)} is not a hexadecimal serial number`);
  }
  if (typeof target !== 'string' && !signedBy(target, ca)) {
    throw new UsageError(
      'pki.not-issued-by-ca',
      `${target.subject} (serial ${serial}) was not issued by the CA in ${dir} (${ca.cert.subject})`,
      'a CRL can only list certificates of its own CA: pass --dir (or -i) of the CA that issued it',
    );
  }
  if (serial === normalizeSerial(ca.cert.serialNumber)) {
    throw new UsageError(
      'pki.revoke-ca',
      'that is the CA certificate itself',
      'a CA is retired by rotating to a new one (`pgharden rotate --new-ca`), not by its own CRL',
    );
  }
  const previous = await readCrlFile(dir);
  if (previous !== undefined && !(await previous.verify({ publicKey: ca.cert }))) {
    throw new UsageError(
      'pki.crl-foreign',
      `${join(dir, CRL_FILE)} is not signed by the CA in ${dir}`,
      'move the old root.crl away; the next revoke starts a new CRL for this CA',
    );
  }
  const info = previous === undefined ? undefined : describeCrl(previous);
  const entries = info?.entries ?? [];
  const existing = entries.find((e) => e.serial === serial);
  const now = opts.now ?? new Date();
  const status = existing === undefined ? 'added' : existing.reason === reason ? 'already' : 'reason-changed';
  const next =
    existing === undefined
      ? [...entries, { serial, revoked: now, reason }]
      : entries.map((e) => (e.serial === serial ? { ...e, reason } : e));
  const crl = await signCrl(ca, next, {
    number: (info?.number ?? 0n) + 1n,
    now,
    ...(opts.days === undefined ? {} : { days: opts.days }),
  });
  const path = join(dir, CRL_FILE);
  await writeFileAtomic(path, crlPem(crl), CERT_MODE);
  return { path, serial, status, crl };
}
