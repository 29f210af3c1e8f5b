import { describe, expect, it } from 'vitest';
import { parseHba } from './hba.js';
import type { HbaRule } from './hba.js';
import {
  findShadowedRules,
  insecureRules,
  matchConnection,
  operatorAccess,
  wouldLockOut,
} from './hba-analysis.js';
import type { ConnectionAttempt, OperatorConnection } from './hba-analysis.js';
import { convertHostToHostssl, setManagedBlock } from './hba-edit.js';
import { parseIdent } from './ident.js';
import { fixture } from './test-support.js';

function rules(text: string): readonly HbaRule[] {
  const file = parseHba(text);
  expect(file.errors).toEqual([]);
  return file.rules;
}

const tcp = (over: Partial<ConnectionAttempt> = {}): ConnectionAttempt => ({
  type: 'host',
  ssl: false,
  database: 'app',
  user: 'alice',
  address: '10.1.2.3',
  ...over,
});

describe('matchConnection', () => {
  it.each<[string, string, ConnectionAttempt, number | undefined, number[]]>([
    ['host matches non-TLS', 'host all all 10.0.0.0/8 md5', tcp(), 1, []],
    ['host matches TLS', 'host all all 10.0.0.0/8 md5', tcp({ ssl: true }), 1, []],
    [
      'hostssl skips non-TLS',
      'hostssl all all 10.0.0.0/8 scram-sha-256\nhost all all 10.0.0.0/8 md5',
      tcp(),
      2,
      [],
    ],
    [
      'hostssl takes TLS',
      'hostssl all all 10.0.0.0/8 scram-sha-256\nhost all all 10.0.0.0/8 md5',
      tcp({ ssl: true }),
      1,
      [],
    ],
    [
      'hostnossl takes non-TLS',
      'hostnossl all all 0.0.0.0/0 reject\nhostssl all all 0.0.0.0/0 md5',
      tcp(),
      1,
      [],
    ],
    [
      'hostnossl skips TLS',
      'hostnossl all all 0.0.0.0/0 reject\nhostssl all all 0.0.0.0/0 md5',
      tcp({ ssl: true }),
      2,
      [],
    ],
    ['hostnossl takes GSS-encrypted', 'hostnossl all all 0.0.0.0/0 reject', tcp({ gssenc: true }), 1, []],
    ['hostgssenc only GSS', 'hostgssenc all all 0.0.0.0/0 gss\nhost all all 0.0.0.0/0 md5', tcp(), 2, []],
    ['hostgssenc takes GSS', 'hostgssenc all all 0.0.0.0/0 gss', tcp({ gssenc: true }), 1, []],
    ['hostnogssenc takes TLS', 'hostnogssenc all all 0.0.0.0/0 md5', tcp({ ssl: true }), 1, []],
    ['local only for the socket', 'local all all peer\nhost all all 0.0.0.0/0 md5', tcp(), 2, []],
    ['host never for the socket', 'host all all 0.0.0.0/0 md5', { ...tcp(), type: 'local' }, undefined, []],
    ['no rule: implicit reject', 'host all all 192.168.0.0/16 md5', tcp(), undefined, []],
    [
      'replication keyword takes physical replication',
      'host all all 10.0.0.0/8 md5\nhost replication all 10.0.0.0/8 scram-sha-256',
      tcp({ replication: true }),
      2,
      [],
    ],
    [
      'all does not take replication',
      'host all all 10.0.0.0/8 md5',
      tcp({ replication: true }),
      undefined,
      [],
    ],
    [
      'replication keyword does not take a database named replication',
      'host replication all 10.0.0.0/8 scram-sha-256\nhost all all 10.0.0.0/8 md5',
      tcp({ database: 'replication' }),
      2,
      [],
    ],
    [
      'quoted "replication" is that database',
      'host "replication" all 10.0.0.0/8 md5',
      tcp({ database: 'replication' }),
      1,
      [],
    ],
    ['sameuser: same name', 'host sameuser all 10.0.0.0/8 md5', tcp({ database: 'alice' }), 1, []],
    ['sameuser: other name', 'host sameuser all 10.0.0.0/8 md5', tcp({ database: 'bob' }), undefined, []],
    [
      'samerole: member',
      'host samerole all 10.0.0.0/8 md5',
      tcp({ database: 'sales', userGroups: ['sales'] }),
      1,
      [],
    ],
    [
      'samerole: not a member',
      'host samerole all 10.0.0.0/8 md5',
      tcp({ database: 'sales', userGroups: [] }),
      undefined,
      [],
    ],
    [
      'samerole: membership unknown',
      'host samerole all 10.0.0.0/8 md5',
      tcp({ database: 'sales' }),
      undefined,
      [1],
    ],
    ['+group: member', 'host all +admins 10.0.0.0/8 md5', tcp({ userGroups: ['admins'] }), 1, []],
    ['+group: the role itself', 'host all +alice 10.0.0.0/8 md5', tcp({ userGroups: [] }), 1, []],
    ['+group: unknown', 'host all +admins 10.0.0.0/8 md5\nhost all all 10.0.0.0/8 reject', tcp(), 2, [1]],
    ['regex database', 'host /^app_ all 10.0.0.0/8 md5', tcp({ database: 'app_eu' }), 1, []],
    ['regex database, no match', 'host /^app_ all 10.0.0.0/8 md5', tcp({ database: 'app' }), undefined, []],
    ['regex user', 'host all /^ali 10.0.0.0/8 md5', tcp(), 1, []],
    ['regex JavaScript cannot compile', 'host all /(?<x 10.0.0.0/8 md5', tcp(), undefined, [1]],
    ['name list', 'host x,app,y bob,alice 10.0.0.0/8 md5', tcp(), 1, []],
    ['@file may match', 'host @dbs all 10.0.0.0/8 trust\nhost all all 10.0.0.0/8 md5', tcp(), 2, [1]],
    ['IPv4 outside', 'host all all 10.2.0.0/16 md5', tcp(), undefined, []],
    ['IPv6 inside', 'host all all 2001:db8::/32 md5', tcp({ address: '2001:db8::5' }), 1, []],
    ['IPv4 client, IPv6 rule', 'host all all ::/0 md5', tcp(), undefined, []],
    ['address all', 'host all all all md5', tcp({ address: '2001:db8::5' }), 1, []],
    ['samenet may match', 'host all all samenet md5', tcp(), undefined, [1]],
    ['host name may match', 'host all all .example.com md5', tcp(), undefined, [1]],
    ['client address unknown', 'host all all 10.0.0.0/8 md5', tcp({ address: undefined }), undefined, [1]],
  ])('%s', (_name, text, conn, line, uncertain) => {
    const result = matchConnection(rules(text), conn);
    expect(result.rule?.line).toBe(line);
    expect(result.uncertain.map((r) => r.line)).toEqual(uncertain);
    expect(result.certain).toBe(uncertain.length === 0);
  });
});

describe('findShadowedRules', () => {
  const shadowing = (text: string): [number, number][] =>
    findShadowedRules(rules(text)).map((s) => [s.rule.line, s.shadowedBy.line]);

  it('pg_auto_failover #269: a broad host md5 rule before hostssl rules', () => {
    const found = findShadowedRules(
      rules('host all all 0.0.0.0/0 md5\nhostssl all all 10.0.0.0/8 scram-sha-256\n'),
    );
    expect(found).toHaveLength(1);
    expect(found[0]?.rule.line).toBe(2);
    expect(found[0]?.shadowedBy.line).toBe(1);
    expect(found[0]?.consequence).toBe(
      'hostssl rule on line 2 never applies: line 1 `host all all 0.0.0.0/0 md5` matches first, so TLS is not required and md5 is used instead of scram-sha-256',
    );
  });

  it.each<[string, string, [number, number][]]>([
    [
      'hostssl before host: nothing shadowed',
      'hostssl all all 10.0.0.0/8 scram-sha-256\nhost all all 0.0.0.0/0 md5',
      [],
    ],
    [
      'broad host before a narrower hostssl',
      'host all all 10.0.0.0/8 md5\nhostssl app app 10.1.0.0/16 scram-sha-256',
      [[2, 1]],
    ],
    [
      'all does not cover replication',
      'host all all 0.0.0.0/0 md5\nhost replication all 10.0.0.0/8 scram-sha-256',
      [],
    ],
    [
      'replication covers replication',
      'host replication all 0.0.0.0/0 md5\nhostssl replication rep 10.0.0.0/8 cert',
      [[2, 1]],
    ],
    [
      'all covers a quoted "replication" database',
      'host all all 0.0.0.0/0 md5\nhost "replication" all 10.0.0.0/8 md5',
      [[2, 1]],
    ],
    ['narrower range first', 'host all all 10.0.0.0/16 md5\nhost all all 10.0.0.0/8 md5', []],
    ['hostssl does not cover host', 'hostssl all all 0.0.0.0/0 md5\nhost all all 10.0.0.0/8 md5', []],
    [
      'hostnossl covers hostgssenc',
      'hostnossl all all 0.0.0.0/0 reject\nhostgssenc all all 10.0.0.0/8 gss',
      [[2, 1]],
    ],
    ['IPv4 does not cover IPv6', 'host all all 0.0.0.0/0 md5\nhost all all ::1/128 md5', []],
    [
      'address all covers IPv6 and host names',
      'host all all all md5\nhost all all ::1/128 md5\nhost all all db.example md5',
      [
        [2, 1],
        [3, 1],
      ],
    ],
    ['a range does not cover a host name', 'host all all 0.0.0.0/0 md5\nhost all all db.example md5', []],
    ['samenet covers samehost', 'host all all samenet md5\nhostssl all all samehost md5', [[2, 1]]],
    ['one database is not all', 'host app all 0.0.0.0/0 md5\nhost all all 10.0.0.0/8 md5', []],
    ['database lists: superset', 'host a,b,c all 0.0.0.0/0 md5\nhost b,c all 10.0.0.0/8 md5', [[2, 1]]],
    ['database lists: not a superset', 'host a,b all 0.0.0.0/0 md5\nhost b,c all 10.0.0.0/8 md5', []],
    [
      '+group covers itself, not its members',
      'host all +ops 0.0.0.0/0 md5\nhost all ops 10.0.0.0/8 md5\nhost all bob 10.0.0.0/8 md5',
      [[2, 1]],
    ],
    ['user all covers @file', 'host all all 0.0.0.0/0 md5\nhost all @users 10.0.0.0/8 md5', [[2, 1]]],
    ['database all does not cover @file', 'host all all 0.0.0.0/0 md5\nhost @dbs all 10.0.0.0/8 md5', []],
    ['the same @file covers itself', 'host @dbs all 0.0.0.0/0 md5\nhost @dbs all 10.0.0.0/8 md5', [[2, 1]]],
    [
      'regex covers the names it matches',
      'host /^app all 0.0.0.0/0 md5\nhost app_eu all 10.0.0.0/8 md5\nhost db all 10.0.0.0/8 md5',
      [[2, 1]],
    ],
    [
      'local covers local only',
      'local all all peer\nlocal all postgres peer\nhost all postgres 127.0.0.1/32 md5',
      [[2, 1]],
    ],
    [
      'the first covering rule is named',
      'host all all 10.0.0.0/8 md5\nhost all all 0.0.0.0/0 trust\nhostssl all all 10.1.0.0/16 md5',
      [[3, 1]],
    ],
  ])('%s', (_name, text, expected) => {
    expect(shadowing(text)).toEqual(expected);
  });

  it.each([
    [
      'host all all 0.0.0.0/0 reject\nhostssl all all 10.0.0.0/8 scram-sha-256',
      'hostssl rule on line 2 never applies: line 1 `host all all 0.0.0.0/0 reject` matches first, so these connections are refused',
    ],
    [
      'host all all 0.0.0.0/0 trust\nhostssl all all 10.0.0.0/8 scram-sha-256',
      'hostssl rule on line 2 never applies: line 1 `host all all 0.0.0.0/0 trust` matches first, so TLS is not required and trust (no password) is used instead of scram-sha-256',
    ],
    [
      'local all all peer\nlocal all postgres peer',
      'local rule on line 2 never applies: line 1 `local all all peer` matches first with the same method (the later rule is redundant)',
    ],
    [
      'hostssl all all 0.0.0.0/0 password\nhostssl app all 10.0.0.0/8 scram-sha-256',
      'hostssl rule on line 2 never applies: line 1 `hostssl all all 0.0.0.0/0 password` matches first, so password (sent in clear text) is used instead of scram-sha-256',
    ],
  ])('consequence of %j', (text, consequence) => {
    expect(findShadowedRules(rules(text)).map((s) => s.consequence)).toEqual([consequence]);
  });

  it('finds the pg_auto_failover rules hidden behind the appended md5 line', () => {
    expect(
      findShadowedRules(parseHba(fixture('pg-auto-failover-pg_hba.conf')).rules).map((s) => [
        s.rule.line,
        s.shadowedBy.line,
      ]),
    ).toEqual([
      [15, 14],
      [17, 14],
      [18, 14],
      [19, 14],
    ]);
  });
});

describe('insecureRules', () => {
  const ids = (line: string, network = ['10.0.0.0/24']): string[] =>
    insecureRules(rules(line), network).flatMap((f) => (f.rule === undefined ? [] : [f.id]));

  it.each<[string, string[]]>([
    ['host all all 10.0.0.0/24 scram-sha-256', ['hba.non-tls']],
    ['hostssl all all 10.0.0.0/24 scram-sha-256', []],
    ['hostssl all all 10.0.0.0/24 cert', []],
    ['hostssl all all 10.0.0.0/24 md5', ['hba.md5']],
    ['hostssl all all 10.0.0.0/24 password', ['hba.password-cleartext']],
    ['hostssl all all 10.0.0.0/24 trust', ['hba.trust-tcp']],
    ['hostssl all all 10.0.0.0/24 ident', ['hba.ident-tcp']],
    ['host all all 10.0.0.0/24 trust', ['hba.non-tls', 'hba.trust-tcp']],
    ['local all all trust', ['hba.local-trust']],
    ['local all all md5', []],
    ['local all all peer', []],
    ['hostnossl all all 10.0.0.0/24 scram-sha-256', ['hba.non-tls']],
    ['hostnogssenc all all 10.0.0.0/24 scram-sha-256', ['hba.non-tls']],
    ['hostgssenc all all 10.0.0.0/24 gss', []],
    ['host all all 0.0.0.0/0 reject', []],
    ['host all all 0.0.0.0/0 md5', ['hba.non-tls', 'hba.md5', 'hba.wider-than-network']],
    ['hostssl all all 0.0.0.0/0 scram-sha-256', ['hba.wider-than-network']],
    ['hostssl all all ::/0 scram-sha-256', ['hba.wider-than-network']],
    ['hostssl all all all scram-sha-256', ['hba.wider-than-network']],
    ['hostssl all all 10.0.0.0/25 scram-sha-256', []],
    ['hostssl all all 10.0.0.7/32 scram-sha-256', []],
    ['hostssl all all 10.0.0.0/16 scram-sha-256', ['hba.wider-than-network']],
    ['hostssl all all 192.168.1.0/24 scram-sha-256', ['hba.wider-than-network']],
    ['hostssl all all 127.0.0.1/32 scram-sha-256', []],
    ['hostssl all all ::1/128 scram-sha-256', []],
    ['hostssl all all samenet scram-sha-256', []],
    ['hostssl all all db.example.com scram-sha-256', []],
  ])('%s', (line, expected) => {
    expect(ids(line)).toEqual(expected);
  });

  it('skips the network check without an inventory network', () => {
    expect(ids('hostssl all all 0.0.0.0/0 scram-sha-256', [])).toEqual([]);
  });

  it('reads several inventory networks', () => {
    expect(ids('hostssl all all 10.9.0.0/16 scram-sha-256', ['10.0.0.0/24', '10.9.0.0/16'])).toEqual([]);
  });

  it('gives a message naming the line and the network', () => {
    const [rule] = rules('host all all 0.0.0.0/0 md5');
    expect(insecureRules(rule === undefined ? [] : [rule], ['10.0.0.0/24']).slice(0, 3)).toEqual([
      {
        id: 'hba.non-tls',
        rule,
        message: 'line 1 `host all all 0.0.0.0/0 md5` accepts connections without TLS',
      },
      { id: 'hba.md5', rule, message: 'line 1 `host all all 0.0.0.0/0 md5` uses md5 (use scram-sha-256)' },
      {
        id: 'hba.wider-than-network',
        rule,
        message:
          'line 1 `host all all 0.0.0.0/0 md5` allows 0.0.0.0/0, beyond the inventory network 10.0.0.0/24',
      },
    ]);
  });

  const nossl = (text: string): string[] =>
    insecureRules(rules(text), []).flatMap((f) => (f.id === 'hba.no-nossl-reject' ? [f.message] : []));

  it.each<[string, string, string[]]>([
    [
      'both rejects first',
      'hostnossl all all 0.0.0.0/0 reject\nhostnossl all all ::/0 reject\nhost all all 10.0.0.0/8 md5',
      [],
    ],
    ['one reject for every address', 'hostnossl all all all reject\nhost all all all md5', []],
    [
      'reject after an accepting rule',
      'host all all 10.0.0.0/8 md5\nhostnossl all all 0.0.0.0/0 reject\nhostnossl all all ::/0 reject',
      [
        'no `hostnossl all all 0.0.0.0/0 reject` before line 1, the first rule that accepts non-TLS connections',
      ],
    ],
    [
      'hostssl rules first do not matter',
      'hostssl all all 0.0.0.0/0 md5\nhostnossl all all 0.0.0.0/0 reject\nhostnossl all all ::/0 reject',
      [],
    ],
    [
      'no reject at all, TLS-only rules',
      'hostssl all all 10.0.0.0/8 scram-sha-256',
      [
        'no `hostnossl all all 0.0.0.0/0 reject` anywhere (non-TLS connections are refused only implicitly)',
        'no `hostnossl all all ::/0 reject` anywhere (non-TLS connections are refused only implicitly)',
      ],
    ],
    [
      'a narrower reject does not count',
      'hostnossl app all 0.0.0.0/0 reject\nhostnossl all all 10.0.0.0/8 reject\nhostnossl all all ::/0 reject',
      ['no `hostnossl all all 0.0.0.0/0 reject` anywhere (non-TLS connections are refused only implicitly)'],
    ],
    [
      'a host name rule may accept either family',
      'host all all db.example md5\nhostnossl all all all reject',
      [
        'no `hostnossl all all 0.0.0.0/0 reject` before line 1, the first rule that accepts non-TLS connections',
        'no `hostnossl all all ::/0 reject` before line 1, the first rule that accepts non-TLS connections',
      ],
    ],
  ])('hostnossl reject: %s', (_name, text, expected) => {
    expect(nossl(text)).toEqual(expected);
  });
});

describe('wouldLockOut / operatorAccess', () => {
  const postgres: OperatorConnection = { osUser: 'postgres', user: 'postgres' };

  it("Debian's default lets pgharden in by peer, before and after hardening", () => {
    const debian = parseHba(fixture('debian-pg_hba.conf'));
    expect(operatorAccess(debian.rules, postgres)).toEqual({
      outcome: 'allowed',
      rule: debian.rules[0],
      reason: 'local connection as postgres (OS user postgres) to postgres: line 90 allows it by peer',
    });
    const hardened = setManagedBlock(
      convertHostToHostssl(debian, { method: 'scram-sha-256' }),
      ['hostnossl all all 0.0.0.0/0 reject'],
      {
        position: 'top',
      },
    );
    expect(wouldLockOut(hardened.rules, postgres)).toBe(false);
  });

  it.each<[string, string, OperatorConnection, 'allowed' | 'refused' | 'unknown', string]>([
    ['trust', 'local all all trust', postgres, 'allowed', 'line 1 trusts it'],
    ['local ident means peer', 'local all all ident', postgres, 'allowed', 'line 1 allows it by peer'],
    [
      'peer as another OS user',
      'local all all peer',
      { osUser: 'root', user: 'postgres' },
      'refused',
      'line 1 uses peer, and OS user root is not postgres',
    ],
    [
      'a password method on the socket',
      'local all all scram-sha-256',
      postgres,
      'refused',
      'line 1 asks for scram-sha-256, a credential pgharden does not use on the socket',
    ],
    ['reject', 'local all all reject\nlocal all all peer', postgres, 'refused', 'line 1 rejects it'],
    [
      'no local rule',
      'host all all 127.0.0.1/32 trust',
      postgres,
      'refused',
      'no rule matches it (implicit reject)',
    ],
    [
      'the database matters',
      'local template1 all reject\nlocal all all peer',
      { ...postgres, database: 'template1' },
      'refused',
      'line 1 rejects it',
    ],
    [
      'peer map without pg_ident.conf',
      'local all all peer map=admins',
      { osUser: 'ops', user: 'postgres' },
      'unknown',
      'line 1 uses peer map=admins (pg_ident.conf unknown)',
    ],
    [
      'peer map that maps the OS user',
      'local all all peer map=admins',
      { osUser: 'ops', user: 'postgres', ident: parseIdent('admins ops postgres\n') },
      'allowed',
      'line 1 uses peer map=admins, which allows ops to postgres',
    ],
    [
      'peer map that does not',
      'local all all peer map=admins',
      { osUser: 'ops', user: 'postgres', ident: parseIdent('admins ops app\n') },
      'refused',
      'line 1 uses peer map=admins, which does not map ops to postgres',
    ],
    [
      'an uncertain earlier rule that would also allow',
      'local @dbs all trust\nlocal all all peer',
      postgres,
      'allowed',
      'line 1 trusts it; or line 2 allows it by peer',
    ],
    [
      'a group rule naming the role itself',
      'local all +postgres reject\nlocal all all peer',
      postgres,
      'refused',
      'line 1 rejects it',
    ],
    [
      'an uncertain earlier reject for a role that may be in the group',
      'local all +dba reject\nlocal all all peer',
      { osUser: 'admin', user: 'admin' },
      'unknown',
      'line 1 rejects it; or line 2 allows it by peer',
    ],
    [
      'known groups settle it',
      'local all +dba reject\nlocal all all peer',
      { osUser: 'admin', user: 'admin', userGroups: [] },
      'allowed',
      'line 2 allows it by peer',
    ],
  ])('%s', (_name, text, op, outcome, why) => {
    const access = operatorAccess(rules(text), op);
    expect(access.outcome).toBe(outcome);
    expect(access.reason).toBe(
      `local connection as ${op.user} (OS user ${op.osUser}) to ${op.database ?? 'postgres'}: ${why}`,
    );
    expect(wouldLockOut(rules(text), op)).toBe(outcome !== 'allowed');
  });

  it('refuses a change that drops the peer rule pgharden relies on', () => {
    const before = parseHba('local all postgres peer\nlocal all all scram-sha-256\n');
    expect(wouldLockOut(before.rules, postgres)).toBe(false);
    const after = setManagedBlock(before, ['local all all scram-sha-256'], { position: 'top' });
    expect(wouldLockOut(after.rules, postgres)).toBe(true);
    expect(operatorAccess(after.rules, postgres).rule?.line).toBe(2);
  });
});
