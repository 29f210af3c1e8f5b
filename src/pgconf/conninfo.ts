// libpq keyword/value connection strings (primary_conninfo), parsed and written back per libpq's
// rules: `key = value`, a value either unquoted (backslash escapes the next character) or in single
// quotes (backslash escapes `'` and `\`). Order of keywords is kept so a diff stays small.
import { FailedError } from '../core/errors.js';

export interface ConninfoParam {
  key: string;
  value: string;
}

export function parseConninfo(text: string): ConninfoParam[] {
  if (/^\s*postgres(ql)?:\/\//i.test(text)) {
    throw new FailedError(
      'conninfo.uri',
      'primary_conninfo is a URI; pgharden edits keyword/value conninfo only',
      'rewrite it as key=value pairs first',
    );
  }
  const out: ConninfoParam[] = [];
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n && /\s/.test(text[i] ?? '')) i++;
  };
  for (;;) {
    ws();
    if (i >= n) return out;
    const start = i;
    while (i < n && /[^\s=]/.test(text[i] ?? '')) i++;
    const key = text.slice(start, i);
    ws();
    // Never echo the text itself: it may hold a password.
    if (key === '' || text[i] !== '=') throw bad(`missing "=" after keyword ${JSON.stringify(key)}`);
    i++;
    ws();
    let value = '';
    if (text[i] === "'") {
      i++;
      for (;;) {
        if (i >= n) throw bad(`unterminated quoted value of ${key}`);
        const c = text[i] ?? '';
        if (c === "'") {
          i++;
          break;
        }
        if (c === '\\' && i + 1 < n) {
          value += text[i + 1] ?? '';
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
    } else {
      while (i < n && !/\s/.test(text[i] ?? '')) {
        const c = text[i] ?? '';
        if (c === '\\' && i + 1 < n) {
          value += text[i + 1] ?? '';
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
    }
    out.push({ key, value });
  }
}

function bad(message: string): FailedError {
  return new FailedError('conninfo.bad', `primary_conninfo: ${message}`);
}

/** One value as libpq reads it back: quoted when empty or holding whitespace, `'` or `\`. */
export function quoteConninfoValue(value: string): string {
  if (value !== '' && !/[\s'\\]/.test(value)) return value;
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

export function formatConninfo(params: readonly ConninfoParam[]): string {
  return params.map((p) => `${p.key}=${quoteConninfoValue(p.value)}`).join(' ');
}

export function getParam(params: readonly ConninfoParam[], key: string): string | undefined {
  return params.findLast((p) => p.key === key)?.value;
}

/**
 * Sets keys (replacing the first occurrence in place, dropping later duplicates, appending new
 * ones) and removes keys mapped to undefined.
 */
export function editConninfo(
  params: readonly ConninfoParam[],
  changes: Record<string, string | undefined>,
): ConninfoParam[] {
  const out: ConninfoParam[] = [];
  const seen = new Set<string>();
  for (const p of params) {
    if (!Object.hasOwn(changes, p.key)) {
      out.push(p);
      continue;
    }
    const v = changes[p.key];
    if (v === undefined || seen.has(p.key)) continue;
    seen.add(p.key);
    out.push({ key: p.key, value: v });
  }
  for (const [key, v] of Object.entries(changes)) {
    if (v !== undefined && !seen.has(key)) out.push({ key, value: v });
  }
  return out;
}
