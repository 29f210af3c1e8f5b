import { describe, expect, it } from 'vitest';
import {
  parsePgpoolConf,
  pgpoolBackends,
  pgpoolSetting,
  poolPasswdUsers,
  setPgpoolSettings,
  setPoolHbaBlock,
} from './pgpool-conf.js';
import { fixture } from './test-support.js';

const CONF = [
  '# pgpool.conf, as the operator left it\r',
  "listen_addresses = '*'   # where clients connect\r",
  'port = 9999\r',
  '#ssl = off               # commented out: stays a comment\r',
  'ssl = off # TLS for clients\r',
  "health_check_user = 'pgpool'\r",
  "health_check_password = 'secret'  # clear text!\r",
  "backend_hostname0 = 'db1'\r",
  'backend_port0 = 5433\r',
  "backend_hostname1 = 'db2'",
].join('\n');

describe('pgpool.conf editor', () => {
  it('changes values in place and keeps every other byte (CRLF, comments, no final newline)', () => {
    const out = setPgpoolSettings(CONF, { ssl: true, health_check_password: '' });
    expect(out).toBe(
      CONF.replace('ssl = off # TLS for clients', 'ssl = on # TLS for clients').replace(
        "health_check_password = 'secret'  # clear text!",
        "health_check_password = ''  # clear text!",
      ),
    );
  });

  it('appends a setting the file does not have, with the file line ending', () => {
    const out = setPgpoolSettings(CONF, { ssl_cert: "/etc/pg pool/it's.crt" });
    expect(out).toBe(`${CONF}\r\nssl_cert = '/etc/pg pool/it''s.crt'\r\n`);
    expect(pgpoolSetting(parsePgpoolConf(out).file, 'ssl_cert')).toBe("/etc/pg pool/it's.crt");
  });

  it('is a no-op (same bytes) when everything is set already', () => {
    const once = setPgpoolSettings(CONF, { ssl: true, enable_pool_hba: true });
    expect(setPgpoolSettings(once, { ssl: true, enable_pool_hba: true })).toBe(once);
  });

  it('reads the backends (port defaults to 5432)', () => {
    expect(pgpoolBackends(parsePgpoolConf(CONF).file)).toEqual([
      { index: 0, host: 'db1', port: 5433 },
      { index: 1, host: 'db2', port: 5432 },
    ]);
  });

  it('reports unparseable lines and include directives (pgpool has none)', () => {
    const { problems } = parsePgpoolConf("port = 9999\nssl = on off\ninclude 'x.conf'\n");
    expect(problems.map((p) => p.line)).toEqual([2, 3]);
  });
});

describe('pool_hba.conf editor', () => {
  const HBA = [
    '# pool_hba.conf',
    '# TYPE  DATABASE  USER  ADDRESS  METHOD',
    'local   all       all            trust',
    'host    all       all   127.0.0.0/8  md5   # clients',
    '',
  ].join('\n');

  it('puts a managed block above the first rule and keeps the rest byte for byte', () => {
    const out = setPoolHbaBlock(HBA, ['10.0.0.0/24']);
    expect(out).toBe(
      [
        '# BEGIN pgharden (managed block: edits inside are overwritten)',
        'hostssl   all  all  10.0.0.0/24  scram-sha-256',
        'hostnossl all  all  0.0.0.0/0  reject',
        'hostnossl all  all  ::/0  reject',
        '# END pgharden',
        HBA,
      ].join('\n'),
    );
    expect(setPoolHbaBlock(out, ['10.0.0.0/24'])).toBe(out);
  });
});

describe('pool_passwd users', () => {
  it('names users and their entry kinds, never the secrets', () => {
    expect(poolPasswdUsers('app:md5abc\npgpool:AESxyz\n# c\nbob:plain\nsc:SCRAM-SHA-256$x\n')).toEqual([
      { user: 'app', kind: 'md5' },
      { user: 'pgpool', kind: 'aes' },
      { user: 'bob', kind: 'text' },
      { user: 'sc', kind: 'scram' },
    ]);
  });
});

describe('Debian pgpool2 4.3 files (fixtures: the package examples)', () => {
  it('parse without a problem and take the pgharden settings with only those lines changed', () => {
    const text = fixture('debian-pgpool.conf');
    expect(parsePgpoolConf(text).problems).toEqual([]);
    const out = setPgpoolSettings(text, { ssl: true, enable_pool_hba: true, ssl_cert: '/t/server.crt' });
    const before = text.split('\n');
    const after = out.split('\n');
    const changed = after.filter((l, i) => l !== before[i]);
    expect(changed).toEqual(['ssl = on', 'enable_pool_hba = on', "ssl_cert = '/t/server.crt'", '']);
  });

  it('pool_hba.conf sample: managed block added, the rest unchanged', () => {
    const text = fixture('debian-pool_hba.conf');
    const out = setPoolHbaBlock(text, ['10.0.0.0/8']);
    expect(out.length).toBeGreaterThan(text.length);
    expect(out.replace(/# BEGIN pgharden[\s\S]*# END pgharden\n/, '')).toBe(text);
  });
});
