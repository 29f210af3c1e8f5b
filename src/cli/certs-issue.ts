// `pgharden certs issue -i inv.yaml`: create or reuse the cluster CA and issue (or keep) a server cert
// per node and pooler and a client cert per --client role. Never prints key material.
import { stat, readFile } from 'node:fs/promises';
import { loadInventory } from '../core/inventory.js';
import { expandHome, inventoryPkiDir } from '../core/paths.js';
import { UsageError, type ExitCode } from '../core/errors.js';
import { issueToDir, planLeaves, type PkiFile } from '../pki/issue.js';
import { isKeyType } from '../pki/keys.js';
import type { CliIo, GlobalOptions } from './io.js';
import { reportFailure } from './report-error.js';
import { jsonLine } from './views/json-lines.js';

interface IssueOptions {
  inventory: string;
  out?: string;
  client?: string[];
  keyType?: string;
  days?: string;
  caPassphraseFile?: string;
}

/** Leaves up to 825 days: the old browser limit, and far past what a cluster should run on. */
export const MAX_LEAF_DAYS = 825;

export function parseDays(text: string): number {
  const days = /^[1-9]\d*$/.test(text) ? Number(text) : NaN;
  if (!(days <= MAX_LEAF_DAYS)) {
    throw new UsageError(
      'certs.bad-days',
      `--days ${text}: expected a whole number of days from 1 to ${MAX_LEAF_DAYS}`,
      'e.g. --days 365 (the default); rotation re-issues before expiry',
    );
  }
  return days;
}

/**
 * A passphrase from a file: refused unless only its owner can read it (like --secrets); one trailing
 * newline is dropped, since `echo secret > file` adds it.
 */
export async function readPassphraseFile(path: string): Promise<string> {
  const file = expandHome(path);
  let text: string;
  try {
    const st = await stat(file);
    if ((st.mode & 0o077) !== 0) {
      throw new UsageError(
        'certs.passphrase-file-mode',
        `${file} is mode ${(st.mode & 0o777).toString(8)}; a passphrase file must be readable by its owner only`,
        `chmod 600 ${file}`,
      );
    }
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (UsageError.is(err)) throw err;
    throw new UsageError('certs.passphrase-file', `cannot read ${file}: ${(err as Error).message}`);
  }
  const passphrase = text.replace(/\r?\n$/, '');
  if (passphrase === '') throw new UsageError('certs.passphrase-empty', `${file} is empty`);
  return passphrase;
}

/** --out, else the inventory's pki.dir, else the cluster's default PKI dir (SPEC §2). */

const day = (d: Date): string => d.toISOString().slice(0, 10);

function humanLine(f: PkiFile, width: number): string {
  const what = f.kind === 'ca' ? 'CA' : f.kind === 'client' ? 'client' : 'server';
  const detail =
    f.part === 'key'
      ? `${f.keyType} key`
      : `${what} ${f.name}  ${f.keyType}  until ${day(f.notAfter)}${f.sans.length ? `  SAN ${f.sans.join(', ')}` : ''}`;
  return `  ${f.status.padEnd(6)}  ${f.file.padEnd(width)}  ${detail}${f.note ? `  (${f.note})` : ''}\n`;
}

export async function certsIssueCommand(
  raw: Record<string, unknown>,
  global: GlobalOptions,
  io: CliIo,
): Promise<ExitCode> {
  const opts = raw as unknown as IssueOptions;
  const json = global.json === true;
  try {
    const keyType = opts.keyType ?? 'p256';
    if (!isKeyType(keyType)) {
      throw new UsageError(
        'certs.bad-key-type',
        `--key-type ${keyType}: expected p256, p384, rsa3072 or rsa4096`,
      );
    }
    const days = parseDays(opts.days ?? '365');
    const { inventory } = await loadInventory(opts.inventory);
    const dir = opts.out !== undefined ? expandHome(opts.out) : inventoryPkiDir(inventory, io.env);
    const caPassphrase =
      opts.caPassphraseFile === undefined ? undefined : await readPassphraseFile(opts.caPassphraseFile);
    const result = await issueToDir({
      dir,
      cluster: inventory.cluster,
      leaves: planLeaves(inventory, opts.client ?? []),
      keyType,
      days,
      ...(caPassphrase === undefined ? {} : { caPassphrase }),
    });
    const counts = { issued: 0, kept: 0, reused: 0 };
    for (const f of result.files) counts[f.status] += 1;
    if (json) {
      for (const message of result.warnings) jsonLine(io.stdout, { type: 'warning', message });
      for (const f of result.files) jsonLine(io.stdout, { type: 'pki:file', ...f });
      jsonLine(io.stdout, { type: 'summary', command: 'certs issue', exitCode: 0, dir, counts });
    } else {
      for (const w of result.warnings) io.stderr.write(`! ${w}\n`);
      const width = Math.max(...result.files.map((f) => f.file.length));
      io.stdout.write(`PKI directory ${dir}\n`);
      for (const f of result.files) io.stdout.write(humanLine(f, width));
      io.stdout.write(
        `✓ ${counts.issued} issued, ${counts.kept} kept, ${counts.reused} reused; keys are 0600, never printed\n`,
      );
    }
    return 0;
  } catch (err) {
    return reportFailure(err, 'certs issue', global, io);
  }
}
