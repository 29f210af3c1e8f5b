import { describe, expect, it } from 'vitest';
import { PghardenError } from '../core/errors.js';
import { parseHba, serializeHba } from './hba.js';
import {
  MANAGED_BEGIN,
  MANAGED_END,
  commentOutRule,
  convertHostToHostssl,
  findManagedBlock,
  removeManagedBlock,
  setManagedBlock,
} from './hba-edit.js';
import type { ConvertOptions } from './hba-edit.js';
import { fixture } from './test-support.js';

const convert = (text: string, options?: ConvertOptions): string =>
  serializeHba(convertHostToHostssl(parseHba(text), options));

describe('convertHostToHostssl', () => {
  it.each<[string, string, ConvertOptions | undefined, string]>([
    ['single spaces', 'host all all 10.0.0.0/8 md5\n', undefined, 'hostssl all all 10.0.0.0/8 md5\n'],
    [
      'aligned columns keep their alignment',
      'host    all             all             127.0.0.1/32            scram-sha-256\n',
      undefined,
      'hostssl all             all             127.0.0.1/32            scram-sha-256\n',
    ],
    [
      'a longer method eats into the blanks after it',
      'host    all  all  0.0.0.0/0  md5     # office\n',
      { method: 'scram-sha-256' },
      'hostssl all  all  0.0.0.0/0  scram-sha-256 # office\n',
    ],
    [
      'a shorter method is padded',
      'host    all  all  10.0.0.0/8  scram-sha-256  # office\n',
      { method: 'cert' },
      'hostssl all  all  10.0.0.0/8  cert           # office\n',
    ],
    [
      'tabs stay tabs',
      'host\tall\tall\t10.0.0.0/8\tmd5\n',
      { method: 'scram-sha-256' },
      'hostssl\tall\tall\t10.0.0.0/8\tscram-sha-256\n',
    ],
    [
      'two-column address',
      'host all all 10.0.0.0 255.0.0.0 md5 # lan\n',
      { method: 'scram-sha-256' },
      'hostssl all all 10.0.0.0 255.0.0.0 scram-sha-256 # lan\n',
    ],
    [
      'options stay',
      'host all all 10.0.0.0/8 ident map=office\n',
      { method: 'cert' },
      'hostssl all all 10.0.0.0/8 cert map=office\n',
    ],
    [
      'reject rules stay host',
      'host all all 0.0.0.0/0 reject\n',
      { method: 'scram-sha-256' },
      'host all all 0.0.0.0/0 reject\n',
    ],
    [
      'other types and comments stay',
      'local all all peer\n#host all all 0.0.0.0/0 md5\nhostnossl all all 0.0.0.0/0 md5\n',
      { method: 'scram-sha-256' },
      'local all all peer\n#host all all 0.0.0.0/0 md5\nhostnossl all all 0.0.0.0/0 md5\n',
    ],
    [
      'the predicate picks rules',
      'host all all 127.0.0.1/32 trust\nhost all all 10.0.0.0/8 md5\n',
      {
        method: 'scram-sha-256',
        predicate: (r) => r.address?.kind === 'cidr' && r.address.address !== '127.0.0.1',
      },
      'host all all 127.0.0.1/32 trust\nhostssl all all 10.0.0.0/8 scram-sha-256\n',
    ],
    [
      'continued record: each token edited on its own physical line',
      'host all all \\\n   10.0.0.0/8 md5\n',
      { method: 'scram-sha-256' },
      'hostssl all all \\\n   10.0.0.0/8 scram-sha-256\n',
    ],
    [
      'a token split by a continuation: the record is rewritten on one line',
      'ho\\\nst all all 10.0.0.0/8 md5 # split\nlocal all all peer\n',
      undefined,
      'hostssl all all 10.0.0.0/8 md5  # split\nlocal all all peer\n',
    ],
    [
      'CRLF stays CRLF',
      'host all all 10.0.0.0/8 md5\r\nlocal all all peer\r\n',
      undefined,
      'hostssl all all 10.0.0.0/8 md5\r\nlocal all all peer\r\n',
    ],
    ['no final newline stays so', 'host all all 10.0.0.0/8 md5', undefined, 'hostssl all all 10.0.0.0/8 md5'],
  ])('%s', (_name, before, options, after) => {
    expect(convert(before, options)).toBe(after);
  });

  it("converts Debian's host rules and touches no other line", () => {
    const before = fixture('debian-pg_hba.conf');
    const after = convertHostToHostssl(parseHba(before), { method: 'scram-sha-256' });
    expect(after.errors).toEqual([]);
    const changed = after.lines
      .filter((l, i) => l.text !== parseHba(before).lines[i]?.text)
      .map((l) => [l.line, l.text]);
    expect(changed).toEqual([
      [97, 'hostssl all             all             127.0.0.1/32            scram-sha-256'],
      [99, 'hostssl all             all             ::1/128                 scram-sha-256'],
      [103, 'hostssl replication     all             127.0.0.1/32            scram-sha-256'],
      [104, 'hostssl replication     all             ::1/128                 scram-sha-256'],
    ]);
    expect(after.rules.map((r) => r.type)).toEqual([
      'local',
      'local',
      'hostssl',
      'hostssl',
      'local',
      'hostssl',
      'hostssl',
    ]);
  });

  it('is idempotent', () => {
    const once = convert(fixture('pg-auto-failover-pg_hba.conf'), { method: 'scram-sha-256' });
    expect(convert(once, { method: 'scram-sha-256' })).toBe(once);
  });
});

const block = (rules: string[]): string[] => [MANAGED_BEGIN, ...rules, MANAGED_END];
const nossl = ['hostnossl all all 0.0.0.0/0 reject', 'hostnossl all all ::/0 reject'];

describe('setManagedBlock', () => {
  it("top: above the first rule and the comment lines attached to it (Debian's DO NOT DISABLE note)", () => {
    const file = setManagedBlock(parseHba(fixture('debian-pg_hba.conf')), nossl, { position: 'top' });
    expect(file.lines.slice(81, 87).map((l) => l.text)).toEqual(['', ...block(nossl), '# DO NOT DISABLE!']);
    expect(findManagedBlock(file)).toEqual({ begin: 83, end: 86 });
    expect(file.rules[0]?.line).toBe(84);
  });

  it('top: before the first rule when no comment is attached to it', () => {
    const file = setManagedBlock(
      parseHba('# header\n\nlocal all all peer\n'),
      ['host all all ::1/128 trust'],
      { position: 'top' },
    );
    expect(serializeHba(file)).toBe(
      `# header\n\n${block(['host all all ::1/128 trust']).join('\n')}\nlocal all all peer\n`,
    );
  });

  it('bottom: after the last line, giving a missing final newline first', () => {
    const file = setManagedBlock(parseHba('local all all peer'), nossl, { position: 'bottom' });
    expect(serializeHba(file)).toBe(`local all all peer\n${block(nossl).join('\n')}\n`);
  });

  it('new lines follow the file: CRLF in a CRLF file', () => {
    const file = setManagedBlock(parseHba('local all all peer\r\n'), nossl, { position: 'bottom' });
    expect(serializeHba(file)).toBe(`local all all peer\r\n${block(nossl).join('\r\n')}\r\n`);
  });

  it('an empty file gets just the block', () => {
    expect(serializeHba(setManagedBlock(parseHba(''), ['local all all peer'], { position: 'top' }))).toBe(
      `${block(['local all all peer']).join('\n')}\n`,
    );
  });

  it('replaces an existing block where it is, whatever the position asked', () => {
    const text = `local all all peer\n${block(['host all all 10.0.0.0/8 md5']).join('\n')}\nhost all all ::1/128 md5\n`;
    const file = setManagedBlock(parseHba(text), nossl, { position: 'bottom' });
    expect(serializeHba(file)).toBe(
      `local all all peer\n${block(nossl).join('\n')}\nhost all all ::1/128 md5\n`,
    );
  });

  it('is idempotent', () => {
    const once = setManagedBlock(parseHba(fixture('debian-pg_hba.conf')), nossl, { position: 'top' });
    const twice = setManagedBlock(once, nossl, { position: 'top' });
    expect(serializeHba(twice)).toBe(serializeHba(once));
  });

  it('an empty list leaves the markers only', () => {
    const file = setManagedBlock(parseHba('local all all peer\n'), [], { position: 'bottom' });
    expect(serializeHba(file)).toBe(`local all all peer\n${MANAGED_BEGIN}\n${MANAGED_END}\n`);
  });

  it('keeps a dangling backslash on the last line from swallowing the BEGIN marker', () => {
    const file = setManagedBlock(parseHba('local all all peer \\'), nossl, { position: 'bottom' });
    expect(findManagedBlock(file)).toEqual({ begin: 3, end: 6 });
    expect(file.rules.map((r) => r.line)).toEqual([1, 4, 5]);
  });

  it.each([
    ['BEGIN without END', `${MANAGED_BEGIN}\nlocal all all peer\n`],
    ['END without BEGIN', `local all all peer\n${MANAGED_END}\n`],
    ['END before BEGIN', `${MANAGED_END}\n${MANAGED_BEGIN}\n`],
    ['two blocks', `${block([]).join('\n')}\n${block([]).join('\n')}\n`],
  ])('refuses malformed markers: %s', (_name, text) => {
    let thrown: unknown;
    try {
      setManagedBlock(parseHba(text), nossl, { position: 'top' });
    } catch (err) {
      thrown = err;
    }
    expect(PghardenError.is(thrown) && thrown.code).toBe('hba.managed-block-malformed');
  });

  it.each([['a\nb'], ['host all all 10.0.0.0/8 md5 \\']])(
    'refuses a line that is not one record: %j',
    (line) => {
      expect(() => setManagedBlock(parseHba(''), [line], { position: 'top' })).toThrow(RangeError);
    },
  );
});

describe('removeManagedBlock', () => {
  it.each(['debian-pg_hba.conf', 'initdb-pg_hba.conf', 'pg-auto-failover-pg_hba.conf'])(
    'undoes setManagedBlock exactly: %s',
    (name) => {
      const text = fixture(name);
      for (const position of ['top', 'bottom'] as const) {
        const withBlock = setManagedBlock(parseHba(text), nossl, { position });
        expect(serializeHba(removeManagedBlock(withBlock))).toBe(text);
      }
    },
  );

  it('returns the same file when there is no block', () => {
    const file = parseHba('local all all peer\n');
    expect(removeManagedBlock(file)).toBe(file);
  });
});

describe('commentOutRule', () => {
  it('comments out the line, says why, and moves no line number', () => {
    const before = parseHba(fixture('pg-auto-failover-pg_hba.conf'));
    const after = commentOutRule(before, 14, 'shadows the hostssl rules below');
    expect(after.lines[13]).toMatchObject({
      kind: 'comment',
      text: '#host all all 0.0.0.0/0 md5  # pgharden: shadows the hostssl rules below',
    });
    expect(after.lines).toHaveLength(before.lines.length);
    expect(after.rules.map((r) => r.line)).toEqual(before.rules.map((r) => r.line).filter((l) => l !== 14));
  });

  it('comments out every physical line of a continued record', () => {
    const after = commentOutRule(
      parseHba('host all all \\\n  0.0.0.0/0 md5\nlocal all all peer\n'),
      1,
      'weak',
    );
    expect(serializeHba(after)).toBe(
      '#host all all \\\n#  0.0.0.0/0 md5  # pgharden: weak\nlocal all all peer\n',
    );
    expect(after.rules.map((r) => r.line)).toEqual([3]);
  });

  it('can disable an unparseable line', () => {
    const after = commentOutRule(parseHba('host all all 10.0.0.0/33 md5\r\n'), 1, 'bad mask\nreally');
    expect(serializeHba(after)).toBe('#host all all 10.0.0.0/33 md5  # pgharden: bad mask really\r\n');
    expect(after.errors).toEqual([]);
  });

  it.each([1, 2, 3])('refuses line %i, which is not a rule', (line) => {
    const file = parseHba('# comment\n\nhost all all \\\n 0.0.0.0/0 md5\n');
    expect(() => commentOutRule(file, line === 3 ? 4 : line, 'x')).toThrow(RangeError);
  });
});
