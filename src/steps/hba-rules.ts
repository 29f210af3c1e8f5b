// Shared by the auth steps (hba-hostssl, cert-auth, scram-migration): how to reach PostgreSQL, the
// pure pg_hba.conf transformation with its rule-order notes, and the reload (tls.reload's
// validateAndReload plus a pg_ident.conf check).
import { X509Certificate } from 'node:crypto';
import { UsageError } from '../core/errors.js';
import type { StepContext } from '../core/step.js';
import {
  convertHostToHostssl,
  findShadowedRules,
  operatorAccess,
  parseHba,
  parseIdent,
  serializeHba,
  setManagedBlock,
  wouldLockOut,
  type HbaFile,
  type HbaMethod,
  type HbaRule,
} from '../pgconf/index.js';
import { replaceInRecord, tokenizeAuthLines } from '../pgconf/auth-tokenize.js';
import { hbaFromLines } from '../pgconf/hba.js';
import type { AuthMode, HardenContext } from './context.js';

export const IDENT_MAP = 'pgharden';

// One way to reach a node's PostgreSQL and one SQL literal quoter for every step.
export { pgConn, sqlLiteral as quoteLiteral } from './tls-files.js';

/** `"name"` with embedded quotes doubled: the only safe way to put a role name in SQL. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

// check() (read-only) re-reads pg_ident.conf and plan() (pure) takes it from here: preflight's
// facts.pg.identText is stale once auth.cert-auth has added its map earlier in the same run.
const identTexts = new WeakMap<object, string>();

export async function readIdentText(ctx: StepContext<HardenContext>): Promise<string> {
  const h = ctx.facts;
  const text = (
    await ctx.session.readFile(h.facts.pg.identFile, { asUser: h.facts.osUser, signal: ctx.signal })
  ).toString('utf8');
  identTexts.set(h, text);
  return text;
}

export function identTextOf(h: HardenContext): string {
  return identTexts.get(h) ?? h.facts.pg.identText;
}

/** Common name of a client certificate: cert auth compares it with the role (or maps it). */
export function certCommonName(certPem: string): string | undefined {
  const subject = new X509Certificate(certPem).subject;
  return /^CN=(.*)$/m.exec(subject)?.[1];
}

/** A database role's auth mode: its own in the inventory (`roles[].auth`), else the run's. */
export function roleAuthOf(h: Pick<HardenContext, 'inventory' | 'auth'>, role: string): AuthMode {
  return (h.inventory.roles ?? []).find((r) => r.name === role)?.auth ?? h.auth;
}

const BARE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const KEYWORDS = new Set(['all', 'sameuser', 'samerole', 'samegroup', 'replication']);
const hbaName = (n: string): string => (BARE.test(n) && !KEYWORDS.has(n) ? n : `"${n.replace(/"/g, '""')}"`);

export interface ManagedInput {
  auth: AuthMode;
  network: readonly string[];
  /**
   * Roles with a client certificate: name, kind, the certificate's CN, and the role's own auth mode
   * when the inventory gives one (SPEC §5 `roles[].auth`; absent: `auth`).
   */
  certRoles: readonly { name: string; kind: string; cn: string | undefined; auth?: AuthMode | undefined }[];
  /**
   * Roles whose own auth is `scram` under a cluster-wide cert mode: an explicit scram rule in the
   * managed block keeps the cluster's certificate rules from applying to them.
   */
  scramRoles?: readonly { name: string; kind: string }[] | undefined;
  /** Topology rules for the managed block, after the non-TLS rejects (pg_auto_failover cert rules). */
  extraRules?: readonly string[] | undefined;
}

const dbOf = (role: { kind: string }): string => (role.kind === 'replication' ? 'replication' : 'all');

/**
 * The managed block: refuse non-TLS first, then one rule per role and network for roles that
 * certificates authenticate (cert modes, or the role's own auth) and for roles set to scram by their
 * own auth under a cert mode.
 */
export function managedRules(input: ManagedInput): string[] {
  const rules = [
    'hostnossl all all 0.0.0.0/0 reject',
    'hostnossl all all ::/0 reject',
    ...(input.extraRules ?? []),
  ];
  for (const role of input.scramRoles ?? []) {
    for (const cidr of input.network)
      rules.push(`hostssl ${dbOf(role)} ${hbaName(role.name)} ${cidr} scram-sha-256`);
  }
  for (const role of input.certRoles) {
    const auth = role.auth ?? input.auth;
    if (auth === 'scram') continue;
    const method =
      auth === 'cert'
        ? `cert${role.cn !== undefined && role.cn !== role.name ? ` map=${IDENT_MAP}` : ''}`
        : 'scram-sha-256 clientcert=verify-full';
    for (const cidr of input.network)
      rules.push(`hostssl ${dbOf(role)} ${hbaName(role.name)} ${cidr} ${method}`);
  }
  return rules;
}

// Methods whose rule becomes the chosen method; the others (ldap, gss, pam, …) keep theirs and
// only gain TLS: swapping an LDAP login for a password would lock its users out.
const UPGRADABLE: ReadonlySet<HbaMethod> = new Set(['trust', 'md5', 'password', 'scram-sha-256']);

export interface HbaTransform {
  before: string;
  after: string;
  /** Shadowing in the *before* file and what this change does about it. */
  shadowing: string[];
  notes: string[];
}

export interface TransformInput extends ManagedInput {
  operator: { osUser: string; user: string; identText: string | undefined };
}

export function transformHba(before: string, input: TransformInput): HbaTransform {
  const parsed = parseHba(before);
  if (parsed.errors.length > 0) {
    const e = parsed.errors[0];
    throw new UsageError(
      'hba.unparseable',
      `pg_hba.conf line ${e?.line}: ${e?.message}`,
      'fix the line by hand; pgharden edits only files PostgreSQL can load',
    );
  }
  // Roles that authenticate by certificate alone (the cluster's mode, or their own auth).
  const certNames = new Set(
    input.certRoles.filter((r) => (r.auth ?? input.auth) === 'cert').map((r) => r.name),
  );
  const allCert = (rule: HbaRule): boolean =>
    rule.users.length > 0 && rule.users.every((u) => u.kind === 'name' && certNames.has(u.value));
  const upgradable = (r: HbaRule): boolean => UPGRADABLE.has(r.method);
  let file: HbaFile = parsed;
  if (certNames.size > 0) {
    file = convertHostToHostssl(file, { method: 'cert', predicate: (r) => upgradable(r) && allCert(r) });
  }
  file = convertHostToHostssl(file, { method: 'scram-sha-256', predicate: upgradable });
  file = convertHostToHostssl(file); // ldap, gss, …: keep the method, require TLS
  file = upgradeTlsPasswordRules(file);
  if (input.auth === 'scram+cert') file = addClientCert(file);
  file = setManagedBlock(file, managedRules(input), { position: 'top' });
  const after = serializeHba(file);
  const op = input.operator;
  const ident = op.identText === undefined ? undefined : parseIdent(op.identText);
  const operator = { osUser: op.osUser, user: op.user, ...(ident === undefined ? {} : { ident }) };
  if (wouldLockOut(file.rules, operator)) {
    throw new UsageError(
      'hba.would-lock-out',
      `the new pg_hba.conf would lock pgharden out: ${operatorAccess(file.rules, operator).reason}`,
      `add a \`local all ${op.user} peer\` rule (or a peer map for OS user ${op.osUser}) above the others`,
    );
  }
  return { before, after, shadowing: describeShadowing(parsed.rules, input.auth), notes: [] };
}

// `hostssl … md5|password` rules already require TLS but still accept md5 (or send the password in
// clear inside TLS): they become scram-sha-256 too. Records split by a backslash are left alone.
function upgradeTlsPasswordRules(file: HbaFile): HbaFile {
  let lines = file.lines.map((l) => ({ text: l.text, eol: l.eol }));
  for (const record of tokenizeAuthLines(lines).reverse()) {
    const entry = file.lines[record.firstIndex];
    if (entry?.kind !== 'rule' || entry.rule.type !== 'hostssl' || record.lineCount !== 1) continue;
    if (entry.rule.method !== 'md5' && entry.rule.method !== 'password') continue;
    const addressText = record.fields[3]?.[0]?.text ?? '';
    const withMask = entry.rule.address?.kind === 'cidr' && !addressText.includes('/');
    const token = record.fields[withMask ? 5 : 4]?.[0];
    if (token === undefined || token.text !== entry.rule.method) continue;
    lines = replaceInRecord(lines, record, token.start, token.end, 'scram-sha-256') ?? lines;
  }
  return hbaFromLines(lines);
}

// scram+cert: every TLS password rule also wants a certificate. `clientcert=verify-full` goes after
// the last field, before a trailing comment (records split by a backslash are left alone).
function addClientCert(file: HbaFile): HbaFile {
  const lines = file.lines.map((l) => {
    if (l.kind !== 'rule' || l.rule.type !== 'hostssl' || l.rule.method !== 'scram-sha-256') return l;
    if (l.rule.options['clientcert'] !== undefined) return l;
    if (file.lines.some((c) => c.kind === 'continuation' && c.of === l.line)) return l;
    const at = commentStart(l.text);
    const head = l.text.slice(0, at).trimEnd();
    const tail = at < l.text.length ? `  ${l.text.slice(at)}` : '';
    return { text: `${head} clientcert=verify-full${tail}`, eol: l.eol };
  });
  return hbaFromLines(lines);
}

function commentStart(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === '#' && !quoted) return i;
  }
  return text.length;
}

function describeShadowing(rules: readonly HbaRule[], auth: AuthMode): string[] {
  return findShadowedRules(rules).map((s) => {
    const by = s.shadowedBy;
    const fate =
      by.type === 'local'
        ? 'kept as is (socket rules are not changed)'
        : by.method === 'reject'
          ? 'kept (a reject rule)'
          : by.type === 'host'
            ? `becomes hostssl ${UPGRADABLE.has(by.method) ? (auth === 'cert' ? 'cert/scram-sha-256' : 'scram-sha-256') : by.method}, and the managed block above it refuses non-TLS connections first`
            : 'kept; the managed block above it refuses non-TLS connections first';
    return `${s.consequence}. pgharden: line ${by.line} ${fate}`;
  });
}

/** TCP rules that still accept plain connections (anything but the reject rules). */
export function remainingHostRules(text: string): HbaRule[] {
  return parseHba(text).rules.filter((r) => r.type === 'host' && r.method !== 'reject');
}

// pg_ident.conf errors are part of tls.reload's validation (pg_ident_file_mappings, PostgreSQL >= 15).
export { validateAndReload } from './reload.js';
