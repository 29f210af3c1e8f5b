import { describe, expect, it } from 'vitest';
import { createCa, issueLeaf } from '../pki/index.js';
import type { StepContext } from '../core/step.js';
import type { RemoteSession } from '../remote/types.js';
import type { HardenContext } from './context.js';
import { enableSsl, enableSslSql, overrideWarnings } from './enable-ssl.js';
import { installCa } from './install-ca.js';
import { installServerCert } from './install-server-cert.js';
import { reload } from './reload.js';
import { fixtureContext } from './test-fixture.js';
import { publicKeySha256, remember, tlsPaths } from './tls-files.js';

const ctxOf = (f: HardenContext): StepContext<HardenContext> => ({
  node: 'pg2',
  session: {} as RemoteSession,
  runId: 'r1',
  facts: f,
  signal: new AbortController().signal,
});

describe('install-server-cert plan', () => {
  it('never contains the private key, names it by its public key', async () => {
    const f = await fixtureContext();
    const plan = installServerCert.plan(ctxOf(f));
    const json = JSON.stringify(plan);
    expect(json).not.toContain('PRIVATE KEY');
    const body = f.tls.server.keyPem.split('\n')[1] ?? '';
    expect(body.length).toBeGreaterThan(20);
    expect(json).not.toContain(body.slice(0, 30));
    const key = plan.files.find((x) => x.path === '/etc/pgharden/tls/server.key');
    expect(key).toMatchObject({ mode: 0o600, before: '', owner: 'postgres' });
    expect(key?.after).toBe(
      `(private key, 0600, sha256 of public key ${publicKeySha256(f.tls.server.keyPem)})`,
    );
    expect(plan.files.find((x) => x.path.endsWith('server.crt'))?.after).toBe(f.tls.server.certPem);
    expect(plan.commands).toEqual(['mkdir -m 0700 /etc/pgharden/tls (if missing)']);
  });
  it('shows the old cert as before, no mkdir when the dir exists', async () => {
    const f = await fixtureContext();
    const p = tlsPaths(f);
    const old = { exists: true, owner: 'postgres', mode: 0o600, sha256: 'x', pubSha256: 'abc' };
    remember(f, 'tls.install-server-cert', {
      dirExists: true,
      files: { [p.key]: old },
      text: { [p.cert]: 'OLD' },
    });
    const plan = installServerCert.plan(ctxOf(f));
    expect(plan.commands).toEqual([]);
    expect(plan.files[0]?.before).toBe('OLD');
    expect(plan.files[1]?.before).toBe('(private key, 0600, sha256 of public key abc)');
  });
  it('refuses a key that does not match the certificate, without printing it', async () => {
    const f = await fixtureContext();
    const ca = await createCa({ cluster: 'other' });
    const other = await issueLeaf(ca, { name: 'x', kind: 'node', sans: ['10.0.0.9'] }, { keyType: 'p256' });
    f.tls.server.keyPem = other.keyPem;
    expect(() => installServerCert.plan(ctxOf(f))).toThrow(/does not match/);
    let msg = '';
    try {
      installServerCert.plan(ctxOf(f));
    } catch (e) {
      msg = JSON.stringify(e) + String(e);
    }
    expect(msg).not.toContain('PRIVATE KEY');
  });
  it('refuses a relative tlsDir', async () => {
    const f = await fixtureContext({ tlsDir: 'tls' });
    expect(() => installCa.plan(ctxOf(f))).toThrow(/absolute/);
  });
});

describe('enable-ssl plan', () => {
  it('SQL per setting, quoted, min version from the context; reload step plans a reload', async () => {
    const f = await fixtureContext({ minTlsVersion: 'TLSv1.3', tlsDir: "/srv/it's" });
    expect(enableSslSql(f)).toEqual([
      "ALTER SYSTEM SET ssl = 'on';",
      "ALTER SYSTEM SET ssl_cert_file = '/srv/it''s/server.crt';",
      "ALTER SYSTEM SET ssl_key_file = '/srv/it''s/server.key';",
      "ALTER SYSTEM SET ssl_ca_file = '/srv/it''s/root.crt';",
      "ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.3';",
      "ALTER SYSTEM SET password_encryption = 'scram-sha-256';",
    ]);
    const plan = enableSsl.plan(ctxOf(f));
    expect(plan.reload).toBe(true);
    expect(plan.files.map((x) => x.path)).toEqual(['/var/lib/postgresql/15/main/postgresql.auto.conf']);
    expect(reload.plan(ctxOf(f))).toMatchObject({ reload: true, restart: false });
  });
  it('warns when a non-file source overrides ALTER SYSTEM', async () => {
    const f = await fixtureContext();
    f.facts.pg.settings['ssl'] = {
      name: 'ssl',
      setting: 'off',
      source: 'command line',
      sourcefile: null,
      sourceline: null,
      pending_restart: false,
    };
    expect(overrideWarnings(f)).toEqual([
      '-- warning: ssl comes from the command line; ALTER SYSTEM will not override it',
    ]);
    expect(enableSsl.plan(ctxOf(f)).sql[0]).toMatch(/^-- warning: ssl/);
  });
});

describe('reload', () => {
  it('compares file times in microseconds without float rounding', async () => {
    const { micros } = await import('./reload.js');
    expect(micros('1795441145.292684006')).toBe(1795441145292684n);
    expect(micros('1795441145.2926')).toBe(1795441145292600n);
    expect(micros('1795441145')).toBe(1795441145000000n);
    expect(micros('1795441145.292685') > micros('1795441145.292684999')).toBe(true);
  });
});

describe('enable-ssl: predicted postgresql.auto.conf', () => {
  it('replaces in place, appends new settings, doubles quotes and backslashes, drops comments', async () => {
    const { predictAutoConf } = await import('./enable-ssl.js');
    const head = '# Do not edit this file manually!\n# It will be overwritten by the ALTER SYSTEM command.\n';
    const before = `${head}primary_conninfo = 'user=r passfile=''/h/.pgpass'''\n# hand note\nssl = 'off'\n`;
    expect(predictAutoConf(before, { ssl: 'on', ssl_cert_file: "/x/it's\\" })).toBe(
      `${head}primary_conninfo = 'user=r passfile=''/h/.pgpass'''\nssl = 'on'\nssl_cert_file = '/x/it''s\\\\'\n`,
    );
    expect(predictAutoConf('', { ssl: 'on' })).toBe(`${head}ssl = 'on'\n`);
  });
});
