// PEM text → typed blocks, with failures that name the file and say what was expected (SPEC §6
// "rejects anything else with a clear message"). Pure except `loadSource`, which reads the file.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.js';

/**
 * Stable ids of import failures. Thrown, each is exit 2 (the file cannot be used as what it should
 * be); `certs lint` reports them as findings instead (and `key.mismatch` there is a lint error, exit 3).
 */
export const INPUT_ERROR_IDS = [
  'file.unreadable',
  'pem.empty',
  'pem.no-block',
  'pem.truncated',
  'pem.unexpected-block',
  'cert.unparseable',
  'key.unparseable',
  'key.unsupported',
  'key.encrypted-no-passphrase',
  'key.wrong-passphrase',
  'key.mismatch',
] as const;
export type InputErrorId = (typeof INPUT_ERROR_IDS)[number];

/** A certificate or key file that cannot be used as what it should be; `code` is the stable id. */
export class PkiInputError extends UsageError {
  declare readonly code: InputErrorId;
  readonly file: string;

  constructor(code: InputErrorId, file: string, message: string, hint?: string, options?: ErrorOptions) {
    super(code, message, hint, options);
    this.file = file;
  }

  static isInput(x: unknown): x is PkiInputError {
    return UsageError.is(x) && (INPUT_ERROR_IDS as readonly string[]).includes(x.code) && 'file' in x;
  }
}

/** A path, or bytes already in memory with the name to use in messages. */
export type PemSource = string | { name: string; data: string | Uint8Array };

export type Expected = 'certificate' | 'private key';

export interface PemBlock {
  /** The label between `-----BEGIN ` and `-----`, e.g. `CERTIFICATE`, `EC PRIVATE KEY`. */
  label: string;
  /** RFC 1421 headers of legacy encrypted keys (`Proc-Type`, `DEK-Info`); empty otherwise. */
  headers: Record<string, string>;
  der: Buffer;
  /** 1-based line of the BEGIN line, for messages. */
  line: number;
}

export async function loadSource(src: PemSource): Promise<{ name: string; bytes: Buffer }> {
  if (typeof src !== 'string') {
    const bytes = typeof src.data === 'string' ? Buffer.from(src.data, 'utf8') : Buffer.from(src.data);
    return { name: src.name, bytes };
  }
  try {
    return { name: src, bytes: await readFile(src) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (err as Error).message;
    throw new PkiInputError('file.unreadable', src, `cannot read ${src}: ${why}`, undefined, { cause: err });
  }
}

/**
 * Total length (header + content) of the DER TLV starting at `der[0]`, or undefined when even the
 * header is incomplete. Indefinite lengths (BER) and lengths over 4 bytes are not DER: undefined.
 */
export function derTotalLength(der: Uint8Array): number | undefined {
  const first = der[1];
  if (der.length < 2 || first === undefined) return undefined;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || der.length < 2 + n) return undefined;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (der[2 + i] ?? 0);
  return 2 + n + len;
}

const MARKER = /-----(BEGIN|END) ([^-\r\n]*)-----/g;
const HEADER = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function derHint(name: string, expected: Expected): string {
  return expected === 'certificate'
    ? `convert it: openssl x509 -inform der -in ${name} -out ${name}.pem`
    : `convert it: openssl pkey -inform der -in ${name} -out ${name}.pem`;
}

/** Every PEM block of a file, in order. Throws `pem.empty`, `pem.no-block` or `pem.truncated`. */
export function decodePem(name: string, bytes: Uint8Array, expected: Expected): PemBlock[] {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.trim() === '') {
    throw new PkiInputError('pem.empty', name, `${name} is empty; expected a PEM ${expected}`);
  }
  if (!text.includes('-----BEGIN ')) {
    // A DER file starts with a SEQUENCE (0x30) whose length covers the whole file, give or take.
    const looksDer = bytes[0] === 0x30 && (derTotalLength(bytes) ?? 0) >= bytes.length - 2;
    throw looksDer
      ? new PkiInputError(
          'pem.no-block',
          name,
          `${name} has no PEM block: this looks like DER (binary ASN.1); expected a PEM ${expected}`,
          derHint(name, expected),
        )
      : new PkiInputError(
          'pem.no-block',
          name,
          `${name} has no PEM block (-----BEGIN …-----); expected a PEM ${expected}`,
        );
  }
  const blocks: PemBlock[] = [];
  let open: { label: string; line: number; from: number } | undefined;
  // Markers, not lines: `cat a.crt b.crt` without a final newline in a.crt puts END and BEGIN on one line.
  for (const m of text.matchAll(MARKER)) {
    const [marker, kind, label = ''] = m;
    const line = lineOf(text, m.index);
    if (kind === 'BEGIN') {
      if (open) throw truncated(name, open.label, open.line, 'has no END line before the next BEGIN');
      open = { label, line, from: m.index + marker.length };
    } else if (open) {
      if (label !== open.label) throw truncated(name, open.label, open.line, `ends with END ${label}`);
      blocks.push(finishBlock(name, open, text.slice(open.from, m.index).split(/\r?\n/)));
      open = undefined;
    } // else: a stray END outside any block is ignored
  }
  if (open) throw truncated(name, open.label, open.line, 'has no END line (the file was cut short?)');
  if (blocks.length === 0) {
    throw new PkiInputError(
      'pem.no-block',
      name,
      `${name} has no complete PEM block; expected a PEM ${expected}`,
    );
  }
  return blocks;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function truncated(name: string, label: string, line: number, why: string): PkiInputError {
  return new PkiInputError(
    'pem.truncated',
    name,
    `${name}: BEGIN ${label} at line ${line} ${why}`,
    'copy the whole file again, from BEGIN to END',
  );
}

function finishBlock(name: string, open: { label: string; line: number }, lines: string[]): PemBlock {
  const headers: Record<string, string> = {};
  let body = lines.filter((l, i) => i > 0 || l.trim() !== ''); // the rest of the BEGIN line
  // RFC 1421 headers (legacy OpenSSL encryption) come first and end with a blank line.
  if (body[0] !== undefined && HEADER.test(body[0].trim())) {
    const blank = body.findIndex((l) => l.trim() === '');
    const headerLines = body.slice(0, blank < 0 ? 0 : blank);
    for (const h of headerLines) {
      const m = HEADER.exec(h.trim());
      if (m?.[1] !== undefined) headers[m[1]] = m[2] ?? '';
    }
    body = blank < 0 ? body : body.slice(blank + 1);
  }
  const b64 = body.join('').replace(/\s+/g, '');
  if (!BASE64.test(b64) || b64.length % 4 === 1) {
    throw truncated(name, open.label, open.line, 'contains text that is not base64');
  }
  const der = Buffer.from(b64, 'base64');
  if (Object.keys(headers).length === 0) {
    // Unencrypted blocks hold exactly one ASN.1 SEQUENCE: a short body means a cut-off copy.
    const problem = asn1Problem(der);
    if (problem !== undefined) throw truncated(name, open.label, open.line, problem);
  }
  return { label: open.label, headers, der, line: open.line };
}

function asn1Problem(der: Buffer): string | undefined {
  const total = der[0] === 0x30 ? derTotalLength(der) : undefined;
  const have = `${der.length} byte${der.length === 1 ? '' : 's'}`;
  if (total === undefined) return `does not decode to an ASN.1 SEQUENCE (${have})`;
  if (total > der.length) return `is cut short: ${have} of ${total}`;
  if (total < der.length) return `has ${der.length - total} bytes after its ASN.1 structure`;
  return undefined;
}

export function isEncryptedLegacy(block: PemBlock): boolean {
  return (block.headers['Proc-Type'] ?? '').includes('ENCRYPTED');
}

/** RFC 7468 text for DER, 64 columns; RFC 1421 headers (legacy encrypted keys) first when given. */
export function toPem(label: string, der: Uint8Array, headers: Record<string, string> = {}): string {
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\n`);
  const b64 = Buffer.from(der).toString('base64');
  return [
    `-----BEGIN ${label}-----\n`,
    ...head,
    head.length > 0 ? '\n' : '',
    b64.replace(/.{1,64}/g, '$&\n'),
    `-----END ${label}-----\n`,
  ].join('');
}
