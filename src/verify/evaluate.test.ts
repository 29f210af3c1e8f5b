import { describe, expect, it } from 'vitest';
import type { HbaRuleRow } from '../core/facts.js';
import {
  certExpiryRow,
  hbaRows,
  md5RolesRow,
  parseConninfo,
  replicationTlsRow,
  ruleReachesNetwork,
  settingRows,
  tlsAtLeast,
  walReceiverRow,
  type ReplicationSslRow,
} from './evaluate.js';

function rule(
  line: number,
  type: string,
  address: string | null,
  netmask: string | null,
  method: string,
  error: string | null = null,
): HbaRuleRow {
  return {
    line_number: line,
    type,
    database: ['all'],
    user_name: ['all'],
    address,
    netmask,
    auth_method: method,
    options: null,
    error,
  };
}

const byCheck = (rows: { check: string; ok: boolean; value: string }[]) =>
  Object.fromEntries(rows.map((r) => [r.check, r]));

describe('hba rows', () => {
  const network = ['10.0.0.0/24'];

  it('Given the lab defaults (host md5 for the network), tls-only and weak-methods fail, naming the lines', () => {
    const rows = byCheck(
      hbaRows(
        'pg1',
        [rule(1, 'local', null, null, 'peer'), rule(84, 'host', '10.0.0.0', '255.255.255.0', 'md5')],
        network,
      ),
    );
    expect(rows['hba.no-errors']?.ok).toBe(true);
    expect(rows['hba.tls-only']?.ok).toBe(false);
    expect(rows['hba.tls-only']?.value).toContain('line 84: host');
    expect(rows['hba.no-weak-methods']?.ok).toBe(false);
    expect(rows['hba.no-weak-methods']?.value).toContain('md5');
  });

  it('Given hostssl scram plus hostnossl reject, every hba row passes', () => {
    const rows = hbaRows(
      'pg1',
      [
        rule(1, 'local', null, null, 'trust'),
        rule(2, 'hostnossl', '0.0.0.0', '0.0.0.0', 'reject'),
        rule(3, 'hostssl', '10.0.0.0', '255.255.255.0', 'scram-sha-256'),
        rule(4, 'hostssl', '10.0.0.0', '255.255.255.0', 'cert'),
      ],
      network,
    );
    expect(rows.every((r) => r.ok)).toBe(true);
  });

  it('hostssl trust is weak; host rules for another network are ignored; errors are reported', () => {
    const rows = byCheck(
      hbaRows(
        'pg1',
        [
          rule(5, 'hostssl', '10.0.0.5', '255.255.255.255', 'trust'),
          rule(6, 'host', '192.168.1.0', '255.255.255.0', 'md5'),
          rule(7, 'host', null, null, 'md5', 'invalid authentication method "md6"'),
        ],
        network,
      ),
    );
    expect(rows['hba.no-weak-methods']?.ok).toBe(false);
    expect(rows['hba.no-weak-methods']?.value).toContain('line 5');
    expect(rows['hba.tls-only']?.ok).toBe(true);
    expect(rows['hba.no-errors']?.ok).toBe(false);
    expect(rows['hba.no-errors']?.value).toContain('md6');
  });

  it.each([
    ['all', null, true],
    ['samenet', null, true],
    ['db.example', null, true],
    ['0.0.0.0', '0.0.0.0', true],
    ['10.0.0.7', '255.255.255.255', true],
    ['10.0.0.0/16', null, true],
    ['192.168.0.0', '255.255.0.0', false],
    ['::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false],
  ])('address %s/%s reaches 10.0.0.0/24: %s', (address, netmask, want) => {
    expect(ruleReachesNetwork(rule(1, 'host', address, netmask, 'md5'), network)).toBe(want);
  });
});

describe('replication rows', () => {
  const r = (name: string, ssl: boolean, version: string | null = 'TLSv1.3'): ReplicationSslRow => ({
    application_name: name,
    client_addr: '10.0.0.12',
    ssl,
    version: ssl ? version : null,
    cipher: ssl ? 'TLS_AES_256_GCM_SHA384' : null,
    bits: ssl ? 256 : null,
  });

  it('passes when every expected standby streams over TLS ≥ min, listing version, cipher and bits', () => {
    const row = replicationTlsRow('pg1', [r('pg2', true), r('pg3', true)], 2, 'TLSv1.2');
    expect(row).toMatchObject({ check: 'replication.tls', ok: true });
    expect(row.value).toContain('pg2 ssl TLSv1.3 TLS_AES_256_GCM_SHA384 256 bits');
  });

  it.each([
    ['a plain standby', [r('pg2', true), r('pg3', false)], 2, 'TLSv1.2', 'pg3 ssl=f'],
    ['a missing standby', [r('pg2', true)], 2, 'TLSv1.2', '1 of 2 standbys not streaming'],
    ['TLS below the minimum', [r('pg2', true, 'TLSv1.2')], 1, 'TLSv1.3', 'TLSv1.2'],
  ])('fails for %s', (_what, rows, expected, min, text) => {
    const row = replicationTlsRow('pg1', rows, expected, min);
    expect(row.ok).toBe(false);
    expect(row.value).toContain(text);
  });

  it.each([
    [
      'user=replicator password=******** host=10.0.0.11 sslmode=verify-full sslrootcert=/x/root.crt',
      'verify-full',
      true,
    ],
    ['host=10.0.0.11 sslmode=prefer sslcompression=0', 'prefer', false],
    ["host='a b' sslmode = 'verify-ca'", 'verify-ca', false],
    ["application_name='it\\'s' sslmode=verify-full", 'verify-full', true],
  ])('wal receiver conninfo %s → sslmode=%s', (conninfo, mode, ok) => {
    expect(walReceiverRow('pg2', conninfo)).toMatchObject({ ok, value: `sslmode=${mode}` });
  });

  it('no receiver fails; conninfo parsing unescapes quoted values', () => {
    expect(walReceiverRow('pg2', null).ok).toBe(false);
    expect(parseConninfo("a='it\\'s here' b=2").get('a')).toBe("it's here");
  });
});

describe('settings, roles and expiry rows', () => {
  it('ssl on, TLS min, scram: pass; an empty min version or md5 fails', () => {
    const good = settingRows(
      'n',
      { ssl: 'on', minProtocol: 'TLSv1.3', passwordEncryption: 'scram-sha-256' },
      'TLSv1.2',
    );
    expect(good.every((r) => r.ok)).toBe(true);
    const bad = byCheck(
      settingRows('n', { ssl: 'off', minProtocol: '', passwordEncryption: 'md5' }, 'TLSv1.2'),
    );
    expect(bad['ssl.on']?.ok).toBe(false);
    expect(bad['tls.min-version']?.ok).toBe(false);
    expect(bad['auth.password-encryption']?.ok).toBe(false);
    expect(tlsAtLeast('TLSv1.2', 'TLSv1.3')).toBe(false);
  });

  it('md5 roles are named, never their hashes', () => {
    expect(md5RolesRow('n', ['app'])).toMatchObject({ ok: false, value: 'md5 hashes: app' });
    expect(md5RolesRow('n', []).ok).toBe(true);
  });

  it.each([
    [365, true, false],
    [20, true, true],
    [6, false, true],
  ])('%i days left → ok %s, warning %s', (days, ok, warn) => {
    const row = certExpiryRow('n', days, '/d/server.crt');
    expect(row.ok).toBe(ok);
    expect(row.value.includes('warning')).toBe(warn);
  });
});
