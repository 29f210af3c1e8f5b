// `pgharden certs revoke FILE|NAME` and `pgharden certs crl`: the CA's CRL (root.crl beside root.crt).
// Deploying it to the nodes (ssl_crl_file) is rotation's job.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { loadInventory } from '../core/inventory.js';
import { expandHome, inventoryPkiDir } from '../core/paths.js';
import { UsageError, type ExitCode } from '../core/errors.js';
import { describeCrl, isRevocationReason, readCrlFile, revoke, REVOCATION_REASONS } from '../pki/crl.js';
import { CA_CERT_FILE, CRL_FILE, readCertFile } from '../pki/store.js';
import { readPassphraseFile } from './certs-issue.js';
import { jsonLine } from './views/json-lines.js';
import type { CliIo, GlobalOptions } from './io.js';
import { reportFailure } from './report-error.js';

interface DirOptions {
  inventory?: string;
  dir?: string;
}

interface RevokeOptions extends DirOptions {
  reason?: string;
  caPassphraseFile?: string;
}

/** --dir, else the PKI dir of the -i inventory's cluster; neither: exit 2 (guessing a CA is worse). */
async function resolveDir(opts: DirOptions, io: CliIo): Promise<string> {
  if (opts.dir !== undefined) return expandHome(opts.dir);
  if (opts.inventory !== undefined)
    return inventoryPkiDir((await loadInventory(opts.inventory)).inventory, io.env);
  throw new UsageError(
    'certs.no-dir',
    'which CA? no --dir and no -i given',
    'pass --dir DIR (the directory with root.crt and root.key) or -i inventory.yaml',
  );
}

/** A path when it looks like one (a slash or a .crt/.pem name), else a node/role name in the PKI dir. */
async function targetFile(target: string, dir: string): Promise<string> {
  if (target.includes('/') || /\.(crt|pem|cer)$/i.test(target)) return expandHome(target);
  const file = join(dir, `${target}.crt`);
  const exists = await access(file).then(
    () => true,
    () => false,
  );
  if (!exists) {
    throw new UsageError(
      'certs.unknown-name',
      `no certificate named ${target} in ${dir} (looked for ${target}.crt)`,
      'pass a node or role name that `certs issue` wrote there, or the path of a certificate file',
    );
  }
  return file;
}

const when = (d: Date): string => `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

export async function certsRevokeCommand(
  target: string,
  raw: Record<string, unknown>,
  global: GlobalOptions,
  io: CliIo,
): Promise<ExitCode> {
  const opts = raw as RevokeOptions;
  try {
    const reason = opts.reason ?? 'unspecified';
    if (!isRevocationReason(reason)) {
      throw new UsageError(
        'certs.bad-reason',
        `--reason ${reason}: expected one of ${REVOCATION_REASONS.join(', ')}`,
      );
    }
    const dir = await resolveDir(opts, io);
    const file = await targetFile(target, dir);
    const cert = await readCertFile(file);
    const passphrase =
      opts.caPassphraseFile === undefined ? undefined : await readPassphraseFile(opts.caPassphraseFile);
    const result = await revoke(dir, cert, reason, passphrase === undefined ? {} : { passphrase });
    const info = describeCrl(result.crl);
    const entry = {
      subject: cert.subject,
      serial: result.serial,
      reason,
      status: result.status,
      crl: result.path,
      crlNumber: info.number === undefined ? undefined : Number(info.number),
      nextUpdate: info.nextUpdate,
    };
    if (global.json === true) {
      jsonLine(io.stdout, { type: 'pki:revoked', file, ...entry });
      jsonLine(io.stdout, { type: 'summary', command: 'certs revoke', exitCode: 0, ...entry });
    } else {
      const head =
        result.status === 'added'
          ? `✓ revoked ${cert.subject} (serial ${result.serial}, ${reason})`
          : result.status === 'reason-changed'
            ? `✓ ${cert.subject} (serial ${result.serial}) was revoked already; reason now ${reason}`
            : `✓ ${cert.subject} (serial ${result.serial}) was revoked already; CRL re-signed`;
      io.stdout.write(
        `${head}\n  ${result.path}: CRL number ${entry.crlNumber ?? '?'}, ${info.entries.length} revoked, ` +
          `next update ${info.nextUpdate ? when(info.nextUpdate) : 'none'}\n` +
          '  nodes see it once it is deployed as ssl_crl_file (`pgharden apply` deploys it and re-issues what was revoked)\n',
      );
    }
    return 0;
  } catch (err) {
    return reportFailure(err, 'certs revoke', global, io);
  }
}

export async function certsCrlCommand(
  raw: Record<string, unknown>,
  global: GlobalOptions,
  io: CliIo,
): Promise<ExitCode> {
  const opts = raw as DirOptions;
  try {
    const dir = await resolveDir(opts, io);
    const path = join(dir, CRL_FILE);
    const crl = await readCrlFile(dir);
    if (crl === undefined) {
      if (global.json === true) {
        jsonLine(io.stdout, {
          type: 'summary',
          command: 'certs crl',
          exitCode: 0,
          path,
          exists: false,
          revoked: 0,
        });
      } else {
        io.stdout.write(`no ${CRL_FILE} in ${dir}: nothing has been revoked with this CA\n`);
      }
      return 0;
    }
    const info = describeCrl(crl);
    const caCert = await readCertFile(join(dir, CA_CERT_FILE)).catch(() => undefined);
    const signature =
      caCert === undefined ? 'unchecked' : (await crl.verify({ publicKey: caCert })) ? 'ok' : 'bad';
    const now = new Date();
    const expired = info.nextUpdate !== undefined && info.nextUpdate < now;
    // A CRL its CA does not verify is bad input (exit 2). One past nextUpdate is still printed, marked
    // EXPIRED (OpenSSL rejects certificates against it), exit 0: reading it is what the operator asked.
    const exitCode: ExitCode = signature === 'bad' ? 2 : 0;
    if (global.json === true) {
      for (const e of info.entries) jsonLine(io.stdout, { type: 'crl:entry', ...e });
      jsonLine(io.stdout, {
        type: 'summary',
        command: 'certs crl',
        exitCode,
        path,
        issuer: info.issuer,
        number: info.number === undefined ? undefined : Number(info.number),
        thisUpdate: info.thisUpdate,
        nextUpdate: info.nextUpdate,
        expired,
        signature,
        revoked: info.entries.length,
      });
    } else {
      const next = info.nextUpdate === undefined ? 'none' : when(info.nextUpdate);
      io.stdout.write(
        [
          `CRL ${path}`,
          `  issuer       ${info.issuer}`,
          `  number       ${info.number ?? '-'}`,
          `  this update  ${when(info.thisUpdate)}`,
          `  next update  ${next}${expired ? '  EXPIRED: re-sign it (certs revoke again re-signs)' : ''}`,
          `  signature    ${signature === 'ok' ? `ok (${CA_CERT_FILE})` : signature === 'bad' ? `does NOT verify with ${CA_CERT_FILE}` : `unchecked (no ${CA_CERT_FILE})`}`,
          `  revoked      ${info.entries.length}`,
          ...info.entries.map((e) => `    ${e.serial}  ${when(e.revoked)}  ${e.reason}`),
          '',
        ].join('\n'),
      );
    }
    return exitCode;
  } catch (err) {
    return reportFailure(err, 'certs crl', global, io);
  }
}
