import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyHostKey } from './host-key.js';
import type { SshTarget, UnknownHostKeyPolicy } from './types.js';

// Hand-made ed25519-shaped blobs: type string + 32 key bytes (enough for type and fingerprint).
function blob(fill: number, type = 'ssh-ed25519'): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  const klen = Buffer.alloc(4);
  klen.writeUInt32BE(32);
  return Buffer.concat([len, t, klen, Buffer.alloc(32, fill)]);
}
const A = blob(1);
const B = blob(2);
const dir = mkdtempSync(join(tmpdir(), 'pgh-hostkey-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const direct = <T>(p: Promise<T>) => p;
function target(knownHostsPath: string): SshTarget {
  return {
    node: 'pg1',
    host: '10.0.0.11',
    port: 2222,
    user: 'u',
    identityFiles: [],
    knownHostsPath,
    readyTimeoutMs: 1,
  };
}
function kh(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const verify = (path: string, key: Buffer, policy: UnknownHostKeyPolicy) =>
  verifyHostKey(target(path), key, policy, direct).catch(
    (e: unknown) => e as Error & { code: string; hint: string },
  );

describe('verifyHostKey', () => {
  it('known key: accepted with its fingerprint', async () => {
    const p = kh('match', `[10.0.0.11]:2222 ssh-ed25519 ${A.toString('base64')}\n`);
    const info = await verify(p, A, 'reject');
    expect(info).toMatchObject({ keyType: 'ssh-ed25519', node: 'pg1', port: 2222 });
    expect((info as { fingerprint: string }).fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('unknown + reject: names node, host:port, type, fingerprint; hint names the flag; missing file = empty', async () => {
    const err = await verify(join(dir, 'missing'), A, 'reject');
    expect(err).toMatchObject({ code: 'ssh.host-key-unknown', node: 'pg1' });
    expect((err as Error).message).toMatch(
      /pg1: unknown host key for 10\.0\.0\.11:2222: ssh-ed25519 SHA256:/,
    );
    expect((err as { hint: string }).hint).toContain('--accept-new-host-keys');
  });

  it('unknown + the operator aborts at the prompt: says so first, nothing written to known_hosts', async () => {
    const p = kh('aborted', '');
    const err = await verify(p, A, () => Promise.resolve('reject' as const));
    expect(err).toMatchObject({ code: 'ssh.host-key-unknown', node: 'pg1' });
    expect((err as Error).message).toMatch(
      /^pg1: aborted, host key not accepted: nothing was sent to 10\.0\.0\.11:2222 \(ssh-ed25519 SHA256:/,
    );
    expect((err as { hint: string }).hint).toContain(p);
    expect(readFileSync(p, 'utf8')).toBe('');
  });

  it('unknown, but other key types known: says so, and the policy sees them', async () => {
    const p = kh('other', `[10.0.0.11]:2222 ssh-rsa ${blob(3, 'ssh-rsa').toString('base64')}\n`);
    let seen: string[] | undefined;
    await verify(p, A, (info) => ((seen = info.otherKnownKeyTypes), Promise.resolve('accept-once')));
    expect(seen).toEqual(['ssh-rsa']);
    expect(((await verify(p, A, 'reject')) as Error).message).toContain('knows only ssh-rsa keys');
  });

  it('changed: refused under every policy, with the line; nothing appended', async () => {
    const text = `# x\n[10.0.0.11]:2222 ssh-ed25519 ${B.toString('base64')}\n`;
    const p = kh('changed', text);
    let asked = false;
    for (const policy of [
      'reject',
      'accept-and-save',
      () => ((asked = true), Promise.resolve('accept-once' as const)),
    ] as const) {
      const err = await verify(p, A, policy);
      expect(err).toMatchObject({ code: 'ssh.host-key-changed' });
      expect((err as Error).message).toContain('line 2');
    }
    expect(asked).toBe(false);
    expect(readFileSync(p, 'utf8')).toBe(text);
  });

  it('a known_hosts that cannot be read is a usage error, not a crash', async () => {
    expect(await verify(dir, A, 'accept-and-save')).toMatchObject({
      code: 'ssh.known-hosts-unreadable',
      exitCode: 2,
    });
  });

  it('revoked: refused even with accept-and-save', async () => {
    const p = kh('revoked', `@revoked * ssh-ed25519 ${A.toString('base64')}\n`);
    expect(await verify(p, A, 'accept-and-save')).toMatchObject({ code: 'ssh.host-key-revoked' });
  });

  it('accept-and-save and a function answering accept-and-save append a plain [host]:port line', async () => {
    const p = join(dir, 'save', 'known_hosts');
    await verify(p, A, 'accept-and-save');
    const E = blob(4, 'ecdsa-sha2-nistp256');
    await verify(p, E, () => Promise.resolve('accept-and-save'));
    expect(readFileSync(p, 'utf8')).toBe(
      `[10.0.0.11]:2222 ssh-ed25519 ${A.toString('base64')}\n[10.0.0.11]:2222 ecdsa-sha2-nistp256 ${E.toString('base64')}\n`,
    );
    // Now both are known; a different ed25519 key is a changed key, not a new one.
    expect(await verify(p, B, 'accept-and-save')).toMatchObject({ code: 'ssh.host-key-changed' });
  });
});
