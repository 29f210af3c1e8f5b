// The PKI directory on the operator's machine (SPEC §2): 0700 dir, 0600 keys, atomic writes, the CA pair.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { loadCa, type Ca } from './ca.js';
import { readCertificates } from './import.js';
import type { x509 } from './x509.js';

export const CA_CERT_FILE = 'root.crt';
export const CA_KEY_FILE = 'root.key';
export const CRL_FILE = 'root.crl';
export const KEY_MODE = 0o600;
export const CERT_MODE = 0o644;

/**
 * Create the directory 0700, or tighten an existing one that group/others can read: it holds the CA
 * key, and a looser mode left by hand (or by a restored backup) is a finding, not a reason to stop.
 * Returns warnings for what it changed.
 */
export async function ensurePkiDir(dir: string): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    // EEXIST: something that is not a directory is in the way; the check below says so.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new UsageError(
        'pki.dir-unwritable',
        `cannot create ${dir}: ${(err as Error).message}`,
        undefined,
        {
          cause: err,
        },
      );
    }
  }
  const st = await stat(dir);
  if (!st.isDirectory()) {
    throw new UsageError('pki.dir-not-dir', `${dir} is not a directory`, 'pass --out DIR with a directory');
  }
  if ((st.mode & 0o077) === 0) return [];
  await chmod(dir, 0o700);
  return [`${dir} was mode ${(st.mode & 0o777).toString(8)}; set to 700 (it holds the CA key)`];
}

/** Tighten an existing key file that group/others may read; returns a warning when it did. */
export async function tightenKeyFile(path: string): Promise<string | undefined> {
  const st = await stat(path);
  if ((st.mode & 0o077) === 0) return undefined;
  await chmod(path, KEY_MODE);
  return `${path} was mode ${(st.mode & 0o777).toString(8)}; set to 600`;
}

/**
 * Write via a temp file in the same directory and rename, so a reader (or a crash) sees the old file or
 * the new one, never half of one. The temp file is created with its final mode ('wx': never through an
 * existing file or symlink), so a key is 0600 from its first byte. Certificates get an explicit fchmod
 * before any data to undo a strict umask: they are public and other users (postgres) may need to read them.
 */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    if (mode !== KEY_MODE) await fh.chmod(mode);
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** File text, or undefined when it does not exist. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError('pki.unreadable', `cannot read ${path}: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
}

/** The first certificate of a PEM file (the leaf of a chain), through the importer. */
export async function readCertFile(path: string): Promise<x509.X509Certificate> {
  const first = (await readCertificates(path))[0];
  if (first === undefined) throw new Error(`unreachable: ${path} parsed without a certificate`);
  return first.cert;
}

/**
 * The CA of a PKI directory: undefined when neither root.crt nor root.key exists (a new CA may be
 * created); an error when only one of them does, since creating a new CA beside half of the old one
 * would silently orphan every certificate it issued.
 */
export async function loadCaFromDir(dir: string, passphrase?: string): Promise<Ca | undefined> {
  const files = { cert: join(dir, CA_CERT_FILE), key: join(dir, CA_KEY_FILE) };
  const [certPem, keyPem] = await Promise.all([readOptional(files.cert), readOptional(files.key)]);
  if (certPem === undefined && keyPem === undefined) return undefined;
  if (certPem === undefined || keyPem === undefined) {
    const [have, missing] = certPem === undefined ? [files.key, files.cert] : [files.cert, files.key];
    throw new UsageError(
      'pki.ca-incomplete',
      `${have} exists but ${missing} does not`,
      'restore the missing file, or move both away to create a new CA (every issued certificate then needs re-issuing)',
    );
  }
  return loadCa(certPem, keyPem, files, passphrase);
}

/** Like loadCaFromDir, for commands that cannot work without a CA. */
export async function requireCa(dir: string, passphrase?: string): Promise<Ca> {
  const ca = await loadCaFromDir(dir, passphrase);
  if (ca === undefined) {
    throw new UsageError(
      'pki.no-ca',
      `no CA in ${dir} (${CA_CERT_FILE} and ${CA_KEY_FILE})`,
      'create it with `pgharden certs issue -i inventory.yaml`, or pass --dir with the PKI directory',
    );
  }
  return ca;
}
