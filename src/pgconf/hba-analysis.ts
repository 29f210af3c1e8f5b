// Rule-order analysis (SPEC §7.1): which rule a connection meets first, which rules can never apply,
// which rules are weak, and whether pgharden's own socket connection survives a change.
import { formatRule } from './hba.js';
import { CHANNELS, matchRule, rangeOf, ruleCovers } from './hba-match.js';
import type { ConnectionAttempt, Tri } from './hba-match.js';
import type { HbaMethod, HbaRule } from './hba-types.js';
import { identMapAllows } from './ident.js';
import type { IdentFile } from './ident.js';
import { isLoopback, parseRange, rangeContainsRange } from './ip.js';
import type { IpFamily, IpRange } from './ip.js';

export type { ConnectionAttempt, Tri } from './hba-match.js';

export interface MatchResult {
  /** The first rule that certainly matches; undefined: none does (implicit reject, if `certain`). */
  readonly rule: HbaRule | undefined;
  /** Earlier rules that may match instead (@file, samehost/samenet, host names, unknown groups). */
  readonly uncertain: readonly HbaRule[];
  readonly certain: boolean;
}

export function matchConnection(rules: readonly HbaRule[], conn: ConnectionAttempt): MatchResult {
  const uncertain: HbaRule[] = [];
  for (const rule of rules) {
    const m = matchRule(rule, conn);
    if (m === 'yes') return { rule, uncertain, certain: uncertain.length === 0 };
    if (m === 'maybe') uncertain.push(rule);
  }
  return { rule: undefined, uncertain, certain: uncertain.length === 0 };
}

export interface ShadowedRule {
  readonly rule: HbaRule;
  /** The first earlier rule that matches every connection `rule` matches. */
  readonly shadowedBy: HbaRule;
  readonly consequence: string;
}

const METHOD_WORDS: Partial<Record<HbaMethod, string>> = {
  trust: 'trust (no password)',
  password: 'password (sent in clear text)',
};

/** Rules that can never apply because one earlier rule alone already takes all their connections. */
export function findShadowedRules(rules: readonly HbaRule[]): ShadowedRule[] {
  const found: ShadowedRule[] = [];
  rules.forEach((rule, i) => {
    const shadowedBy = rules.slice(0, i).find((earlier) => ruleCovers(earlier, rule));
    if (shadowedBy !== undefined)
      found.push({ rule, shadowedBy, consequence: consequence(rule, shadowedBy) });
  });
  return found;
}

function consequence(rule: HbaRule, by: HbaRule): string {
  const effects: string[] = [];
  if (by.method === 'reject') {
    effects.push('these connections are refused'); // whatever TLS or method the later rule wanted
  } else {
    if (rule.type === 'hostssl' && CHANNELS[by.type].includes('plain')) effects.push('TLS is not required');
    if (by.method !== rule.method)
      effects.push(`${METHOD_WORDS[by.method] ?? by.method} is used instead of ${rule.method}`);
  }
  const tail =
    effects.length > 0
      ? `, so ${effects.join(' and ')}`
      : ' with the same method (the later rule is redundant)';
  return `${rule.type} rule on line ${rule.line} never applies: line ${by.line} \`${formatRule(by)}\` matches first${tail}`;
}

export type HbaFindingId =
  | 'hba.non-tls'
  | 'hba.md5'
  | 'hba.trust-tcp'
  | 'hba.password-cleartext'
  | 'hba.ident-tcp'
  | 'hba.local-trust'
  | 'hba.wider-than-network'
  | 'hba.no-nossl-reject';

/** A fact, not a verdict: the audit maps ids to severities. */
export interface HbaFinding {
  readonly id: HbaFindingId;
  /** Absent for facts about the whole file (`hba.no-nossl-reject`). */
  readonly rule?: HbaRule;
  readonly message: string;
}

/**
 * Weak rules, in file order. `network`: the inventory's CIDRs; rules reaching outside them are
 * flagged (loopback excepted). An empty list skips that check.
 */
export function insecureRules(rules: readonly HbaRule[], network: readonly string[]): HbaFinding[] {
  const networks = network.flatMap((n) => parseRange(n) ?? []);
  const findings: HbaFinding[] = [];
  for (const rule of rules) {
    const at = `line ${rule.line} \`${formatRule(rule)}\``;
    const add = (id: HbaFindingId, what: string): void =>
      void findings.push({ id, rule, message: `${at} ${what}` });
    const tcp = rule.type !== 'local';
    const accepting = rule.method !== 'reject';
    if (tcp && accepting && CHANNELS[rule.type].includes('plain'))
      add('hba.non-tls', 'accepts connections without TLS');
    if (tcp && rule.method === 'trust') add('hba.trust-tcp', 'lets TCP clients in without any password');
    if (tcp && rule.method === 'password')
      add('hba.password-cleartext', 'has clients send their password in clear text');
    if (tcp && rule.method === 'md5') add('hba.md5', 'uses md5 (use scram-sha-256)');
    if (tcp && rule.method === 'ident') add('hba.ident-tcp', "believes the client host's ident server");
    if (!tcp && rule.method === 'trust') add('hba.local-trust', 'lets every local OS user in as any role');
    const outside = tcp && accepting && networks.length > 0 ? outsideNetwork(rule, networks) : undefined;
    if (outside !== undefined) {
      add('hba.wider-than-network', `allows ${outside}, beyond the inventory network ${network.join(', ')}`);
    }
  }
  for (const family of [4, 6] as const) {
    const finding = missingNosslReject(rules, family);
    if (finding !== undefined) findings.push(finding);
  }
  return findings;
}

function outsideNetwork(rule: HbaRule, networks: readonly IpRange[]): string | undefined {
  const address = rule.address;
  if (address?.kind === 'keyword') return address.value === 'all' ? 'every address (`all`)' : undefined;
  if (address?.kind !== 'cidr') return undefined; // host names: cannot tell
  const range = rangeOf(address);
  if (isLoopback(range)) return undefined;
  const inside = networks.some((n) => rangeContainsRange(n, range));
  return inside ? undefined : `${address.address}/${address.prefix}`;
}

const isAll = (tokens: HbaRule['databases']): boolean =>
  tokens.some((t) => t.kind === 'keyword' && t.value === 'all');

function reachesFamily(rule: HbaRule, family: IpFamily): boolean {
  const a = rule.address;
  return a === undefined ? false : a.kind !== 'cidr' || a.family === family;
}

// The explicit `hostnossl all all 0.0.0.0/0 reject` must come before the first rule that could
// accept a non-TLS connection of that family; later, it refuses nothing that rule let in.
function missingNosslReject(rules: readonly HbaRule[], family: IpFamily): HbaFinding | undefined {
  const everywhere = family === 4 ? '0.0.0.0/0' : '::/0';
  const reject = rules.findIndex(
    (r) =>
      r.type === 'hostnossl' &&
      r.method === 'reject' &&
      isAll(r.databases) &&
      isAll(r.users) &&
      (r.address?.kind === 'keyword'
        ? r.address.value === 'all'
        : r.address?.kind === 'cidr' && r.address.family === family && r.address.prefix === 0),
  );
  const accepting = rules.findIndex(
    (r) => r.method !== 'reject' && CHANNELS[r.type].includes('plain') && reachesFamily(r, family),
  );
  if (reject !== -1 && (accepting === -1 || reject < accepting)) return undefined;
  const acceptingRule = rules[accepting];
  const where =
    acceptingRule === undefined
      ? 'anywhere (non-TLS connections are refused only implicitly)'
      : `before line ${acceptingRule.line}, the first rule that accepts non-TLS connections`;
  return { id: 'hba.no-nossl-reject', message: `no \`hostnossl all all ${everywhere} reject\` ${where}` };
}

/** How pgharden itself connects: the local socket, as `user`, from OS account `osUser`. */
export interface OperatorConnection {
  readonly osUser: string;
  readonly user: string;
  /** Default `postgres`. */
  readonly database?: string;
  readonly userGroups?: readonly string[];
  /** pg_ident.conf, to follow `map=` on peer/ident rules; absent: mapped rules answer "unknown". */
  readonly ident?: IdentFile;
}

export interface OperatorAccess {
  readonly outcome: 'allowed' | 'refused' | 'unknown';
  /** The rule that decides (the first certain match). */
  readonly rule?: HbaRule;
  readonly reason: string;
}

export function operatorAccess(rules: readonly HbaRule[], op: OperatorConnection): OperatorAccess {
  const database = op.database ?? 'postgres';
  const conn: ConnectionAttempt = { type: 'local', ssl: false, database, user: op.user, ...groups(op) };
  const match = matchConnection(rules, conn);
  const who = `local connection as ${op.user} (OS user ${op.osUser}) to ${database}`;
  const candidates = [...match.uncertain, ...(match.rule === undefined ? [] : [match.rule])];
  const verdicts: { rule?: HbaRule; verdict: Tri; why: string }[] = candidates.map((rule) => ({
    rule,
    ...methodVerdict(rule, op),
  }));
  if (match.rule === undefined) verdicts.push({ verdict: 'no', why: 'no rule matches it (implicit reject)' });
  const reasons = verdicts.map((v) => (v.rule === undefined ? v.why : `line ${v.rule.line} ${v.why}`));
  const outcome = verdicts.every((v) => v.verdict === 'yes')
    ? 'allowed'
    : verdicts.every((v) => v.verdict === 'no')
      ? 'refused'
      : 'unknown';
  const reason = `${who}: ${reasons.join('; or ')}`;
  return match.rule === undefined ? { outcome, reason } : { outcome, rule: match.rule, reason };
}

const groups = (op: OperatorConnection): { userGroups?: readonly string[] } =>
  op.userGroups === undefined ? {} : { userGroups: op.userGroups };

function methodVerdict(rule: HbaRule, op: OperatorConnection): { verdict: Tri; why: string } {
  switch (rule.method) {
    case 'trust':
      return { verdict: 'yes', why: 'trusts it' };
    case 'reject':
      return { verdict: 'no', why: 'rejects it' };
    case 'peer':
    case 'ident': {
      // On a local socket `ident` is peer (hba.c).
      const map = rule.options['map'];
      if (map === undefined) {
        return op.osUser === op.user
          ? { verdict: 'yes', why: 'allows it by peer' }
          : { verdict: 'no', why: `uses peer, and OS user ${op.osUser} is not ${op.user}` };
      }
      if (op.ident === undefined)
        return { verdict: 'maybe', why: `uses peer map=${map} (pg_ident.conf unknown)` };
      const verdict = identMapAllows(op.ident, map, op.osUser, op.user, op.userGroups);
      const word = verdict === 'yes' ? 'allows' : verdict === 'no' ? 'does not map' : 'may map';
      return { verdict, why: `uses peer map=${map}, which ${word} ${op.osUser} to ${op.user}` };
    }
    case 'scram-sha-256':
    case 'md5':
    case 'password':
    case 'ldap':
    case 'pam':
    case 'radius':
    case 'bsd':
    case 'gss':
    case 'sspi':
    case 'cert':
    case 'oauth':
      return {
        verdict: 'no',
        why: `asks for ${rule.method}, a credential pgharden does not use on the socket`,
      };
  }
}

/** True unless pgharden's own socket connection is certainly still accepted by `rulesAfter`. */
export function wouldLockOut(rulesAfter: readonly HbaRule[], operator: OperatorConnection): boolean {
  return operatorAccess(rulesAfter, operator).outcome !== 'allowed';
}
