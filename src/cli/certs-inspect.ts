// `pgharden certs inspect FILE…`: a table per certificate (chains: each one, labelled leaf /
// intermediate / root), or one JSON line per certificate. Exit 2 when a file cannot be read.
import { toPghardenError, type ExitCode } from '../core/errors.js';
import { detectMode } from '../core/terminal.js';
import { readCertificateFile } from '../pki/import.js';
import { certInfo, type CertInfo } from '../pki/inspect.js';
import type { CliIo, GlobalOptions } from './io.js';
import { makeStyle, type Style } from './views/style.js';

function validity(style: Style, info: CertInfo): string {
  const days = info.daysLeft;
  const left =
    days < 0
      ? style('red', `expired ${-days} days ago`)
      : days < 30
        ? style('yellow', `${days} days left`)
        : `${days} days left`;
  const t = (iso: string) => iso.replace(/\.000Z$/, 'Z');
  return `${t(info.notBefore)} → ${t(info.notAfter)} (${left})`;
}

function rows(style: Style, info: CertInfo): [string, string][] {
  const list = (xs: readonly string[] | undefined) => (xs === undefined ? '—' : xs.join(', ') || '—');
  const bc = info.basicConstraints;
  return [
    ['subject', info.subject],
    ['issuer', info.issuer + (info.selfSigned ? ' (self-signed)' : '')],
    ['SAN DNS', list(info.san.dns)],
    ['SAN IP', list(info.san.ip)],
    ...(info.san.other.length > 0 ? [['SAN other', list(info.san.other)] as [string, string]] : []),
    ['key', info.key.text],
    ['signature', info.signatureAlgorithm],
    ['version', `v${info.version}`],
    ['validity', validity(style, info)],
    ['serial', info.serial],
    ['SHA-256', info.sha256Fingerprint],
    ['EKU', list(info.extendedKeyUsage)],
    [
      'basic constr.',
      bc === undefined
        ? '—'
        : `CA:${bc.ca ? 'TRUE' : 'FALSE'}${bc.pathLength === undefined ? '' : `, pathlen:${bc.pathLength}`}${bc.critical ? ' (critical)' : ''}`,
    ],
    ['key usage', list(info.keyUsage)],
    ['SKI', info.subjectKeyId ?? '—'],
    ['AKI', info.authorityKeyId ?? '—'],
    ['critical ext.', list(info.criticalExtensions)],
  ];
}

export function renderCertTable(
  style: Style,
  file: string,
  index: number,
  total: number,
  info: CertInfo,
): string {
  const head = `${style('bold', file)}  ${total > 1 ? `[${index + 1}/${total}] ` : ''}${info.role}`;
  const body = rows(style, info)
    .map(([k, v]) => `  ${style('dim', k.padEnd(14))}${v}`)
    .join('\n');
  return `${head}\n${body}\n`;
}

export async function certsInspectCommand(
  files: string[],
  global: GlobalOptions,
  io: CliIo,
): Promise<ExitCode> {
  const mode = detectMode(io.env, io, { json: global.json, color: global.color });
  const style = makeStyle(mode.color);
  const json = global.json === true;
  const line = (obj: object) =>
    io.stdout.write(`${JSON.stringify({ v: 1, ts: new Date().toISOString(), ...obj })}\n`);
  let exitCode: ExitCode = 0;
  const now = new Date();
  for (const file of files) {
    try {
      const { certs } = await readCertificateFile(file);
      for (const cert of certs) {
        const info = certInfo(cert, now);
        if (json) line({ type: 'cert', file, index: cert.index, ...info });
        else io.stdout.write(`${renderCertTable(style, file, cert.index, certs.length, info)}\n`);
      }
    } catch (err) {
      const e = toPghardenError(err);
      if (exitCode === 0 || e.exitCode === 2) exitCode = e.exitCode; // bad input (2) wins over a bug (1)
      if (json) line({ type: 'error', file, code: e.code, message: e.message, hint: e.hint });
      io.stderr.write(`✗ ${e.code}: ${e.message}\n${e.hint === undefined ? '' : `  → ${e.hint}\n`}`);
      if (global.verbose === true && e.cause instanceof Error && e.cause.stack)
        io.stderr.write(`${e.cause.stack}\n`);
    }
  }
  if (json) line({ type: 'summary', command: 'certs inspect', exitCode });
  return exitCode;
}
