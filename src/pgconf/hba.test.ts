import { describe, expect, it } from 'vitest';
import { formatRule, parseHba, serializeHba } from './hba.js';
import type { HbaAddress, HbaRule, HbaToken } from './hba.js';
import { fixture, prng, randomConfigText, variants } from './test-support.js';

const tok = (kind: HbaToken['kind'], value: string, quoted = false): HbaToken => ({ kind, value, quoted });

function onlyRule(text: string): HbaRule {
  const file = parseHba(text);
  expect(file.errors).toEqual([]);
  expect(file.rules).toHaveLength(1);
  const [rule] = file.rules;
  if (rule === undefined) throw new Error('no rule');
  return rule;
}

describe('parseHba: database column', () => {
  it.each<[string, HbaToken[]]>([
    ['all', [tok('keyword', 'all')]],
    ['"all"', [tok('name', 'all', true)]],
    ['sameuser', [tok('keyword', 'sameuser')]],
    ['samerole', [tok('keyword', 'samerole')]],
    ['samegroup', [tok('keyword', 'samegroup')]],
    ['replication', [tok('keyword', 'replication')]],
    ['"replication"', [tok('name', 'replication', true)]],
    ['app', [tok('name', 'app')]],
    ['db1,db2', [tok('name', 'db1'), tok('name', 'db2')]],
    ['db1,"db 2"', [tok('name', 'db1'), tok('name', 'db 2', true)]],
    ['"a""b"', [tok('name', 'a"b', true)]],
    ['"x,y#z"', [tok('name', 'x,y#z', true)]],
    ['a"ll"', [tok('keyword', 'all')]], // quoting after the first character does not make it "quoted"
    ['@dbs.txt', [tok('file', 'dbs.txt')]],
    ['"@dbs.txt"', [tok('name', '@dbs.txt', true)]],
    ['@"my dbs"', [tok('file', 'my dbs')]],
    ['@', [tok('name', '@')]],
    ['/^app_.*$', [tok('regex', '^app_.*$')]],
    ['"/^app$"', [tok('regex', '^app$', true)]],
    ['+grp', [tok('name', '+grp')]], // + means group only in the user column
    ['all,replication', [tok('keyword', 'all'), tok('keyword', 'replication')]],
    ['a,,b', [tok('name', 'a'), tok('name', 'b')]],
    ['"a",b', [tok('name', 'a', true), tok('name', 'b')]],
    ['""', [tok('name', '', true)]],
  ])('%s', (column, expected) => {
    expect(onlyRule(`host ${column} all 10.0.0.0/8 md5`).databases).toEqual(expected);
  });

  it('a blank after a comma continues the list; a blank before it starts the next field', () => {
    expect(onlyRule('host a, b c 10.0.0.0/8 md5').databases).toEqual([tok('name', 'a'), tok('name', 'b')]);
    expect(parseHba('host a ,b c 10.0.0.0/8 md5').errors).toEqual([
      { id: 'hba.unparseable', line: 1, message: 'invalid authentication method "10.0.0.0/8"' },
    ]);
  });
});

describe('parseHba: user column', () => {
  it.each<[string, HbaToken[]]>([
    ['all', [tok('keyword', 'all')]],
    ['"all"', [tok('name', 'all', true)]],
    ['+admins', [tok('group', 'admins')]],
    ['"+admins"', [tok('name', '+admins', true)]],
    ['+"db admins"', [tok('group', 'db admins')]],
    ['sameuser', [tok('name', 'sameuser')]], // database keywords are plain names here
    ['replication', [tok('name', 'replication')]],
    ['@users', [tok('file', 'users')]],
    ['/^svc_', [tok('regex', '^svc_')]],
    ['alice,+ops,"bob"', [tok('name', 'alice'), tok('group', 'ops'), tok('name', 'bob', true)]],
  ])('%s', (column, expected) => {
    expect(onlyRule(`host all ${column} 10.0.0.0/8 md5`).users).toEqual(expected);
  });
});

describe('parseHba: address column', () => {
  it.each<[string, HbaAddress]>([
    ['0.0.0.0/0', { kind: 'cidr', address: '0.0.0.0', prefix: 0, family: 4 }],
    ['10.1.2.3/32', { kind: 'cidr', address: '10.1.2.3', prefix: 32, family: 4 }],
    ['10.0.0.0 255.255.255.0', { kind: 'cidr', address: '10.0.0.0', prefix: 24, family: 4 }],
    ['10.0.0.0 0.0.0.0', { kind: 'cidr', address: '10.0.0.0', prefix: 0, family: 4 }],
    ['::1/128', { kind: 'cidr', address: '::1', prefix: 128, family: 6 }],
    ['::/0', { kind: 'cidr', address: '::', prefix: 0, family: 6 }],
    ['fe80::/10', { kind: 'cidr', address: 'fe80::', prefix: 10, family: 6 }],
    ['2001:db8:: ffff:ffff::', { kind: 'cidr', address: '2001:db8::', prefix: 32, family: 6 }],
    ['::ffff:10.0.0.1/128', { kind: 'cidr', address: '::ffff:10.0.0.1', prefix: 128, family: 6 }],
    ['010.0.0.1/32', { kind: 'cidr', address: '010.0.0.1', prefix: 32, family: 4 }], // inet_aton: octal 8.0.0.1
    ['10.1/16', { kind: 'cidr', address: '10.1', prefix: 16, family: 4 }],
    ['10.0.0.0/+8', { kind: 'cidr', address: '10.0.0.0', prefix: 8, family: 4 }],
    ['all', { kind: 'keyword', value: 'all' }],
    ['samehost', { kind: 'keyword', value: 'samehost' }],
    ['samenet', { kind: 'keyword', value: 'samenet' }],
    ['"samenet"', { kind: 'hostname', value: 'samenet' }],
    ['db.example.com', { kind: 'hostname', value: 'db.example.com' }],
    ['.example.com', { kind: 'hostname', value: '.example.com' }],
    ['10.0.0.256', { kind: 'hostname', value: '10.0.0.256' }], // not numeric, so a host name to PostgreSQL too
  ])('%s', (column, expected) => {
    expect(onlyRule(`host all all ${column} md5`).address).toEqual(expected);
  });

  it('local rules have no address', () => {
    expect(onlyRule('local all all peer')).toEqual({
      line: 1,
      type: 'local',
      databases: [tok('keyword', 'all')],
      users: [tok('keyword', 'all')],
      method: 'peer',
      options: {},
    });
  });
});

describe('parseHba: types, methods, options, comments', () => {
  it.each(['host', 'hostssl', 'hostnossl', 'hostgssenc', 'hostnogssenc'] as const)('type %s', (type) => {
    expect(onlyRule(`${type} all all 10.0.0.0/8 md5`).type).toBe(type);
  });

  it.each([
    'trust',
    'reject',
    'scram-sha-256',
    'md5',
    'password',
    'gss',
    'sspi',
    'ident',
    'pam',
    'ldap',
    'radius',
    'bsd',
  ])('method %s', (method) => {
    expect(onlyRule(`host all all 10.0.0.0/8 ${method}`).method).toBe(method);
  });

  it('keeps options in file order, with quoted values', () => {
    const rule = onlyRule('hostssl all all 10.0.0.0/8 cert map=certmap clientname=DN');
    expect(Object.entries(rule.options)).toEqual([
      ['map', 'certmap'],
      ['clientname', 'DN'],
    ]);
    const ldap = onlyRule(
      'host all all 1.2.3.4/32 ldap ldapserver=ldap.example.com ldapsuffix=", dc=example, dc=net"',
    );
    expect(ldap.options).toEqual({ ldapserver: 'ldap.example.com', ldapsuffix: ', dc=example, dc=net' });
  });

  it.each([
    ['host all all 10.0.0.0/8 md5 # allow the office', 'allow the office'],
    ['host all all 10.0.0.0/8 md5#tight', 'tight'],
    ['host "a#b" all 10.0.0.0/8 md5 #  x # y ', 'x # y'],
  ])('comment of %s', (line, comment) => {
    expect(onlyRule(line).comment).toBe(comment);
  });

  it('has no comment key when there is none', () => {
    expect('comment' in onlyRule('host all all 10.0.0.0/8 md5')).toBe(false);
  });
});

describe('parseHba: unparseable lines', () => {
  it.each([
    ['host all all 10.0.0.0/8', 'end-of-line before authentication method'],
    ['host all all 10.0.0.0/33 md5', 'invalid CIDR mask in address "10.0.0.0/33"'],
    ['host all all ::/129 md5', 'invalid CIDR mask in address "::/129"'],
    ['host all all 10.0.0.0/ md5', 'invalid CIDR mask in address "10.0.0.0/"'],
    ['hots all all 10.0.0.0/8 md5', 'invalid connection type "hots"'],
    ['host all all 10.0.0.0/8 scram', 'invalid authentication method "scram"'],
    [
      'host all all md5',
      'end-of-line before authentication method (the address column is missing: "md5" was read as a host name)',
    ],
    ['host all all 10.0.0.256/24 md5', 'specifying both host name and CIDR mask is invalid: "10.0.0.256/24"'],
    ['host all all 1.2.3.4 md5', 'invalid IP mask "md5"'],
    ['host all all 10.0.0.0 ffff:: md5', 'IP address and mask do not match'],
    ['host all all 1.2.3.4', 'end-of-line before netmask specification'],
    [
      'host all all 10.0.0.0 255.0.255.0 md5',
      'netmask "255.0.255.0" is not contiguous: valid for PostgreSQL, not analysable by pgharden',
    ],
    ['local', 'end-of-line before database specification'],
    ['host all', 'end-of-line before role specification'],
    ['host all all', 'end-of-line before IP address specification'],
    ['host,hostssl all all 10.0.0.0/8 md5', 'multiple values specified for connection type'],
    ['host all all 10.0.0.0/8,10.1.0.0/16 md5', 'multiple values specified for host address'],
    ['host all all 10.0.0.0/8 md5,trust', 'multiple values specified for authentication type'],
    ['host all all 10.0.0.0/8 peer', 'peer authentication is only supported on local sockets'],
    ['local all all gss', 'gssapi authentication is not supported on local sockets'],
    ['local all all cert', 'cert authentication is only supported on hostssl connections'],
    ['host all all 10.0.0.0/8 md5 foo', 'authentication option not in name=value format: foo'],
    ['host all all 10.0.0.0/8 md5 foo=bar', 'unrecognized authentication option name: "foo"'],
    [
      'host all all 10.0.0.0/8 md5 map=x',
      'authentication option "map" is only valid for authentication methods ident, peer, gssapi, sspi, and cert',
    ],
    [
      'host all all 10.0.0.0/8 md5 ldapserver=x',
      'authentication option "ldapserver" is only valid for authentication methods ldap',
    ],
    [
      'host all all 10.0.0.0/8 scram-sha-256 clientcert=verify-full',
      'clientcert can only be configured for "hostssl" rows',
    ],
    [
      'hostssl all all 10.0.0.0/8 cert clientcert=verify-ca',
      'clientcert can only be set to "verify-full" when using "cert" authentication',
    ],
    [
      'hostssl all all 10.0.0.0/8 md5 clientcert=1',
      'clientcert=1 is accepted only by PostgreSQL 13 and older: use verify-ca or verify-full',
    ],
    ['hostssl all all 10.0.0.0/8 md5 clientcert=verify', 'invalid value for clientcert: "verify"'],
    ['hostssl all all 10.0.0.0/8 cert clientname=XX', 'invalid value for clientname: "XX"'],
    [
      'host @dbs all @addresses md5',
      'file inclusion in the address column is not supported by pgharden: "@addresses"',
    ],
    ['include a b', 'invalid connection type "include"'],
  ])('%s → %s', (line, message) => {
    const file = parseHba(`# first\n\n${line}\nlocal all all peer\n`);
    expect(file.errors).toEqual([{ id: 'hba.unparseable', line: 3, message }]);
    expect(file.rules.map((r) => r.line)).toEqual([4]);
    expect(file.lines[2]?.kind).toBe('error');
  });

  it('reports every bad line with its own number and keeps parsing', () => {
    const text = [
      'local all postgres peer',
      'host all all 10.0.0.0/8',
      'host all all 10.0.0.0/33 md5',
      'hostssl all all 10.0.0.0/8 scram-sha-256',
      'hots all all 10.0.0.0/8 md5',
      'host all all 10.0.0.0/8 scram',
      'host all all md5',
    ].join('\n');
    const file = parseHba(text);
    expect(file.errors.map((e) => [e.line, e.message.split(' (')[0]])).toEqual([
      [2, 'end-of-line before authentication method'],
      [3, 'invalid CIDR mask in address "10.0.0.0/33"'],
      [5, 'invalid connection type "hots"'],
      [6, 'invalid authentication method "scram"'],
      [7, 'end-of-line before authentication method'],
    ]);
    expect(file.rules.map((r) => [r.line, r.type])).toEqual([
      [1, 'local'],
      [4, 'hostssl'],
    ]);
  });
});

describe('parseHba: line kinds, continuation, include', () => {
  it('keeps each physical line with its text and terminator', () => {
    const file = parseHba('# c \t\r\n\n  \nlocal all all peer   \r\nhost all all ::1/128 md5');
    expect(file.lines.map((l) => [l.line, l.kind, l.text, l.eol])).toEqual([
      [1, 'comment', '# c \t', '\r\n'],
      [2, 'blank', '', '\n'],
      [3, 'blank', '  ', '\n'],
      [4, 'rule', 'local all all peer   ', '\r\n'],
      [5, 'rule', 'host all all ::1/128 md5', ''],
    ]);
  });

  it('joins a record continued with a trailing backslash (PostgreSQL 14+)', () => {
    const file = parseHba('host all all \\\n    10.0.0.0/8 md5\nlocal all all peer\n');
    expect(file.lines.map((l) => l.kind)).toEqual(['rule', 'continuation', 'rule']);
    expect(file.lines[1]).toMatchObject({ kind: 'continuation', of: 1, text: '    10.0.0.0/8 md5' });
    expect(file.rules.map((r) => [r.line, r.method])).toEqual([
      [1, 'md5'],
      [3, 'peer'],
    ]);
  });

  it.each([
    ['inside quotes', 'host "a \\\nb" all 10.0.0.0/8 md5\n', [tok('name', 'a b', true)]],
    ['in the middle of a word', 'host ap\\\np all 10.0.0.0/8 md5\n', [tok('name', 'app')]],
    ['with CRLF endings', 'host app \\\r\n all 10.0.0.0/8 md5\r\n', [tok('name', 'app')]],
  ])('continuation %s', (_name, text, databases) => {
    expect(onlyRule(text).databases).toEqual(databases);
  });

  it('a comment ending in a backslash swallows the next line, as PostgreSQL does', () => {
    const file = parseHba('# disabled: \\\nhost all all 0.0.0.0/0 trust\nlocal all all peer\n');
    expect(file.lines.map((l) => l.kind)).toEqual(['comment', 'continuation', 'rule']);
    expect(file.rules.map((r) => r.line)).toEqual([3]);
  });

  it('a backslash followed by blanks, or on the last line, continues nothing', () => {
    expect(parseHba('hostssl all all 10.0.0.0/8 md5 \\  \nx\n').errors.map((e) => e.line)).toEqual([1, 2]);
    expect(onlyRule('host all all 10.0.0.0/8 md5 \\').method).toBe('md5');
  });

  it.each([
    ['include pg_hba.d/app.conf', 'include', 'pg_hba.d/app.conf'],
    ['include_if_exists "/etc/pg extra.conf"', 'include_if_exists', '/etc/pg extra.conf'],
    ['include_dir pg_hba.d   # PostgreSQL 16+', 'include_dir', 'pg_hba.d'],
  ] as const)('%s is an include record', (line, directive, path) => {
    const file = parseHba(`${line}\n`);
    expect(file.errors).toEqual([]);
    expect(file.includes).toEqual([{ line: 1, directive, path }]);
    expect(file.lines[0]?.kind).toBe('include');
  });
});

describe('parseHba: realistic files', () => {
  it("Debian's default pg_hba.conf: long comment header, then seven rules", () => {
    const file = parseHba(fixture('debian-pg_hba.conf'));
    expect(file.errors).toEqual([]);
    expect(file.lines).toHaveLength(104);
    expect(file.rules.map(formatRule)).toEqual([
      'local all postgres peer',
      'local all all peer',
      'host all all 127.0.0.1/32 scram-sha-256',
      'host all all ::1/128 scram-sha-256',
      'local replication all peer',
      'host replication all 127.0.0.1/32 scram-sha-256',
      'host replication all ::1/128 scram-sha-256',
    ]);
    expect(file.rules.map((r) => r.line)).toEqual([90, 95, 97, 99, 102, 103, 104]);
  });

  it("initdb's default (trust everywhere)", () => {
    const file = parseHba(fixture('initdb-pg_hba.conf'));
    expect(file.errors).toEqual([]);
    expect(file.rules.map((r) => `${r.type} ${r.method}`)).toEqual([
      'local trust',
      'host trust',
      'host trust',
      'local trust',
      'host trust',
      'host trust',
    ]);
  });

  it('pg_auto_failover appended rules keep their quoted names and comments', () => {
    const file = parseHba(fixture('pg-auto-failover-pg_hba.conf'));
    expect(file.errors).toEqual([]);
    const appended = file.rules.find((r) => r.line === 15);
    expect(appended).toEqual({
      line: 15,
      type: 'host',
      databases: [tok('name', 'pg_auto_failover', true)],
      users: [tok('name', 'autoctl_node', true)],
      address: { kind: 'cidr', address: '10.0.0.0', prefix: 24, family: 4 },
      method: 'trust',
      options: {},
      comment: 'Auto-generated by pg_auto_failover',
    });
    expect(file.rules.find((r) => r.line === 16)?.databases).toEqual([tok('keyword', 'replication')]);
  });
});

describe('serializeHba: byte-for-byte round trip', () => {
  const files = ['debian-pg_hba.conf', 'initdb-pg_hba.conf', 'pg-auto-failover-pg_hba.conf'];
  const samples = files.flatMap((name) =>
    Object.entries(variants(fixture(name))).map(([variant, text]) => [`${name} (${variant})`, text] as const),
  );
  it.each(samples)('%s', (_name, text) => {
    const file = parseHba(text);
    expect(serializeHba(file)).toBe(text);
    expect(parseHba(serializeHba(file))).toEqual(file);
  });

  it.each(['', '\n', '\r\n', 'x', '\\', '\\\n', '#', '"', '\r', '\n\n\r\n', 'local all all peer'])(
    'edge %j',
    (text) => {
      expect(serializeHba(parseHba(text))).toBe(text);
    },
  );

  it('holds for 2000 generated files (quotes, backslashes, comments, CR, LF, tabs)', () => {
    const fragments = [
      'host',
      'local',
      'hostssl',
      ' ',
      '\t',
      '  ',
      ',',
      '"',
      '""',
      '#',
      '\\',
      '\n',
      '\r\n',
      '\r',
      'all',
      'replication',
      '+g',
      '@f',
      '/r',
      '10.0.0.0/8',
      '::1/128',
      '255.0.0.0',
      'md5',
      'trust',
      'map=x',
      'é',
      'x',
    ];
    const random = prng(20261123);
    for (let i = 0; i < 2000; i += 1) {
      const text = randomConfigText(random, fragments);
      expect(serializeHba(parseHba(text)), `sample ${i}: ${JSON.stringify(text)}`).toBe(text);
    }
  });
});

describe('formatRule', () => {
  it.each([
    ['host all all 0.0.0.0/0 md5', 'host all all 0.0.0.0/0 md5'],
    ['host   "all"   all   10.0.0.0   255.255.0.0   md5', 'host "all" all 10.0.0.0/16 md5'],
    [
      'hostssl "my db",x +ops,@u 10.0.0.0/8 cert map=m   # c',
      'hostssl "my db",x +ops,@u 10.0.0.0/8 cert map=m',
    ],
    ['host /^a all samenet ldap ldapsuffix=", dc=x"', 'host /^a all samenet ldap "ldapsuffix=, dc=x"'],
    ['local "+x" all peer', 'local "+x" all peer'],
  ])('%s', (line, expected) => {
    const rule = onlyRule(line);
    expect(formatRule(rule)).toBe(expected);
    expect(formatRule(onlyRule(formatRule(rule)))).toBe(expected);
  });
});
