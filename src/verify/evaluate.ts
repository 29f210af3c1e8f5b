// Pure evaluation of the verification queries (SPEC §8): query rows in, `verify:row`s out. No I/O,
// so every rule is table-tested.
import type { HbaRuleRow } from '../core/facts.js';
import { maskToPrefix, parseIp, parseRange, rangeContainsRange, type IpRange } from '../pgconf/ip.js';

export interface VerifyRow {
  node: string;
  check: string;
  ok: boolean;
  value: string;
}

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
const TLS_ORDER = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** True when `got` (e.g. `TLSv1.3`, as PostgreSQL and Node name them) is at least `min`. */
export function tlsAtLeast(got: string | null | undefined, min: string): boolean {
  const g = TLS_ORDER.indexOf(got ?? '');
  return g >= 0 && g >= TLS_ORDER.indexOf(min);
}

export interface SettingsResult {
  ssl: string | undefined;
  minProtocol: string | undefined;
  passwordEncryption: string | undefined;
}

export function settingRows(node: string, s: SettingsResult, minVersion: string): VerifyRow[] {
  const min = s.minProtocol ?? '';
  return [
    { node, check: 'ssl.on', ok: s.ssl === 'on', value: `ssl = ${s.ssl ?? '?'}` },
    {
      node,
      check: 'tls.min-version',
      // An empty ssl_min_protocol_version means "any", i.e. below every minimum.
      ok: tlsAtLeast(min, minVersion),
      value: `ssl_min_protocol_version = ${min === '' ? "''" : min} (want ≥ ${minVersion})`,
    },
    {
      node,
      check: 'auth.password-encryption',
      ok: s.passwordEncryption === 'scram-sha-256',
      value: `password_encryption = ${s.passwordEncryption ?? '?'}`,
    },
  ];
}

export function md5RolesRow(node: string, roles: string[]): VerifyRow {
  return {
    node,
    check: 'roles.no-md5',
    ok: roles.length === 0,
    value: roles.length === 0 ? 'no md5 password hashes' : `md5 hashes: ${roles.join(', ')}`,
  };
}

export interface ReplicationSslRow {
  application_name: string;
  client_addr: string | null;
  ssl: boolean | null;
  version: string | null;
  cipher: string | null;
  bits: number | null;
}

/** Primary only: every connected standby streams over TLS ≥ min, and every inventory standby is there. */
export function replicationTlsRow(
  node: string,
  rows: ReplicationSslRow[],
  expectedStandbys: number,
  minVersion: string,
): VerifyRow {
  const parts = rows.map((r) =>
    r.ssl === true
      ? `${r.application_name} ssl ${r.version ?? '?'} ${r.cipher ?? '?'} ${r.bits ?? '?'} bits`
      : `${r.application_name} ssl=f`,
  );
  const bad = rows.filter((r) => r.ssl !== true || !tlsAtLeast(r.version, minVersion));
  const missing = expectedStandbys - rows.length;
  if (missing > 0) parts.push(`${missing} of ${expectedStandbys} standbys not streaming`);
  return {
    node,
    check: 'replication.tls',
    ok: bad.length === 0 && missing <= 0,
    value: parts.length === 0 ? 'no standbys' : parts.join('; '),
  };
}

/** libpq keyword=value conninfo → map (single quotes and backslash escapes as libpq reads them). */
export function parseConninfo(conninfo: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(conninfo)) !== null) {
    if (m[0] === '') break;
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    out.set((m[1] ?? '').toLowerCase(), value);
  }
  return out;
}

/** Standby only: the WAL receiver's effective conninfo says sslmode=verify-full. */
export function walReceiverRow(node: string, conninfo: string | null | undefined): VerifyRow {
  if (conninfo === null || conninfo === undefined || conninfo === '')
    return { node, check: 'replication.verify-full', ok: false, value: 'no WAL receiver running' };
  // pg_stat_wal_receiver shows every libpq default too, so sslmode is always there.
  const sslmode = parseConninfo(conninfo).get('sslmode') ?? 'prefer';
  return {
    node,
    check: 'replication.verify-full',
    ok: sslmode === 'verify-full',
    value: `sslmode=${sslmode}`,
  };
}

// ---- pg_hba_file_rules ----

const TCP_TYPES = new Set(['host', 'hostssl', 'hostnossl', 'hostgssenc', 'hostnogssenc']);
/** Types that accept a connection without TLS. */
const PLAIN_TYPES = new Set(['host', 'hostnossl', 'hostgssenc', 'hostnogssenc']);
const WEAK_METHODS = new Set(['trust', 'md5', 'password']);

function ruleRange(r: HbaRuleRow): IpRange | undefined {
  if (r.address === null) return undefined;
  if (r.netmask === null) return parseRange(r.address);
  const ip = parseIp(r.address);
  const mask = parseIp(r.netmask);
  const prefix = mask === undefined ? undefined : maskToPrefix(mask);
  return ip === undefined || prefix === undefined ? undefined : { ...ip, prefix };
}

/**
 * Can this TCP rule match a client from the inventory network? Keywords (`all`, `samehost`,
 * `samenet`) and host names are taken as yes: we cannot prove they don't.
 */
export function ruleReachesNetwork(r: HbaRuleRow, network: string[]): boolean {
  const range = ruleRange(r);
  if (range === undefined) return true;
  return network.some((cidr) => {
    const n = parseRange(cidr);
    if (n === undefined || n.family !== range.family) return false;
    return rangeContainsRange(n, range) || rangeContainsRange(range, n);
  });
}

function describe(r: HbaRuleRow): string {
  const addr = r.address === null ? '' : ` ${r.address}${r.netmask === null ? '' : `/${r.netmask}`}`;
  return `line ${r.line_number}: ${r.type} ${(r.database ?? []).join(',')} ${(r.user_name ?? []).join(',')}${addr} ${r.auth_method ?? ''}`.trim();
}

function listRow(node: string, check: string, bad: HbaRuleRow[], okText: string): VerifyRow {
  return {
    node,
    check,
    ok: bad.length === 0,
    value: bad.length === 0 ? okText : bad.map(describe).join('; '),
  };
}

export function hbaRows(node: string, rules: HbaRuleRow[], network: string[]): VerifyRow[] {
  const errors = rules.filter((r) => r.error !== null);
  const tcp = rules.filter(
    (r) =>
      r.error === null &&
      TCP_TYPES.has(r.type) &&
      r.auth_method !== 'reject' &&
      ruleReachesNetwork(r, network),
  );
  return [
    {
      node,
      check: 'hba.no-errors',
      ok: errors.length === 0,
      value:
        errors.length === 0
          ? 'pg_hba_file_rules has no errors'
          : errors.map((r) => `line ${r.line_number}: ${r.error ?? ''}`).join('; '),
    },
    listRow(
      node,
      'hba.tls-only',
      tcp.filter((r) => PLAIN_TYPES.has(r.type)),
      'no non-TLS rule accepts the network',
    ),
    listRow(
      node,
      'hba.no-weak-methods',
      tcp.filter((r) => WEAK_METHODS.has(r.auth_method ?? '')),
      'no trust/md5/password rule for the network',
    ),
  ];
}

/** Server certificate lifetime: < 7 days fails; < 30 days passes with a warning in the value. */
export function certExpiryRow(node: string, daysLeft: number | undefined, source: string): VerifyRow {
  if (daysLeft === undefined)
    return { node, check: 'tls.cert-expiry', ok: false, value: `no server certificate (${source})` };
  const warn = daysLeft < 30 ? ' — warning: renew soon (< 30 days)' : '';
  return {
    node,
    check: 'tls.cert-expiry',
    ok: daysLeft >= 7,
    value: `${daysLeft} days left (${source})${warn}`,
  };
}
