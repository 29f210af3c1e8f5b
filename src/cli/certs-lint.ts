// `pgharden certs lint FILE… [--profile P] [--ca F] [--key F] [--host N]… [--passphrase-file F]`.
// Exit 0 when no finding is an error, 3 when one is, 2 when an input cannot be read (SPEC §3).
import { readFile } from 'node:fs/promises';
import { UsageError, type ExitCode } from '../core/errors.js';
import { scrubSecrets } from '../core/redact.js';
import { detectMode } from '../core/terminal.js';
import { lintFiles } from '../pki/lint/files.js';
import type { LintFinding } from '../pki/lint/finding.js';
import { LINT_PROFILES, isLintProfile, type LintProfile, type LintSeverity } from '../pki/lint/profiles.js';
import type { CliIo, GlobalOptions } from './io.js';
import { reportFailure } from './report-error.js';
import { makeStyle, type Style } from './views/style.js';

export type LintCommandOptions = {
  profile: string;
  ca?: string;
  key?: string;
  host?: string[];
  passphraseFile?: string;
};

const MARK: Record<LintSeverity, string> = { error: '✗', warning: '!', info: 'i' };
const FORMAT = { error: 'red', warning: 'yellow', info: 'gray' } as const;

function parseOptions(opts: Record<string, unknown>): {
  profile: LintProfile;
  ca: string | undefined;
  key: string | undefined;
  hosts: string[];
  passphraseFile: string | undefined;
} {
  const profile = opts['profile'] ?? 'postgres';
  if (!isLintProfile(profile)) {
    throw new UsageError(
      'usage',
      `unknown lint profile ${JSON.stringify(profile)}`,
      `one of: ${LINT_PROFILES.join(', ')}`,
    );
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const host = opts['host'];
  const hosts = Array.isArray(host) ? host.map(String) : typeof host === 'string' ? [host] : [];
  return {
    profile,
    ca: str(opts['ca']),
    key: str(opts['key']),
    hosts,
    passphraseFile: str(opts['passphraseFile']),
  };
}

/** The passphrase is the file's first line, like openssl's `-passin file:`. */
async function readPassphrase(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).split(/\r?\n/)[0] ?? '';
  } catch (err) {
    throw new UsageError(
      'file.unreadable',
      `cannot read --passphrase-file ${path}: ${(err as Error).message}`,
      undefined,
      {
        cause: err,
      },
    );
  }
}

function renderHuman(style: Style, findings: readonly LintFinding[]): string {
  return findings
    .map((f) => {
      const sev = style(FORMAT[f.severity], `${MARK[f.severity]} ${f.severity.padEnd(7)}`);
      return `${sev} ${style('bold', f.id)}  ${f.message}\n          ${style('dim', `fix: ${f.fix}`)}\n`;
    })
    .join('');
}

function counts(findings: readonly LintFinding[]): Record<LintSeverity, number> {
  const n = { error: 0, warning: 0, info: 0 };
  for (const f of findings) n[f.severity]++;
  return n;
}

export async function certsLintCommand(
  files: string[],
  opts: Record<string, unknown>,
  global: GlobalOptions,
  io: CliIo,
): Promise<ExitCode> {
  const mode = detectMode(io.env, io, { json: global.json, color: global.color });
  const secrets: string[] = [];
  const line = (obj: object) => {
    // Last line of defence: a passphrase never reaches the output, whatever a message quotes.
    io.stdout.write(
      `${scrubSecrets(JSON.stringify({ v: 1, ts: new Date().toISOString(), ...obj }), secrets)}\n`,
    );
  };
  try {
    const o = parseOptions(opts);
    const passphrase = o.passphraseFile === undefined ? undefined : await readPassphrase(o.passphraseFile);
    if (passphrase !== undefined) secrets.push(passphrase);
    const result = await lintFiles({
      files,
      profile: o.profile,
      ca: o.ca,
      key: o.key,
      hosts: o.hosts,
      passphrase: () => Promise.resolve(passphrase),
    });
    const n = counts(result.findings);
    if (global.json === true) {
      for (const f of result.findings) line({ type: 'finding', ...f });
      line({
        type: 'summary',
        command: 'certs lint',
        exitCode: result.exitCode,
        profile: o.profile,
        counts: n,
        files: result.files,
      });
    } else {
      const style = makeStyle(mode.color);
      const what =
        result.findings.length === 0
          ? 'no findings'
          : `${n.error} error(s), ${n.warning} warning(s), ${n.info} info`;
      const mark = result.exitCode === 0 ? style('green', '✓') : style('red', '✗');
      const text = `${renderHuman(style, result.findings)}${mark} certs lint (${o.profile}): ${files.length} file(s), ${what}\n`;
      io.stdout.write(scrubSecrets(text, secrets));
    }
    return result.exitCode;
  } catch (err) {
    return reportFailure(err, 'certs lint', global, io);
  }
}
