import { describe, expect, it } from 'vitest';
import { psqlExec, psqlQueries, type PgConnection } from './psql.js';
import type { ExecOptions, ExecResult, RemoteSession } from './types.js';

const PG: PgConnection = {
  osUser: 'postgres',
  superuser: 'postgres',
  socketDir: '/var/run/postgresql',
  port: 5433,
  binDir: '/usr/lib/postgresql/15/bin/',
};

/** A session whose exec answers with `reply(stdin)` and records what it was asked. */
function fakeSession(reply: (stdin: string) => ExecResult) {
  const calls: { command: string; options: ExecOptions }[] = [];
  const session = {
    node: 'pg1',
    exec: (command: string, options: ExecOptions = {}) => {
      calls.push({ command, options });
      return Promise.resolve(reply(String(options.stdin ?? '')));
    },
  } as unknown as RemoteSession;
  return { session, calls };
}

const marker = (stdin: string): string => /\\echo (\S+)/.exec(stdin)?.[1] ?? '';

describe('psqlQueries', () => {
  it('one psql, SQL on stdin only, env via `env`, runs as the OS user; maps lines back to keys', async () => {
    const { session, calls } = fakeSession((stdin) => ({
      code: 0,
      // Noise from a login script before the marker is ignored.
      stdout: `welcome!\n${marker(stdin)}\n[{"v": "PostgreSQL 15.8"}]\n[]\n[{"a": 1, "b": true, "c": null}]\n`,
      stderr: '',
    }));
    const rows = await psqlQueries(session, PG, {
      version: 'SELECT version() AS v;',
      none: 'SELECT 1 WHERE false',
      types: 'SELECT 1 AS a,\n true AS b, NULL AS c',
    });
    expect(rows).toEqual({
      version: [{ v: 'PostgreSQL 15.8' }],
      none: [],
      types: [{ a: 1, b: true, c: null }],
    });
    expect(calls).toHaveLength(1);
    const { command, options } = calls[0]!;
    expect(command).toBe(
      'env PGHOST=/var/run/postgresql PGPORT=5433 PGUSER=postgres PGDATABASE=postgres PGAPPNAME=pgharden ' +
        'PGCONNECT_TIMEOUT=10 LC_ALL=C /usr/lib/postgresql/15/bin/psql -X -q -A -t -v ON_ERROR_STOP=1 -f -',
    );
    expect(command).not.toContain('SELECT');
    expect(options.asUser).toBe('postgres');
    const stdin = String(options.stdin);
    expect(stdin).toContain(
      "SELECT coalesce(jsonb_agg(q), '[]'::jsonb)::text FROM (\nSELECT version() AS v\n) q;",
    );
    expect(stdin).not.toContain('VERBOSITY sqlstate');
  });

  it('a psql error names the failing query by its line', async () => {
    const { session } = fakeSession((stdin) => {
      const line = stdin.split('\n').findIndex((l) => l.includes('no_such_table')) + 2; // the `) q;` line
      return {
        code: 3,
        stdout: '',
        stderr: `psql:<stdin>:${line}: ERROR:  relation "no_such_table" does not exist\n`,
      };
    });
    const err = await psqlQueries(session, PG, {
      ok: 'SELECT 1',
      bad: 'SELECT * FROM no_such_table',
      later: 'SELECT 2',
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'psql.failed', node: 'pg1' });
    expect((err as Error).message).toContain('in query "bad"');
  });

  it('too few result lines is psql.bad-output, not a silent mismatch', async () => {
    const { session } = fakeSession((stdin) => ({ code: 0, stdout: `${marker(stdin)}\n[]\n`, stderr: '' }));
    await expect(psqlQueries(session, PG, { a: 'SELECT 1', b: 'SELECT 2' })).rejects.toMatchObject({
      code: 'psql.bad-output',
    });
  });

  it('sensitive: SQLSTATE-only errors and no server-side statement logging', async () => {
    const { session, calls } = fakeSession((stdin) => ({
      code: 0,
      stdout: `${marker(stdin)}\n[]\n`,
      stderr: '',
    }));
    await psqlQueries(session, PG, { a: 'SELECT 1' }, { sensitive: true });
    const stdin = String(calls[0]?.options.stdin);
    expect(stdin).toContain('\\set VERBOSITY sqlstate');
    expect(stdin).toContain("SET log_min_error_statement = 'panic';");
    expect(stdin).toContain("SET log_statement = 'none';");
  });
});

describe('psqlExec', () => {
  it('sends the SQL on stdin, passes signal/timeout, reports the failing line', async () => {
    const ac = new AbortController();
    const { session, calls } = fakeSession(() => ({
      code: 3,
      stdout: '',
      stderr: 'psql:<stdin>:3: ERROR:  42704\n',
    }));
    const err = await psqlExec(session, PG, "SELECT 1;\nALTER ROLE x PASSWORD 'p';", {
      signal: ac.signal,
      timeoutMs: 5000,
    }).catch((e: unknown) => e);
    expect(calls[0]?.options).toMatchObject({ signal: ac.signal, timeoutMs: 5000, asUser: 'postgres' });
    expect(calls[0]?.command).not.toContain('ALTER');
    expect(err).toMatchObject({ code: 'psql.failed' });
    expect((err as Error).message).toContain('line 2');
  });
});
