// tls.reload: validate, SIGHUP, then read the server log. A bad cert/key or hba file does not make
// pg_reload_conf() fail — the server logs "… was not reloaded" and keeps the old config (LAB-NOTES),
// so the checks before and the log after are the only way to know the reload really took.
import { posix } from 'node:path';
import { FailedError } from '../core/errors.js';
import { defineStep } from '../core/step.js';
import { psqlQueries } from '../remote/psql.js';
import type { RemoteSession } from '../remote/types.js';
import type { HardenContext } from './context.js';
import { pgConn, plainReload, runAsPg, sqlLiteral, statRemote, str, tlsPaths } from './tls-files.js';

export const RELOAD = 'tls.reload';

/** Settings our steps change; pending_restart on any of them means the reload was not enough. */
export const MANAGED_SETTINGS = [
  'ssl',
  'ssl_cert_file',
  'ssl_key_file',
  'ssl_ca_file',
  'ssl_min_protocol_version',
  'password_encryption',
  'primary_conninfo',
] as const;

const LOG_ERRORS = /SSL configuration was not reloaded|could not load|could not reload|was not reloaded/;

const VALIDATE_QUERIES = {
  fileErrors: `SELECT sourcefile, sourceline, error FROM pg_file_settings WHERE error IS NOT NULL`,
  hbaErrors: `SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL`,
  // What the config files will say after the reload (applied = the winning line), else the current value.
  ssl: `SELECT s.name, coalesce(f.setting, s.setting) AS setting
          FROM pg_settings s
          LEFT JOIN pg_file_settings f ON f.name = s.name AND f.applied
         WHERE s.name IN ('ssl', 'ssl_cert_file', 'ssl_key_file', 'ssl_ca_file',
                          'data_directory', 'log_directory', 'log_filename', 'logging_collector')`,
} as const;

export interface ReloadResult {
  /** false when logging_collector is off: the log could not be read, only the checks before ran. */
  logChecked: boolean;
}

// $1 log dir, $2 file name or pattern: prints the path of the newest matching log file.
const LOG_PATH_SH = `case $2 in
  *%*) ls -1t -- "$1" 2>/dev/null | head -n 1 | sed "s|^|$1/|";;
  *) echo "$1/$2";;
esac`;

export async function validateAndReload(
  session: RemoteSession,
  f: HardenContext,
  signal?: AbortSignal,
): Promise<ReloadResult> {
  const conn = pgConn(f);
  const r = await psqlQueries(session, conn, VALIDATE_QUERIES, { signal });
  const node = session.node;
  if (r.fileErrors.length > 0 || r.hbaErrors.length > 0) {
    const what = [
      ...r.fileErrors.map((e) => `${str(e['sourcefile'])}:${str(e['sourceline'])}: ${str(e['error'])}`),
      ...r.hbaErrors.map((e) => `pg_hba.conf:${str(e['line_number'])}: ${str(e['error'])}`),
    ];
    throw new FailedError('reload.invalid-config', `${node}: not reloading: ${what.slice(0, 3).join('; ')}`);
  }
  const s = new Map(r.ssl.map((row) => [str(row['name']), str(row['setting'])]));
  const dataDir = s.get('data_directory') ?? f.facts.pg.dataDir;
  const abs = (p: string): string => (posix.isAbsolute(p) ? p : posix.join(dataDir, p));
  if (s.get('ssl') === 'on') await checkTlsFiles(session, f, abs, s, signal);

  let logFile: string | undefined;
  let offset = 0;
  if (s.get('logging_collector') === 'on') {
    const out = await runAsPg(
      session,
      f,
      LOG_PATH_SH,
      [abs(s.get('log_directory') ?? 'log'), s.get('log_filename') ?? ''],
      'finding the server log',
      signal,
    );
    logFile = out.trim().split('\n').at(-1);
    if (logFile !== undefined && logFile !== '') {
      const size = await runAsPg(
        session,
        f,
        'stat -c %s -- "$1" 2>/dev/null || echo 0',
        [logFile],
        'stat log',
        signal,
      );
      offset = Number(size.trim()) || 0;
    }
  }
  await plainReload(session, f, signal);
  if (logFile === undefined || logFile === '') return { logChecked: false };
  const tail = await readLogAfterSighup(session, f, logFile, offset, signal);
  const bad = tail.split('\n').find((l) => LOG_ERRORS.test(l));
  if (bad !== undefined) {
    throw new FailedError(
      'reload.rejected',
      `${node}: the server did not take the new configuration: ${bad.trim().slice(0, 300)}`,
      `see ${logFile}`,
    );
  }
  return { logChecked: true };
}

async function checkTlsFiles(
  session: RemoteSession,
  f: HardenContext,
  abs: (p: string) => string,
  s: Map<string, string>,
  signal?: AbortSignal,
): Promise<void> {
  const cert = abs(s.get('ssl_cert_file') ?? 'server.crt');
  const key = abs(s.get('ssl_key_file') ?? 'server.key');
  const caSetting = s.get('ssl_ca_file') ?? '';
  const [c] = await statRemote(session, f, 'x509', [cert], signal);
  const [k] = await statRemote(session, f, 'pkey', [key], signal);
  const problems: string[] = [];
  if (c?.pubSha256 === '' || c === undefined)
    problems.push(`${cert} is not a certificate the PostgreSQL user can read`);
  if (k?.pubSha256 === '' || k === undefined)
    problems.push(`${key} is not a key the PostgreSQL user can read`);
  else if (c !== undefined && c.pubSha256 !== '' && c.pubSha256 !== k.pubSha256)
    problems.push(`${key} does not match ${cert}`);
  if (caSetting !== '') {
    const [ca] = await statRemote(session, f, 'x509', [abs(caSetting)], signal);
    if (ca?.pubSha256 === '' || ca === undefined)
      problems.push(`${abs(caSetting)} is not a readable CA bundle`);
  }
  if (problems.length > 0) {
    throw new FailedError('reload.bad-tls-files', `${session.node}: not reloading: ${problems.join('; ')}`);
  }
}

/** Waits (≤ 5 s) for the postmaster's "received SIGHUP" line, then a moment for what follows it. */
async function readLogAfterSighup(
  session: RemoteSession,
  f: HardenContext,
  logFile: string,
  offset: number,
  signal?: AbortSignal,
): Promise<string> {
  const read = (): Promise<string> =>
    runAsPg(
      session,
      f,
      'tail -c +"$2" -- "$1"',
      [logFile, String(offset + 1)],
      'reading the server log',
      signal,
    );
  const deadline = Date.now() + 5_000;
  let text = await read();
  while (!text.includes('received SIGHUP') && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 100));
    text = await read();
  }
  await new Promise((res) => setTimeout(res, 250));
  return read();
}

export const reload = defineStep<HardenContext>({
  id: RELOAD,
  title: 'Validate and reload the configuration',
  after: ['tls.enable-ssl'],
  async check({ session, facts: f, signal }) {
    // Something to reload: a config or TLS file changed after the server last read its config.
    // Compared on the node with nanosecond mtimes (pg_stat_file has whole seconds only).
    const r = await psqlQueries(
      session,
      pgConn(f),
      {
        s: `SELECT extract(epoch FROM pg_conf_load_time())::text AS loaded,
                   current_setting('data_directory') AS data,
                   ARRAY[current_setting('config_file'), current_setting('hba_file'),
                         current_setting('ident_file'), current_setting('ssl_cert_file'),
                         current_setting('ssl_key_file'), current_setting('ssl_ca_file')] AS files`,
      },
      { signal },
    );
    const row = r.s[0] ?? {};
    const data = str(row['data'], f.facts.pg.dataDir);
    const p = tlsPaths(f);
    const files = [
      ...((row['files'] as string[] | undefined) ?? []),
      'postgresql.auto.conf',
      p.cert,
      p.key,
      p.ca,
    ]
      .filter((x) => x !== '')
      .map((x) => (posix.isAbsolute(x) ? x : posix.join(data, x)));
    const out = await runAsPg(
      session,
      f,
      'for p in "$@"; do [ -e "$p" ] && stat -c %.9Y -- "$p"; done; true',
      files,
      'reading file times',
      signal,
    );
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
