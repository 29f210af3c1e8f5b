// pg_ident.conf: `map-name system-username database-username` records, tokenized like pg_hba.conf
// (hba.c parse_ident_line, check_ident_usermap), every physical line kept for a byte-exact round trip.
import { classifyCommonRecord, quoteAuthToken, tokenizeAuthLines } from './auth-tokenize.js';
import type { AuthInclude, AuthRecord, AuthToken } from './auth-tokenize.js';
import { anyOf, regexTest } from './hba-match.js';
import type { Tri } from './hba-match.js';
import { appendPhysicalLines, assertSingleLine, joinPhysicalLines, splitPhysicalLines } from './lines.js';
import type { Eol, PhysicalLine } from './lines.js';

/**
 * `regex`: `/pattern` (system user: all versions; database user: PostgreSQL 16+). `keyword` (`all`)
 * and `group` (`+role`) exist for the database user from PostgreSQL 16 on.
 */
export interface IdentToken {
  readonly kind: 'name' | 'regex' | 'keyword' | 'group';
  readonly value: string;
  readonly quoted: boolean;
}

export interface IdentMapping {
  readonly line: number;
  readonly map: string;
  readonly systemUser: IdentToken;
  readonly pgUser: IdentToken;
  readonly comment?: string;
}

export type IdentInclude = AuthInclude;

export interface IdentParseError {
  readonly id: 'ident.unparseable';
  readonly line: number;
  readonly message: string;
}

interface IdentLineBase {
  readonly line: number;
  readonly text: string;
  readonly eol: Eol;
}
export type IdentLine = IdentLineBase &
  (
    | { readonly kind: 'blank' | 'comment' }
    | { readonly kind: 'mapping'; readonly mapping: IdentMapping }
    | { readonly kind: 'include'; readonly include: IdentInclude }
    | { readonly kind: 'error'; readonly error: IdentParseError }
    | { readonly kind: 'continuation'; readonly of: number }
  );

export interface IdentFile {
  readonly lines: readonly IdentLine[];
  readonly mappings: readonly IdentMapping[];
  readonly includes: readonly IdentInclude[];
  readonly errors: readonly IdentParseError[];
}

export function parseIdent(text: string): IdentFile {
  return identFromLines(splitPhysicalLines(text));
}

export function serializeIdent(file: IdentFile): string {
  return joinPhysicalLines(file.lines);
}

function identFromLines(physical: readonly PhysicalLine[]): IdentFile {
  const lines: IdentLine[] = [];
  for (const record of tokenizeAuthLines(physical)) {
    const line = record.firstIndex + 1;
    const first = physical[record.firstIndex] ?? { text: '', eol: '' };
    lines.push({ line, text: first.text, eol: first.eol, ...classify(record, line) });
    for (let i = 1; i < record.lineCount; i += 1) {
      const cont = physical[record.firstIndex + i] ?? { text: '', eol: '' };
      lines.push({ line: line + i, text: cont.text, eol: cont.eol, kind: 'continuation', of: line });
    }
  }
  return {
    lines,
    mappings: lines.flatMap((l) => (l.kind === 'mapping' ? [l.mapping] : [])),
    includes: lines.flatMap((l) => (l.kind === 'include' ? [l.include] : [])),
    errors: lines.flatMap((l) => (l.kind === 'error' ? [l.error] : [])),
  };
}

type Classified =
  | { kind: 'blank' | 'comment' }
  | { kind: 'mapping'; mapping: IdentMapping }
  | { kind: 'include'; include: IdentInclude }
  | { kind: 'error'; error: IdentParseError };

function classify(record: AuthRecord, line: number): Classified {
  const common = classifyCommonRecord(record, line);
  if (common !== undefined) return common;
  const { fields, commentAt } = record;
  const error = (message: string): Classified => ({
    kind: 'error',
    error: { id: 'ident.unparseable', line, message },
  });
  const single = (i: number): AuthToken | string => {
    const field = fields[i];
    if (field === undefined) return 'missing entry at end of line';
    return field.length > 1 || field[0] === undefined ? 'multiple values in ident field' : field[0];
  };
  const [map, system, pg] = [single(0), single(1), single(2)];
  if (typeof map === 'string') return error(map);
  if (typeof system === 'string') return error(system);
  if (typeof pg === 'string') return error(pg);
  const comment = commentAt === undefined ? '' : record.logical.slice(commentAt + 1).trim();
  const mapping: IdentMapping = {
    line,
    map: map.text,
    systemUser: identToken(system, false),
    pgUser: identToken(pg, true),
    ...(comment === '' ? {} : { comment }),
  };
  return { kind: 'mapping', mapping };
}

function identToken(token: AuthToken, pgColumn: boolean): IdentToken {
  const { text, initialQuote: quoted } = token;
  if (text.startsWith('/')) return { kind: 'regex', value: text.slice(1), quoted };
  if (pgColumn && !quoted && text === 'all') return { kind: 'keyword', value: text, quoted };
  if (pgColumn && !quoted && text.length > 1 && text.startsWith('+'))
    return { kind: 'group', value: text.slice(1), quoted };
  return { kind: 'name', value: text, quoted };
}

/** A mapping as the caller writes it: plain strings, `/…` for a regex system user. */
export interface IdentEntry {
  readonly map: string;
  readonly systemUser: string;
  readonly pgUser: string;
}

const written = (t: IdentToken): string =>
  t.kind === 'regex' ? `/${t.value}` : t.kind === 'group' ? `+${t.value}` : t.value;

export function hasMapping(file: IdentFile, entry: IdentEntry): boolean {
  return file.mappings.some(
    (m) =>
      m.map === entry.map && written(m.systemUser) === entry.systemUser && written(m.pgUser) === entry.pgUser,
  );
}

/** Appends the mapping unless an identical one exists (then the same file comes back). */
export function addMapping(file: IdentFile, entry: IdentEntry): IdentFile {
  if (hasMapping(file, entry)) return file;
  const cells = [entry.map, entry.systemUser, entry.pgUser];
  cells.forEach((c) => assertSingleLine(c, 'a pg_ident.conf field'));
  // Column widths of PostgreSQL's pg_ident.conf.sample header.
  const [map = '', system = '', pg = ''] = cells.map((c) => quoteAuthToken(c));
  return identFromLines(appendPhysicalLines(file.lines, [`${map.padEnd(15)} ${system.padEnd(23)} ${pg}`]));
}

/**
 * Does map `map` let OS/certificate user `systemUser` log in as `pgUser`? Regexes are JavaScript
 * approximations of PostgreSQL's; `\1` in the database user takes the first capture group.
 */
export function identMapAllows(
  file: IdentFile,
  map: string,
  systemUser: string,
  pgUser: string,
  userGroups?: readonly string[],
): Tri {
  return anyOf(
    file.mappings.filter((m) => m.map === map).map((m) => mappingAllows(m, systemUser, pgUser, userGroups)),
  );
}

function mappingAllows(m: IdentMapping, systemUser: string, pgUser: string, groups?: readonly string[]): Tri {
  let target = m.pgUser;
  if (m.systemUser.kind === 'regex') {
    let match: RegExpExecArray | null;
    try {
      match = new RegExp(m.systemUser.value).exec(systemUser);
    } catch {
      return 'maybe';
    }
    if (match === null) return 'no';
    if (target.kind === 'name' && target.value.includes('\\1')) {
      if (match[1] === undefined) return 'no';
      target = { kind: 'name', value: target.value.replace('\\1', match[1]), quoted: true };
    }
  } else if (m.systemUser.value !== systemUser) {
    return 'no';
  }
  switch (target.kind) {
    case 'keyword':
      return 'yes';
    case 'regex':
      return regexTest(target.value, pgUser);
    case 'group':
      if (target.value === pgUser) return 'yes';
      if (groups === undefined) return 'maybe';
      return groups.includes(target.value) ? 'yes' : 'no';
    case 'name':
      return target.value === pgUser ? 'yes' : 'no';
  }
}
