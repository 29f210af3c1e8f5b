// The tokenizer PostgreSQL uses for pg_hba.conf and pg_ident.conf (src/backend/libpq/hba.c:
// tokenize_auth_file, next_field_expand, next_token), reproduced with source offsets so edits can
// touch one token and leave the rest of the line alone.
import type { PhysicalLine } from './lines.js';

export interface AuthToken {
  /** Dequoted text: `"a""b"` gives `a"b`. */
  readonly text: string;
  /** The token began with a double quote: PostgreSQL's `quoted` (keywords lose their meaning). */
  readonly initialQuote: boolean;
  /** Offsets into the record's logical text, covering the token as written (quotes included). */
  readonly start: number;
  readonly end: number;
}

/** One logical record: a physical line plus the lines a trailing backslash pulled in (PG ≥ 14). */
export interface AuthRecord {
  /** 0-based index of the first physical line. */
  readonly firstIndex: number;
  readonly lineCount: number;
  /** The record as PostgreSQL sees it: continuation backslashes and newlines removed. */
  readonly logical: string;
  /** Where each physical line's text starts in `logical`. */
  readonly segmentStarts: readonly number[];
  /** Fields (blank-separated), each a comma list of tokens. */
  readonly fields: readonly (readonly AuthToken[])[];
  /** Offset of the unquoted `#` that starts a comment, if any. */
  readonly commentAt: number | undefined;
}

// hba.c pg_isblank: space, tab and CR.
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r';

export function tokenizeAuthLines(lines: readonly PhysicalLine[]): AuthRecord[] {
  const records: AuthRecord[] = [];
  let index = 0;
  while (index < lines.length) {
    const firstIndex = index;
    const segmentStarts: number[] = [];
    let logical = '';
    for (;;) {
      const text = (lines[index]?.text ?? '').replace(/[\r\n]+$/, ''); // hba.c pg_strip_crlf
      segmentStarts.push(logical.length);
      index += 1;
      // A backslash ending a non-empty physical line continues the record, even inside quotes or a
      // comment (continuation happens before tokenizing). PostgreSQL 13 has no continuation.
      if (text.endsWith('\\') && index < lines.length) {
        logical += text.slice(0, -1);
        continue;
      }
      logical += text.endsWith('\\') ? text.slice(0, -1) : text;
      break;
    }
    const { fields, commentAt } = tokenizeLogical(logical);
    records.push({ firstIndex, lineCount: index - firstIndex, logical, segmentStarts, fields, commentAt });
  }
  return records;
}

function tokenizeLogical(s: string): { fields: AuthToken[][]; commentAt: number | undefined } {
  const fields: AuthToken[][] = [];
  const cursor = { pos: 0, commentAt: undefined as number | undefined };
  while (cursor.pos < s.length) {
    const field: AuthToken[] = [];
    // next_field_expand: a token ending in an unquoted comma continues the list, even across blanks.
    for (;;) {
      const token = nextToken(s, cursor);
      if (token === undefined) break;
      field.push(token.token);
      if (!token.terminatingComma) break;
    }
    if (field.length > 0) fields.push(field);
  }
  return { fields, commentAt: cursor.commentAt };
}

function nextToken(
  s: string,
  cursor: { pos: number; commentAt: number | undefined },
): { token: AuthToken; terminatingComma: boolean } | undefined {
  let pos = cursor.pos;
  while (pos < s.length && (isBlank(s[pos]) || s[pos] === ',')) pos += 1;
  const start = pos;
  let text = '';
  let inQuote = false;
  let wasQuote = false;
  let sawQuote = false;
  let initialQuote = false;
  let terminatingComma = false;
  let end = pos;
  while (pos < s.length && (!isBlank(s[pos]) || inQuote)) {
    const c = s[pos] ?? '';
    if (c === '#' && !inQuote) {
      cursor.commentAt = pos;
      end = pos;
      pos = s.length; // the rest of the record is comment
      break;
    }
    if (c === ',' && !inQuote) {
      terminatingComma = true;
      break;
    }
    if (c !== '"' || wasQuote) text += c;
    // A literal double quote is written as two double quotes.
    wasQuote = inQuote && c === '"' ? !wasQuote : false;
    if (c === '"') {
      inQuote = !inQuote;
      sawQuote = true;
      if (text.length === 0) initialQuote = true;
    }
    pos += 1;
    end = pos;
  }
  cursor.pos = pos;
  if (!sawQuote && text.length === 0) return undefined;
  return { token: { text, initialQuote, start, end }, terminatingComma };
}

/** Maps a logical offset back to (physical line index, column). */
export function physicalPosition(record: AuthRecord, offset: number): { index: number; column: number } {
  let segment = 0;
  for (let i = 0; i < record.segmentStarts.length; i += 1) {
    if ((record.segmentStarts[i] ?? 0) <= offset) segment = i;
  }
  return { index: record.firstIndex + segment, column: offset - (record.segmentStarts[segment] ?? 0) };
}

/**
 * Replaces logical [start, end) in the record's physical lines when the span sits on one physical
 * line; undefined when it straddles a continuation (the caller then rewrites the record).
 */
export function replaceInRecord(
  lines: readonly PhysicalLine[],
  record: AuthRecord,
  start: number,
  end: number,
  replacement: string,
): PhysicalLine[] | undefined {
  const a = physicalPosition(record, start);
  const b = physicalPosition(record, end);
  const line = lines[a.index];
  if (line === undefined || a.index !== b.index) return undefined;
  const text = line.text.slice(0, a.column) + replacement + line.text.slice(b.column);
  return lines.map((l, i) => (i === a.index ? { text, eol: l.eol } : l));
}

/** Writes a token so the tokenizer reads it back as `value`, quoting only when needed. */
export function quoteAuthToken(value: string, forceQuote = false): string {
  const needsQuote = forceQuote || value === '' || /[\s,#"]/.test(value);
  return needsQuote ? `"${value.replace(/"/g, '""')}"` : value;
}

export const INCLUDE_DIRECTIVES = ['include', 'include_if_exists', 'include_dir'] as const;

/** `include`/`include_if_exists`/`include_dir` lines (PostgreSQL 16+); not followed. */
export interface AuthInclude {
  readonly line: number;
  readonly directive: (typeof INCLUDE_DIRECTIVES)[number];
  readonly path: string;
}

/**
 * What pg_hba.conf and pg_ident.conf records have in common: blank, comment-only and include
 * lines. Undefined: a record for the file's own parser.
 */
export function classifyCommonRecord(
  record: AuthRecord,
  line: number,
): { kind: 'blank' | 'comment' } | { kind: 'include'; include: AuthInclude } | undefined {
  const { fields, commentAt } = record;
  if (fields.length === 0) return { kind: commentAt === undefined ? 'blank' : 'comment' };
  const directive = INCLUDE_DIRECTIVES.find((d) => d === fields[0]?.[0]?.text);
  const path = fields[1]?.[0]?.text;
  if (directive !== undefined && fields.length === 2 && path !== undefined) {
    return { kind: 'include', include: { line, directive, path } };
  }
  return undefined;
}
