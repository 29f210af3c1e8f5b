// `lintFiles`: read certificate files, `--ca`, `--key`, then lint. Files that cannot be read as what
// they should be become findings of their input rule (exit 2), and the rest is still linted.
import { stat } from 'node:fs/promises';
import { readCertificateFile, readPrivateKey, type ParsedCert, type PrivateKeyInfo } from '../import.js';
import { PkiInputError } from '../pem.js';
import { lintExitCode, makeFinding, type LintFinding } from './finding.js';
import { lintCertificate, lintKey, type CertUsage } from './lint.js';
import type { LintProfile } from './profiles.js';
import type { KeyFileStat } from './crypto.js';

export interface LintFilesOptions {
  /** Certificate or chain files; `key` belongs to the first. */
  files: readonly string[];
  profile?: LintProfile | undefined;
  ca?: string | undefined;
  key?: string | undefined;
  hosts?: readonly string[] | undefined;
  passphrase?: (() => Promise<string | undefined>) | undefined;
  usage?: CertUsage | undefined;
  clientRole?: string | undefined;
  now?: Date | undefined;
}

export interface LintFilesResult {
  findings: LintFinding[];
  exitCode: 0 | 2 | 3;
  /** Certificates read per file (0 when the file could not be read). */
  files: { file: string; certs: number }[];
}

function inputFinding(profile: LintProfile, err: unknown): LintFinding {
  if (!PkiInputError.isInput(err)) throw err;
  const finding = makeFinding(profile, err.code, err.message, { file: err.file }, err.hint);
  if (finding === undefined) throw err; // input rules run in every profile
  return finding;
}

async function readKey(opts: LintFilesOptions, profile: LintProfile, findings: LintFinding[]) {
  if (opts.key === undefined) return {};
  const keyFile: KeyFileStat | undefined = await stat(opts.key).then(
    (s) => ({ mode: s.mode, uid: s.uid, gid: s.gid }),
    () => undefined,
  );
  try {
    const key: PrivateKeyInfo = await readPrivateKey(opts.key, { passphrase: opts.passphrase });
    return { key, keyFile };
  } catch (err) {
    findings.push(inputFinding(profile, err));
    const encrypted =
      PkiInputError.isInput(err) &&
      (err.code === 'key.encrypted-no-passphrase' || err.code === 'key.wrong-passphrase');
    return { keyFile, keyEncrypted: encrypted };
  }
}

export async function lintFiles(opts: LintFilesOptions): Promise<LintFilesResult> {
  const profile = opts.profile ?? 'postgres';
  const findings: LintFinding[] = [];
  let anchors: ParsedCert[] | undefined;
  if (opts.ca !== undefined) {
    try {
      anchors = (await readCertificateFile(opts.ca)).certs;
    } catch (err) {
      findings.push(inputFinding(profile, err));
    }
  }
  const { key, keyFile, keyEncrypted } = await readKey(opts, profile, findings);
  const keyInput = { key, keyFile, keyEncrypted, keyName: opts.key };
  const files: LintFilesResult['files'] = [];
  let keyLinted = false;
  for (const [i, file] of opts.files.entries()) {
    try {
      const parsed = await readCertificateFile(file);
      files.push({ file, certs: parsed.certs.length });
      if (parsed.otherBlocks.some((b) => b.includes('PRIVATE KEY'))) {
        const f = makeFinding(profile, 'pem.private-key-in-cert-file', `${file} also holds a private key`, {
          file,
        });
        if (f !== undefined) findings.push(f);
      }
      findings.push(
        ...(await lintCertificate({
          certs: parsed.certs,
          caCerts: anchors,
          hosts: opts.hosts,
          profile,
          usage: opts.usage,
          clientRole: opts.clientRole,
          now: opts.now,
          ...(i === 0 ? keyInput : {}),
        })),
      );
      keyLinted ||= i === 0;
    } catch (err) {
      files.push({ file, certs: 0 });
      findings.push(inputFinding(profile, err));
    }
  }
  if (!keyLinted && opts.key !== undefined)
    findings.push(...lintKey({ ...keyInput, profile, now: opts.now }));
  return { findings, exitCode: lintExitCode(findings), files };
}
