import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedKey } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { makeAuth, planMethods, type AuthDeps } from './auth.js';
import type { SshTarget } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'pgh-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const home = join(dir, 'home');

function target(identityFiles: string[]): SshTarget {
  return {
    node: 'pg1',
    host: 'h',
    port: 22,
    user: 'admin',
    identityFiles,
    knownHostsPath: '/dev/null',
    readyTimeoutMs: 1,
  };
}

// Key files hold a word: PLAIN parses, ENCRYPTED needs the passphrase "pw", anything else is no key.
const fakeKey = { isPrivateKey: () => true } as unknown as ParsedKey;
const parseKey: AuthDeps['parseKey'] = (data, passphrase) => {
  const text = data.toString();
  if (text === 'PLAIN') return fakeKey;
  if (text === 'ENCRYPTED') {
    if (passphrase === undefined)
      return new Error('Encrypted private OpenSSH key detected, but no passphrase given');
    return passphrase === 'pw' ? fakeKey : new Error('OpenSSH key integrity check failed -- bad passphrase?');
  }
  return new Error('Unsupported key format');
};

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** Drive the ssh2 authHandler like ssh2 does: ask, "fail", ask again, until it says false. */
async function offered(t: SshTarget, deps: Partial<AuthDeps> = {}, authsLeft: string[] | null = null) {
  const failures: Error[] = [];
  const auth = makeAuth(t, {
    secrets: undefined,
    env: { HOME: home },
    parseKey,
    whileWaitingForOperator: (p) => p,
    fail: (e) => failures.push(e),
    ...deps,
  });
  const types: string[] = [];
  for (let i = 0; i < 10; i++) {
    const m = await new Promise<unknown>((resolve) => auth.handler(authsLeft as never, false, resolve));
    if (m === false) break;
    types.push((m as { type: string }).type);
  }
  return { types, tried: auth.tried, failures };
}

describe('planMethods', () => {
  it('identity files, then the agent; default keys only without identity files; keyboard-interactive last', () => {
    const env = { HOME: home, SSH_AUTH_SOCK: '/run/agent.sock' };
    expect(planMethods(target(['/k/a', '/k/b']), undefined, env)).toEqual([
      { kind: 'file', path: '/k/a', explicit: true },
      { kind: 'file', path: '/k/b', explicit: true },
      { kind: 'agent', socket: '/run/agent.sock' },
    ]);
    const kbd = { keyboardInteractive: () => Promise.resolve(undefined) };
    expect(planMethods(target([]), kbd, { HOME: home }).map((m) => ('path' in m ? m.path : m.kind))).toEqual([
      join(home, '.ssh', 'id_ed25519'),
      join(home, '.ssh', 'id_ecdsa'),
      join(home, '.ssh', 'id_rsa'),
      'keyboard-interactive',
    ]);
  });
});

describe('makeAuth', () => {
  it('offers each usable key once, in order, and records what it tried', async () => {
    const a = file('a', 'PLAIN');
    const b = file('b', 'PLAIN');
    const r = await offered(target([a, b]), { env: { HOME: home, SSH_AUTH_SOCK: '/run/agent.sock' } });
    expect(r.types).toEqual(['publickey', 'publickey', 'agent']);
    expect(r.tried).toEqual([a, b, 'ssh-agent']);
    expect(r.failures).toEqual([]);
  });

  it('skips public keys when the server no longer accepts publickey', async () => {
    const r = await offered(target([file('c', 'PLAIN')]), {}, ['password']);
    expect(r.types).toEqual([]);
  });

  it('encrypted key: asks the passphrase for that file; none → ssh.key-passphrase-needed', async () => {
    const k = file('enc', 'ENCRYPTED');
    const asked: string[] = [];
    const ok = await offered(target([k]), {
      secrets: { keyPassphrase: (f) => (asked.push(f), Promise.resolve('pw')) },
    });
    expect(ok.types).toEqual(['publickey']);
    expect(asked).toEqual([k]);

    const none = await offered(target([k]));
    expect(none.failures[0]).toMatchObject({ code: 'ssh.key-passphrase-needed', exitCode: 2 });
    expect(none.failures[0]?.message).toContain(k);

    const wrong = await offered(target([k]), { secrets: { keyPassphrase: () => Promise.resolve('nope') } });
    expect(wrong.failures[0]).toMatchObject({ code: 'ssh.key-passphrase-wrong' });
    expect(wrong.failures[0]?.message).not.toContain('nope');
  });

  it('a missing or unusable explicit key file is a usage error; missing default keys are skipped quietly', async () => {
    const missing = await offered(target([join(dir, 'nope')]));
    expect(missing.failures[0]).toMatchObject({ code: 'ssh.identity-file-unreadable' });
    const junk = await offered(target([file('junk', 'hello')]));
    expect(junk.failures[0]?.message).toContain('not a private key');
    const defaults = await offered(target([]));
    expect(defaults).toEqual({ types: [], tried: [], failures: [] });
  });
});
