// One tokenized pg_hba.conf record → rule, or the error PostgreSQL would log for it
// (hba.c parse_hba_line; messages kept verbatim so they match pg_hba_file_rules.error).
import type { AuthToken } from './auth-tokenize.js';
import { HBA_CONNECTION_TYPES, HBA_METHODS } from './hba-types.js';
import type { HbaAddress, HbaConnectionType, HbaMethod, HbaRule, HbaToken } from './hba-types.js';
import { maskToPrefix, parseIp, parsePrefix } from './ip.js';

type ParsedRule = Omit<HbaRule, 'line' | 'comment'>;
type Fields = readonly (readonly AuthToken[])[];

const DATABASE_KEYWORDS = new Set(['all', 'sameuser', 'samerole', 'samegroup', 'replication']);

// Option names PostgreSQL 13–17 know (18 adds the oauth ones); anything else is an error there too.
const OPTION_NAMES = new Set([
  'map',
  'clientcert',
  'clientname',
  'pamservice',
  'pam_use_hostname',
  'ldapurl',
  'ldaptls',
  'ldapscheme',
  'ldapserver',
  'ldapport',
  'ldapbinddn',
  'ldapbindpasswd',
  'ldapsearchattribute',
  'ldapsearchfilter',
  'ldapbasedn',
  'ldapprefix',
  'ldapsuffix',
  'krb_realm',
  'include_realm',
  'compat_realm',
  'upn_username',
  'radiusservers',
  'radiussecrets',
  'radiusports',
  'radiusidentifiers',
  'issuer',
  'scope',
  'validator',
  'delegate_ident_mapping',
]);
// Options tied to methods (hba.c parse_hba_auth_opt): the methods, and how PostgreSQL's message names them.
const OPTION_METHODS: readonly (readonly [RegExp, readonly HbaMethod[], string])[] = [
  [/^map$/, ['ident', 'peer', 'gss', 'sspi', 'cert', 'oauth'], 'ident, peer, gssapi, sspi, and cert'],
  [/^pam/, ['pam'], 'pam'],
  [/^ldap/, ['ldap'], 'ldap'],
  [/^(krb_realm|include_realm)$/, ['gss', 'sspi'], 'gssapi and sspi'],
  [/^(compat_realm|upn_username)$/, ['sspi'], 'sspi'],
  [/^radius/, ['radius'], 'radius'],
  [/^(issuer|scope|validator|delegate_ident_mapping)$/, ['oauth'], 'oauth'],
];

export function parseRecordFields(fields: Fields): { rule: ParsedRule } | { error: string } {
  let next = 0;
  const field = (): readonly AuthToken[] | undefined => fields[next++];

  const typeTokens = field() ?? [];
  if (typeTokens.length > 1) return { error: 'multiple values specified for connection type' };
  const typeText = typeTokens[0]?.text ?? '';
  const type = HBA_CONNECTION_TYPES.find((t) => t === typeText);
  if (type === undefined) return { error: `invalid connection type "${typeText}"` };

  const dbTokens = field();
  if (dbTokens === undefined) return { error: 'end-of-line before database specification' };
  const userTokens = field();
  if (userTokens === undefined) return { error: 'end-of-line before role specification' };
  const databases = dbTokens.map((t) => classifyToken(t, 'database'));
  const users = userTokens.map((t) => classifyToken(t, 'user'));

  let address: HbaAddress | undefined;
  if (type !== 'local') {
    const parsed = parseAddress(field); // consumes one field, or two for address + netmask
    if ('error' in parsed) return parsed;
    address = parsed.address;
  }

  const methodTokens = field();
  if (methodTokens === undefined) {
    const hint =
      address?.kind === 'hostname' && (HBA_METHODS as readonly string[]).includes(address.value)
        ? ` (the address column is missing: "${address.value}" was read as a host name)`
        : '';
    return { error: `end-of-line before authentication method${hint}` };
  }
  if (methodTokens.length > 1) return { error: 'multiple values specified for authentication type' };
  const methodText = methodTokens[0]?.text ?? '';
  const method = HBA_METHODS.find((m) => m === methodText);
  if (method === undefined) return { error: `invalid authentication method "${methodText}"` };
  const combination = checkCombination(type, method);
  if (combination !== undefined) return { error: combination };

  const options: [string, string][] = [];
  for (const token of fields.slice(next).flat()) {
    const eq = token.text.indexOf('=');
    if (eq === -1) return { error: `authentication option not in name=value format: ${token.text}` };
    const name = token.text.slice(0, eq);
    const value = token.text.slice(eq + 1);
    const problem = checkOption(type, method, name, value);
    if (problem !== undefined) return { error: problem };
    options.push([name, value]);
  }
  const rule: ParsedRule = { type, databases, users, method, options: Object.fromEntries(options) };
  return { rule: address === undefined ? rule : { ...rule, address } };
}

function classifyToken(token: AuthToken, column: 'database' | 'user'): HbaToken {
  const { text, initialQuote: quoted } = token;
  // `@x` includes a file unless the `@` itself was quoted; `@"my file"` is still an inclusion.
  if (!quoted && text.length > 1 && text.startsWith('@'))
    return { kind: 'file', value: text.slice(1), quoted };
  const keyword = column === 'database' ? DATABASE_KEYWORDS.has(text) : text === 'all';
  if (!quoted && keyword) return { kind: 'keyword', value: text, quoted };
  // hba.c regcomp_auth_token looks only at the first character, quoted or not.
  if (text.startsWith('/')) return { kind: 'regex', value: text.slice(1), quoted };
  if (column === 'user' && !quoted && text.length > 1 && text.startsWith('+')) {
    return { kind: 'group', value: text.slice(1), quoted };
  }
  return { kind: 'name', value: text, quoted };
}

function parseAddress(
  field: () => readonly AuthToken[] | undefined,
): { address: HbaAddress } | { error: string } {
  const tokens = field();
  if (tokens === undefined) return { error: 'end-of-line before IP address specification' };
  if (tokens.length > 1) return { error: 'multiple values specified for host address' };
  const token = tokens[0];
  if (token === undefined) return { error: 'end-of-line before IP address specification' };
  const { text } = token;
  if (!token.initialQuote && (text === 'all' || text === 'samehost' || text === 'samenet')) {
    return { address: { kind: 'keyword', value: text } };
  }
  if (!token.initialQuote && text.startsWith('@')) {
    return { error: `file inclusion in the address column is not supported by pgharden: "${text}"` };
  }
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const ip = parseIp(addressText);
  // A non-numeric address is a host name (getaddrinfo with AI_NUMERICHOST answers EAI_NONAME).
  if (ip === undefined) {
    if (slash !== -1) return { error: `specifying both host name and CIDR mask is invalid: "${text}"` };
    return { address: { kind: 'hostname', value: text } };
  }
  if (slash !== -1) {
    const prefix = parsePrefix(text.slice(slash + 1), ip.family);
    if (prefix === undefined) return { error: `invalid CIDR mask in address "${text}"` };
    return { address: { kind: 'cidr', address: addressText, prefix, family: ip.family } };
  }
  const maskTokens = field();
  if (maskTokens === undefined) return { error: 'end-of-line before netmask specification' };
  if (maskTokens.length > 1) return { error: 'multiple values specified for netmask' };
  const maskText = maskTokens[0]?.text ?? '';
  const mask = parseIp(maskText);
  if (mask === undefined) return { error: `invalid IP mask "${maskText}"` };
  if (mask.family !== ip.family) return { error: 'IP address and mask do not match' };
  const prefix = maskToPrefix(mask);
  if (prefix === undefined) {
    return {
      error: `netmask "${maskText}" is not contiguous: valid for PostgreSQL, not analysable by pgharden`,
    };
  }
  return { address: { kind: 'cidr', address: addressText, prefix, family: ip.family } };
}

function checkCombination(type: HbaConnectionType, method: HbaMethod): string | undefined {
  if (type === 'local' && method === 'gss') return 'gssapi authentication is not supported on local sockets';
  if (type !== 'local' && method === 'peer') return 'peer authentication is only supported on local sockets';
  if (type !== 'hostssl' && method === 'cert')
    return 'cert authentication is only supported on hostssl connections';
  return undefined;
}

function checkOption(
  type: HbaConnectionType,
  method: HbaMethod,
  name: string,
  value: string,
): string | undefined {
  if (!OPTION_NAMES.has(name)) return `unrecognized authentication option name: "${name}"`;
  const tied = OPTION_METHODS.find(([pattern]) => pattern.test(name));
  if (tied !== undefined && !tied[1].includes(method)) {
    return `authentication option "${name}" is only valid for authentication methods ${tied[2]}`;
  }
  if ((name === 'clientcert' || name === 'clientname') && type !== 'hostssl') {
    return `${name} can only be configured for "hostssl" rows`;
  }
  if (name === 'clientcert') {
    if (value === 'verify-ca' && method === 'cert') {
      return 'clientcert can only be set to "verify-full" when using "cert" authentication';
    }
    if (value === '1' || value === '0' || value === 'no-verify') {
      return `clientcert=${value} is accepted only by PostgreSQL 13 and older: use verify-ca or verify-full`;
    }
    if (value !== 'verify-ca' && value !== 'verify-full') return `invalid value for clientcert: "${value}"`;
  }
  if (name === 'clientname' && value !== 'CN' && value !== 'DN')
    return `invalid value for clientname: "${value}"`;
  return undefined;
}
