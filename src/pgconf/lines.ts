// Physical lines with their own terminators, so that every config model here can give back the file
// byte for byte: a CRLF file stays CRLF, a missing final newline stays missing.

export type Eol = '' | '\n' | '\r\n';

export interface PhysicalLine {
  /** The line without its terminator (may still end in stray `\r` or blanks). */
  readonly text: string;
  /** The terminator as found; '' only for a last line without final newline. */
  readonly eol: Eol;
}

export function splitPhysicalLines(content: string): PhysicalLine[] {
  const lines: PhysicalLine[] = [];
  let start = 0;
  while (start < content.length) {
    const newline = content.indexOf('\n', start);
    if (newline === -1) {
      lines.push({ text: content.slice(start), eol: '' });
      break;
    }
    const crlf = newline > start && content[newline - 1] === '\r';
    lines.push({ text: content.slice(start, crlf ? newline - 1 : newline), eol: crlf ? '\r\n' : '\n' });
    start = newline + 1;
  }
  return lines;
}

export function joinPhysicalLines(lines: readonly PhysicalLine[]): string {
  return lines.map((l) => l.text + l.eol).join('');
}

/** The terminator new lines get: the file's first one, LF for a file that has none. */
export function dominantEol(lines: readonly PhysicalLine[]): '\n' | '\r\n' {
  const first = lines.find((l) => l.eol !== '');
  return first?.eol === '\r\n' ? '\r\n' : '\n';
}

/**
 * Appends lines at the end; a last line without terminator first gets one, or the appended text would
 * be glued onto it.
 */
export function appendPhysicalLines(
  lines: readonly PhysicalLine[],
  texts: readonly string[],
): PhysicalLine[] {
  const eol = dominantEol(lines);
  const out = lines.map((l, i) => (i === lines.length - 1 && l.eol === '' ? { text: l.text, eol } : l));
  return [...out, ...texts.map((text) => ({ text, eol }))];
}

/** A line the caller hands us must stay one line, or it would smuggle extra records into the file. */
export function assertSingleLine(text: string, what: string): void {
  if (/[\r\n]/.test(text)) throw new RangeError(`${what} must be a single line: ${JSON.stringify(text)}`);
}

/** A reason written into a comment: one line, no control characters. */
export function oneLine(text: string): string {
  const printable = [...text].map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? ' ' : c));
  return printable.join('').replace(/ {2,}/g, ' ').trim();
}
