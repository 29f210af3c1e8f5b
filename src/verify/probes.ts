// Probes from the operator machine (SPEC §8): real connections with node-postgres to each node by its
// host and by every SAN name of its server certificate. Each probe becomes one `verify:row`.
import { randomUUID } from 'node:crypto';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { tlsAtLeast, type VerifyRow } from './evaluate.js';
import type { Credential } from './credentials.js';
import { passwordEnvVar } from './credentials.js';
import { attempt, type AttemptResult } from './pg-attempt.js';

export interface ProbeTarget {
  node: string;
  host: string;
  port: number;
  /** host plus every DNS/IP SAN name of the node's server certificate. */
  names: string[];
  /** The node serves TLS (from preflight); undefined: unknown. */
  ssl: boolean | undefined;
  /**
   * A Pgpool-II port: pgpool answers every refusal with SQLSTATE XX000 ("client authentication
   * failed" for a pool_hba reject, "authentication failed" for a wrong password), not 28000/28P01.
   */
  pgpool?: boolean | undefined;
}

/** pgpool's refusal: XX000 and an authentication message, from the server. */
function pgpoolRefusal(t: ProbeTarget, r: AttemptResult): boolean {
  return (
    t.pgpool === true &&
    r.kind === 'failed' &&
    r.server &&
    r.code === 'XX000' &&
    /authentication failed|password does not exist/.test(r.message)
  );
}

export interface ProbeContext {
  /** Cluster CA (root.crt of the PKI dir), when there is one. */
  caPem: string | undefined;
  caPath: string;
  /** A CA nobody trusts, generated for this run. */
  foreignCaPem: string;
  creds: Credential[];
  minVersion: string;
  timeoutMs: number;
}

/** `DNS:a, IP Address:10.0.0.1` (Node's subjectAltName) → [a, 10.0.0.1]. */
export function sanNames(subjectAltName: string | undefined): string[] {
  return (subjectAltName ?? '')
    .split(/,\s*/)
    .map((s) => /^(?:DNS|IP Address):(.+)$/.exec(s.trim())?.[1])
    .filter((s): s is string => s !== undefined);
}

const AUTH_REFUSED = new Set(['28P01', '28000']);

function verifiedTls(ca: string, name: string, cred?: Credential): ConnectionOptions {
  return {
    ca,
    rejectUnauthorized: true,
    checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
    ...(cred?.cert !== undefined ? { cert: cred.cert.cert, key: cred.cert.key } : {}),
  };
}

function failure(r: AttemptResult): string {
  if (r.kind === 'connected') return 'connected';
  return `${r.message}${r.code !== undefined ? ` (${r.code})` : ''}`;
}

function noCredentials(ctx: ProbeContext): string {
  const role = ctx.creds[0]?.role ?? 'app';
  return `no credentials: set ${passwordEnvVar(role)}, put ${role}.crt/.key in the PKI dir, or pass --secrets`;
}

async function verifyFull(t: ProbeTarget, name: string, ctx: ProbeContext): Promise<VerifyRow> {
  const row = (ok: boolean, value: string): VerifyRow => ({
    node: t.node,
    check: 'probe.verify-full',
    ok,
    value: `${name}: ${value}`,
  });
  if (ctx.caPem === undefined) return row(false, `no cluster CA at ${ctx.caPath}`);
  const cred = ctx.creds.find((c) => c.password !== undefined || c.cert !== undefined);
  const r = await attempt({
    host: name,
    port: t.port,
    user: cred?.role ?? ctx.creds[0]?.role ?? 'postgres',
    ssl: verifiedTls(ctx.caPem, name, cred),
    password: cred?.password,
    timeoutMs: ctx.timeoutMs,
  });
  const min = ctx.minVersion;
  if (r.kind === 'connected')
    return row(
      tlsAtLeast(r.tls, min),
      `connected as ${cred?.role ?? '?'}, ${r.tls ?? 'no TLS'} (min ${min})`,
    );
  if (r.tls === null) return row(false, `TLS/verification failed: ${failure(r)}`);
  const proven = `TLS verified (${r.tls}, min ${min})`;
  if (cred === undefined) return row(false, `${proven}, but ${noCredentials(ctx)}`);
  // The handshake and the name check happened before authentication: a refusal still proves them.
  if (r.server && r.code !== undefined && AUTH_REFUSED.has(r.code))
    return row(tlsAtLeast(r.tls, min), `${proven}; login as ${cred.role} refused: ${failure(r)}`);
  return row(false, `${proven}; then ${failure(r)}`);
}

async function noTlsRefused(t: ProbeTarget, ctx: ProbeContext): Promise<VerifyRow> {
  const user = ctx.creds[0]?.role ?? 'postgres';
  // No password is ever sent over a plain connection: a password request already is the failure.
  const r = await attempt({
    host: t.host,
    port: t.port,
    user,
    ssl: false,
    password: undefined,
    timeoutMs: ctx.timeoutMs,
  });
  const ok =
    (r.kind === 'failed' && r.server && r.code === '28000' && /no encryption/.test(r.message)) ||
    (pgpoolRefusal(t, r) && r.kind === 'failed' && !r.passwordAsked);
  const value =
    r.kind === 'connected'
      ? `non-TLS login as ${user} succeeded`
      : r.passwordAsked
        ? `non-TLS connection as ${user} accepted up to the password prompt`
        : ok
          ? `refused: ${r.message}`
          : failure(r);
  return { node: t.node, check: 'probe.no-tls-refused', ok, value };
}

async function wrongCaRefused(t: ProbeTarget, ctx: ProbeContext): Promise<VerifyRow> {
  const r = await attempt({
    host: t.host,
    port: t.port,
    user: ctx.creds[0]?.role ?? 'postgres',
    ssl: verifiedTls(ctx.foreignCaPem, t.host),
    password: undefined,
    timeoutMs: ctx.timeoutMs,
  });
  // A verification failure is a local TLS error (no SQLSTATE, no completed handshake).
  const ok =
    r.kind === 'failed' && !r.server && r.tls === null && /certificate|self.signed|verify/i.test(r.message);
  return {
    node: t.node,
    check: 'probe.wrong-ca-refused',
    ok,
    value:
      r.kind === 'connected'
        ? 'connected with a CA that did not issue the server cert'
        : `${ok ? 'refused: ' : ''}${failure(r)}`,
  };
}

async function wrongPasswordRefused(t: ProbeTarget, ctx: ProbeContext): Promise<VerifyRow> {
  const user = ctx.creds[0]?.role ?? 'postgres';
  const wrong = `wrong-${randomUUID()}`;
  // This probe is about authentication, not TLS (probe.verify-full covers that): take TLS unverified.
  const ssl: ConnectionOptions | false = t.ssl === false ? false : { rejectUnauthorized: false };
  const r = await attempt({
    host: t.host,
    port: t.port,
    user,
    ssl,
    password: wrong,
    timeoutMs: ctx.timeoutMs,
  });
  const ok =
    (r.kind === 'failed' && r.server && r.code !== undefined && AUTH_REFUSED.has(r.code)) ||
    pgpoolRefusal(t, r);
  return {
    node: t.node,
    check: 'probe.wrong-password-refused',
    ok,
    value:
      r.kind === 'connected'
        ? `logged in as ${user} with a wrong password`
        : `${ok ? 'refused: ' : ''}${failure(r)}`,
  };
}

async function otherRoleCertRefused(t: ProbeTarget, ctx: ProbeContext): Promise<VerifyRow | undefined> {
  const withCert = ctx.creds.filter((c) => c.cert !== undefined);
  const [a, b] = withCert;
  if (a === undefined || b === undefined || ctx.caPem === undefined) return undefined;
  const r = await attempt({
    host: t.host,
    port: t.port,
    user: a.role,
    ssl: { ...verifiedTls(ctx.caPem, t.host), cert: b.cert?.cert, key: b.cert?.key },
    password: a.password,
    timeoutMs: ctx.timeoutMs,
  });
  const ok = r.kind === 'failed' && r.server && r.code !== undefined && AUTH_REFUSED.has(r.code);
  const value =
    r.kind === 'connected'
      ? `logged in as ${a.role} presenting ${b.role}'s certificate`
      : r.passwordAsked && a.password === undefined
        ? `the server asked ${a.role} for a password instead of rejecting ${b.role}'s certificate`
        : `${ok ? 'refused: ' : ''}${failure(r)}`;
  return {
    node: t.node,
    check: 'probe.other-role-cert-refused',
    ok,
    value: `${a.role} with ${b.role}.crt: ${value}`,
  };
}

/** Every operator-side probe of one node; rows are handed to `emit` as each probe finishes. */
export async function probeNode(
  t: ProbeTarget,
  ctx: ProbeContext,
  emit: (row: VerifyRow) => void,
): Promise<void> {
  // A probe that throws (not a refusal: a bug or a local problem) fails its own row, not the run.
  const guard = (check: string, p: () => Promise<VerifyRow | undefined>): Promise<VerifyRow | undefined> =>
    p().catch((err: unknown) => ({
      node: t.node,
      check,
      ok: false,
      value: `probe error: ${err instanceof Error ? err.message : String(err)}`,
    }));
  const tasks = [
    ...t.names.map((name) => guard('probe.verify-full', () => verifyFull(t, name, ctx))),
    guard('probe.no-tls-refused', () => noTlsRefused(t, ctx)),
    guard('probe.wrong-ca-refused', () => wrongCaRefused(t, ctx)),
    guard('probe.wrong-password-refused', () => wrongPasswordRefused(t, ctx)),
    guard('probe.other-role-cert-refused', () => otherRoleCertRefused(t, ctx)),
  ];
  await Promise.all(
    tasks.map((p) =>
      p.then((row) => {
        if (row !== undefined) emit(row);
      }),
    ),
  );
}
