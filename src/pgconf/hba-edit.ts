// Pure edits of a parsed pg_hba.conf: each returns a new, re-parsed file and leaves every line it
// does not need to touch byte for byte as it was.
import { FailedError } from '../core/errors.js';
import { replaceInRecord, tokenizeAuthLines } from './auth-tokenize.js';
import type { AuthRecord } from './auth-tokenize.js';
import { formatRule, hbaFromLines } from './hba.js';
import type { HbaFile, HbaMethod, HbaRule } from './hba-types.js';
import { appendPhysicalLines, assertSingleLine, dominantEol, oneLine } from './lines.js';
import type { PhysicalLine } from './lines.js';

export const MANAGED_BEGIN = '# BEGIN pgharden (managed block: edits inside are overwritten)';
export const MANAGED_END = '# END pgharden';

export interface ConvertOptions {
  /** New method for the converted rules (e.g. `scram-sha-256`); absent: keep each rule's method. */
  readonly method?: HbaMethod;
  /** Which `host` rules to convert; absent: all of them. */
  readonly predicate?: (rule: HbaRule) => boolean;
}

/**
 * `host` → `hostssl` on the rules the predicate selects. `reject` rules are never converted: as
 * `hostssl` they would stop refusing the non-TLS connections they refuse today.
 */
export function convertHostToHostssl(file: HbaFile, options: ConvertOptions = {}): HbaFile {
  let lines: PhysicalLine[] = [...file.lines];
  const records = tokenizeAuthLines(lines).reverse(); // bottom-up: edits never shift pending records
  for (const record of records) {
    const entry = file.lines[record.firstIndex];
    if (entry?.kind !== 'rule') continue;
    const { rule } = entry;
    if (rule.type !== 'host' || rule.method === 'reject' || options.predicate?.(rule) === false) continue;
    const method = options.method ?? rule.method;
    const edits: Edit[] = [];
    const typeToken = record.fields[0]?.[0];
    if (typeToken !== undefined)
      edits.push(alignedEdit(record.logical, typeToken.start, typeToken.end, 'hostssl'));
    const methodToken = record.fields[methodFieldIndex(record, rule)]?.[0];
    if (method !== rule.method && methodToken !== undefined) {
      edits.unshift(alignedEdit(record.logical, methodToken.start, methodToken.end, method));
    }
    lines =
      applyEdits(lines, record, edits) ?? rewriteRecord(lines, record, { ...rule, type: 'hostssl', method });
  }
  return hbaFromLines(lines);
}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

// Keep the next column where it was: a longer word eats into the blanks after it (at least one
// blank stays), a shorter one is padded — only when the line looks aligned (two or more spaces,
// not tabs, before more text).
function alignedEdit(logical: string, start: number, end: number, text: string): Edit {
  const spaces = /^ +/.exec(logical.slice(end))?.[0].length ?? 0;
  const more = end + spaces < logical.length;
  const growth = text.length - (end - start);
  if (!more || spaces < 2 || growth === 0) return { start, end, text };
  if (growth > 0) return { start, end: end + Math.min(growth, spaces - 1), text };
  return { start, end, text: text + ' '.repeat(-growth) };
}

function applyEdits(
  lines: PhysicalLine[],
  record: AuthRecord,
  edits: readonly Edit[],
): PhysicalLine[] | undefined {
  let out: PhysicalLine[] | undefined = lines;
  for (const edit of edits) {
    if (out === undefined) return undefined;
    out = replaceInRecord(out, record, edit.start, edit.end, edit.text);
  }
  return out;
}

function methodFieldIndex(record: AuthRecord, rule: HbaRule): number {
  if (rule.type === 'local') return 3;
  const addressText = record.fields[3]?.[0]?.text ?? '';
  const twoColumns = rule.address?.kind === 'cidr' && !addressText.includes('/');
  return twoColumns ? 5 : 4;
}

// Fallback for a token split across a backslash continuation: the record becomes one canonical line.
function rewriteRecord(lines: PhysicalLine[], record: AuthRecord, rule: HbaRule): PhysicalLine[] {
  const last = lines[record.firstIndex + record.lineCount - 1];
  const text = formatRule(rule) + (rule.comment === undefined ? '' : `  # ${rule.comment}`);
  const out = [...lines];
  out.splice(record.firstIndex, record.lineCount, { text, eol: last?.eol ?? '\n' });
  return out;
}

/** Where the managed block is, as 1-based lines of its markers; undefined when there is none. */
export function findManagedBlock(file: HbaFile): { begin: number; end: number } | undefined {
  const begins = file.lines.filter(
    (l) => l.kind === 'comment' && l.text.trim().startsWith('# BEGIN pgharden'),
  );
  const ends = file.lines.filter((l) => l.kind === 'comment' && l.text.trim() === MANAGED_END);
  if (begins.length === 0 && ends.length === 0) return undefined;
  const [begin] = begins;
  const [end] = ends;
  if (
    begins.length !== 1 ||
    ends.length !== 1 ||
    begin === undefined ||
    end === undefined ||
    end.line < begin.line
  ) {
    throw new FailedError(
      'hba.managed-block-malformed',
      `pg_hba.conf has ${begins.length} "# BEGIN pgharden" and ${ends.length} "${MANAGED_END}" markers`,
      'fix the markers by hand (one BEGIN line, then one END line) and run pgharden again',
    );
  }
  return { begin: begin.line, end: end.line };
}

/**
 * Writes `rules` between the pgharden markers: replaces an existing block where it is (so a second
 * run changes nothing), else inserts it above the first record (`top`, with the comment lines that
 * belong to that record) or at the end (`bottom`).
 */
export function setManagedBlock(
  file: HbaFile,
  rules: readonly string[],
  options: { readonly position: 'top' | 'bottom' },
): HbaFile {
  for (const rule of rules) {
    assertSingleLine(rule, 'a managed pg_hba.conf line');
    // A trailing backslash would pull the next line (our END marker) into the rule (PG ≥ 14).
    if (rule.trimEnd().endsWith('\\'))
      throw new RangeError(`a managed line must not end in a backslash: ${rule}`);
  }
  const block = [MANAGED_BEGIN, ...rules, MANAGED_END];
  const eol = dominantEol(file.lines);
  const existing = findManagedBlock(file);
  const lines: PhysicalLine[] = [...file.lines];
  if (existing !== undefined) {
    const lastEol = file.lines[existing.end - 1]?.eol ?? eol;
    const replacement = block.map((text, i) => ({ text, eol: i === block.length - 1 ? lastEol : eol }));
    lines.splice(existing.begin - 1, existing.end - existing.begin + 1, ...replacement);
    return hbaFromLines(lines);
  }
  const at = options.position === 'top' ? topInsertionIndex(file) : undefined;
  if (at === undefined) {
    // A last line ending in a backslash would swallow the BEGIN marker: put a blank line between.
    const dangling = lines[lines.length - 1]?.text.trimEnd().endsWith('\\') === true;
    return hbaFromLines(appendPhysicalLines(lines, dangling ? ['', ...block] : block));
  }
  lines.splice(at, 0, ...block.map((text) => ({ text, eol })));
  return hbaFromLines(lines);
}

function topInsertionIndex(file: HbaFile): number | undefined {
  const first = file.lines.findIndex((l) => l.kind === 'rule' || l.kind === 'include' || l.kind === 'error');
  if (first === -1) return undefined;
  let at = first;
  while (at > 0 && file.lines[at - 1]?.kind === 'comment') at -= 1;
  return at;
}

export function removeManagedBlock(file: HbaFile): HbaFile {
  const existing = findManagedBlock(file);
  if (existing === undefined) return file;
  const lines: PhysicalLine[] = [...file.lines];
  lines.splice(existing.begin - 1, existing.end - existing.begin + 1);
  return hbaFromLines(lines);
}

/**
 * Comments out the record starting on `line` (a rule, an include or an unparseable line), every
 * physical line of it, and says why on its last line. Line numbers do not move.
 */
export function commentOutRule(file: HbaFile, line: number, reason: string): HbaFile {
  const entry = file.lines[line - 1];
  if (entry === undefined || (entry.kind !== 'rule' && entry.kind !== 'error' && entry.kind !== 'include')) {
    throw new RangeError(`pg_hba.conf line ${line} is not a rule`);
  }
  const span = file.lines.filter((l) => l.line === line || (l.kind === 'continuation' && l.of === line));
  const last = span[span.length - 1]?.line ?? line;
  const why = oneLine(reason);
  const lines = file.lines.map((l): PhysicalLine => {
    if (!span.includes(l)) return l;
    const suffix = l.line === last && why !== '' ? `  # pgharden: ${why}` : '';
    return { text: `#${l.text}${suffix}`, eol: l.eol };
  });
  return hbaFromLines(lines);
}
