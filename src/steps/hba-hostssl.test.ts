// The pg_hba.conf transformation as tables: lab and Debian files, shadowing, idempotence, lock-out.
import { describe, expect, it } from 'vitest';
import { fixture } from '../pgconf/test-support.js';
import type { RemoteSession } from '../remote/types.js';
import type { StepContext } from '../core/step.js';
import type { AuthMode, HardenContext } from './context.js';
import { hbaHostssl, hbaTransformOf, refusesPlainTcp } from './hba-hostssl.js';
import { remainingHostRules, transformHba, type TransformInput } from './hba-rules.js';

const LAB_HBA = `# TYPE  DATABASE        USER            ADDRESS                 METHOD
# lab: deliberately insecure
local   all             all                                     peer map=lab
host    all             all             127.0.0.0/8             md5
host    replication     replicator      127.0.0.0/8             md5   # standbys
host    all             all             0.0.0.0/0               md5
`;
const LAB_IDENT = 'lab             lab_s1                  postgres\n';

const input = (auth: AuthMode = 'scram', identText: string | undefined = LAB_IDENT): TransformInput => ({
  auth,
  network: ['127.0.0.0/8'],
  certRoles:
    auth === 'scram'
      ? []
      : [
          { name: 'replicator', kind: 'replication', cn: 'replicator' },
          { name: 'app', kind: 'client', cn: 'app.example' },
        ],
  operator: { osUser: 'lab_s1', user: 'postgres', identText },
});

describe('transformHba', () => {
  it('lab file, scram: block on top, host → hostssl scram-sha-256, local and comments kept', () => {
    const t = transformHba(LAB_HBA, input());
    expect(t.after).toBe(`# BEGIN pgharden (managed block: edits inside are overwritten)
hostnossl all all 0.0.0.0/0 reject
hostnossl all all ::/0 reject
# END pgharden
# TYPE  DATABASE        USER            ADDRESS                 METHOD
# lab: deliberately insecure
local   all             all                                     peer map=lab
hostssl all             all             127.0.0.0/8             scram-sha-256
hostssl replication     replicator      127.0.0.0/8             scram-sha-256 # standbys
hostssl all             all             0.0.0.0/0               scram-sha-256
`);
    expect(remainingHostRules(t.after)).toEqual([]);
  });

  it('is idempotent: transforming the result changes nothing', () => {
    for (const auth of ['scram', 'cert', 'scram+cert'] as const) {
      const once = transformHba(LAB_HBA, input(auth)).after;
      expect(transformHba(once, input(auth)).after).toBe(once);
    }
  });

  it('cert: cert rules in the block (map only where CN ≠ role); scram+cert: clientcert=verify-full', () => {
    const cert = transformHba(LAB_HBA, input('cert')).after;
    expect(cert).toContain('hostssl replication replicator 127.0.0.0/8 cert\n');
    expect(cert).toContain('hostssl all app 127.0.0.0/8 cert map=pgharden\n');
    expect(cert).toContain('hostssl replication     replicator      127.0.0.0/8             cert');
    const both = transformHba(LAB_HBA, input('scram+cert')).after;
    expect(both).toContain(
      'hostssl all             all             0.0.0.0/0               scram-sha-256 clientcert=verify-full\n',
    );
    expect(both).toContain('scram-sha-256 clientcert=verify-full  # standbys');
  });

  it('per-role auth (roles[].auth): a cert role under scram, a scram role under scram+cert', () => {
    const mixed = transformHba(LAB_HBA, {
      ...input('scram'),
      certRoles: [{ name: 'app', kind: 'client', cn: 'app', auth: 'cert' }],
    }).after;
    expect(mixed).toContain(
      'hostnossl all all ::/0 reject\nhostssl all app 127.0.0.0/8 cert\n# END pgharden',
    );
    expect(mixed).toContain(
      'hostssl all             all             127.0.0.0/8             scram-sha-256\n',
    );
    // The replication role keeps SCRAM, above the cluster's clientcert rules; app gets both.
    const both = transformHba(LAB_HBA, {
      ...input('scram+cert'),
      certRoles: [{ name: 'app', kind: 'client', cn: 'app' }],
      scramRoles: [{ name: 'replicator', kind: 'replication' }],
    }).after;
    expect(both).toContain(
      'hostssl replication replicator 127.0.0.0/8 scram-sha-256\nhostssl all app 127.0.0.0/8 scram-sha-256 clientcert=verify-full\n# END pgharden',
    );
    expect(
      transformHba(both, {
        ...input('scram+cert'),
        scramRoles: [{ name: 'replicator', kind: 'replication' }],
        certRoles: [{ name: 'app', kind: 'client', cn: 'app' }],
      }).after,
    ).toBe(both);
    // cert cluster, a role set to scram: its own rule stays scram (no cert), the others cert.
    const cert = transformHba(LAB_HBA, {
      ...input('cert'),
      certRoles: [{ name: 'app', kind: 'client', cn: 'app' }],
      scramRoles: [{ name: 'replicator', kind: 'replication' }],
    }).after;
    expect(cert).toContain('hostssl replication     replicator      127.0.0.0/8             scram-sha-256');
    expect(cert).toContain('hostssl replication replicator 127.0.0.0/8 scram-sha-256\n');
  });

  it('Debian default file: every host rule becomes hostssl, the peer rules stay', () => {
    const before = fixture('debian-pg_hba.conf');
    const t = transformHba(before, {
      ...input(),
      operator: { osUser: 'postgres', user: 'postgres', identText: '' },
    });
    expect(remainingHostRules(t.after)).toEqual([]);
    expect(t.after).toContain('local   all             postgres                                peer');
    expect(t.after.match(/^hostssl/gm)).toHaveLength(4);
    expect(t.shadowing).toEqual([]);
  });

  it('reports an earlier host all all 0.0.0.0/0 trust as shadowing, and what happens to it', () => {
    const before = `local all all peer map=lab\nhost all all 0.0.0.0/0 trust\nhostssl all app 10.0.0.0/8 scram-sha-256\n`;
    const t = transformHba(before, input());
    expect(t.shadowing).toHaveLength(1);
    expect(t.shadowing[0]).toContain('line 2 `host all all 0.0.0.0/0 trust` matches first');
    expect(t.shadowing[0]).toContain('becomes hostssl scram-sha-256');
    expect(t.after).toContain('hostssl all all 0.0.0.0/0 scram-sha-256\n');
  });

  it('keeps ldap/gss methods (only adds TLS) and leaves reject rules alone', () => {
    const before = `local all all peer map=lab\nhost all bob 10.0.0.0/8 ldap ldapserver=x\nhost all all 10.9.0.0/16 reject\n`;
    const t = transformHba(before, input());
    expect(t.after).toContain('hostssl all bob 10.0.0.0/8 ldap ldapserver=x\n');
    expect(t.after).toContain('host all all 10.9.0.0/16 reject\n');
  });

  it('existing hostssl md5/password rules become scram-sha-256 (with a netmask column too)', () => {
    const before = `local all all peer map=lab\nhostssl all app 10.0.0.0 255.0.0.0 md5 # old\nhostssl all bob 10.0.0.0/8 password\n`;
    const t = transformHba(before, input());
    expect(t.after).toContain('hostssl all app 10.0.0.0 255.0.0.0 scram-sha-256 # old\n');
    expect(t.after).toContain('hostssl all bob 10.0.0.0/8 scram-sha-256\n');
    expect(transformHba(t.after, input()).after).toBe(t.after);
  });

  it('refuses a file that would lock pgharden out, with the reason', () => {
    const noIdent = () => transformHba(LAB_HBA, input('scram', ''));
    expect(noIdent).toThrowError(/would lock pgharden out: local connection as postgres \(OS user lab_s1\)/);
    const onlyPassword = `local all all scram-sha-256\nhost all all 0.0.0.0/0 md5\n`;
    expect(() => transformHba(onlyPassword, input())).toThrow(
      expect.objectContaining({ exitCode: 2, code: 'hba.would-lock-out' }),
    );
  });
});

function ctxOf(hbaText: string, passwords = new Map<string, string>()): StepContext<HardenContext> {
  const h = {
    inventory: { network: ['127.0.0.0/8'], roles: [{ name: 'app', kind: 'client' }] },
    node: { name: 'pg1', host: '127.0.1.1', pg: { superuser: 'postgres' } },
    facts: {
      osUser: 'lab_s1',
      pg: {
        hbaText,
        hbaFile: '/d/pg_hba.conf',
        identFile: '/d/pg_ident.conf',
        identText: LAB_IDENT,
        md5Roles: [{ name: 'app', canLogin: true }],
      },
    },
    role: 'primary',
    auth: 'scram',
    tls: { caPem: '', server: { certPem: '', keyPem: '' }, clients: {} },
    passwords,
  } as unknown as HardenContext;
  return {
    node: 'pg1',
    session: {} as RemoteSession,
    runId: 'r',
    facts: h,
    signal: new AbortController().signal,
  };
}

describe('hba.hostssl plan', () => {
  it('shows the full before/after and the shadowing; no password anywhere', () => {
    const ctx = ctxOf(
      `local all all peer map=lab\nhost all all 0.0.0.0/0 trust\nhost all app 127.0.0.0/8 md5\n`,
      new Map([['app', 'hunter2-secret']]),
    );
    const p = hbaHostssl.plan(ctx);
    expect(p.files[0]).toMatchObject({
      path: '/d/pg_hba.conf',
      before: ctx.facts.facts.pg.hbaText,
      after: hbaTransformOf(ctx.facts).after,
    });
    expect(p.reload).toBe(true);
    expect(p.sql.some((s) => s.includes('shadowing') && s.includes('line 2'))).toBe(true);
    expect(JSON.stringify(p)).not.toContain('hunter2');
  });
});

describe('refusesPlainTcp', () => {
  it.each([
    [0, '1', false],
    [
      2,
      'FATAL:  no pg_hba.conf entry for host "127.0.1.1", user "postgres", database "postgres", no encryption',
      true,
    ],
    [2, 'fe_sendauth: no password supplied', false],
    [2, 'FATAL:  password authentication failed for user "postgres"', false],
    [2, 'connection to server at "10.0.0.1", port 5432 failed: Connection refused', true],
  ])('exit %i, %s → %s', async (code, stdout, refused) => {
    const ctx = ctxOf('');
    const commands: string[] = [];
    const session = {
      exec: (cmd: string) => {
        commands.push(cmd);
        return Promise.resolve({ code, stdout, stderr: '' });
      },
    } as unknown as RemoteSession;
    (ctx.facts.facts.pg as { binDir: string }).binDir = '/usr/lib/postgresql/15/bin';
    expect(await refusesPlainTcp({ ...ctx, session })).toBe(refused);
    expect(commands[0]).toContain('sslmode=disable');
  });
});
