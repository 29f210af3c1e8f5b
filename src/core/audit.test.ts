import { describe, expect, it } from 'vitest';
import { auditExitCode, auditNode, sortFindings } from './audit.js';
import type { CertFacts, NodeFacts, PostgresFacts, SettingRow } from './facts.js';
import type { Inventory } from './inventory-schema.js';

const inventory: Inventory = {
  cluster: 'c',
  topology: 'streaming',
  network: ['10.0.0.0/24'],
  nodes: [
    { name: 'pg1', host: '10.0.0.11', role: 'primary' },
    { name: 'pg2', host: '10.0.0.12', role: 'standby' },
  ],
};

function setting(name: string, value: string, sourcefile: string | null = null): SettingRow {
  return {
    name,
    setting: value,
    source: 'configuration file',
    sourcefile,
    sourceline: sourcefile ? 7 : null,
    pending_restart: false,
  };
}

function pgFacts(
  overrides: Partial<PostgresFacts> = {},
  settings: Record<string, string> = {},
): PostgresFacts {
  const base: Record<string, string> = {
    ssl: 'off',
    password_encryption: 'md5',
    ssl_min_protocol_version: 'TLSv1.2',
    ssl_ca_file: '',
    ...settings,
  };
  return {
    version: '15.20',
    versionNum: 150020,
    role: 'primary',
    pid: 10,
    dataDir: '/d',
    configFile: '/d/postgresql.conf',
    hbaFile: '/d/pg_hba.conf',
    identFile: '/d/pg_ident.conf',
    port: 5432,
    socketDir: '/run',
    binDir: '/usr/lib/postgresql/15/bin',
    libpqVersion: 'psql (PostgreSQL) 15.20',
    settings: Object.fromEntries(
      Object.entries(base).map(([k, v]) => [k, setting(k, v, '/d/postgresql.conf')]),
    ),
    md5Roles: [],
    hbaRules: [],
    identText: '',
    hbaText:
      'local all all peer\nhostssl all all 10.0.0.0/24 scram-sha-256\nhostnossl all all 0.0.0.0/0 reject\nhostnossl all all ::/0 reject\n',
    settingErrors: [],
    replicationSenders: [],
    walReceiver: undefined,
    primaryConninfo: undefined,
    serverCert: undefined,
    serverCertError: undefined,
    startedAt: '2026-11-23 10:00:00+00',
    ...overrides,
  };
}

function cert(path: string, subject: string, daysLeft: number): CertFacts {
  return { path, subject, issuer: 'CN=ca', notAfter: 'x', daysLeft, sha256: 'AA', sans: [] };
}

function facts(pg: PostgresFacts, node = 'pg1', host = '10.0.0.11'): NodeFacts {
  return {
    node,
    host,
    ssh: { user: 'postgres', fingerprint: 'SHA256:x', keyType: 'ssh-ed25519', connectMs: 100 },
    osUser: 'postgres',
    access: 'same-user',
    pg,
    pgProblem: undefined,
    ms: 50,
  };
}

const ids = (pg: PostgresFacts, node?: string, host?: string): string[] =>
  auditNode({ node: node ?? 'pg1', ok: true, facts: facts(pg, node, host) }, inventory).map((f) => f.id);

describe('auditNode', () => {
  it('flags ssl off and md5 password_encryption with where the value comes from', () => {
    const findings = auditNode({ node: 'pg1', ok: true, facts: facts(pgFacts()) }, inventory);
    expect(findings.find((f) => f.id === 'ssl.off')).toMatchObject({
      severity: 'high',
      where: '/d/postgresql.conf:7',
    });
    expect(findings.map((f) => f.id)).toContain('auth.password-encryption');
  });

  it('a hardened node has no finding', () => {
    expect(
      ids(pgFacts({}, { ssl: 'on', password_encryption: 'scram-sha-256', ssl_ca_file: 'root.crt' })),
    ).toEqual([]);
  });

  it('reports md5 hashes on the primary only, by role name', () => {
    const md5Roles = [
      { name: 'app', canLogin: true },
      { name: 'replicator', canLogin: true },
    ];
    const primary = auditNode({ node: 'pg1', ok: true, facts: facts(pgFacts({ md5Roles })) }, inventory);
    expect(primary.find((f) => f.id === 'roles.md5-hash')?.message).toMatch(/2 role\(s\).*app, replicator/);
    expect(ids(pgFacts({ md5Roles, role: 'standby' }), 'pg2')).not.toContain('roles.md5-hash');
  });

  it('reports replication without TLS from the primary and a weak sslmode from the standby', () => {
    const senders = [
      {
        application_name: 'pg2',
        client_addr: '10.0.0.12',
        state: 'streaming',
        sync_state: 'async',
        ssl: false,
        version: null,
        cipher: null,
      },
    ];
    expect(ids(pgFacts({ replicationSenders: senders }))).toContain('replication.no-tls');
    const standby = pgFacts({
      role: 'standby',
      primaryConninfo: 'host=10.0.0.11 user=replicator passfile=/x sslmode=prefer',
    });
    expect(ids(standby, 'pg2')).toContain('replication.sslmode');
    const verifyFull = pgFacts({
      role: 'standby',
      primaryConninfo: "host=10.0.0.11 sslmode='verify-full' sslrootcert=/r",
    });
    expect(ids(verifyFull, 'pg2')).not.toContain('replication.sslmode');
    const withPassword = pgFacts({
      role: 'standby',
      primaryConninfo: 'host=a password=******** sslmode=verify-full',
    });
    expect(ids(withPassword, 'pg2')).toContain('replication.password-in-conninfo');
  });

  it.each([
    [-1, 'critical'],
    [3, 'high'],
    [20, 'medium'],
  ] as const)('certificate with %i days left → %s', (daysLeft, severity) => {
    const serverCert = cert('/d/server.crt', 'CN=pg1', daysLeft);
    const found = auditNode(
      { node: 'pg1', ok: true, facts: facts(pgFacts({ serverCert }, { ssl: 'on' })) },
      inventory,
    );
    expect(found.find((f) => f.id === 'tls.cert-expiry')?.severity).toBe(severity);
  });

  it('a deployed CRL near its nextUpdate is high: past it every client certificate of the CA is refused', () => {
    const crl = { path: '/d/root.crl', issuer: 'CN=ca', nextUpdate: 'x', daysLeft: 3, revoked: 1 };
    const found = auditNode(
      { node: 'pg1', ok: true, facts: facts(pgFacts({ crl }, { ssl: 'on' })) },
      inventory,
    );
    expect(found.find((f) => f.id === 'tls.crl-expiry')).toMatchObject({ severity: 'high' });
    const fresh = { ...crl, daysLeft: 25 };
    const none = auditNode(
      { node: 'pg1', ok: true, facts: facts(pgFacts({ crl: fresh }, { ssl: 'on' })) },
      inventory,
    );
    expect(none.find((f) => f.id === 'tls.crl-expiry')).toBeUndefined();
  });

  it('names each expiring certificate the node uses: CA bundle entries and the replication client certificate', () => {
    const found = auditNode(
      {
        node: 'pg2',
        ok: true,
        facts: facts(
          pgFacts(
            {
              serverCert: cert('/d/server.crt', 'CN=pg2', 300),
              caCerts: [cert('/d/root.crt', 'CN=old CA', 5), cert('/d/root.crt', 'CN=new CA', 3000)],
              replicationCert: cert('/d/replication.crt', 'CN=replicator', 12),
            },
            { ssl: 'on' },
          ),
          'pg2',
        ),
      },
      inventory,
    ).filter((f) => f.id === 'tls.cert-expiry');
    expect(
      auditNode(
        {
          node: 'pg2',
          ok: true,
          facts: facts(
            pgFacts(
              { caCerts: [cert('/d/root.crt', 'CN=old CA', 500), cert('/d/root.crt', 'CN=new CA', 3000)] },
              { ssl: 'on' },
            ),
            'pg2',
          ),
        },
        inventory,
      ).find((f) => f.id === 'tls.ca-rotation')?.message,
    ).toMatch(/trusts 2 CAs \(CN=old CA; CN=new CA\): a CA rotation is in progress/);
    expect(found.map((f) => [f.severity, f.message.split(' in ')[0]])).toEqual([
      ['high', 'CA certificate CN=old CA'],
      ['medium', 'replication client certificate CN=replicator'],
    ]);
  });

  it('maps the hba analysis: md5 and non-TLS rules, shadowed hostssl rules, server-side errors', () => {
    const hbaText =
      'local all all peer\nhost all all 0.0.0.0/0 md5\nhostssl all all 10.0.0.0/24 scram-sha-256\n';
    const hbaRules = [
      {
        line_number: 4,
        type: 'host',
        database: null,
        user_name: null,
        address: null,
        netmask: null,
        auth_method: null,
        options: null,
        error: 'invalid IP mask "x"',
      },
    ];
    const found = auditNode(
      { node: 'pg1', ok: true, facts: facts(pgFacts({ hbaText, hbaRules })) },
      inventory,
    );
    const byId = (id: string) => found.filter((f) => f.id === id);
    expect(byId('hba.md5')[0]).toMatchObject({ severity: 'high', where: '/d/pg_hba.conf:2' });
    expect(byId('hba.non-tls')).toHaveLength(1);
    expect(byId('hba.wider-than-network')).toHaveLength(1);
    expect(byId('hba.shadowed')[0]?.message).toMatch(/line 3 never applies: line 2/);
    expect(byId('hba.error')[0]).toMatchObject({ severity: 'high', where: '/d/pg_hba.conf:4' });
  });

  it('warns about IP verify-full with libpq older than 15', () => {
    expect(ids(pgFacts({ libpqVersion: 'psql (PostgreSQL) 13.9' }))).toContain('libpq.ip-san');
    expect(ids(pgFacts({ libpqVersion: 'psql (PostgreSQL) 13.9' }), 'pg1', 'pg1.example')).not.toContain(
      'libpq.ip-san',
    );
  });

  it('an unreachable node is a critical finding carrying the SSH error', () => {
    const found = auditNode(
      {
        node: 'pg2',
        ok: false,
        error: { code: 'ssh.unreachable', message: 'pg2: connection refused', hint: 'check sshd' },
      },
      inventory,
    );
    expect(found).toEqual([
      expect.objectContaining({ id: 'node.unreachable', severity: 'critical', fix: 'check sshd' }),
    ]);
  });
});

describe('auditExitCode', () => {
  it('is 3 when a finding is high or worse, else 0', () => {
    const f = (severity: 'low' | 'high') => ({ id: 'x', severity, node: 'n', message: '', fix: '' });
    expect(auditExitCode([f('low')])).toBe(0);
    expect(auditExitCode([f('low'), f('high')])).toBe(3);
    expect(sortFindings([f('low'), f('high')]).map((x) => x.severity)).toEqual(['high', 'low']);
  });
});
