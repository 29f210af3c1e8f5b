import { describe, expect, it } from 'vitest';
import { addMapping, hasMapping, identMapAllows, parseIdent, serializeIdent } from './ident.js';
import type { IdentMapping, IdentToken } from './ident.js';
import { fixture, prng, randomConfigText, variants } from './test-support.js';

const t = (kind: IdentToken['kind'], value: string, quoted = false): IdentToken => ({ kind, value, quoted });

describe('parseIdent', () => {
  it.each<[string, Omit<IdentMapping, 'line'>]>([
    [
      'pgautofailover  postgres  autoctl_node',
      { map: 'pgautofailover', systemUser: t('name', 'postgres'), pgUser: t('name', 'autoctl_node') },
    ],
    [
      'certmap /^(.*)@example\\.com$ \\1   # CN to role',
      {
        map: 'certmap',
        systemUser: t('regex', '^(.*)@example\\.com$'),
        pgUser: t('name', '\\1'),
        comment: 'CN to role',
      },
    ],
    [
      'm "john smith" "john"',
      { map: 'm', systemUser: t('name', 'john smith', true), pgUser: t('name', 'john', true) },
    ],
    ['m "/^x$" all', { map: 'm', systemUser: t('regex', '^x$', true), pgUser: t('keyword', 'all') }],
    ['m a "all"', { map: 'm', systemUser: t('name', 'a'), pgUser: t('name', 'all', true) }],
    ['m all +dba', { map: 'm', systemUser: t('name', 'all'), pgUser: t('group', 'dba') }],
    ['m x /^app_', { map: 'm', systemUser: t('name', 'x'), pgUser: t('regex', '^app_') }],
    ['m x y extra fields', { map: 'm', systemUser: t('name', 'x'), pgUser: t('name', 'y') }], // PostgreSQL ignores them
  ])('%s', (line, expected) => {
    const file = parseIdent(`# header\n${line}\n`);
    expect(file.errors).toEqual([]);
    expect(file.mappings).toEqual([{ line: 2, ...expected }]);
  });

  it.each([
    ['m3 a,b c', 'multiple values in ident field'],
    ['m4 a', 'missing entry at end of line'],
    ['m5', 'missing entry at end of line'],
    ['a,b c d', 'multiple values in ident field'],
  ])('%s → %s', (line, message) => {
    expect(parseIdent(`m ok ok\n\n${line}\n`).errors).toEqual([
      { id: 'ident.unparseable', line: 3, message },
    ]);
  });

  it('continuation and include records', () => {
    const file = parseIdent('m os \\\n  pg\ninclude_dir ident.d\n');
    expect(file.lines.map((l) => l.kind)).toEqual(['mapping', 'continuation', 'include']);
    expect(file.mappings.map((m) => [m.line, m.pgUser.value])).toEqual([[1, 'pg']]);
    expect(file.includes).toEqual([{ line: 3, directive: 'include_dir', path: 'ident.d' }]);
  });

  it("initdb's pg_ident.conf is all comments", () => {
    const file = parseIdent(fixture('initdb-pg_ident.conf'));
    expect(file.mappings).toEqual([]);
    expect(file.errors).toEqual([]);
    expect(new Set(file.lines.map((l) => l.kind))).toEqual(new Set(['comment', 'blank']));
  });
});

describe('serializeIdent: byte-for-byte round trip', () => {
  const base = `${fixture('initdb-pg_ident.conf')}pgautofailover  postgres   autoctl_node  # x\ncertmap /^(.*)$ \\1\n`;
  it.each(Object.entries(variants(base)))('%s', (_name, text) => {
    expect(serializeIdent(parseIdent(text))).toBe(text);
  });

  it('holds for 1000 generated files', () => {
    const fragments = [
      'm',
      ' ',
      '\t',
      '"',
      '#',
      '\\',
      '\n',
      '\r\n',
      '\r',
      ',',
      '/^(.*)$',
      '\\1',
      'all',
      '+g',
      'x',
      'include',
    ];
    const random = prng(42);
    for (let i = 0; i < 1000; i += 1) {
      const text = randomConfigText(random, fragments);
      expect(serializeIdent(parseIdent(text)), `sample ${i}: ${JSON.stringify(text)}`).toBe(text);
    }
  });
});

describe('addMapping / hasMapping', () => {
  const entry = { map: 'pgautofailover', systemUser: 'postgres', pgUser: 'pgautofailover_monitor' };

  it('appends in the sample file’s columns, keeping the rest byte for byte', () => {
    const before = fixture('initdb-pg_ident.conf');
    const after = addMapping(parseIdent(before), entry);
    expect(serializeIdent(after)).toBe(
      `${before}pgautofailover  postgres                pgautofailover_monitor\n`,
    );
    expect(hasMapping(after, entry)).toBe(true);
  });

  it('is idempotent: the same file object comes back', () => {
    const once = addMapping(parseIdent(''), entry);
    expect(addMapping(once, entry)).toBe(once);
    expect(
      serializeIdent(once)
        .split('\n')
        .filter((l) => l !== ''),
    ).toHaveLength(1);
  });

  it.each([
    ['no final newline', 'm a b', 'm a b\nm2              x                       y\n'],
    ['CRLF', 'm a b\r\n', 'm a b\r\nm2              x                       y\r\n'],
  ])('%s', (_name, before, after) => {
    expect(serializeIdent(addMapping(parseIdent(before), { map: 'm2', systemUser: 'x', pgUser: 'y' }))).toBe(
      after,
    );
  });

  it('quotes what needs quoting and writes regexes as they are', () => {
    const file = addMapping(parseIdent(''), {
      map: 'certs',
      systemUser: '/^(.*)@corp$',
      pgUser: 'john smith',
    });
    expect(serializeIdent(file)).toBe('certs           /^(.*)@corp$            "john smith"\n');
    expect(file.mappings[0]?.systemUser).toEqual(t('regex', '^(.*)@corp$'));
    expect(hasMapping(file, { map: 'certs', systemUser: '/^(.*)@corp$', pgUser: 'john smith' })).toBe(true);
  });

  it.each([
    [{ map: 'pgautofailover', systemUser: 'postgres', pgUser: 'autoctl_node' }, true],
    [{ map: 'pgautofailover', systemUser: 'postgres', pgUser: 'other' }, false],
    [{ map: 'other', systemUser: 'postgres', pgUser: 'autoctl_node' }, false],
  ])('hasMapping %j → %s', (candidate, expected) => {
    expect(hasMapping(parseIdent('pgautofailover postgres autoctl_node\n'), candidate)).toBe(expected);
  });

  it('refuses a field with a newline', () => {
    expect(() => addMapping(parseIdent(''), { map: 'm', systemUser: 'a\nb', pgUser: 'c' })).toThrow(
      RangeError,
    );
  });
});

describe('identMapAllows', () => {
  const file = parseIdent(
    [
      'pgautofailover postgres autoctl_node',
      'pgautofailover postgres pgautofailover_replicator',
      'certs /^(.*)@example\\.com$ \\1',
      'certs /^ops-[0-9]+$ +dba',
      'any root all',
      'rx svc /^app_',
      'broken /(?<x app',
    ].join('\n'),
  );
  it.each<[string, string, string, readonly string[] | undefined, string]>([
    ['pgautofailover', 'postgres', 'autoctl_node', undefined, 'yes'],
    ['pgautofailover', 'postgres', 'pgautofailover_replicator', undefined, 'yes'],
    ['pgautofailover', 'postgres', 'pgautofailover_monitor', undefined, 'no'],
    ['pgautofailover', 'root', 'autoctl_node', undefined, 'no'],
    ['nomap', 'postgres', 'autoctl_node', undefined, 'no'],
    ['certs', 'alice@example.com', 'alice', undefined, 'yes'],
    ['certs', 'alice@example.com', 'bob', undefined, 'no'],
    ['certs', 'alice@example.org', 'alice', undefined, 'no'],
    ['certs', 'ops-7', 'dba', undefined, 'yes'],
    ['certs', 'ops-7', 'carol', undefined, 'maybe'],
    ['certs', 'ops-7', 'carol', ['dba'], 'yes'],
    ['certs', 'ops-7', 'carol', [], 'no'],
    ['any', 'root', 'whoever', undefined, 'yes'],
    ['rx', 'svc', 'app_eu', undefined, 'yes'],
    ['rx', 'svc', 'db', undefined, 'no'],
    ['broken', 'x', 'app', undefined, 'maybe'],
  ])('%s: %s as %s (groups %j) → %s', (map, system, pg, groups, expected) => {
    expect(identMapAllows(file, map, system, pg, groups)).toBe(expected);
  });
});
