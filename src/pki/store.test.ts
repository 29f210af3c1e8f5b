import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCa } from './ca.js';
import {
  CERT_MODE,
  ensurePkiDir,
  KEY_MODE,
  loadCaFromDir,
  requireCa,
  tightenKeyFile,
  writeFileAtomic,
} from './store.js';
import { rejection } from '../../test/helpers/rejection.js';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'pgharden-store-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

describe('ensurePkiDir', () => {
  it('creates the directory (and missing parents) 0700', async () => {
    const dir = join(work, 'a', 'b', 'pki');
    expect(await ensurePkiDir(dir)).toEqual([]);
    expect(await mode(dir)).toBe(0o700);
  });

  it('tightens an existing 0755 directory and says so', async () => {
    const dir = join(work, 'pki');
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    const warnings = await ensurePkiDir(dir);
    expect(warnings).toEqual([`${dir} was mode 755; set to 700 (it holds the CA key)`]);
    expect(await mode(dir)).toBe(0o700);
  });

  it('refuses a file where the directory should be', async () => {
    const path = join(work, 'file');
    await writeFile(path, '');
    expect((await rejection(ensurePkiDir(path))).code).toBe('pki.dir-not-dir');
  });
});

describe('writeFileAtomic', () => {
  it('writes keys 0600 and certificates 0644, replaces existing files, leaves no temp files', async () => {
    const key = join(work, 'pg1.key');
    const crt = join(work, 'pg1.crt');
    await writeFile(key, 'old', { mode: 0o644 });
    await writeFileAtomic(key, 'new key', KEY_MODE);
    await writeFileAtomic(crt, 'cert', CERT_MODE);
    expect(await readFile(key, 'utf8')).toBe('new key');
    // A fresh inode from the temp file: the old file's looser mode does not carry over.
    expect(await mode(key)).toBe(0o600);
    expect(await mode(crt)).toBe(0o644);
    expect((await readdir(work)).sort()).toEqual(['pg1.crt', 'pg1.key']);
  });

  it('fails cleanly when the directory is missing', async () => {
    await expect(writeFileAtomic(join(work, 'nope', 'x.key'), 'k', KEY_MODE)).rejects.toThrow(/ENOENT/);
  });
});

describe('tightenKeyFile', () => {
  it('fixes a group-readable key and reports it; leaves a 0600 one alone', async () => {
    const key = join(work, 'x.key');
    await writeFile(key, 'k', { mode: 0o640 });
    await chmod(key, 0o640);
    expect(await tightenKeyFile(key)).toBe(`${key} was mode 640; set to 600`);
    expect(await mode(key)).toBe(0o600);
    expect(await tightenKeyFile(key)).toBeUndefined();
  });
});

describe('loadCaFromDir', () => {
  it('undefined when there is no CA; the CA when both files are there', async () => {
    expect(await loadCaFromDir(work)).toBeUndefined();
    const ca = await createCa({ cluster: 'c' });
    await writeFile(join(work, 'root.crt'), ca.certPem);
    await writeFile(join(work, 'root.key'), ca.keyPem);
    expect((await loadCaFromDir(work))?.keyId).toBe(ca.keyId);
  });

  it.each(['root.crt', 'root.key'])('only %s → a clear error, never a silent new CA', async (only) => {
    const ca = await createCa({ cluster: 'c' });
    await writeFile(join(work, only), only === 'root.crt' ? ca.certPem : ca.keyPem);
    const err = await rejection(loadCaFromDir(work));
    expect(err.code).toBe('pki.ca-incomplete');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(`${join(work, only)} exists`);
  });

  it('requireCa names the directory when there is no CA', async () => {
    const err = await rejection(requireCa(work));
    expect(err.code).toBe('pki.no-ca');
    expect(err.message).toContain(work);
  });
});
