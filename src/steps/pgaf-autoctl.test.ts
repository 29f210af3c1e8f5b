import { describe, expect, it } from 'vitest';
import { maskSecrets, monitorUriWith, parseIni, parseState, setIni, unsettled } from './pgaf-autoctl.js';

const CFG = `[pg_autoctl]
role = keeper
monitor = postgres://autoctl_node@10.0.0.1:5432/pg_auto_failover?sslmode=prefer

[postgresql]
auth_method = trust

[ssl]
active = 0
sslmode = prefer

[replication]
maximum_backup_rate = 100M
`;

describe('pg_autoctl.cfg editing', () => {
  it('parses sections and keys', () => {
    const c = parseIni(CFG);
    expect(c['pg_autoctl.role']).toBe('keeper');
    expect(c['ssl.active']).toBe('0');
    expect(c['postgresql.auth_method']).toBe('trust');
  });
  it('replaces a key in place, adds a missing key to its section, adds a missing section', () => {
    let t = setIni(CFG, 'postgresql', 'auth_method', 'scram-sha-256');
    t = setIni(t, 'replication', 'password', 'x');
    t = setIni(t, 'ssl', 'ca_file', '/tls/root.crt');
    t = setIni(t, 'citus', 'role', 'primary');
    const c = parseIni(t);
    expect(c['postgresql.auth_method']).toBe('scram-sha-256');
    expect(c['replication.password']).toBe('x');
    expect(c['ssl.ca_file']).toBe('/tls/root.crt');
    expect(c['citus.role']).toBe('primary');
    expect(t.indexOf('ca_file')).toBeLessThan(t.indexOf('[replication]'));
    expect(setIni(CFG, 'ssl', 'active', '0')).toBe(CFG);
  });
  it('masks passwords in cfg lines, URIs and conninfo', () => {
    const t = maskSecrets(
      "password = s3cret\nmonitor = postgres://autoctl_node:s3cret@h/db\nprimary_conninfo = 'host=h password=s3cret user=u'",
    );
    expect(t).not.toContain('s3cret');
    expect(t).toContain('password = ********');
  });
  it('sets sslmode and sslrootcert on the monitor URI, keeping the rest', () => {
    expect(
      monitorUriWith('postgres://autoctl_node@h:5432/pg_auto_failover?sslmode=prefer', {
        sslmode: 'verify-full',
        sslrootcert: '/tls/root.crt',
      }),
    ).toBe('postgres://autoctl_node@h:5432/pg_auto_failover?sslmode=verify-full&sslrootcert=/tls/root.crt');
  });
});

describe('formation state', () => {
  const s = (name: string, current: string, assigned = current) => ({
    nodename: name,
    nodehost: name,
    nodeport: 5432,
    health: 1,
    current_group_state: current,
    assigned_group_state: assigned,
  });
  it('is settled when every node is at its goal state and one is primary', () => {
    expect(unsettled([s('a', 'primary'), s('b', 'secondary')])).toBeUndefined();
    expect(unsettled([s('a', 'primary'), s('b', 'catchingup', 'secondary')])).toMatch(/b is catchingup/);
    expect(unsettled([s('a', 'secondary'), s('b', 'secondary')])).toMatch(/0 nodes are primary/);
  });
  it('reads show state --json after log lines, and refuses text without JSON', () => {
    expect(parseState(`INFO something\n${JSON.stringify([s('a', 'primary')])}`)).toHaveLength(1);
    expect(() => parseState('ERROR cannot connect')).toThrow(/show state/);
  });
});
