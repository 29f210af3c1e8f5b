// SQL as the PostgreSQL OS user over the local socket: one psql process per call (an exec channel
// costs ~65 ms, so callers batch), SQL on stdin (it may carry password literals), env via `env` so it
// survives sudo. Each query becomes one line of JSON: jsonb text never contains a raw newline.
//
// Types: numbers and booleans come back as JSON numbers/booleans. bigint and numeric also come back
// as JSON numbers, so values beyond 2^53 lose precision: cast them `::text` in the query when exact
// digits matter. Timestamps, LSNs, intervals, arrays-of-text etc. come back as strings/arrays.
import { randomBytes } from 'node:crypto';
import { RemoteError } from './errors.js';
import { shellJoin, shellQuote } from './shell.js';
import type { RemoteSession } from './types.js';

export interface PgConnection {
  /** OS user that owns the cluster; psql runs as this user (sudo -u when it is not the SSH user). */
  osUser: string;
  /** Database role to log in as over the socket (peer/trust for the OS user). */
  superuser: string;
  socketDir: string;
  port: number;
  /** Directory of psql; absent: psql from PATH. */
  binDir?: string | undefined;
  database?: string | undefined;
}

export type Row = Record<string, unknown>;

export interface PsqlOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  /**
   * The SQL may contain secrets: psql reports errors as SQLSTATE only (no statement text, no LINE
   * excerpt), and the server is told not to log the statement (error, duration or statement logs).
   */
  sensitive?: boolean | undefined;
  /**
   * psqlQueries only: statements run first in the same session (e.g. ALTER SYSTEM, which refuses a
   * transaction block: each runs on its own), so a change and its read-back cost one round trip.
   */
  statements?: string | undefined;
}

/** The psql command line (SQL on stdin) for node-side scripts that run psql themselves. */
export function psqlShellCommand(pg: PgConnection): string {
  const env = [
    `PGHOST=${pg.socketDir}`,
    `PGPORT=${pg.port}`,
    `PGUSER=${pg.superuser}`,
    `PGDATABASE=${pg.database ?? 'postgres'}`,
    'PGAPPNAME=pgharden',
    'PGCONNECT_TIMEOUT=10',
    'LC_ALL=C',
  ];
  const psql = pg.binDir === undefined ? 'psql' : `${pg.binDir.replace(/\/+$/, '')}/psql`;
  return `env ${shellJoin(env)} ${shellQuote(psql)} -X -q -A -t -v ON_ERROR_STOP=1 -f -`;
}

function preamble(sensitive: boolean): string[] {
  if (!sensitive) return ['\\set SHOW_CONTEXT errors'];
  return [
    '\\set VERBOSITY sqlstate',
    '\\set SHOW_CONTEXT never',
    // The server would log the statement (or, for some errors, a value from it) otherwise.
    "SET log_min_error_statement = 'panic';",
    "SET log_min_messages = 'fatal';",
    "SET log_statement = 'none';",
    'SET log_min_duration_statement = -1;',
  ];
}

/** Line range (1-based, inclusive) of each query in the script, to name the one psql failed in. */
interface Part {
  key: string;
  from: number;
  to: number;
}

/** psql -f - prefixes errors with `psql:<stdin>:N:`, N being the line where the statement ended. */
function errorLine(stderr: string): number | undefined {
  const m = /psql:<stdin>:(\d+):/.exec(stderr);
  return m === null ? undefined : Number(m[1]);
}

function psqlError(session: RemoteSession, stderr: string, where: string, code: number | null): RemoteError {
  const lines = stderr.trim().split('\n').slice(0, 12).join('\n');
  return new RemoteError(
    session.node,
    'psql.failed',
    `${session.node}: psql failed${where} (exit ${code}): ${lines}`,
    'the statements after the failing one were not run',
  );
}

async function runScript(
  session: RemoteSession,
  pg: PgConnection,
  script: string,
  options: PsqlOptions,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return session.exec(psqlShellCommand(pg), {
    asUser: pg.osUser,
    stdin: script,
    signal: options.signal,
    timeoutMs: options.timeoutMs,
  });
}

export async function psqlQueries<K extends string>(
  session: RemoteSession,
  pg: PgConnection,
  queries: Record<K, string>,
  options: PsqlOptions = {},
): Promise<Record<K, Row[]>> {
  const keys = Object.keys(queries) as K[];
  // A marker line before the results: anything a login script prints on stdout stays above it.
  const marker = `pgharden-${randomBytes(8).toString('hex')}`;
  const lines = [...preamble(options.sensitive === true)];
  if (options.statements !== undefined) lines.push(...options.statements.trim().split('\n'));
  lines.push(`\\echo ${marker}`);
  const parts: Part[] = [];
  for (const key of keys) {
    const sql = queries[key].trim().replace(/;\s*$/, '');
    const from = lines.length + 1;
    lines.push("SELECT coalesce(jsonb_agg(q), '[]'::jsonb)::text FROM (", ...sql.split('\n'), ') q;');
    parts.push({ key, from, to: lines.length });
  }
  const r = await runScript(session, pg, `${lines.join('\n')}\n`, options);
  if (r.code !== 0) {
    const line = errorLine(r.stderr);
    const part = parts.find((p) => line !== undefined && line >= p.from && line <= p.to);
    throw psqlError(session, r.stderr, part === undefined ? '' : ` in query "${part.key}"`, r.code);
  }

  const out = r.stdout.split('\n');
  const start = out.lastIndexOf(marker);
  const rows = out.slice(start + 1).filter((l) => l !== '');
  if (start < 0 || rows.length !== keys.length) {
    throw new RemoteError(
      session.node,
      'psql.bad-output',
      `${session.node}: psql printed ${rows.length} result lines for ${keys.length} queries`,
    );
  }
  const result = {} as Record<K, Row[]>;
  keys.forEach((key, i) => {
    result[key] = JSON.parse(rows[i] ?? '[]') as Row[];
  });
  return result;
}

/** Statements without results (DDL, ALTER SYSTEM, …). Output is discarded; an error throws psql.failed. */
export async function psqlExec(
  session: RemoteSession,
  pg: PgConnection,
  sql: string,
  options: PsqlOptions = {},
): Promise<void> {
  const head = preamble(options.sensitive === true);
  const script = `${head.join('\n')}\n${sql.replace(/\s*$/, '')}\n`;
  const r = await runScript(session, pg, script, options);
  if (r.code !== 0) {
    const line = errorLine(r.stderr);
    const where =
      line === undefined || line <= head.length
        ? ''
        : ` in the statement ending on line ${line - head.length}`;
    throw psqlError(session, r.stderr, where, r.code);
  }
}
