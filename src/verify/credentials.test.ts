import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginCredential, passwordEnvVar, readSecretsFile, resolveCredentials } from './credentials.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgharden-cred-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('credentials', () => {
  it.each([
    ['app', 'PGHARDEN_PASSWORD_APP'],
    ['my-app.rw', 'PGHARDEN_PASSWORD_MY_APP_RW'],
    ['Ünïcode role', 'PGHARDEN_PASSWORD__N_CODE_ROLE'],
    ['pgautofailover_replicator', 'PGHARDEN_PASSWORD_PGAUTOFAILOVER_REPLICATOR'],
  ])('%s → %s', (role, name) => {
    expect(passwordEnvVar(role)).toBe(name);
  });

  it('reads a 0600 secrets file and refuses a looser one with exit 2, without quoting its content', async () => {
    const file = join(dir, 'secrets.yaml');
    await writeFile(file, 'app: s3cret-pass\nreplicator: 12345\n');
    await chmod(file, 0o600);
    expect(await readSecretsFile(file)).toEqual(
      new Map([
        ['app', 's3cret-pass'],
        ['replicator', '12345'],
      ]),
    );
    await chmod(file, 0o640);
    const err = await readSecretsFile(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 2, code: 'secrets.mode' });
    expect(String((err as Error).message)).not.toContain('s3cret');
  });

  it('env beats the secrets file; a cert in the PKI dir counts; client roles come first', async () => {
    await writeFile(join(dir, 'mon.crt'), 'CERT');
    await writeFile(join(dir, 'mon.key'), 'KEY');
    const creds = await resolveCredentials(
      [
        { name: 'mon', kind: 'monitor' },
        { name: 'app', kind: 'client' },
      ],
      dir,
      { PGHARDEN_PASSWORD_APP: 'from-env' },
      new Map([['app', 'from-file']]),
    );
    expect(creds.map((c) => c.role)).toEqual(['app', 'mon']);
    expect(creds[0]?.password).toBe('from-env');
    expect(creds[1]?.cert).toEqual({ cert: 'CERT', key: 'KEY' });
    expect(loginCredential(creds)?.role).toBe('app');
    expect(loginCredential([{ role: 'x', password: undefined, cert: undefined }])).toBeUndefined();
  });
});
