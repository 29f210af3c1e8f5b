// pg_hba.conf as a list of physical lines that serializes back byte for byte, with the parsed rule on
// each rule's first line. Grammar and error texts follow src/backend/libpq/hba.c (PostgreSQL 13–17).
import { classifyCommonRecord, quoteAuthToken, tokenizeAuthLines } from './auth-tokenize.js';
import type { AuthRecord } from './auth-tokenize.js';
import { parseRecordFields } from './hba-record.js';
import type {
  HbaAddress,
  HbaFile,
  HbaInclude,
  HbaLine,
  HbaParseError,
  HbaRule,
  HbaToken,
} from './hba-types.js';
import { joinPhysicalLines, splitPhysicalLines } from './lines.js';
import type { PhysicalLine } from './lines.js';

export { HBA_CONNECTION_TYPES, HBA_METHODS } from './hba-types.js';
export type {
  HbaAddress,
  HbaConnectionType,
  HbaFile,
  HbaInclude,
  HbaLine,
  HbaMethod,
  HbaParseError,
  HbaRule,
  HbaToken,
} from './hba-types.js';

export function parseHba(text: string): HbaFile {
  return hbaFromLines(splitPhysicalLines(text));
}

export function serializeHba(file: HbaFile): string {
  return joinPhysicalLines(file.lines);
}

export function hbaFromLines(physical: readonly PhysicalLine[]): HbaFile {
  const lines: HbaLine[] = [];
  const rules: HbaRule[] = [];
  const includes: HbaInclude[] = [];
  const errors: HbaParseError[] = [];
  for (const record of tokenizeAuthLines(physical)) {
    const line = record.firstIndex + 1;
    const first = physical[record.firstIndex] ?? { text: '', eol: '' };
    const entry = classifyRecord(record, line);
    if (entry.kind === 'rule') rules.push(entry.rule);
    if (entry.kind === 'include') includes.push(entry.include);
    if (entry.kind === 'error') errors.push(entry.error);
    lines.push({ line, text: first.text, eol: first.eol, ...entry });
    for (let i = 1; i < record.lineCount; i += 1) {
      const cont = physical[record.firstIndex + i] ?? { text: '', eol: '' };
      lines.push({ line: line + i, text: cont.text, eol: cont.eol, kind: 'continuation', of: line });
    }
  }
  return { lines, rules, includes, errors };
}

type RecordEntry =
  | { kind: 'blank' | 'comment' }
  | { kind: 'rule'; rule: HbaRule }
  | { kind: 'include'; include: HbaInclude }
  | { kind: 'error'; error: HbaParseError };

function classifyRecord(record: AuthRecord, line: number): RecordEntry {
  const common = classifyCommonRecord(record, line);
  if (common !== undefined) return common;
  const { fields, commentAt } = record;
  const comment = commentAt === undefined ? undefined : record.logical.slice(commentAt + 1).trim();
  const parsed = parseRecordFields(fields);
  if ('error' in parsed)
    return { kind: 'error', error: { id: 'hba.unparseable', line, message: parsed.error } };
  const rule: HbaRule = { line, ...parsed.rule, ...(comment ? { comment } : {}) };
  return { kind: 'rule', rule };
}

/** One-line canonical text of a rule (no comment), e.g. `host all all 0.0.0.0/0 md5`. */
export function formatRule(rule: Omit<HbaRule, 'line'>): string {
  const list = (tokens: readonly HbaToken[]): string => tokens.map(formatToken).join(',');
  const parts = [rule.type, list(rule.databases), list(rule.users)];
  if (rule.address !== undefined) parts.push(formatAddress(rule.address));
  parts.push(rule.method);
  for (const [name, value] of Object.entries(rule.options)) parts.push(quoteAuthToken(`${name}=${value}`));
  return parts.join(' ');
}

export function formatToken(token: HbaToken): string {
  switch (token.kind) {
    case 'keyword':
      return token.value;
    case 'name':
      return quoteAuthToken(token.value, token.quoted || /^[@+]/.test(token.value));
    case 'group':
      return `+${quoteAuthToken(token.value)}`;
    case 'file':
      return `@${quoteAuthToken(token.value)}`;
    case 'regex':
      return quoteAuthToken(`/${token.value}`, token.quoted);
  }
}

export function formatAddress(address: HbaAddress): string {
  return address.kind === 'cidr' ? `${address.address}/${address.prefix}` : address.value;
}
