import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  checkHostKey,
  fingerprintSha256,
  keyTypeOfBlob,
  parseKnownHosts,
} from './known-hosts.js';

// Real keys from ssh-keygen, so the blobs, types and fingerprints are what sshd would send.
let dir: string;
const keys: Record<string, { type: string; b64: string; blob: Buffer; pub: string }> = {};

function keygen(name: string, args: string[]): void {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', ...args, '-N', '', '-C', '', '-f', file]);
  const [type = '', b64 = ''] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
  keys[name] = { type, b64, blob: Buffer.from(b64, 'base64'), pub: `${file}.pub` };
}

function k(name: string) {
  const key = keys[name];
  if (key === undefined) throw new Error(`no key ${name}`);
  return key;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgh-kh-'));
  keygen('ed', ['-t', 'ed25519']);
  keygen('ed2', ['-t', 'ed25519']);
  keygen('rsa', ['-t', 'rsa', '-b', '2048']);
  keygen('ecdsa', ['-t', 'ecdsa', '-b', '256']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const line = (hosts: string, name: string): string => `${hosts} ${k(name).type} ${k(name).b64}`;
const check = (text: string, host: string, port: number, name: string) =>
  checkHostKey(parseKnownHosts(text), host, port, k(name).type, k(name).blob);

describe('checkHostKey', () => {
  it('plain host, comma list, case-insensitive', () => {
    const text = line('pg1.example.com,10.0.0.11', 'ed');
    expect(check(text, 'pg1.example.com', 22, 'ed')).toEqual({ status: 'match', line: 1 });
    expect(check(text, '10.0.0.11', 22, 'ed').status).toBe('match');
    expect(check(text, 'PG1.Example.COM', 22, 'ed').status).toBe('match');
    expect(check(text, 'pg2.example.com', 22, 'ed')).toEqual({ status: 'unknown', knownTypes: [] });
  });

  it('[host]:port entries match only that port, and a port-22 entry does not match another port', () => {
    const text = [line('[10.0.0.11]:2222', 'ed'), line('10.0.0.12', 'ed')].join('\n');
    expect(check(text, '10.0.0.11', 2222, 'ed')).toEqual({ status: 'match', line: 1 });
    expect(check(text, '10.0.0.11', 22, 'ed').status).toBe('unknown');
    expect(check(text, '10.0.0.12', 2222, 'ed').status).toBe('unknown');
  });

  it('wildcards and negation', () => {
    const text = line('*.db.example.com,!evil.db.example.com,node?', 'ed');
    expect(check(text, 'a.db.example.com', 22, 'ed').status).toBe('match');
    expect(check(text, 'db.example.com', 22, 'ed').status).toBe('unknown');
    expect(check(text, 'evil.db.example.com', 22, 'ed').status).toBe('unknown');
    expect(check(text, 'node7', 22, 'ed').status).toBe('match');
    expect(check(text, 'node17', 22, 'ed').status).toBe('unknown');
    // Pattern characters are not regex characters.
    expect(check(line('10.0.0.1', 'ed'), '10a0b0c1', 22, 'ed').status).toBe('unknown');
  });

  it('a different key of the same type is a changed key, with its line', () => {
    const text = ['# comment', '', line('pg1', 'ed2')].join('\n');
    expect(check(text, 'pg1', 22, 'ed')).toEqual({ status: 'changed', knownTypes: ['ssh-ed25519'], line: 3 });
  });

  it('several keys per host: any exact match wins over a differing one', () => {
    const text = [line('pg1', 'ed2'), line('pg1', 'ed')].join('\n');
    expect(check(text, 'pg1', 22, 'ed')).toEqual({ status: 'match', line: 2 });
    const mixed = [line('pg1', 'rsa'), line('pg1', 'ecdsa'), line('pg1', 'ed')].join('\n');
    expect(check(mixed, 'pg1', 22, 'rsa').status).toBe('match');
    expect(check(mixed, 'pg1', 22, 'ecdsa').status).toBe('match');
  });

  it('keys of other types only: unknown, naming the known types', () => {
    const text = [line('pg1', 'rsa'), line('pg1', 'ecdsa')].join('\n');
    expect(check(text, 'pg1', 22, 'ed')).toEqual({
      status: 'unknown',
      knownTypes: ['ssh-rsa', 'ecdsa-sha2-nistp256'],
    });
  });

  it('@revoked refuses the key even when another line matches it; @cert-authority lines are ignored', () => {
    const text = [
      line('pg1', 'ed'),
      `@revoked ${line('*', 'ed')}`,
      `@cert-authority ${line('pg2', 'ed2')}`,
    ].join('\n');
    expect(check(text, 'pg1', 22, 'ed')).toEqual({ status: 'revoked', line: 2 });
    expect(check(text, 'pg2', 22, 'ed2').status).toBe('unknown');
    expect(check(text, 'pg2', 22, 'ed').status).toBe('revoked');
  });

  it('skips broken lines and keeps line numbers', () => {
    const text = ['garbage', 'pg1 ssh-ed25519', 'pg1 ssh-ed25519 !!notbase64', '\t', line('pg1', 'ed')].join(
      '\n',
    );
    expect(parseKnownHosts(text).map((e) => e.line)).toEqual([5]);
  });

  it('hashed entries written by ssh-keygen -H, for port 22 and [host]:port', () => {
    const file = join(dir, 'kh-hashed');
    writeFileSync(file, [line('pg1.example.com', 'ed'), line('[10.0.0.11]:2222', 'rsa'), ''].join('\n'));
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('pg1.example.com');
    expect(text.startsWith('|1|')).toBe(true);
    expect(check(text, 'pg1.example.com', 22, 'ed').status).toBe('match');
    expect(check(text, 'pg1.example.com', 2222, 'ed').status).toBe('unknown');
    expect(check(text, '10.0.0.11', 2222, 'rsa').status).toBe('match');
    expect(check(text, '10.0.0.11', 22, 'rsa').status).toBe('unknown');
    expect(check(text, 'pg1.example.com', 22, 'ed2').status).toBe('changed');
  });
});

describe('fingerprintSha256 / keyTypeOfBlob', () => {
  it.each(['ed', 'rsa', 'ecdsa'])('%s: same as ssh-keygen -lf', (name) => {
    const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', k(name).pub], { encoding: 'utf8' });
    expect(fingerprintSha256(k(name).blob)).toBe(out.split(/\s+/)[1]);
    expect(keyTypeOfBlob(k(name).blob)).toBe(k(name).type);
  });

  it('rejects blobs that are not SSH keys', () => {
    expect(keyTypeOfBlob(Buffer.from([0, 0]))).toBeUndefined();
    expect(keyTypeOfBlob(Buffer.from([0xff, 0, 0, 0, 1]))).toBeUndefined();
  });
});

describe('appendKnownHost', () => {
  it('creates dir 0700 and file 0600, appends lines OpenSSH finds (plain and hashed)', async () => {
    const file = join(dir, 'new', 'sub', 'known_hosts');
    await appendKnownHost(file, 'pg1', 22, k('ed').type, k('ed').b64);
    await appendKnownHost(file, '10.0.0.11', 2222, k('rsa').type, k('rsa').b64, { hashed: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'new', 'sub')).mode & 0o777).toBe(0o700);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe(line('pg1', 'ed'));
    expect(text).not.toContain('10.0.0.11');
    expect(check(text, 'pg1', 22, 'ed').status).toBe('match');
    expect(check(text, '10.0.0.11', 2222, 'rsa').status).toBe('match');
    // OpenSSH itself agrees: ssh-keygen -F finds both entries.
    expect(execFileSync('ssh-keygen', ['-F', 'pg1', '-f', file], { encoding: 'utf8' })).toContain(
      k('ed').b64,
    );
    expect(
      execFileSync('ssh-keygen', ['-F', '[10.0.0.11]:2222', '-f', file], { encoding: 'utf8' }),
    ).toContain(k('rsa').b64);
  });

  it('does not glue onto a last line without newline, keeps old content, survives parallel appends', async () => {
    const file = join(dir, 'kh-append');
    writeFileSync(file, line('old', 'ed2'), { mode: 0o644 });
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => appendKnownHost(file, `h${i}`, 22, k('ed').type, k('ed').b64)),
    );
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(9);
    expect(lines[0]).toBe(line('old', 'ed2'));
    expect(lines.slice(1).sort()).toEqual(Array.from({ length: 8 }, (_, i) => line(`h${i}`, 'ed')).sort());
    expect(statSync(file).mode & 0o777).toBe(0o644); // an existing file keeps its mode
  });
});
