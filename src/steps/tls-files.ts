// Helpers shared by the TLS steps: where the files go on the node, running small scripts as the
// PostgreSQL OS user (paths as sh arguments through shellQuote, never contents), and the
// observations check() makes so that the pure plan() can show a real "before".
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import { FailedError, toPghardenError } from '../core/errors.js';
import { DEFAULT_SUPERUSER } from '../core/preflight.js';
import { psqlQueries, type PgConnection } from '../remote/psql.js';
import { shellQuote } from '../remote/shell.js';
import type { RemoteSession } from '../remote/types.js';
import type { HardenContext, ServerSlot } from './context.js';

export function pgConn(f: HardenContext): PgConnection {
  return {
    osUser: f.facts.osUser,
    superuser: f.node.pg?.superuser ?? DEFAULT_SUPERUSER,
    socketDir: f.facts.pg.socketDir,
    port: f.facts.pg.port,
    binDir: f.facts.pg.binDir,
  };
}

export interface TlsPaths {
  dir: string;
  ca: string;
  cert: string;
  key: string;
  replCert: string;
  replKey: string;
  crl: string;
  autoConf: string;
}

function tlsDirOf(f: HardenContext): string {
  // A relative tlsDir would be read relative to PGDATA by PostgreSQL but to $HOME by sh: refuse it.
  if (!posix.isAbsolute(f.tlsDir)) {
    throw new FailedError('tls.dir-relative', `tlsDir ${f.tlsDir} must be an absolute path`);
  }
  return posix.normalize(f.tlsDir).replace(/\/+$/, '');
}

/** The server key/cert pair of a slot: two pairs, so a rotation installs beside the one in use. */
export function serverSlotFiles(dir: string, slot: ServerSlot): { cert: string; key: string } {
  const stem = slot === 'a' ? 'server' : 'server-b';
  return { cert: `${dir}/${stem}.crt`, key: `${dir}/${stem}.key` };
}

/**
 * The slot the server uses now (preflight's ssl_cert_file), or undefined when it serves no pair of
 * ours (ssl off, or someone else's files).
 */
export function activeServerSlot(f: HardenContext): ServerSlot | undefined {
  const dir = tlsDirOf(f);
  const setting = f.facts.pg.settings['ssl_cert_file']?.setting ?? '';
  const abs = posix.isAbsolute(setting) ? setting : posix.join(f.facts.pg.dataDir, setting);
  return (['a', 'b'] as const).find((s) => serverSlotFiles(dir, s).cert === abs);
}

/** The slot the steps work on: the context's choice (rotation), else the one in use, else a. */
export function serverSlot(f: HardenContext): ServerSlot {
  return f.serverSlot ?? activeServerSlot(f) ?? 'a';
}

export function tlsPaths(f: HardenContext): TlsPaths {
  const dir = tlsDirOf(f);
  const server = serverSlotFiles(dir, serverSlot(f));
  return {
    dir,
    ca: `${dir}/root.crt`,
    cert: server.cert,
    key: server.key,
    replCert: `${dir}/replication.crt`,
    replKey: `${dir}/replication.key`,
    crl: `${dir}/root.crl`,
    autoConf: posix.join(f.facts.pg.dataDir, 'postgresql.auto.conf'),
  };
}

/** A SQL string literal (standard_conforming_strings is on since 9.1: only `'` is special). */
export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export const sha256Hex = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** sha256 of the DER SubjectPublicKeyInfo of a certificate or (private) key PEM. Pure. */
export function publicKeySha256(pem: string): string {
  const key = pem.includes('CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  return sha256Hex(key.export({ type: 'spki', format: 'der' }));
}

/** `AB:CD:…` of the first certificate of a PEM bundle (what openssl -fingerprint -sha256 prints). */
export function firstFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.toUpperCase();
}

/** Runs `sh -c script sh args…` as the PostgreSQL OS user; non-zero exit → FailedError. */
export async function runAsPg(
  session: RemoteSession,
  f: HardenContext,
  script: string,
  args: string[],
  what: string,
  signal?: AbortSignal,
): Promise<string> {
  const cmd = ['sh', '-c', script, 'sh', ...args].map(shellQuote).join(' ');
  const r = await session.exec(cmd, { asUser: f.facts.osUser, ...(signal ? { signal } : {}) });
  if (r.code !== 0) {
    const detail = r.stderr.trim().split('\n').slice(-2).join(' ');
    throw new FailedError('tls.remote-failed', `${session.node}: ${what} failed: ${detail}`);
  }
  return r.stdout;
}

export interface RemoteFile {
  exists: boolean;
  owner: string;
  mode: number;
  sha256: string;
  /** sha256 of the public key inside (certificates and keys; '' when openssl cannot read it). */
  pubSha256: string;
}

export interface InspectedFile extends RemoteFile {
  /** `AB:CD:…` sha256 fingerprint of the first certificate (x509 entries), '' otherwise. */
  fingerprint: string;
  /** Content, for entries with `read` (files only). */
  text?: string | undefined;
}

export interface InspectEntry {
  path: string;
  /**
   * What openssl should read the file as: x509 (fingerprint and public key), pkey (public key), none
   * (no openssl: each openssl process costs ~40 ms of CPU on the node, so compare sha256 where it suffices).
   */
  kind: 'x509' | 'pkey' | 'none';
  /** Also return the content (certificates and config files: never a private key). */
  read?: boolean | undefined;
}

// Triples of (kind, read, path). Two lines per entry: `absent` | `present owner mode sha pub fp`, then
// the base64 content or an empty line. One exec for any number of files: each is a round trip saved.
const INSPECT_SH = `while [ $# -ge 3 ]; do
  k=$1; r=$2; p=$3; shift 3
  if [ ! -e "$p" ]; then printf 'absent\n\n'; continue; fi
  s=$(stat -c '%U %a' -- "$p"); h=$(sha256sum -- "$p" 2>/dev/null | cut -d' ' -f1)
  q=-; fp=-
  case $k in
    x509) o=$(openssl x509 -in "$p" -noout -fingerprint -sha256 -pubkey 2>/dev/null)
          fp=$(printf '%s\n' "$o" | sed -n 's/^[^=]*Fingerprint=//p' | head -n 1)
          q=$(printf '%s\n' "$o" | sed -n '/BEGIN PUBLIC KEY/,/END PUBLIC KEY/p' | openssl pkey -pubin -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1);;
    pkey) q=$(openssl pkey -in "$p" -passin pass: -pubout -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1);;
  esac
  echo "present $s \${h:--} $q \${fp:--}"
  if [ "$r" = 1 ] && [ -f "$p" ]; then base64 -w 0 -- "$p"; fi
  echo
done`;

const EMPTY_SHA = sha256Hex('');

/** Stat, hash, openssl facts and (for `read`) content of several files, as the PostgreSQL OS user, in one exec. */
export async function inspectRemote(
  session: RemoteSession,
  f: HardenContext,
  entries: InspectEntry[],
  signal?: AbortSignal,
): Promise<InspectedFile[]> {
  const args = entries.flatMap((e) => [e.kind, e.read === true ? '1' : '0', e.path]);
  const out = await runAsPg(session, f, INSPECT_SH, args, 'reading TLS files', signal);
  const lines = out
    .replace(/\n$/, '')
    .split('\n')
    .slice(-2 * entries.length);
  return entries.map((e, i) => {
    const [state, owner = '', mode = '0', sha = '', pub = '', fp = ''] = (lines[2 * i] ?? '').split(' ');
    if (state !== 'present') {
      return { exists: false, owner: '', mode: 0, sha256: '', pubSha256: '', fingerprint: '' };
    }
    const body = lines[2 * i + 1] ?? '';
    return {
      exists: true,
      owner,
      mode: parseInt(mode, 8),
      sha256: sha === '-' ? '' : sha,
      pubSha256: pub === '-' || pub === EMPTY_SHA ? '' : pub,
      fingerprint: fp === '-' ? '' : fp.toUpperCase(),
      text: e.read === true ? Buffer.from(body, 'base64').toString('utf8') : undefined,
    };
  });
}

/** What check() saw, for plan() (which must not do I/O). Keyed by the facts object of one run. */
export interface Observation {
  dirExists: boolean;
  files: Record<string, RemoteFile>;
  text: Record<string, string>;
  home?: string | undefined;
}
const observations = new WeakMap<object, Map<string, Observation>>();

export function remember(f: HardenContext, stepId: string, o: Observation): void {
  const m = observations.get(f) ?? new Map<string, Observation>();
  m.set(stepId, o);
  observations.set(f, m);
}

export function recall(f: HardenContext, stepId: string): Observation | undefined {
  return observations.get(f)?.get(stepId);
}

function marker(dir: string, runId: string, stepId: string): string {
  return `${dir}/.pgharden-created-${runId}-${stepId}`;
}

/**
 * Creates tlsDir (0700) when missing and leaves a marker naming this run and step, so that undo —
 * even from `rollback RUN_ID` in a later process — removes the directory only if this step made it.
 */
export async function ensureTlsDir(
  session: RemoteSession,
  f: HardenContext,
  runId: string,
  stepId: string,
  signal?: AbortSignal,
): Promise<void> {
  const { dir } = tlsPaths(f);
  const script = 'if [ ! -d "$1" ]; then mkdir -m 0700 -- "$1" && : > "$2"; fi';
  await runAsPg(session, f, script, [dir, marker(dir, runId, stepId)], `creating ${dir}`, signal);
}

export async function removeTlsDirIfCreated(
  session: RemoteSession,
  f: HardenContext,
  runId: string,
  stepId: string,
  signal?: AbortSignal,
): Promise<void> {
  const { dir } = tlsPaths(f);
  // rmdir, not rm -r: anything else still in there is not ours to delete.
  const script = 'if [ -e "$2" ]; then rm -f -- "$2"; rmdir -- "$1" 2>/dev/null || true; fi';
  await runAsPg(session, f, script, [dir, marker(dir, runId, stepId)], `removing ${dir}`, signal);
}

/** A plain SIGHUP (used by undo, where the files were just put back): no validation to fail on. */
export async function plainReload(
  session: RemoteSession,
  f: HardenContext,
  signal?: AbortSignal,
): Promise<void> {
  await psqlQueries(session, pgConn(f), { r: 'SELECT pg_reload_conf() AS ok' }, { signal });
}

/** Standby only: polls pg_stat_wal_receiver until it streams (and, if asked, with verify-full). */
export async function waitStreaming(
  session: RemoteSession,
  f: HardenContext,
  opts: { timeoutMs?: number; verifyFull?: boolean; signal?: AbortSignal | undefined } = {},
): Promise<boolean> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    const r = await psqlQueries(
      session,
      pgConn(f),
      { w: 'SELECT status, conninfo FROM pg_stat_wal_receiver' },
      { signal: opts.signal },
    );
    const row = r.w[0];
    const ok =
      row?.['status'] === 'streaming' &&
      (opts.verifyFull !== true || /\bsslmode=verify-full\b/.test(str(row['conninfo'])));
    if (ok) return true;
    if (Date.now() > deadline || opts.signal?.aborted === true) return false;
    // The WAL receiver reconnects within tens of ms of a conninfo reload: poll finely.
    await new Promise((res) => setTimeout(res, 50));
  }
}

export async function sslOn(
  session: RemoteSession,
  f: HardenContext,
  signal?: AbortSignal,
): Promise<boolean> {
  const r = await psqlQueries(session, pgConn(f), { s: "SELECT current_setting('ssl') AS ssl" }, { signal });
  return r.s[0]?.['ssl'] === 'on';
}

/** A psql JSON value as text ('' for null/objects): rows are untyped. */
export function str(v: unknown, fallback = ''): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fallback;
}

/** Sessions whose sshd would not forward: their probes run as commands on the node from then on. */
const noForwarding = new WeakSet<RemoteSession>();

/**
 * A TCP stream to this node's PostgreSQL as the node itself reaches it (its inventory address),
 * through the SSH connection: a probe over it starts no process on the node. undefined when sshd
 * does not forward (AllowTcpForwarding no, or the address is unreachable from the node): the
 * caller runs its command instead.
 */
export async function streamFromNode(
  session: RemoteSession,
  f: HardenContext,
  signal?: AbortSignal,
): Promise<Duplex | undefined> {
  if (session.forwardTcp === undefined || noForwarding.has(session)) return undefined;
  try {
    return await session.forwardTcp(f.node.host, f.facts.pg.port, signal);
  } catch (e) {
    if (toPghardenError(e).code !== 'remote.forward-refused') throw e;
    noForwarding.add(session);
    return undefined;
  }
}
