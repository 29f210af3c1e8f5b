// `certs issue` as a library call: which certificates an inventory needs, whether an existing one may
// stay, and writing the CA and leaves into the PKI directory.
import { isIP } from 'node:net';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { Inventory } from '../core/inventory-schema.js';
import { createCa, daysLeft, issueLeaf, signedBy, type Ca, type LeafKind, type LeafSpec } from './ca.js';
import { readCrlFile, revokedSerials, normalizeSerial } from './crl.js';
import { keyMatchesCert, parseCertificateBlocks } from './import.js';
import { loadPrivateKey, type KeyType } from './keys.js';
import {
  CA_CERT_FILE,
  CA_KEY_FILE,
  CERT_MODE,
  ensurePkiDir,
  KEY_MODE,
  loadCaFromDir,
  readOptional,
  tightenKeyFile,
  writeFileAtomic,
} from './store.js';
import { x509 } from './x509.js';

/** A kept leaf must still have this long to live: the same bar as lint's "expires soon" warning. */
export const KEEP_MIN_DAYS = 30;

/** File stems must be safe as file names; "root" is the CA's. */
const FILE_STEM = /^[A-Za-z0-9_][A-Za-z0-9._@-]*$/;

/** Host first, then extra names, deduplicated case-insensitively (DNS names are). */
export function sanList(host: string, names: readonly string[] = []): string[] {
  const byKey = new Map<string, string>();
  for (const n of [host, ...names]) if (!byKey.has(n.toLowerCase())) byKey.set(n.toLowerCase(), n);
  return [...byKey.values()];
}

/** Every leaf the inventory asks for: nodes, poolers, then `--client` roles. */
export function planLeaves(inventory: Inventory, clients: readonly string[] = []): LeafSpec[] {
  const leaves: LeafSpec[] = [
    ...inventory.nodes.map((n) => ({ name: n.name, kind: 'node' as const, sans: sanList(n.host, n.names) })),
    ...(inventory.poolers ?? []).map((p) => ({
      name: p.name,
      kind: 'pooler' as const,
      sans: sanList(p.host, p.names),
    })),
    ...[...new Set(clients)].map((role) => ({ name: role, kind: 'client' as const, sans: [] })),
  ];
  const seen = new Map<string, LeafKind>();
  for (const leaf of leaves) {
    if (!FILE_STEM.test(leaf.name) || leaf.name === 'root') {
      throw new UsageError(
        'pki.bad-name',
        `cannot issue a certificate named "${leaf.name}": it would be written to ${leaf.name}.crt`,
        'names are letters, digits, ".", "_", "@" and "-"; "root" is the CA',
      );
    }
    const other = seen.get(leaf.name);
    if (other !== undefined) {
      throw new UsageError(
        'pki.name-clash',
        `${other} ${leaf.name} and ${leaf.kind} ${leaf.name} would both be written to ${leaf.name}.crt`,
        'rename one of them, or issue that client certificate into another --out directory',
      );
    }
    seen.set(leaf.name, leaf.kind);
  }
  return leaves;
}

/** SAN entries of a certificate as plain strings (DNS names and IP addresses). */
export function certSans(cert: x509.X509Certificate): string[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return (san?.names.items ?? []).filter((n) => n.type === 'dns' || n.type === 'ip').map((n) => n.value);
}

/** Canonical form for comparing SANs: DNS names are case-insensitive, IPv6 has many spellings. */
function canonicalName(name: string): string {
  return isIP(name) === 6 ? new URL(`http://[${name}]/`).hostname : name.toLowerCase();
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const norm = (xs: readonly string[]) => [...new Set(xs.map(canonicalName))].sort().join('\n');
  return norm(a) === norm(b);
}

export type KeepVerdict = { keep: true } | { keep: false; reason: string };

/**
 * Whether an existing leaf (whose key matches it) may stay: issued by this CA, not revoked, valid now
 * with ≥ KEEP_MIN_DAYS left, and CN, SAN and EKU as the inventory asks now. Anything else is re-issued.
 */
export function keepVerdict(
  ca: Ca,
  spec: LeafSpec,
  cert: x509.X509Certificate,
  opts: { now: Date; revoked: ReadonlySet<string> },
): KeepVerdict {
  if (!signedBy(cert, ca)) return { keep: false, reason: 'not issued by this CA' };
  if (opts.revoked.has(normalizeSerial(cert.serialNumber))) return { keep: false, reason: 'revoked' };
  if (cert.notBefore > opts.now) return { keep: false, reason: 'not valid yet' };
  const left = daysLeft(cert, opts.now);
  if (left < KEEP_MIN_DAYS) return { keep: false, reason: left < 0 ? 'expired' : `expires in ${left} days` };
  const cn = cert.subjectName.getField('CN')[0];
  if (cn !== spec.name) return { keep: false, reason: `CN is ${cn ?? 'missing'}, not ${spec.name}` };
  if (!sameSet(certSans(cert), spec.sans)) return { keep: false, reason: 'SAN differs from the inventory' };
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];
  const purpose =
    spec.kind === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth;
  if (!eku.includes(purpose)) return { keep: false, reason: 'wrong extended key usage' };
  if (cert.getExtension(x509.BasicConstraintsExtension)?.ca === true) {
    return { keep: false, reason: 'is a CA certificate' };
  }
  return { keep: true };
}

export type FileStatus = 'issued' | 'kept' | 'reused';

export interface PkiFile {
  file: string;
  path: string;
  kind: 'ca' | LeafKind;
  /** CN: node, pooler or role name; the CA's for root.*. */
  name: string;
  part: 'cert' | 'key';
  status: FileStatus;
  keyType: string;
  serial: string;
  notAfter: Date;
  sans: string[];
  /** Why an existing file was replaced, or a remark on a kept one. */
  note?: string;
}

export interface IssueToDirOptions {
  dir: string;
  cluster: string;
  leaves: readonly LeafSpec[];
  /** Algorithm of new keys (a reused CA keeps its own). Default p256. */
  keyType?: KeyType;
  /** Validity of new leaves in days. Default 365. */
  days?: number;
  /** Encrypts a new CA key; decrypts an existing one. */
  caPassphrase?: string;
  now?: Date;
  /** Leaves (by name) to issue anew even when the existing pair could be kept: rotation. */
  reissue?: ReadonlySet<string>;
}

export interface IssueToDirResult {
  dir: string;
  caCreated: boolean;
  files: PkiFile[];
  warnings: string[];
}

function filePair(dir: string, base: Omit<PkiFile, 'file' | 'path' | 'part'>, stem: string): PkiFile[] {
  return (['cert', 'key'] as const).map((part) => {
    const file = `${stem}.${part === 'cert' ? 'crt' : 'key'}`;
    return { ...base, file, path: join(dir, file), part };
  });
}

/** Why an existing pair cannot simply be kept; undefined when it can. */
async function existingLeafProblem(
  ca: Ca,
  spec: LeafSpec,
  paths: { cert: string; key: string },
  opts: { now: Date; revoked: ReadonlySet<string> },
): Promise<{ problem: string } | { cert: x509.X509Certificate; keyType: string } | undefined> {
  const [certPem, keyPem] = await Promise.all([readOptional(paths.cert), readOptional(paths.key)]);
  if (certPem === undefined && keyPem === undefined) return undefined;
  if (certPem === undefined || keyPem === undefined) {
    return { problem: `only ${certPem === undefined ? 'the key' : 'the certificate'} existed` };
  }
  try {
    const parsed = parseCertificateBlocks(paths.cert, Buffer.from(certPem, 'utf8')).certs[0];
    if (parsed === undefined) return { problem: 'no certificate in the file' };
    const cert = parsed.cert;
    const key = await loadPrivateKey({ name: paths.key, data: keyPem });
    if (!keyMatchesCert(key.keyObject, cert)) {
      return { problem: 'key did not match the certificate' };
    }
    const verdict = keepVerdict(ca, spec, cert, opts);
    return verdict.keep ? { cert, keyType: key.label } : { problem: verdict.reason };
  } catch (err) {
    return { problem: `unreadable: ${(err as Error).message}` };
  }
}

async function caForIssue(
  opts: IssueToDirOptions,
  now: Date,
  warnings: string[],
): Promise<{ ca: Ca; created: boolean }> {
  const existing = await loadCaFromDir(opts.dir, opts.caPassphrase);
  if (existing === undefined) {
    const ca = await createCa({
      cluster: opts.cluster,
      ...(opts.keyType ? { keyType: opts.keyType } : {}),
      ...(opts.caPassphrase === undefined ? {} : { passphrase: opts.caPassphrase }),
      now,
    });
    // Key first: a crash in between leaves root.key alone, which the next run reports, never a
    // root.crt whose key is lost.
    await writeFileAtomic(join(opts.dir, CA_KEY_FILE), ca.keyPem, KEY_MODE);
    await writeFileAtomic(join(opts.dir, CA_CERT_FILE), ca.certPem, CERT_MODE);
    return { ca, created: true };
  }
  if (daysLeft(existing.cert, now) < 0) {
    throw new UsageError(
      'pki.ca-expired',
      `the CA in ${opts.dir} expired on ${existing.cert.notAfter.toISOString()}`,
      'a new CA is a rotation: move root.crt/root.key away to start over, or use `pgharden rotate --new-ca`',
    );
  }
  if (opts.caPassphrase !== undefined && !existing.keyEncrypted) {
    warnings.push(`--ca-passphrase-file given, but ${CA_KEY_FILE} is not encrypted; left as it is`);
  }
  const loose = await tightenKeyFile(join(opts.dir, CA_KEY_FILE));
  if (loose !== undefined) warnings.push(loose);
  return { ca: existing, created: false };
}

async function oneLeaf(
  ca: Ca,
  spec: LeafSpec,
  opts: IssueToDirOptions,
  ctx: { now: Date; revoked: ReadonlySet<string>; warnings: string[] },
): Promise<PkiFile[]> {
  const paths = { cert: join(opts.dir, `${spec.name}.crt`), key: join(opts.dir, `${spec.name}.key`) };
  const rotate = opts.reissue?.has(spec.name) === true;
  const found = rotate ? { problem: 'rotated' } : await existingLeafProblem(ca, spec, paths, ctx);
  const keyType = opts.keyType ?? 'p256';
  if (found !== undefined && 'cert' in found) {
    const loose = await tightenKeyFile(paths.key);
    if (loose !== undefined) ctx.warnings.push(loose);
    const note =
      found.keyType === keyType ? undefined : `${found.keyType} key kept; --key-type applies to new keys`;
    const base = { kind: spec.kind, name: spec.name, status: 'kept' as const, keyType: found.keyType };
    const info = {
      serial: found.cert.serialNumber,
      notAfter: found.cert.notAfter,
      sans: certSans(found.cert),
    };
    return filePair(opts.dir, { ...base, ...info, ...(note ? { note } : {}) }, spec.name);
  }
  const leaf = await issueLeaf(ca, spec, {
    keyType,
    ...(opts.days ? { days: opts.days } : {}),
    now: ctx.now,
  });
  await writeFileAtomic(paths.key, leaf.keyPem, KEY_MODE);
  await writeFileAtomic(paths.cert, leaf.certPem, CERT_MODE);
  const note = found === undefined ? undefined : `replaced: ${found.problem}`;
  const base = { kind: spec.kind, name: spec.name, status: 'issued' as const, keyType: leaf.keyLabel };
  const info = { serial: leaf.cert.serialNumber, notAfter: leaf.cert.notAfter, sans: spec.sans };
  return filePair(opts.dir, { ...base, ...info, ...(note ? { note } : {}) }, spec.name);
}

/**
 * Create or reuse the CA in `dir` and make every leaf present and good: issue the missing ones, keep
 * those that pass keepVerdict, re-issue the rest. Keys are generated concurrently (WebCrypto runs them
 * on libuv's thread pool); every file is written atomically, keys 0600 from their first byte.
 */
export async function issueToDir(opts: IssueToDirOptions): Promise<IssueToDirResult> {
  const now = opts.now ?? new Date();
  const warnings = await ensurePkiDir(opts.dir);
  const { ca, created } = await caForIssue(opts, now, warnings);
  if (opts.days !== undefined && daysLeft(ca.cert, now) < opts.days) {
    warnings.push(
      `the CA expires on ${ca.cert.notAfter.toISOString().slice(0, 10)}; new leaves end then too`,
    );
  }
  const revoked = revokedSerials(await readCrlFile(opts.dir));
  const settled = await Promise.allSettled(
    opts.leaves.map((spec) => oneLeaf(ca, spec, opts, { now, revoked, warnings })),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) throw failed.reason as Error;
  const caFiles = filePair(
    opts.dir,
    {
      kind: 'ca',
      name: ca.cert.subjectName.getField('CN')[0] ?? ca.cert.subject,
      status: created ? 'issued' : 'reused',
      keyType: ca.keyLabel,
      serial: ca.cert.serialNumber,
      notAfter: ca.cert.notAfter,
      sans: [],
      ...(ca.keyEncrypted ? { note: 'key encrypted' } : {}),
    },
    'root',
  );
  return {
    dir: opts.dir,
    caCreated: created,
    files: [...caFiles, ...settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []))],
    warnings,
  };
}
