// ~/.pgpass editing that keeps every other line byte for byte. Fields are
// host:port:database:user:password with `:` and `\` escaped by a backslash; `*` matches anything.
// libpq takes the FIRST matching line, so a new entry goes before any earlier line that would
// also match it (e.g. `*:*:*:replicator:old`), otherwise it would never be used.

export interface PgpassEntry {
  host: string;
  port: string;
  database: string;
  user: string;
  password: string;
}

export function escapePgpassField(s: string): string {
  return s.replace(/[\\:]/g, (c) => `\\${c}`);
}

/** Splits one line into its fields (unescaped); undefined for comments and blank lines. */
export function parsePgpassLine(line: string): string[] | undefined {
  if (line.trim() === '' || line.startsWith('#')) return undefined;
  const fields: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (c === '\\' && i + 1 < line.length) {
      cur += line[i + 1] ?? '';
      i++;
    } else if (c === ':' && fields.length < 4) {
      fields.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  fields.push(cur);
  return fields.length === 5 ? fields : undefined;
}

export function formatPgpassLine(e: PgpassEntry): string {
  return [e.host, e.port, e.database, e.user, e.password].map(escapePgpassField).join(':');
}

function fieldMatches(pattern: string, value: string): boolean {
  return pattern === '*' || pattern === value;
}

/** Returns the new file text; unchanged text when the first matching line already is this entry. */
export function upsertPgpass(text: string, e: PgpassEntry): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const key = [e.host, e.port, e.database, e.user];
  const wanted = formatPgpassLine(e);
  const first = lines.findIndex((l) => {
    const f = parsePgpassLine(l.replace(/\r$/, ''));
    return f !== undefined && key.every((v, i) => fieldMatches(f[i] ?? '', v));
  });
  if (first >= 0) {
    const f = parsePgpassLine((lines[first] ?? '').replace(/\r$/, ''));
    const exact = f !== undefined && key.every((v, i) => f[i] === v);
    if (exact && f[4] === e.password) return text;
    if (exact) lines[first] = wanted;
    else lines.splice(first, 0, wanted);
  } else {
    lines.push(wanted);
  }
  return `${lines.join('\n')}\n`;
}
