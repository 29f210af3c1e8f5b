// postgresql.conf (and postgresql.auto.conf) as physical lines that serialize back byte for byte,
// parsed with the grammar of guc-file.l: `name [=] value [# comment]`, one setting per line.
import { INCLUDE_DIRECTIVES } from './auth-tokenize.js';
import { deescapeGucString, lexGucLine, quoteGucString } from './guc-lex.js';
import type { GucToken } from './guc-lex.js';
import { appendPhysicalLines, joinPhysicalLines, oneLine, splitPhysicalLines } from './lines.js';
import type { Eol, PhysicalLine } from './lines.js';

export interface ConfParam {
  readonly line: number;
  /** As written. */
  readonly name: string;
  /** Lower case: parameter names are case-insensitive. */
  readonly key: string;
  /** The value PostgreSQL reads: quotes and escapes removed. */
  readonly value: string;
  /** The value token as written. */
  readonly rawValue: string;
  readonly quoted: boolean;
  /** Text after `#`, trimmed. */
  readonly comment?: string;
}

export interface ConfInclude {
  readonly line: number;
  readonly directive: 'include' | 'include_if_exists' | 'include_dir';
  readonly path: string;
}

export interface ConfParseError {
  readonly id: 'conf.unparseable';
  readonly line: number;
  readonly message: string;
}

interface ConfLineBase {
  readonly line: number;
  readonly text: string;
  readonly eol: Eol;
}
export type ConfLine = ConfLineBase &
  (
    | { readonly kind: 'blank' | 'comment' }
    | { readonly kind: 'param'; readonly param: ConfParam }
    | { readonly kind: 'include'; readonly include: ConfInclude }
    | { readonly kind: 'error'; readonly error: ConfParseError }
  );

export interface ConfFile {
  readonly lines: readonly ConfLine[];
  readonly params: readonly ConfParam[];
  readonly includes: readonly ConfInclude[];
  readonly errors: readonly ConfParseError[];
}

const VALUE_KINDS = new Set(['id', 'string', 'integer', 'real', 'unquoted-string']);

export function parseConf(text: string): ConfFile {
  return confFromLines(splitPhysicalLines(text));
}

export function serializeConf(file: ConfFile): string {
  return joinPhysicalLines(file.lines);
}

function confFromLines(physical: readonly PhysicalLine[]): ConfFile {
  const lines = physical.map((p, i): ConfLine => ({
    line: i + 1,
    text: p.text,
    eol: p.eol,
    ...parseLine(p.text, i + 1),
  }));
  return {
    lines,
    params: lines.flatMap((l) => (l.kind === 'param' ? [l.param] : [])),
    includes: lines.flatMap((l) => (l.kind === 'include' ? [l.include] : [])),
    errors: lines.flatMap((l) => (l.kind === 'error' ? [l.error] : [])),
  };
}

type Parsed =
  | { kind: 'blank' | 'comment' }
  | { kind: 'param'; param: ConfParam }
  | { kind: 'include'; include: ConfInclude }
  | { kind: 'error'; error: ConfParseError };

// guc-file.l ParseConfigFp: name, optional `=`, one value, end of line.
function parseLine(text: string, line: number): Parsed {
  const { tokens, commentAt } = lexGucLine(text);
  if (tokens.length === 0) return { kind: commentAt === undefined ? 'blank' : 'comment' };
  const error = (near: GucToken | undefined): Parsed => ({
    kind: 'error',
    error: {
      id: 'conf.unparseable',
      line,
      message:
        near === undefined ? 'syntax error near end of line' : `syntax error near token "${near.text}"`,
    },
  });
  const [name, ...rest] = tokens;
  if (name === undefined || (name.kind !== 'id' && name.kind !== 'qualified-id')) return error(name);
  const value = rest[0]?.kind === 'equals' ? rest[1] : rest[0];
  const after = rest[0]?.kind === 'equals' ? rest[2] : rest[1];
  if (value === undefined || !VALUE_KINDS.has(value.kind)) return error(value);
  if (after !== undefined) return error(after);
  const decoded = value.kind === 'string' ? deescapeGucString(value.text) : value.text;
  const key = name.text.toLowerCase();
  const directive = INCLUDE_DIRECTIVES.find((d) => d === key);
  if (directive !== undefined) return { kind: 'include', include: { line, directive, path: decoded } };
  const comment = commentAt === undefined ? '' : text.slice(commentAt + 1).trim();
  const param: ConfParam = {
    line,
    name: name.text,
    key,
    value: decoded,
    rawValue: value.text,
    quoted: value.kind === 'string',
    ...(comment === '' ? {} : { comment }),
  };
  return { kind: 'param', param };
}

/** The occurrence PostgreSQL uses from this file: the last one (includes are not followed). */
export function effective(file: ConfFile, name: string): ConfParam | undefined {
  const key = name.toLowerCase();
  return file.params.findLast((p) => p.key === key);
}

export type ConfValue = string | number | boolean;

/** Strings are always quoted (valid for every parameter type); booleans become on/off. */
export function formatConfValue(value: ConfValue): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
    return String(value);
  }
  return quoteGucString(value);
}

function assertParamName(name: string): void {
  const { tokens, commentAt } = lexGucLine(name);
  const [token] = tokens;
  if (
    tokens.length !== 1 ||
    commentAt !== undefined ||
    token?.text !== name ||
    (token.kind !== 'id' && token.kind !== 'qualified-id')
  ) {
    throw new RangeError(`not a parameter name: ${JSON.stringify(name)}`);
  }
}

/**
 * Sets `name` by rewriting the value of its last active occurrence in place (its comment and layout
 * stay), or by appending `name = value` at the end. Unchanged when the value is already that.
 */
export function setParam(file: ConfFile, name: string, value: ConfValue): ConfFile {
  assertParamName(name);
  const written = formatConfValue(value);
  const current = effective(file, name);
  if (current === undefined) return confFromLines(appendPhysicalLines(file.lines, [`${name} = ${written}`]));
  const wanted = typeof value === 'string' ? value : written;
  if (current.value === wanted) return file;
  const lines = file.lines.map((l): PhysicalLine => {
    if (l.line !== current.line) return l;
    const { tokens } = lexGucLine(l.text);
    const valueToken = tokens[tokens[1]?.kind === 'equals' ? 2 : 1];
    if (valueToken === undefined) return l;
    return { text: l.text.slice(0, valueToken.start) + written + l.text.slice(valueToken.end), eol: l.eol };
  });
  return confFromLines(lines);
}

/** Comments out every active occurrence of `name` (line numbers do not move). */
export function commentOutParam(file: ConfFile, name: string, reason?: string): ConfFile {
  const key = name.toLowerCase();
  const why = reason === undefined ? '' : oneLine(reason);
  const lines = file.lines.map((l): PhysicalLine =>
    l.kind === 'param' && l.param.key === key
      ? { text: `#${l.text}${why === '' ? '' : `  # pgharden: ${why}`}`, eol: l.eol }
      : l,
  );
  return confFromLines(lines);
}
