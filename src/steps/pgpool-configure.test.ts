import { describe, expect, it } from 'vitest';
import type { PgpoolFacts } from '../core/pgpool-facts.js';
import { assertNoSecrets } from '../core/harden.js';
import type { HardenContext } from './context.js';
import { aesInput, newPgpoolConf, pgpoolConfigure, redactPasswords } from './pgpool-configure.js';
import { parseCsv, wantedPgpoolSettings } from './pgpool-ops.js';
import { fixtureContext } from './test-fixture.js';

const CONF = "port = 9999\nssl = off\nhealth_check_user = 'pgpool'\nhealth_check_password = 'hc-secret'\n";

function pgpoolFacts(over: Partial<PgpoolFacts> = {}): PgpoolFacts {
  return {
    name: 'pool1',
    host: '10.0.0.20',
    osUser: 'postgres',
    home: '/var/lib/postgresql',
    version: '4.3.5',
    configFile: '/etc/pgpool2/pgpool.conf',
    configText: CONF,
    port: 9999,
    socketDir: '/var/run/postgresql',
    pidFile: '/run/pgpool/pgpool.pid',
    statusFile: '/tmp/pgpool_status',
    process: {
      pid: 42,
      argv: ['/usr/sbin/pgpool', '-n', '-f', '/etc/pgpool2/pgpool.conf'],
      exe: '/usr/sbin/pgpool',
      cwd: '/',
    },
    hbaFile: '/etc/pgpool2/pool_hba.conf',
    hbaText: 'local all all trust\nhost all all 0.0.0.0/0 md5\n',
    pcpFile: '/etc/pgpool2/pcp.conf',
    keyFile: '/var/lib/postgresql/.pgpoolkey',
    keyMode: 0o644,
    keyOwner: 'postgres',
    poolPasswdFile: '/etc/pgpool2/pool_passwd',
    poolPasswdUsers: [{ user: 'app', kind: 'md5' }],
    backends: [{ index: 0, host: '10.0.0.1', port: 5432 }],
    healthCheckUser: 'pgpool',
    srCheckUser: 'pgpool',
    settings: { health_check_password: 'hc-secret', health_check_period: '10' },
    ...over,
  };
}

async function poolerCtx(passwords: Record<string, string>): Promise<HardenContext> {
  return fixtureContext({
    role: 'pooler',
    primary: undefined,
    tlsDir: '/etc/pgpool2/tls',
    passwords: new Map(Object.entries(passwords)),
    pooler: { pgpool: pgpoolFacts(), aesRoles: ['app', 'pgpool'], networks: ['10.0.0.0/24'] },
  });
}

describe('pgpool.configure', () => {
  it('wants TLS, pool_hba and empty *_password settings', async () => {
    const f = await poolerCtx({ app: 'a' });
    expect(wantedPgpoolSettings(f)).toMatchObject({
      ssl: true,
      ssl_key: '/etc/pgpool2/tls/server.key',
      ssl_cert: '/etc/pgpool2/tls/server.crt',
      ssl_ca_cert: '/etc/pgpool2/tls/root.crt',
      enable_pool_hba: true,
      health_check_password: '',
      sr_check_password: '',
    });
    expect(newPgpoolConf(f)).toContain("health_check_password = ''\n");
  });

  it('feeds pg_enc user:password lines, the health-check password from pgpool.conf when none was given', async () => {
    expect(aesInput(await poolerCtx({ app: 'a-pw' }))).toBe('app:a-pw\npgpool:hc-secret\n');
  });

  it('refuses a role whose password it does not know (plan time: nothing changed)', async () => {
    const f = await poolerCtx({});
    expect(() => aesInput(f)).toThrow(expect.objectContaining({ code: 'pgpool.password-missing' }));
  });

  it('plans without a password or key in it: *_password values hidden, pool_passwd by user only', async () => {
    const f = await poolerCtx({ app: 'a-pw' });
    const plan = pgpoolConfigure.plan({
      node: 'pool1',
      session: undefined as never,
      runId: 'r',
      facts: f,
      signal: AbortSignal.timeout(1000),
    });
    const text = JSON.stringify(plan);
    expect(() => assertNoSecrets(text, ['a-pw', 'hc-secret'])).not.toThrow();
    expect(plan.restart).toBe(true);
    expect(plan.files.map((x) => x.path)).toEqual([
      '/etc/pgpool2/pgpool.conf',
      '/etc/pgpool2/pool_hba.conf',
      '/etc/pgpool2/pool_passwd',
      '/var/lib/postgresql/.pgpoolkey',
    ]);
    expect(plan.commands.join('\n')).toContain(
      'kill -INT 42; /usr/sbin/pgpool -n -f /etc/pgpool2/pgpool.conf',
    );
  });

  it('redacts every non-empty *_password value, nothing else', () => {
    expect(redactPasswords(CONF)).toBe(CONF.replace("'hc-secret'", "'(hidden by pgharden)'"));
  });
});

describe('parseCsv (psql --csv)', () => {
  it('reads quoted fields with commas, quotes and newlines', () => {
    expect(parseCsv('a,b\n1,"x,""y""\nz"\n')).toEqual([{ a: '1', b: 'x,"y"\nz' }]);
  });
});
