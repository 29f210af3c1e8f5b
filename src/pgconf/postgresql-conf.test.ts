import { describe, expect, it } from 'vitest';
import {
  commentOutParam,
  effective,
  formatConfValue,
  parseConf,
  serializeConf,
  setParam,
} from './postgresql-conf.js';
import type { ConfParam } from './postgresql-conf.js';
import { fixture, prng, randomConfigText, variants } from './test-support.js';

type Seen = Pick<ConfParam, 'key' | 'value' | 'rawValue' | 'quoted'> & { comment?: string };

function onlyParam(line: string): Seen {
  const file = parseConf(`${line}\n`);
  expect(file.errors).toEqual([]);
  const [param] = file.params;
  if (param === undefined) throw new Error('no param');
  const { key, value, rawValue, quoted, comment } = param;
  return comment === undefined ? { key, value, rawValue, quoted } : { key, value, rawValue, quoted, comment };
}

// Every row below was checked against PostgreSQL 15's pg_file_settings.
describe('parseConf: settings', () => {
  it.each<[string, Seen]>([
    ['work_mem = 4MB', { key: 'work_mem', value: '4MB', rawValue: '4MB', quoted: false }],
    [
      'shared_buffers 128MB  # no equals',
      { key: 'shared_buffers', value: '128MB', rawValue: '128MB', quoted: false, comment: 'no equals' },
    ],
    [
      "ssl_min_protocol_version = 'TLSv1.2'",
      { key: 'ssl_min_protocol_version', value: 'TLSv1.2', rawValue: "'TLSv1.2'", quoted: true },
    ],
    [
      'ssl_min_protocol_version = TLSv1.2',
      { key: 'ssl_min_protocol_version', value: 'TLSv1.2', rawValue: 'TLSv1.2', quoted: false },
    ],
    [
      `search_path = '"$user", public'`,
      { key: 'search_path', value: '"$user", public', rawValue: `'"$user", public'`, quoted: true },
    ],
    [
      "application_name = 'it''s \\'q\\' \\\\ b \\n \\101'",
      {
        key: 'application_name',
        value: "it's 'q' \\ b \n A",
        rawValue: "'it''s \\'q\\' \\\\ b \\n \\101'",
        quoted: true,
      },
    ],
    [
      "log_line_prefix = '%m [%p] '",
      { key: 'log_line_prefix', value: '%m [%p] ', rawValue: "'%m [%p] '", quoted: true },
    ],
    ['max_connections=100', { key: 'max_connections', value: '100', rawValue: '100', quoted: false }],
    ['seq_page_cost = .5', { key: 'seq_page_cost', value: '.5', rawValue: '.5', quoted: false }],
    [
      'random_page_cost = 1.1e0',
      { key: 'random_page_cost', value: '1.1e0', rawValue: '1.1e0', quoted: false },
    ],
    ['Port = 5433', { key: 'port', value: '5433', rawValue: '5433', quoted: false }],
    ['work_mem = -1', { key: 'work_mem', value: '-1', rawValue: '-1', quoted: false }],
    ['work_mem = 0x1F', { key: 'work_mem', value: '0x1F', rawValue: '0x1F', quoted: false }],
    ["my.custom = 'x'", { key: 'my.custom', value: 'x', rawValue: "'x'", quoted: true }],
    [
      'log_directory = pg_log/sub:dir-x',
      { key: 'log_directory', value: 'pg_log/sub:dir-x', rawValue: 'pg_log/sub:dir-x', quoted: false },
    ],
    [
      'timezone = Europe/Berlin',
      { key: 'timezone', value: 'Europe/Berlin', rawValue: 'Europe/Berlin', quoted: false },
    ],
    [
      '\t  Log_Min_Messages\t=\twarning\t#tabs\t',
      { key: 'log_min_messages', value: 'warning', rawValue: 'warning', quoted: false, comment: 'tabs' },
    ],
    ['ssl = on#x', { key: 'ssl', value: 'on', rawValue: 'on', quoted: false, comment: 'x' }],
    ["listen_addresses = ''", { key: 'listen_addresses', value: '', rawValue: "''", quoted: true }],
    [
      "ssl_ciphers = 'HIGH:!aNULL' # 'quoted' # twice",
      {
        key: 'ssl_ciphers',
        value: 'HIGH:!aNULL',
        rawValue: "'HIGH:!aNULL'",
        quoted: true,
        comment: "'quoted' # twice",
      },
    ],
  ])('%s', (line, expected) => {
    expect(onlyParam(line)).toEqual(expected);
  });

  it.each([
    ['cpu_tuple_cost = 1e-2', 'syntax error near token "-2"'],
    ['data_directory = /var/lib/postgresql', 'syntax error near token "/"'],
    ['bad = ', 'syntax error near end of line'],
    ['work_mem = 10 MB', 'syntax error near token "MB"'],
    ['shared_buffers = 10.5GB', 'syntax error near token "GB"'],
    ["stats = 'unterminated", `syntax error near token "'"`],
    ['= 5', 'syntax error near token "="'],
    ['123 = 4', 'syntax error near token "123"'],
    ['a = = b', 'syntax error near token "="'],
  ])('%s → %s', (line, message) => {
    expect(parseConf(`ssl = on\n${line}\n`).errors).toEqual([{ id: 'conf.unparseable', line: 2, message }]);
  });

  it.each([
    ["include 'extra.conf'", 'include', 'extra.conf'],
    ["include_if_exists = 'maybe.conf'", 'include_if_exists', 'maybe.conf'],
    ["INCLUDE_DIR 'conf.d'  # Debian", 'include_dir', 'conf.d'],
    ['include_dir confd', 'include_dir', 'confd'],
  ] as const)('%s is an include', (line, directive, path) => {
    const file = parseConf(`${line}\n`);
    expect(file.includes).toEqual([{ line: 1, directive, path }]);
    expect(file.params).toEqual([]);
  });

  it('an unquoted `conf.d` is a qualified name, not a value: a syntax error, as in PostgreSQL', () => {
    expect(parseConf('include_dir conf.d\n').errors).toEqual([
      { id: 'conf.unparseable', line: 1, message: 'syntax error near token "conf.d"' },
    ]);
  });

  it("initdb's postgresql.conf: 13 active settings among 800 lines of comments", () => {
    const file = parseConf(fixture('initdb-postgresql.conf'));
    expect(file.errors).toEqual([]);
    expect(file.params.map((p) => [p.line, p.key])).toEqual([
      [65, 'max_connections'],
      [127, 'shared_buffers'],
      [150, 'dynamic_shared_memory_type'],
      [241, 'max_wal_size'],
      [242, 'min_wal_size'],
      [597, 'log_timezone'],
      [711, 'datestyle'],
      [713, 'timezone'],
      [727, 'lc_messages'],
      [729, 'lc_monetary'],
      [730, 'lc_numeric'],
      [731, 'lc_time'],
      [734, 'default_text_search_config'],
    ]);
  });
});

describe('effective', () => {
  const file = parseConf("ssl = off\n#ssl = on\nSSL = 'on'\nport = 5432\n");
  it.each([
    ['ssl', 3],
    ['SSL', 3],
    ['port', 4],
    ['ssl_cert_file', undefined],
  ])('%s → line %s', (name, line) => {
    expect(effective(file, name)?.line).toBe(line);
  });
});

describe('serializeConf: byte-for-byte round trip', () => {
  it.each(Object.entries(variants(fixture('initdb-postgresql.conf'))))(
    'initdb postgresql.conf (%s)',
    (_name, text) => {
      expect(serializeConf(parseConf(text))).toBe(text);
    },
  );

  it('holds for 1000 generated files', () => {
    const fragments = [
      'ssl',
      ' ',
      '=',
      "'",
      "''",
      '\\',
      '#',
      '\n',
      '\r\n',
      '\r',
      '\t',
      'on',
      '5',
      '.',
      'MB',
      'a.b',
      '/',
      'include',
    ];
    const random = prng(7);
    for (let i = 0; i < 1000; i += 1) {
      const text = randomConfigText(random, fragments);
      expect(serializeConf(parseConf(text)), `sample ${i}: ${JSON.stringify(text)}`).toBe(text);
    }
  });
});

describe('formatConfValue', () => {
  it.each<[string | number | boolean, string]>([
    [true, 'on'],
    [false, 'off'],
    [5432, '5432'],
    [0.5, '0.5'],
    ['TLSv1.2', "'TLSv1.2'"],
    ["it's", "'it''s'"],
    ['C:\\path', "'C:\\\\path'"],
    ['two\nlines', "'two\\nlines'"],
    ['', "''"],
  ])('%j → %s', (value, written) => {
    expect(formatConfValue(value)).toBe(written);
    if (typeof value === 'string') expect(onlyParam(`x = ${written}`).value).toBe(value);
  });

  it('refuses NaN', () => {
    expect(() => formatConfValue(Number.NaN)).toThrow(RangeError);
  });
});

describe('setParam', () => {
  it.each<[string, string, string, string | number | boolean, string]>([
    ['in place, keeping the comment', 'ssl = off\t\t# was off\n', 'ssl', true, 'ssl = on\t\t# was off\n'],
    ['without an equals sign', 'ssl off\n', 'ssl', true, 'ssl on\n'],
    ['case-insensitively', 'SSL=off\n', 'ssl', true, 'SSL=on\n'],
    [
      'a quoted string',
      "ssl_min_protocol_version = 'TLSv1'   # x\n",
      'ssl_min_protocol_version',
      'TLSv1.2',
      "ssl_min_protocol_version = 'TLSv1.2'   # x\n",
    ],
    ['only the last occurrence', 'ssl = off\nssl = off\n', 'ssl', true, 'ssl = off\nssl = on\n'],
    [
      'appended when absent',
      'port = 5432\n',
      'ssl_cert_file',
      'server.crt',
      "port = 5432\nssl_cert_file = 'server.crt'\n",
    ],
    ['appended after a line without newline', 'port = 5432', 'ssl', 'on', "port = 5432\nssl = 'on'\n"],
    ['commented-out lines are not settings', '#ssl = off\n', 'ssl', true, '#ssl = off\nssl = on\n'],
    ['CRLF stays CRLF', 'port = 5432\r\n', 'ssl_ciphers', 'x', "port = 5432\r\nssl_ciphers = 'x'\r\n"],
    [
      'quotes and backslashes',
      "ssl_ciphers = 'a'\n",
      'ssl_ciphers',
      "HIGH:it's\\",
      "ssl_ciphers = 'HIGH:it''s\\\\'\n",
    ],
    ['numbers', 'max_connections = 100 # cap\n', 'max_connections', 200, 'max_connections = 200 # cap\n'],
    [
      'a qualified name',
      'pg_stat_statements.max = 1000\n',
      'pg_stat_statements.max',
      5000,
      'pg_stat_statements.max = 5000\n',
    ],
  ])('%s', (_name, before, name, value, after) => {
    const file = setParam(parseConf(before), name, value);
    expect(serializeConf(file)).toBe(after);
    expect(file.errors).toEqual([]);
    expect(effective(file, name)?.value).toBe(
      typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value),
    );
  });

  it('returns the same file when the value is already set, quoted or not', () => {
    for (const text of ['ssl = on\n', "ssl = 'on'\n"]) {
      const file = parseConf(text);
      expect(setParam(file, 'ssl', true)).toBe(file);
    }
    const tls = parseConf("ssl_min_protocol_version = 'TLSv1.2'\n");
    expect(setParam(tls, 'ssl_min_protocol_version', 'TLSv1.2')).toBe(tls);
  });

  it.each(['', 'two words', 'x=1', '1abc', 'a.b.c', '#x'])('refuses the name %j', (name) => {
    expect(() => setParam(parseConf(''), name, 1)).toThrow(RangeError);
  });
});

describe('commentOutParam', () => {
  it('comments out every active occurrence and says why', () => {
    const file = commentOutParam(
      parseConf('ssl = off\nport = 5432\nSSL = on # x\n'),
      'ssl',
      'managed by ALTER SYSTEM',
    );
    expect(serializeConf(file)).toBe(
      '#ssl = off  # pgharden: managed by ALTER SYSTEM\nport = 5432\n#SSL = on # x  # pgharden: managed by ALTER SYSTEM\n',
    );
    expect(effective(file, 'ssl')).toBeUndefined();
  });

  it('without a reason, just the #', () => {
    expect(serializeConf(commentOutParam(parseConf('ssl = off\r\n'), 'ssl'))).toBe('#ssl = off\r\n');
  });
});
