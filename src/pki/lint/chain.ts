// Does the leaf verify to `--ca` through the file's intermediates, and what does PgDog, which serves
// only the first PEM block, send to clients? Signatures are checked with node's OpenSSL binding,
// which also verifies the SHA-1/MD5/DSA certificates the corpus holds.
import { x509 } from '../x509.js';
import type { ParsedCert } from '../import.js';
import { isSelfSigned } from '../inspect.js';
import { label, type LintContext } from './context.js';

/** `issuer` names `cert`'s issuer (names and key ids agree) and its key verifies the signature. */
export function issued(issuer: ParsedCert, cert: ParsedCert): boolean {
  return cert.native.checkIssued(issuer.native) && cert.native.verify(issuer.native.publicKey);
}

const isCa = (c: ParsedCert): boolean => c.cert.getExtension(x509.BasicConstraintsExtension)?.ca === true;
const sameCert = (a: ParsedCert, b: ParsedCert): boolean => Buffer.from(a.der).equals(Buffer.from(b.der));

type PathResult = { ok: true } | { ok: false; reason: string };

const MAX_DEPTH = 8;

/** Depth-first search for a path leaf → intermediates → anchor; the reason of the deepest failure. */
export function verifyPath(
  leaf: ParsedCert,
  intermediates: readonly ParsedCert[],
  anchors: readonly ParsedCert[],
  now: Date,
): PathResult {
  let reason = `nothing in --ca issued it (its issuer is ${leaf.cert.issuer})`;
  const walk = (cert: ParsedCert, used: ParsedCert[]): boolean => {
    if (anchors.some((a) => sameCert(a, cert))) return true; // a self-signed leaf listed in --ca
    const anchor = anchors.find((a) => issued(a, cert));
    if (anchor !== undefined) {
      if (anchor.cert.notAfter < now) {
        reason = `its CA ${anchor.cert.subject} expired on ${anchor.cert.notAfter.toISOString().slice(0, 10)}`;
        return false;
      }
      return true;
    }
    if (used.length >= MAX_DEPTH) return false;
    for (const next of intermediates) {
      if (used.includes(next) || !issued(next, cert)) continue;
      if (!isCa(next)) {
        reason = `${label(next)} (${next.cert.subject}) signed it but is not a CA (no basicConstraints CA:TRUE)`;
        continue;
      }
      if (walk(next, [...used, next])) return true;
      if (used.length === 0 && reason.startsWith('nothing in --ca')) {
        reason = `the chain ends at ${next.cert.subject}, which nothing in --ca issued`;
      }
    }
    return false;
  };
  return walk(leaf, []) ? { ok: true } : { ok: false, reason };
}

export function checkChain(
  ctx: LintContext,
  certs: readonly ParsedCert[],
  anchors: readonly ParsedCert[] | undefined,
): void {
  const [leaf, ...rest] = certs;
  if (leaf === undefined) return;
  if (anchors !== undefined && anchors.length > 0) {
    const result = verifyPath(leaf, rest, anchors, ctx.now);
    if (!result.ok)
      ctx.report('chain.untrusted', `${label(leaf)} does not verify to --ca: ${result.reason}`, leaf);
  }
  if (rest.length === 0) return;
  // PgDog sends only the leaf. Fine when the CA clients trust signed it directly; with --ca that is
  // known, without it the file tells: the leaf's issuer in the file is an intermediate (not self-signed).
  const direct =
    anchors !== undefined && anchors.length > 0
      ? anchors.some((a) => issued(a, leaf))
      : !rest.some((c) => issued(c, leaf) && !isSelfSigned(c));
  if (!direct) {
    ctx.report(
      'chain.pgdog-first-block-only',
      `${leaf.file} holds ${certs.length} certificates but PgDog serves only the first: clients get ${leaf.cert.subject} without the intermediate ${leaf.cert.issuer} and cannot verify it`,
      leaf,
    );
  }
}
