// The postgresql.conf scanner (src/backend/utils/misc/guc-file.l) for one line, with offsets:
// flex takes the longest match and, on a tie, the rule listed first.

export type GucTokenKind =
  'id' | 'qualified-id' | 'string' | 'unquoted-string' | 'integer' | 'real' | 'equals' | 'error';

export interface GucToken {
  readonly kind: GucTokenKind;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

// LETTER is [A-Za-z_\200-\377]: every non-ASCII byte counts, so every non-ASCII character does here.
const L = 'A-Za-z_\\u0080-\\uffff';
const RULES: readonly (readonly [GucTokenKind, RegExp])[] = [
  ['id', new RegExp(`[${L}][${L}0-9]*`, 'y')],
  ['qualified-id', new RegExp(`[${L}][${L}0-9]*\\.[${L}][${L}0-9]*`, 'y')],
  ['string', /'(?:[^'\\\n]|\\[^\n]|'')*'/y],
  ['unquoted-string', new RegExp(`[${L}](?:[${L}0-9]|[-._:/])*`, 'y')],
  ['integer', /[-+]?(?:0x[0-9a-fA-F]+|[0-9]+)[a-zA-Z]*/y],
  ['real', /[-+]?[0-9]*\.[0-9]*(?:[Ee][-+]?[0-9]+)?/y],
  ['equals', /=/y],
];

export function lexGucLine(text: string): { tokens: GucToken[]; commentAt: number | undefined } {
  const tokens: GucToken[] = [];
  let pos = 0;
  while (pos < text.length) {
    const c = text[pos];
    if (c === ' ' || c === '\t' || c === '\r') {
      pos += 1;
      continue;
    }
    if (c === '#') return { tokens, commentAt: pos };
    let best: GucToken | undefined;
    for (const [kind, re] of RULES) {
      re.lastIndex = pos;
      const m = re.exec(text);
      if (m !== null && m[0].length > (best === undefined ? 0 : best.end - best.start)) {
        best = { kind, text: m[0], start: pos, end: pos + m[0].length };
      }
    }
    best ??= { kind: 'error', text: c ?? '', start: pos, end: pos + 1 }; // flex's catch-all `.`
    tokens.push(best);
    pos = best.end;
  }
  return { tokens, commentAt: undefined };
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** guc-file.l DeescapeQuotedString: strip the quotes, undo `''` and backslash escapes. */
export function deescapeGucString(quoted: string): string {
  const s = quoted.slice(1, -1);
  let out = '';
  for (let i = 0; i < s.length; i += 1) {
    const c = s[i] ?? '';
    if (c === "'" && s[i + 1] === "'") {
      out += "'";
      i += 1;
    } else if (c === '\\') {
      const next = s[i + 1] ?? '';
      const octal = /^[0-7]{1,3}/.exec(s.slice(i + 1))?.[0];
      if (octal !== undefined) {
        out += String.fromCharCode(parseInt(octal, 8));
        i += octal.length;
      } else {
        out += SIMPLE_ESCAPES[next] ?? next;
        i += 1;
      }
    } else {
      out += c;
    }
  }
  return out;
}

/** A string literal postgresql.conf reads back as `value`. */
export function quoteGucString(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/'/g, "''")
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r');
  return `'${escaped}'`;
}
