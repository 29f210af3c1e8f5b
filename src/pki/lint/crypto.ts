// Algorithms (key type and size, signature) of each certificate, and the private key that goes with
// the leaf: does it match, is it encrypted, who may read its file.
import { describeKey, keyMatchesCert, type KeyInput, type ParsedCert } from '../import.js';
import { isSelfSigned, signatureAlgorithm } from '../inspect.js';
import { label, type LintContext } from './context.js';

const RUSTLS_CURVES = new Set(['P-256', 'P-384', 'P-521']);
const FIPS_CURVES = new Set(['P-256', 'P-384']);
const SHA2_STRONG = new Set(['sha256', 'sha384', 'sha512']);

export function checkKeyAlgorithm(ctx: LintContext, cert: ParsedCert): void {
  const key = describeKey(cert.native.publicKey);
  const where = label(cert);
  const bits = key.bits ?? 0;
  if (key.type === 'RSA' || key.type === 'RSA-PSS') {
    if (bits < 2048)
      ctx.report('cert.rsa-too-small', `${where} has an ${key.text}-bit key; 2048 is the minimum`, cert);
    if (bits > 8192)
      ctx.report('cert.rsa-too-large', `${where} has an ${key.text}-bit key; rustls stops at 8192`, cert);
    if (key.type === 'RSA-PSS') {
      ctx.report(
        'cert.unsupported-key',
        `${where} has an RSA-PSS (id-RSASSA-PSS) key, which rustls cannot use`,
        cert,
      );
    }
  } else if (key.type === 'DSA') {
    ctx.report('cert.dsa-key', `${where} has a ${key.text} key`, cert);
  } else if (key.type === 'ECDSA') {
    const curve = key.curve ?? '?';
    if (!RUSTLS_CURVES.has(curve)) {
      ctx.report(
        'cert.unsupported-key',
        `${where} has an ECDSA key on ${curve}, which rustls cannot use`,
        cert,
      );
    }
    if (!FIPS_CURVES.has(curve)) ctx.report('fips.curve', `${where} has an ECDSA ${curve} key`, cert);
  } else if (key.type === 'Ed25519') {
    ctx.report('fips.ed25519', `${where} has an Ed25519 key`, cert);
  } else {
    ctx.report('cert.unsupported-key', `${where} has a ${key.text} key, which rustls cannot use`, cert);
  }
}

export function checkSignature(ctx: LintContext, cert: ParsedCert): void {
  // Nobody verifies a self-signed certificate's own signature: trust comes from installing it.
  if (isSelfSigned(cert)) return;
  const sig = signatureAlgorithm(cert);
  const where = `${label(cert)} is signed with ${sig.name}`;
  if (sig.hash === 'md5' || sig.hash === 'md4' || sig.hash === 'md2') {
    ctx.report('cert.md5-signature', where, cert);
  } else if (sig.hash === 'sha1') {
    ctx.report('cert.weak-signature', where, cert);
  } else if (sig.family === 'dsa' || sig.family === 'unknown' || sig.hash === 'sha224') {
    ctx.report('cert.unsupported-signature', where, cert);
  }
  if (!SHA2_STRONG.has(sig.hash ?? '')) ctx.report('fips.signature', where, cert);
}

export interface KeyFileStat {
  mode: number;
  uid: number;
  gid: number;
}

export interface KeyFacts {
  key?: KeyInput | undefined;
  /** The key file is encrypted (also when it could not be decrypted). */
  encrypted?: boolean | undefined;
  file?: KeyFileStat | undefined;
  /** Name for messages, e.g. the key's path. */
  name?: string | undefined;
}

/** Findings about the key alone: encryption and file mode. */
export function checkKeyFile(ctx: LintContext, facts: KeyFacts): void {
  const name = facts.name ?? 'the key';
  if (facts.encrypted === true) ctx.report('key.encrypted', `${name} is encrypted`, name);
  if (facts.file !== undefined) {
    const perm = facts.file.mode & 0o777;
    // PostgreSQL (be-secure-common.c): owner-only unless root owns it, then group may read.
    const rootOwned = facts.file.uid === 0;
    const bad = rootOwned ? perm & 0o037 : perm & 0o077;
    if (bad !== 0) {
      const mode = perm.toString(8).padStart(4, '0');
      ctx.report(
        'key.permissions',
        `${name} has mode ${mode}${rootOwned ? ' (root-owned: at most 0640)' : ': at most 0600'}`,
        name,
      );
    }
  }
}

export function checkKeyMatch(ctx: LintContext, leaf: ParsedCert, facts: KeyFacts): void {
  if (facts.key === undefined) return;
  const name = facts.name ?? 'the key';
  if (!keyMatchesCert(facts.key, leaf)) {
    ctx.report('key.mismatch', `${name} does not belong to ${label(leaf)}: the public keys differ`, name);
  }
}
