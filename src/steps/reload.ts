// tls.reload: validate, SIGHUP, then read the server log. A bad cert/key or hba file does not make
// pg_reload_conf() fail — the server logs "… was not reloaded" and keeps the old config (LAB-NOTES),
// so the checks before and the log after are the only way to know the reload really took.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { FailedError } from '../core/errors.js';
import { defineStep } from '../core/step.js';
import { psqlQueries, psqlShellCommand } from '../remote/psql.js';
import type { RemoteSession } from '../remote/types.js';
import type { HardenContext } from './context.js';
import {
  pgConn,
  plainReload,
  runAsPg,
  sha256Hex,
  sqlLiteral,
  inspectRemote,
  str,
  tlsPaths,
} from './tls-files.js';

export const RELOAD = 'tls.reload';

/** Settings our steps change; pending_restart on any of them means the reload was not enough. */
export const MANAGED_SETTINGS = [
  'ssl',
  'ssl_cert_file',
  'ssl_key_file',
  'ssl_ca_file',
  'ssl_crl_file',
  'ssl_min_protocol_version',
  'password_encryption',
  'primary_conninfo',
] as const;

const LOG_ERRORS = /SSL configuration was not reloaded|could not load|could not reload|was not reloaded/;

// One psql call decides whether the reload may go ahead. The TLS files are read by the server
// itself (pg_read_binary_file runs in a backend, as the PostgreSQL OS user), so "readable by the
// PostgreSQL user" is tested exactly, and their sha256 is compared with what pgharden installed.
const VALIDATE_QUERIES = (identView: boolean) =>
  ({
    fileErrors: `SELECT sourcefile, sourceline, error FROM pg_file_settings WHERE error IS NOT NULL`,
    hbaErrors: `SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL`,
    // pg_ident_file_mappings (PostgreSQL >= 15) reads pg_ident.conf on disk, like pg_hba_file_rules.
    identErrors: identView
      ? `SELECT line_number, error FROM pg_ident_file_mappings WHERE error IS NOT NULL`
      : `SELECT NULL::int AS line_number, NULL::text AS error WHERE false`,
    // What the config files will say after the reload (applied = the winning line), else the current value.
    tls: `WITH s AS (
            SELECT s.name, coalesce(f.setting, s.setting) AS setting
              FROM pg_settings s
              LEFT JOIN pg_file_settings f ON f.name = s.name AND f.applied
             WHERE s.name IN ('ssl', 'ssl_cert_file', 'ssl_key_file', 'ssl_ca_file', 'ssl_crl_file'))
          SELECT name, setting,
                 CASE WHEN name <> 'ssl' AND setting <> '' AND (SELECT setting FROM s WHERE name = 'ssl') = 'on'
                      THEN encode(sha256(pg_read_binary_file(setting, 0, 16777216, true)), 'hex') END AS sha256
            FROM s`,
    autoConf: `SELECT name, setting FROM pg_file_settings
                WHERE applied AND sourcefile LIKE '%/postgresql.auto.conf'`,
    // pg_current_logfile() is null unless the logging collector writes the log; path relative to PGDATA.
    log: `SELECT current_setting('data_directory') AS data, l AS file, coalesce((pg_stat_file(l, true)).size, 0) AS size
            FROM pg_current_logfile() AS l WHERE l IS NOT NULL`,
  }) as const;

export interface ReloadResult {
  /** false when the server log could not be followed (no logging collector): only the checks before ran. */
  logChecked: boolean;
}

/** Last line printed before the log excerpt by RELOAD_SH. */
const LOG_START = '--- pgharden: server log after the reload ---';

/**
 * $1 log file ('' = none), $2 byte offset to read from, $3 marker (hex, also inside the script), $4
 * the data directory. SIGHUP to the postmaster named by postmaster.pid — what pg_reload_conf() does,
 * without a psql process — then wait for its "received SIGHUP" line; a connection made after that
 * line is accepted only once the postmaster has finished the reload (it handles SIGHUP before it
 * accepts again), so the marker that connection logs comes after every message of the reload: no
 * fixed sleep. Both waits are bounded.
 */
function reloadScript(psql: string, marker: string): string {
  return `pg() { ${psql}; }
read -r pid < "$4/postmaster.pid" || exit 10
case $pid in ''|*[!0-9]*) exit 10;; esac
kill -HUP "$pid" || exit 10
[ -n "$1" ] || exit 0
i=0
until tail -c +"$2" -- "$1" 2>/dev/null | grep -q 'received SIGHUP'; do
  i=$((i+1)); [ $i -ge 250 ] && break; sleep 0.02
done
pg >/dev/null <<'EOSQL'
SET log_min_messages = warning;
DO $m$BEGIN RAISE LOG '${marker}'; END$m$;
EOSQL
i=0
until tail -c +"$2" -- "$1" 2>/dev/null | grep -qF -- "$3"; do
  i=$((i+1)); [ $i -ge 150 ] && break; sleep 0.02
done
echo '${LOG_START}'
tail -c +"$2" -- "$1" | head -c 1048576`;
}

/**
 * Validate, reload, read the log. `statements` (e.g. an ALTER SYSTEM) run first in the validating
 * psql session, so the change and its validation cost one round trip; `beforeReload` sees what
 * postgresql.auto.conf now sets (applied lines: name → value) and may refuse by throwing.
 */
export async function validateAndReload(
  session: RemoteSession,
  f: HardenContext,
  signal?: AbortSignal,
  statements?: string,
  beforeReload?: (autoConf: ReadonlyMap<string, string>) => void,
): Promise<ReloadResult> {
  const conn = pgConn(f);
  const r = await psqlQueries(session, conn, VALIDATE_QUERIES(f.facts.pg.versionNum >= 150000), {
    signal,
    statements,
  });
  const node = session.node;
  const what = [
    ...r.fileErrors.map((e) => `${str(e['sourcefile'])}:${str(e['sourceline'])}: ${str(e['error'])}`),
    ...r.hbaErrors.map((e) => `pg_hba.conf:${str(e['line_number'])}: ${str(e['error'])}`),
    ...r.identErrors.map((e) => `pg_ident.conf:${str(e['line_number'])}: ${str(e['error'])}`),
  ];
  if (what.length > 0) {
    throw new FailedError('reload.invalid-config', `${node}: not reloading: ${what.slice(0, 3).join('; ')}`);
  }
  beforeReload?.(new Map(r.autoConf.map((row) => [str(row['name']), str(row['setting'])])));
  const tls = new Map(r.tls.map((row) => [str(row['name']), row]));
  if (str(tls.get('ssl')?.['setting']) === 'on') await checkTlsFiles(session, f, tls, signal);

  const log = r.log[0];
  const data = str(log?.['data'], f.facts.pg.dataDir);
  const file = log === undefined ? '' : str(log['file']);
  const logFile = file === '' ? '' : posix.isAbsolute(file) ? file : posix.join(data, file);
  const offset = Number(log?.['size'] ?? 0) || 0;
  const marker = `pgharden-reload-${randomBytes(8).toString('hex')}`;
  const out = await runAsPg(
    session,
    f,
    reloadScript(psqlShellCommand(conn), marker),
    [logFile, String(offset + 1), marker, data],
    'reloading the configuration',
    signal,
  );
  if (logFile === '') return { logChecked: false };
  const tail = out.slice(out.indexOf(LOG_START) + LOG_START.length);
  const bad = tail.split('\n').find((l) => LOG_ERRORS.test(l));
  if (bad !== undefined) {
    throw new FailedError(
      'reload.rejected',
      `${node}: the server did not take the new configuration: ${bad.trim().slice(0, 300)}`,
      `see ${logFile}`,
    );
  }
  return { logChecked: tail.includes(marker) };
}

/**
 * The TLS files the server will load. Ours (the paths pgharden installs) must be byte for byte what
 * pgharden installed — that content was checked locally (key matches certificate, chain, lint).
 * Anyone else's are checked on the node with its openssl: present, readable, key matches cert.
 */
async function checkTlsFiles(
  session: RemoteSession,
  f: HardenContext,
  tls: Map<string, Record<string, unknown>>,
  signal?: AbortSignal,
): Promise<void> {
  const p = tlsPaths(f);
  const data = f.facts.pg.dataDir;
  const abs = (x: string): string => (posix.isAbsolute(x) ? x : posix.join(data, x));
  const ours: Record<string, string> = {
    [p.cert]: f.tls.server.certPem,
    [p.key]: f.tls.server.keyPem,
    [p.ca]: f.tls.caPem,
    ...(f.tls.crlPem === undefined ? {} : { [p.crl]: f.tls.crlPem }),
  };
  const problems: string[] = [];
  const foreign: { name: string; path: string }[] = [];
  for (const name of ['ssl_cert_file', 'ssl_key_file', 'ssl_ca_file', 'ssl_crl_file']) {
    const row = tls.get(name);
    const setting = str(row?.['setting']);
    if (setting === '') {
      if (name === 'ssl_cert_file' || name === 'ssl_key_file') problems.push(`${name} is empty`);
      continue;
    }
    const path = abs(setting);
    const want = ours[path];
    if (want === undefined) {
      foreign.push({ name, path });
      continue;
    }
    const got = row?.['sha256'];
    if (typeof got !== 'string') problems.push(`${path} is missing`);
    else if (got !== sha256Hex(want)) problems.push(`${path} is not the file pgharden installed`);
  }
  if (foreign.length > 0) problems.push(...(await checkForeignTlsFiles(session, f, foreign, signal)));
  if (problems.length > 0) {
    throw new FailedError('reload.bad-tls-files', `${session.node}: not reloading: ${problems.join('; ')}`);
  }
}

async function checkForeignTlsFiles(
  session: RemoteSession,
  f: HardenContext,
  files: { name: string; path: string }[],
  signal?: AbortSignal,
): Promise<string[]> {
  const problems: string[] = [];
  // One exec for all of them: the certificate and the CA as x509, the key as a private key.
  const seen = await inspectRemote(
    session,
    f,
    files.map((x) => ({
      path: x.path,
      kind: x.name === 'ssl_key_file' ? ('pkey' as const) : ('x509' as const),
    })),
    signal,
  );
  const of = (name: string): { path: string; pub: string } | undefined => {
    const i = files.findIndex((x) => x.name === name);
    return i < 0 ? undefined : { path: files[i]?.path ?? '', pub: seen[i]?.pubSha256 ?? '' };
  };
  const cert = of('ssl_cert_file');
  const key = of('ssl_key_file');
  const ca = of('ssl_ca_file');
  if (cert !== undefined && cert.pub === '')
    problems.push(`${cert.path} is not a certificate the PostgreSQL user can read`);
  if (key !== undefined && key.pub === '')
    problems.push(`${key.path} is not a key the PostgreSQL user can read`);
  if (ca !== undefined && ca.pub === '') problems.push(`${ca.path} is not a readable CA bundle`);
  // Only when both are someone else's: a foreign key next to our certificate was refused above.
  if (cert !== undefined && key !== undefined && cert.pub !== '' && key.pub !== '' && cert.pub !== key.pub)
    problems.push(`${key.path} does not match ${cert.path}`);
  return problems;
}

export const reload = defineStep<HardenContext>({
  id: RELOAD,
  title: 'Validate and reload the configuration',
  after: ['tls.enable-ssl'],
  async check({ session, facts: f, signal }) {
    // Something to reload: a config or TLS file changed after the server last read its config.
    // Compared on the node with nanosecond mtimes (pg_stat_file has whole seconds only). The files
    // are those preflight saw (config_file, hba_file and ident_file only change with a restart) plus
    // pgharden's own, so the load time and the mtimes are read side by side.
    const setting = (name: string): string => f.facts.pg.settings[name]?.setting ?? '';
    const data = setting('data_directory') || f.facts.pg.dataDir;
    const p = tlsPaths(f);
    const files = [
      ...['config_file', 'hba_file', 'ident_file', 'ssl_cert_file', 'ssl_key_file', 'ssl_ca_file'].map(
        setting,
      ),
      'postgresql.auto.conf',
      p.cert,
      p.key,
      p.ca,
    ]
      .filter((x) => x !== '')
      .map((x) => (posix.isAbsolute(x) ? x : posix.join(data, x)));
    const [r, out] = await Promise.all([
      psqlQueries(
        session,
        pgConn(f),
        { s: `SELECT extract(epoch FROM pg_conf_load_time())::text AS loaded` },
        { signal },
      ),
      runAsPg(
        session,
        f,
        'for p in "$@"; do [ -e "$p" ] && stat -c %.9Y -- "$p"; done; true',
        [...new Set(files)],
        'reading file times',
        signal,
      ),
    ]);
    const row = r.s[0] ?? {};
    const loaded = micros(str(row['loaded'], '0'));
    return out
      .trim()
      .split('\n')
      .filter((l) => /^\d+(\.\d+)?$/.test(l))
      .some((l) => micros(l) > loaded);
  },
  plan() {
    return { files: [], sql: ['SELECT pg_reload_conf();'], commands: [], reload: true, restart: false };
  },
  async apply({ session, facts: f, signal }) {
    await validateAndReload(session, f, signal);
  },
  async verify({ session, facts: f, signal }) {
    const names = MANAGED_SETTINGS.map(sqlLiteral).join(', ');
    const r = await psqlQueries(
      session,
      pgConn(f),
      { p: `SELECT name FROM pg_settings WHERE pending_restart AND name IN (${names})` },
      { signal },
    );
    if (r.p.length > 0) {
      throw new FailedError(
        'reload.needs-restart',
        `${session.node}: ${r.p.map((x) => str(x['name'])).join(', ')} need a restart`,
      );
    }
    return true;
  },
  async undo({ session, facts: f, signal }) {
    // The files of earlier steps are restored when those steps are undone; each of them reloads.
    await plainReload(session, f, signal);
  },
});

/** "1795441145.292684006" → microseconds as a bigint (a double would round at this size). */
export function micros(epoch: string): bigint {
  const [sec = '0', frac = ''] = epoch.trim().split('.');
  return BigInt(sec) * 1_000_000n + BigInt((frac + '000000').slice(0, 6));
}
