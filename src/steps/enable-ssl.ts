// tls.enable-ssl: ALTER SYSTEM for ssl and its files, the minimum protocol and SCRAM for new
// passwords. Decision: the plan lists the SQL and names postgresql.auto.conf (backed up by the
// runner) without predicting its bytes — ALTER SYSTEM rewrites the file itself, and plan() cannot
// read it. Undo relies on that backup (restored by the runner, byte for byte) plus a reload:
// `ALTER SYSTEM RESET` would drop values the operator had set there before us.
import { FailedError } from '../core/errors.js';
import { defineStep, emptyPlan } from '../core/step.js';
import { psqlExec, psqlQueries } from '../remote/psql.js';
import type { RemoteSession } from '../remote/types.js';
import type { HardenContext } from './context.js';
import { INSTALL_CA } from './install-ca.js';
import { INSTALL_SERVER_CERT } from './install-server-cert.js';
import { validateAndReload } from './reload.js';
import { pgConn, plainReload, runAsPg, sqlLiteral, str, tlsPaths, waitStreaming } from './tls-files.js';

export const ENABLE_SSL = 'tls.enable-ssl';

export function wantedSettings(f: HardenContext): Record<string, string> {
  const p = tlsPaths(f);
  return {
    ssl: 'on',
    ssl_cert_file: p.cert,
    ssl_key_file: p.key,
    ssl_ca_file: p.ca,
    ssl_min_protocol_version: f.minTlsVersion,
    password_encryption: 'scram-sha-256',
  };
}

export function enableSslSql(f: HardenContext): string[] {
  return Object.entries(wantedSettings(f)).map(([k, v]) => `ALTER SYSTEM SET ${k} = ${sqlLiteral(v)};`);
}

/**
 * Values that ALTER SYSTEM cannot win against: postgresql.auto.conf is read last among the files,
 * so only a non-file source (command line, environment) overrides it. Returned as SQL comments
 * for the plan, from the preflight facts.
 */
export function overrideWarnings(f: HardenContext): string[] {
  const out: string[] = [];
  for (const name of Object.keys(wantedSettings(f))) {
    const s = f.facts.pg.settings[name];
    if (s === undefined) continue;
    const fromFile = s.sourcefile !== null && s.sourcefile !== '';
    if (!fromFile && ['command line', 'environment variable', 'override'].includes(s.source)) {
      out.push(`-- warning: ${name} comes from the ${s.source}; ALTER SYSTEM will not override it`);
    } else if (
      fromFile &&
      !s.sourcefile!.endsWith('postgresql.auto.conf') &&
      s.sourcefile!.includes('.auto.')
    ) {
      out.push(
        `-- warning: ${name} is set in ${s.sourcefile}:${s.sourceline ?? '?'}, which may override ALTER SYSTEM`,
      );
    }
  }
  return out;
}

export async function currentSettings(
  session: RemoteSession,
  f: HardenContext,
  signal?: AbortSignal,
): Promise<Record<string, { setting: string; source: string; sourcefile: string | null }>> {
  const names = Object.keys(wantedSettings(f)).map(sqlLiteral).join(', ');
  const r = await psqlQueries(
    session,
    pgConn(f),
    { s: `SELECT name, setting, source, sourcefile FROM pg_settings WHERE name IN (${names})` },
    { signal },
  );
  const out: Record<string, { setting: string; source: string; sourcefile: string | null }> = {};
  for (const row of r.s) {
    out[str(row['name'])] = {
      setting: str(row['setting']),
      source: str(row['source']),
      sourcefile: row['sourcefile'] === null ? null : str(row['sourcefile']),
    };
  }
  return out;
}

export const enableSsl = defineStep<HardenContext>({
  id: ENABLE_SSL,
  title: 'Enable TLS (ALTER SYSTEM ssl = on, …)',
  after: [INSTALL_CA, INSTALL_SERVER_CERT],
  async check({ session, facts: f, signal }) {
    const now = await currentSettings(session, f, signal);
    return Object.entries(wantedSettings(f)).some(([k, v]) => now[k]?.setting !== v);
  },
  plan({ facts: f }) {
    const p = tlsPaths(f);
    return {
      ...emptyPlan(),
      sql: [...overrideWarnings(f), ...enableSslSql(f)],
      files: [
        {
          path: p.autoConf,
          owner: f.facts.osUser,
          mode: 0o600,
          before: '(postgresql.auto.conf as on the node)',
          after: '(rewritten by ALTER SYSTEM with the statements above)',
        },
      ],
      reload: true,
    };
  },
  async apply({ session, facts: f, signal }) {
    // One psql call; each ALTER SYSTEM is its own statement (it refuses a transaction block).
    await psqlExec(session, pgConn(f), enableSslSql(f).join('\n'), { signal });
    await assertInAutoConf(session, f, signal);
    // PostgreSQL >= 10 enables TLS at reload; validated first, server log checked after.
    await validateAndReload(session, f, signal);
  },
  async verify({ session, facts: f, signal }) {
    return tlsServed(session, f, signal);
  },
  async undo({ session, facts: f, signal }) {
    await plainReload(session, f, signal);
    if (f.role === 'standby') await waitStreaming(session, f, { signal });
  },
});

async function assertInAutoConf(
  session: RemoteSession,
  f: HardenContext,
  signal?: AbortSignal,
): Promise<void> {
  const r = await psqlQueries(
    session,
    pgConn(f),
    {
      s: `SELECT name, setting FROM pg_file_settings
             WHERE applied AND sourcefile LIKE '%/postgresql.auto.conf'`,
      e: 'SELECT count(*)::int AS n FROM pg_file_settings WHERE error IS NOT NULL',
    },
    { signal },
  );
  if (r.e[0]?.['n'] !== 0)
    throw new FailedError('config.errors', `${session.node}: pg_file_settings reports errors`);
  const got = new Map(r.s.map((row) => [str(row['name']), str(row['setting'])]));
  const missing = Object.entries(wantedSettings(f)).filter(([k, v]) => got.get(k) !== v);
  if (missing.length > 0) {
    throw new FailedError(
      'config.overridden',
      `${session.node}: ${missing.map(([k]) => k).join(', ')} not taken from postgresql.auto.conf`,
      'another source overrides ALTER SYSTEM (command line or environment)',
    );
  }
}

/** From a NEW connection (a fresh psql) and a real handshake on the node: TLS is served. */
export async function tlsServed(
  session: RemoteSession,
  f: HardenContext,
  signal?: AbortSignal,
): Promise<boolean> {
  const r = await psqlQueries(session, pgConn(f), { s: "SELECT current_setting('ssl') AS ssl" }, { signal });
  if (r.s[0]?.['ssl'] !== 'on') return false;
  const p = tlsPaths(f);
  // s_client says "Verify return code: 0" even when ssl is off (LAB-NOTES): the exit status and a
  // certificate in the output decide.
  const script =
    'openssl s_client -starttls postgres -connect "$1" -CAfile "$2" -verify_return_error </dev/null 2>&1; echo "exit=$?"';
  const out = await runAsPg(
    session,
    f,
    script,
    [`${f.node.host}:${f.facts.pg.port}`, p.ca],
    's_client',
    signal,
  );
  return (
    /exit=0\s*$/.test(out) &&
    out.includes('-----BEGIN CERTIFICATE-----') &&
    !out.includes('no peer certificate')
  );
}
