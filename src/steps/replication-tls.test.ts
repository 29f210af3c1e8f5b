import { describe, expect, it } from 'vitest';
import { editConninfo, formatConninfo, parseConninfo, quoteConninfoValue } from '../pgconf/conninfo.js';
import { escapePgpassField, parsePgpassLine, upsertPgpass } from '../pgconf/pgpass.js';
import type { StepContext } from '../core/step.js';
import type { RemoteSession } from '../remote/types.js';
import type { HardenContext } from './context.js';
import { replicationTls, secureConninfo } from './replication-tls.js';
import { fixtureContext } from './test-fixture.js';
import { remember } from './tls-files.js';

describe('conninfo', () => {
  it('parses libpq quoting and writes it back', () => {
    const p = parseConninfo(`user=rep password='a b\\'c\\\\d' host = h  passfile='/x/.pgpass' x=y\\ z`);
    expect(p).toEqual([
      { key: 'user', value: 'rep' },
      { key: 'password', value: "a b'c\\d" },
      { key: 'host', value: 'h' },
      { key: 'passfile', value: '/x/.pgpass' },
      { key: 'x', value: 'y z' },
    ]);
    expect(parseConninfo(formatConninfo(p))).toEqual(p);
    expect(quoteConninfoValue('')).toBe("''");
    expect(quoteConninfoValue("it's")).toBe("'it\\'s'");
  });
  it('refuses broken input without echoing it', () => {
    expect(() => parseConninfo("password='secret")).toThrow(/unterminated/);
    expect(() => parseConninfo("password='secret")).not.toThrow(/secret/);
    expect(() => parseConninfo('postgresql://u:pw@h/db')).toThrow(/URI/);
  });
  it('edits in place, removes, appends, drops duplicates', () => {
    const p = parseConninfo('sslmode=prefer host=a sslmode=disable password=x');
    expect(
      formatConninfo(editConninfo(p, { sslmode: 'verify-full', password: undefined, sslrootcert: '/r.crt' })),
    ).toBe('sslmode=verify-full host=a sslrootcert=/r.crt');
  });
});

describe('.pgpass', () => {
  const e = { host: '10.0.0.1', port: '5432', database: 'replication', user: 'rep', password: 'p:w\\x' };
  it('escapes : and \\', () => {
    expect(escapePgpassField('a:b\\c')).toBe('a\\:b\\\\c');
    expect(parsePgpassLine('h:5432:db:u:p\\:w\\\\x')).toEqual(['h', '5432', 'db', 'u', 'p:w\\x']);
  });
  it('appends to a file, keeps comments, is idempotent', () => {
    const before = '# mine\nother:5432:*:u:pw\n';
    const after = upsertPgpass(before, e);
    expect(after).toBe('# mine\nother:5432:*:u:pw\n10.0.0.1:5432:replication:rep:p\\:w\\\\x\n');
    expect(upsertPgpass(after, e)).toBe(after);
    expect(upsertPgpass('', e)).toBe('10.0.0.1:5432:replication:rep:p\\:w\\\\x\n');
  });
  it('goes before an earlier wildcard line that would shadow it, replaces an exact one', () => {
    expect(upsertPgpass('*:*:*:rep:old\n', e)).toBe(
      '10.0.0.1:5432:replication:rep:p\\:w\\\\x\n*:*:*:rep:old\n',
    );
    expect(upsertPgpass('a\n10.0.0.1:5432:replication:rep:old\nz\n', e)).toBe(
      'a\n10.0.0.1:5432:replication:rep:p\\:w\\\\x\nz\n',
    );
  });
});

const ctxOf = (f: HardenContext): StepContext<HardenContext> => ({
  node: 'pg2',
  session: {} as RemoteSession,
  runId: 'r1',
  facts: f,
  signal: new AbortController().signal,
});

describe('replication-tls', () => {
  it('moves the password out, points at the primary, verify-full', async () => {
    const f = await fixtureContext();
    const edit = secureConninfo(
      f,
      "user=replicator password='s3 cret' host=pg1 port=5432 sslmode=prefer",
      '/home/pg',
    );
    expect(edit).toEqual({
      conninfo:
        'user=replicator host=10.0.0.1 port=5432 sslmode=verify-full passfile=/home/pg/.pgpass sslrootcert=/etc/pgharden/tls/root.crt',
      password: 's3 cret',
      user: 'replicator',
      passfile: '/home/pg/.pgpass',
    });
    // The plan is computed from the redacted value and must be the same string.
    expect(secureConninfo(f, f.facts.pg.primaryConninfo ?? '', '/home/pg').conninfo).toBe(edit.conninfo);
  });
  it('keeps an existing passfile, adds the client cert for cert auth', async () => {
    const f = await fixtureContext({ auth: 'scram+cert' });
    const edit = secureConninfo(f, "user=replicator passfile='/p/.pgpass' host=x", undefined);
    expect(edit.conninfo).toBe(
      'user=replicator passfile=/p/.pgpass host=10.0.0.1 port=5432 sslmode=verify-full sslrootcert=/etc/pgharden/tls/root.crt sslcert=/etc/pgharden/tls/replication.crt sslkey=/etc/pgharden/tls/replication.key',
    );
    expect(edit.password).toBe('');
  });
  it('plan holds neither passwords nor key PEM', async () => {
    const f = await fixtureContext({ auth: 'cert' });
    // What check() would have learned on the node.
    remember(f, 'tls.replication-tls', { dirExists: true, files: {}, text: {}, home: '/home/pg' });
    const plan = replicationTls.plan(ctxOf(f));
    const json = JSON.stringify(plan);
    expect(json).not.toContain('PRIVATE KEY');
    expect(json).not.toContain(f.tls.clients['replicator']?.keyPem.slice(40, 80));
    expect(plan.sql[0]).toContain('sslmode=verify-full');
    expect(plan.files.map((x) => x.path)).toEqual([
      '/var/lib/postgresql/15/main/postgresql.auto.conf',
      '/home/pg/.pgpass',
      '/etc/pgharden/tls/replication.crt',
      '/etc/pgharden/tls/replication.key',
    ]);
  });
  it('plan without check() refuses rather than guess the passfile', async () => {
    const f = await fixtureContext();
    expect(() => replicationTls.plan(ctxOf(f))).toThrow(/check\(\) must run/);
  });
  it('check is false on a primary', async () => {
    const f = await fixtureContext({ role: 'primary' });
    expect(await replicationTls.check(ctxOf(f))).toBe(false);
  });
});
