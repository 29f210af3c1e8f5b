import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generatePassword, passwordEnvVar, resolvePasswords } from './secrets.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgh-secrets-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function secretsFile(text: string, mode: number): string {
  const p = join(dir, 'secrets.yaml');
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

describe('passwordEnvVar', () => {
  it.each([
    ['app', 'PGHARDEN_PASSWORD_APP'],
    ['app-ro', 'PGHARDEN_PASSWORD_APP_RO'],
    ['my.role', 'PGHARDEN_PASSWORD_MY_ROLE'],
    ['Ünïcode r', 'PGHARDEN_PASSWORD__N_CODE_R'],
    ['r2d2', 'PGHARDEN_PASSWORD_R2D2'],
  ])('%s → %s', (role, name) => expect(passwordEnvVar(role)).toBe(name));
});

describe('resolvePasswords', () => {
  it('resume: a password the run generated before is reused, not generated again', async () => {
    const got = await resolvePasswords({
      roles: [
        { name: 'replicator', kind: 'replication' },
        { name: 'monitor', kind: 'monitor' },
      ],
      env: {},
      generatedBefore: new Map([['replicator', 'from-the-run-file']]),
    });
    expect(got.get('replicator')).toEqual({ password: 'from-the-run-file', source: 'generated' });
    expect(got.get('monitor')?.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it('takes env first, then the 0600 file; internal roles get a generated password', async () => {
    const file = secretsFile('app: from-file\nother: x\n', 0o600);
    const got = await resolvePasswords({
      roles: [
        { name: 'app', kind: 'client' },
        { name: 'app-ro', kind: 'client' },
        { name: 'replicator', kind: 'replication' },
      ],
      env: { PGHARDEN_PASSWORD_APP_RO: 'from-env' },
      secretsFile: file,
    });
    expect(got.get('app')).toEqual({ password: 'from-file', source: 'file' });
    expect(got.get('app-ro')).toEqual({ password: 'from-env', source: 'env' });
    expect(got.get('replicator')?.source).toBe('generated');
    expect(got.get('replicator')?.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it('refuses a secrets file others can read (exit 2) without quoting it', async () => {
    const file = secretsFile('app: hunter2-secret\n', 0o644);
    const err = await resolvePasswords({
      roles: [{ name: 'app', kind: 'client' }],
      env: {},
      secretsFile: file,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 2, code: 'secrets.mode' });
    expect(JSON.stringify({ err, m: (err as Error).message })).not.toContain('hunter2');
  });

  it('does not quote an invalid file either', async () => {
    const file = secretsFile('app: [hunter2-secret\n', 0o600);
    const err = await resolvePasswords({ roles: [], env: {}, secretsFile: file }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 2 });
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('headless, a client role without a password → exit 2 naming PGHARDEN_PASSWORD_<ROLE>', async () => {
    const err = await resolvePasswords({
      roles: [{ name: 'app-ro', kind: 'client' }],
      env: { PGHARDEN_PASSWORD_OTHER: 'x' },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 2, code: 'secrets.missing-password' });
    expect(`${(err as Error).message} ${(err as { hint: string }).hint}`).toContain(
      'PGHARDEN_PASSWORD_APP_RO',
    );
  });

  it('prompts interactively; --generate-passwords issues client passwords', async () => {
    const asked: string[] = [];
    const got = await resolvePasswords({
      roles: [{ name: 'app', kind: 'client' }],
      env: {},
      prompt: (r) => {
        asked.push(r);
        return Promise.resolve('typed');
      },
    });
    expect(asked).toEqual(['app']);
    expect(got.get('app')).toEqual({ password: 'typed', source: 'prompt' });
    const gen = await resolvePasswords({
      roles: [{ name: 'app', kind: 'client' }],
      env: {},
      generatePasswords: true,
    });
    expect(gen.get('app')?.source).toBe('generated');
  });

  it('generates distinct ~24-char base64url passwords', () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(generatePassword()).not.toBe(a);
  });
});
