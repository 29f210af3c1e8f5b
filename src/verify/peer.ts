// Peer probes (SPEC §8): from each node to every other node over SSH, with that node's own psql and
// libpq, as its PostgreSQL OS user. No password is involved: `-w` never prompts, PGPASSFILE=/dev/null
// keeps a .pgpass (a standby's replication password) out of it, so a refusal must come from hba.
import { posix } from 'node:path';
import { shellJoin, shellQuote } from '../remote/shell.js';
import type { RemoteSession } from '../remote/types.js';
import type { VerifyRow } from './evaluate.js';

export interface PeerSource {
  node: string;
  session: RemoteSession;
  osUser: string;
  binDir: string | undefined;
  dataDir: string;
  /** ssl_ca_file setting ('' when unset; relative paths are relative to the data dir). */
  sslCaFile: string;
}

export interface PeerTarget {
  node: string;
  host: string;
  port: number;
}

/** The libpq error of a failed psql: the first non-empty stderr line, without psql's prefix. */
function psqlError(stderr: string): string {
  const line =
    stderr
      .trim()
      .split('\n')
      .find((l) => l.trim() !== '') ?? '';
  return line.replace(/^psql: (error: )?/, '').slice(0, 300);
}

/** The libpq error text of a refused non-TLS connection (first line of psql's stderr). */
export function judgeNoTls(code: number | null, stderr: string): { ok: boolean; value: string } {
  const msg = psqlError(stderr);
  if (code === 0) return { ok: false, value: 'non-TLS login succeeded' };
  // "no pg_hba.conf entry": nothing matched; "pg_hba.conf rejects connection": a reject rule did
  // (pgharden's own `hostnossl … reject`). Both refuse before authentication.
  if (/no pg_hba\.conf entry|pg_hba\.conf rejects connection/.test(msg) && /no encryption/.test(msg))
    return { ok: true, value: `refused: ${msg}` };
  if (/no password supplied|password authentication failed/.test(msg))
    return { ok: false, value: `non-TLS connection accepted up to authentication: ${msg}` };
  return { ok: false, value: msg === '' ? `psql exit ${code}` : msg };
}

/** verify-full from a peer: TLS and the name check precede authentication, so an auth refusal still passes. */
export function judgeVerifyFull(code: number | null, stderr: string): { ok: boolean; value: string } {
  const msg = psqlError(stderr);
  if (code === 0) return { ok: true, value: 'connected (verify-full)' };
  // A FATAL comes from the server, and libpq sends nothing to it before the certificate and the
  // host name were verified: a server-side refusal (password, client certificate, hba) still
  // proves verify-full. Client-side TLS errors carry no FATAL.
  if (/FATAL:/.test(msg) || /no password supplied/.test(msg))
    return { ok: true, value: `TLS verified; login refused: ${msg}` };
  return { ok: false, value: msg === '' ? `psql exit ${code}` : msg };
}

function psqlCommand(src: PeerSource, conninfo: string): string {
  const psql = src.binDir === undefined ? 'psql' : `${src.binDir.replace(/\/+$/, '')}/psql`;
  const env = [
    'PGPASSFILE=/nonexistent/pgharden-no-pgpass',
    'PGCONNECT_TIMEOUT=5',
    'LC_ALL=C',
    'PGAPPNAME=pgharden-verify',
  ];
  return `env ${shellJoin(env)} ${shellQuote(psql)} -X -w -A -t -c 'SELECT 1' ${shellQuote(conninfo)}`;
}

function conninfo(dst: PeerTarget, user: string, extra: string): string {
  return `host=${dst.host} port=${dst.port} dbname=postgres user=${user} ${extra}`;
}

async function caPathOn(
  src: PeerSource,
  signal?: AbortSignal,
): Promise<{ path: string } | { reason: string }> {
  if (src.sslCaFile === '') return { reason: `ssl_ca_file is not set on ${src.node}` };
  const path = posix.isAbsolute(src.sslCaFile) ? src.sslCaFile : posix.join(src.dataDir, src.sslCaFile);
  const r = await src.session.exec(`test -r ${shellQuote(path)}`, {
    asUser: src.osUser,
    signal,
    timeoutMs: 10_000,
  });
  return r.code === 0 ? { path } : { reason: `${path} is not readable by ${src.osUser} on ${src.node}` };
}

/** Peer rows of one source node against every other node; `node` of each row is the source. */
export async function peerProbes(
  src: PeerSource,
  peers: PeerTarget[],
  user: string,
  emit: (row: VerifyRow) => void,
  signal?: AbortSignal,
): Promise<void> {
  const ca = await caPathOn(src, signal);
  await Promise.all(
    peers.map(async (dst) => {
      const plain = await src.session.exec(psqlCommand(src, conninfo(dst, user, 'sslmode=disable')), {
        asUser: src.osUser,
        signal,
        timeoutMs: 15_000,
      });
      const a = judgeNoTls(plain.code, plain.stderr);
      emit({ node: src.node, check: 'peer.no-tls-refused', ok: a.ok, value: `→ ${dst.node}: ${a.value}` });
      if ('reason' in ca) {
        emit({
          node: src.node,
          check: 'peer.verify-full',
          ok: true,
          value: `→ ${dst.node}: n/a: ${ca.reason}`,
        });
        return;
      }
      const tls = await src.session.exec(
        psqlCommand(
          src,
          conninfo(dst, user, `sslmode=verify-full sslrootcert='${ca.path.replace(/['\\]/g, '\\$&')}'`),
        ),
        { asUser: src.osUser, signal, timeoutMs: 15_000 },
      );
      const b = judgeVerifyFull(tls.code, tls.stderr);
      emit({ node: src.node, check: 'peer.verify-full', ok: b.ok, value: `→ ${dst.node}: ${b.value}` });
    }),
  );
}
