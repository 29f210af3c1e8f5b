// Three-valued matching of one connection against one rule (hba.c check_hba, check_db, check_role),
// and "rule E matches every connection rule R matches" for shadowing. "maybe" is what we answer when
// the file alone cannot tell: @file lists, samehost/samenet, host names, unknown group membership.
import type { HbaAddress, HbaConnectionType, HbaRule, HbaToken } from './hba-types.js';
import { parseIp, parseRange, rangeContainsAddress, rangeContainsRange } from './ip.js';
import type { IpRange } from './ip.js';

export type Tri = 'yes' | 'no' | 'maybe';

export const allOf = (values: readonly Tri[]): Tri =>
  values.includes('no') ? 'no' : values.includes('maybe') ? 'maybe' : 'yes';
export const anyOf = (values: readonly Tri[]): Tri =>
  values.includes('yes') ? 'yes' : values.includes('maybe') ? 'maybe' : 'no';

/** What a TCP connection is encrypted with; GSS encryption is "not SSL" to hostnossl. */
export type Channel = 'plain' | 'ssl' | 'gss';
export const CHANNELS: Readonly<Record<HbaConnectionType, readonly Channel[]>> = {
  local: [],
  host: ['plain', 'ssl', 'gss'],
  hostssl: ['ssl'],
  hostnossl: ['plain', 'gss'],
  hostgssenc: ['gss'],
  hostnogssenc: ['plain', 'ssl'],
};

export interface ConnectionAttempt {
  readonly type: 'local' | 'host';
  readonly ssl: boolean;
  readonly gssenc?: boolean;
  readonly database: string;
  readonly user: string;
  /** Client IP for `host` connections; absent: address checks answer "maybe". */
  readonly address?: string;
  /** A physical replication connection (walsender without a database). */
  readonly replication?: boolean;
  /** Roles the user is a member of; absent: membership checks answer "maybe". */
  readonly userGroups?: readonly string[];
}

export function matchRule(rule: HbaRule, conn: ConnectionAttempt): Tri {
  return allOf([
    matchType(rule.type, conn),
    matchAddress(rule.address, conn),
    anyOf(rule.databases.map((t) => matchDatabaseToken(t, conn))),
    anyOf(rule.users.map((t) => matchUserToken(t, conn))),
  ]);
}

function matchType(type: HbaConnectionType, conn: ConnectionAttempt): Tri {
  if (conn.type === 'local' || type === 'local') return conn.type === type ? 'yes' : 'no';
  const channel: Channel = conn.ssl ? 'ssl' : conn.gssenc === true ? 'gss' : 'plain';
  return CHANNELS[type].includes(channel) ? 'yes' : 'no';
}

function matchAddress(address: HbaAddress | undefined, conn: ConnectionAttempt): Tri {
  if (address === undefined || conn.type === 'local') return 'yes';
  if (address.kind === 'keyword') return address.value === 'all' ? 'yes' : 'maybe';
  if (address.kind === 'hostname') return 'maybe';
  const client = conn.address === undefined ? undefined : parseIp(conn.address);
  if (client === undefined) return 'maybe';
  return rangeContainsAddress(rangeOf(address), client) ? 'yes' : 'no';
}

function matchDatabaseToken(token: HbaToken, conn: ConnectionAttempt): Tri {
  if (token.kind === 'file') return 'maybe';
  // Physical replication connections match only the `replication` keyword, and it matches nothing else.
  const replicationKeyword = token.kind === 'keyword' && token.value === 'replication';
  if (conn.replication === true || replicationKeyword)
    return conn.replication === true && replicationKeyword ? 'yes' : 'no';
  switch (token.kind) {
    case 'keyword':
      if (token.value === 'all') return 'yes';
      if (token.value === 'sameuser') return conn.database === conn.user ? 'yes' : 'no';
      return isMember(conn, conn.database); // samerole, samegroup
    case 'regex':
      return regexTest(token.value, conn.database);
    case 'name':
    case 'group':
      return token.value === conn.database ? 'yes' : 'no';
  }
}

function matchUserToken(token: HbaToken, conn: ConnectionAttempt): Tri {
  switch (token.kind) {
    case 'file':
      return 'maybe';
    case 'keyword':
      return 'yes'; // `all` is the only user keyword
    case 'group':
      return isMember(conn, token.value);
    case 'regex':
      return regexTest(token.value, conn.user);
    case 'name':
      return token.value === conn.user ? 'yes' : 'no';
  }
}

// A role counts as a member of itself (is_member_of_role_nosuper); superusers get no free pass.
function isMember(conn: ConnectionAttempt, role: string): Tri {
  if (conn.user === role) return 'yes';
  if (conn.userGroups === undefined) return 'maybe';
  return conn.userGroups.includes(role) ? 'yes' : 'no';
}

/**
 * PostgreSQL 16+ runs `/pattern` as a POSIX ARE, unanchored; JavaScript's RegExp agrees on the common
 * subset. A pattern JavaScript cannot compile answers "maybe".
 */
export function regexTest(pattern: string, value: string): Tri {
  try {
    return new RegExp(pattern).test(value) ? 'yes' : 'no';
  } catch {
    return 'maybe';
  }
}

export function rangeOf(address: Extract<HbaAddress, { kind: 'cidr' }>): IpRange {
  const range = parseRange(`${address.address}/${address.prefix}`);
  // The parser only builds cidr addresses it could read, so this cannot happen.
  if (range === undefined) throw new RangeError(`unreadable address ${address.address}/${address.prefix}`);
  return range;
}

/** True when `earlier` certainly matches every connection `later` can match. */
export function ruleCovers(earlier: HbaRule, later: HbaRule): boolean {
  const typeCovered =
    later.type === 'local'
      ? earlier.type === 'local'
      : earlier.type !== 'local' && CHANNELS[later.type].every((c) => CHANNELS[earlier.type].includes(c));
  return (
    typeCovered &&
    addressCovers(earlier.address, later.address) &&
    later.databases.every((r) => earlier.databases.some((e) => databaseTokenCovers(e, r))) &&
    later.users.every((r) => earlier.users.some((e) => userTokenCovers(e, r)))
  );
}

function addressCovers(e: HbaAddress | undefined, r: HbaAddress | undefined): boolean {
  if (e === undefined || r === undefined) return e === r;
  if (e.kind === 'keyword' && e.value === 'all') return true;
  if (e.kind === 'cidr' && r.kind === 'cidr') return rangeContainsRange(rangeOf(e), rangeOf(r));
  if (e.kind === 'keyword' && r.kind === 'keyword')
    return e.value === r.value || (e.value === 'samenet' && r.value === 'samehost');
  if (e.kind === 'hostname' && r.kind === 'hostname') return e.value.toLowerCase() === r.value.toLowerCase();
  return false;
}

const sameToken = (e: HbaToken, r: HbaToken): boolean => e.kind === r.kind && e.value === r.value;
const isRoleKeyword = (t: HbaToken): boolean =>
  t.kind === 'keyword' && (t.value === 'samerole' || t.value === 'samegroup');

function databaseTokenCovers(e: HbaToken, r: HbaToken): boolean {
  if (r.kind === 'keyword' && r.value === 'replication') return sameToken(e, r);
  if (r.kind === 'file') return sameToken(e, r); // the file may list `replication`, which `all` misses
  if (e.kind === 'keyword' && e.value === 'all') return true;
  if (isRoleKeyword(e)) return isRoleKeyword(r);
  if (e.kind === 'regex')
    return sameToken(e, r) || (r.kind === 'name' && regexTest(e.value, r.value) === 'yes');
  return sameToken(e, r);
}

function userTokenCovers(e: HbaToken, r: HbaToken): boolean {
  if (e.kind === 'keyword') return true; // `all`
  if (e.kind === 'group') return sameToken(e, r) || (r.kind === 'name' && r.value === e.value);
  if (e.kind === 'regex')
    return sameToken(e, r) || (r.kind === 'name' && regexTest(e.value, r.value) === 'yes');
  return sameToken(e, r);
}
