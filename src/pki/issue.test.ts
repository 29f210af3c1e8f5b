import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Inventory } from '../core/inventory-schema.js';
import type { LeafSpec } from './ca.js';
import { revoke } from './crl.js';
import { issueToDir, planLeaves, sanList, type IssueToDirOptions, type PkiFile } from './issue.js';
import { readCertFile } from './store.js';
import { rejection } from '../../test/helpers/rejection.js';

const run = promisify(execFile);
const DAY = 86_400_000;

let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'pgharden-issue-')), 'pki');
});
afterEach(async () => {
  await rm(join(dir, '..'), { recursive: true, force: true });
});

const LEAVES: LeafSpec[] = [
  { name: 'pg1', kind: 'node', sans: ['10.0.0.11', 'pg1.internal'] },
  { name: 'pool1', kind: 'pooler', sans: ['pool.example.com', 'fd00::20'] },
  { name: 'app', kind: 'client', sans: [] },
];

function issue(extra: Partial<IssueToDirOptions> = {}) {
  return issueToDir({ dir, cluster: 'prod', leaves: LEAVES, ...extra });
}

const statuses = (files: PkiFile[]) => Object.fromEntries(files.map((f) => [f.file, f.status]));

/** The real openssl CLI, as an operator would check the files; resolves with its exit code. */
async function openssl(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run('openssl', args, { cwd: dir });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const verify = (purpose: string, file: string) =>
  openssl('verify', '-x509_strict', '-purpose', purpose, '-CAfile', 'root.crt', file);

describe('planLeaves', () => {
  const inventory = {
    cluster: 'prod',
    topology: 'pgpool',
    network: ['10.0.0.0/24'],
    nodes: [
      { name: 'pg1', host: '10.0.0.11', names: ['pg1.internal', '10.0.0.11', 'PG1.internal'] },
      { name: 'pg2', host: 'pg2.internal' },
    ],
    poolers: [{ name: 'pool1', host: '10.0.0.20', kind: 'pgpool' }],
  } satisfies Inventory;

  it('a server cert per node and pooler (host first, names deduplicated), a client cert per role', () => {
    expect(planLeaves(inventory, ['app', 'replicator', 'app'])).toEqual([
      { name: 'pg1', kind: 'node', sans: ['10.0.0.11', 'pg1.internal'] },
      { name: 'pg2', kind: 'node', sans: ['pg2.internal'] },
      { name: 'pool1', kind: 'pooler', sans: ['10.0.0.20'] },
      { name: 'app', kind: 'client', sans: [] },
      { name: 'replicator', kind: 'client', sans: [] },
    ]);
  });

  it.each([
    ['pg1', 'pki.name-clash'],
    ['root', 'pki.bad-name'],
    ['../etc/passwd', 'pki.bad-name'],
    ['a b', 'pki.bad-name'],
  ])('--client %s → %s', (role, code) => {
    expect(() => planLeaves(inventory, [role])).toThrow(expect.objectContaining({ code, exitCode: 2 }));
  });

  it('sanList keeps the first spelling of a name', () => {
    expect(sanList('DB.example.com', ['db.example.com', 'x'])).toEqual(['DB.example.com', 'x']);
  });
});

describe('issueToDir', () => {
  it('first run: CA and every leaf issued; dir 0700, keys 0600, certs 0644; openssl verifies them', async () => {
    const result = await issue();
    expect(result.caCreated).toBe(true);
    expect(result.warnings).toEqual([]);
    expect(new Set(result.files.map((f) => f.status))).toEqual(new Set(['issued']));
    expect((await readdir(dir)).sort()).toEqual(
      ['app.crt', 'app.key', 'pg1.crt', 'pg1.key', 'pool1.crt', 'pool1.key', 'root.crt', 'root.key'].sort(),
    );
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const f of result.files) {
      expect((await stat(f.path)).mode & 0o777, f.file).toBe(f.part === 'key' ? 0o600 : 0o644);
    }
    expect(await verify('sslserver', 'pg1.crt')).toMatchObject({ code: 0 });
    expect(await verify('sslserver', 'pool1.crt')).toMatchObject({ code: 0 });
    expect(await verify('sslclient', 'app.crt')).toMatchObject({ code: 0 });
    // Purpose is enforced: a client cert is no server cert.
    expect((await verify('sslserver', 'app.crt')).code).not.toBe(0);
    const pool = await readCertFile(join(dir, 'pool1.crt'));
    expect(pool.subject).toBe('CN=pool1');
  });

  it('second run: CA reused byte for byte, good leaves kept byte for byte', async () => {
    await issue();
    const before = await Promise.all(
      ['root.crt', 'root.key', 'pg1.crt', 'pg1.key'].map((f) => readFile(join(dir, f))),
    );
    const again = await issue();
    expect(again.caCreated).toBe(false);
    expect(statuses(again.files)).toMatchObject({
      'root.crt': 'reused',
      'root.key': 'reused',
      'pg1.crt': 'kept',
    });
    expect(new Set(again.files.filter((f) => f.kind !== 'ca').map((f) => f.status))).toEqual(
      new Set(['kept']),
    );
    const after = await Promise.all(
      ['root.crt', 'root.key', 'pg1.crt', 'pg1.key'].map((f) => readFile(join(dir, f))),
    );
    expect(after).toEqual(before);
  });

  it('re-issues a leaf whose SAN, validity, revocation or key no longer fits, and says why', async () => {
    const t0 = new Date();
    await issue({ now: t0 });
    await revoke(dir, await readCertFile(join(dir, 'app.crt')), 'keyCompromise');
    await writeFile(join(dir, 'pool1.key'), await readFile(join(dir, 'pg1.key'))); // wrong key
    const leaves = [{ ...LEAVES[0]!, sans: ['10.0.0.11', 'pg1.internal', 'pg1-vip'] }, ...LEAVES.slice(1)];
    const r = await issueToDir({ dir, cluster: 'prod', leaves, now: t0 });
    const notes = Object.fromEntries(r.files.filter((f) => f.part === 'cert').map((f) => [f.file, f.note]));
    expect(notes).toEqual({
      'root.crt': undefined,
      'pg1.crt': 'replaced: SAN differs from the inventory',
      'pool1.crt': 'replaced: key did not match the certificate',
      'app.crt': 'replaced: revoked',
    });
    expect(await verify('sslserver', 'pool1.crt')).toMatchObject({ code: 0 });

    const later = await issueToDir({ dir, cluster: 'prod', leaves, now: new Date(t0.getTime() + 340 * DAY) });
    // 25 days left minus the sub-second part the certificate's time format drops.
    expect(later.files.find((f) => f.file === 'pg1.crt')?.note).toMatch(/^replaced: expires in 2[45] days$/);
  });

  it('re-issues when only half a pair exists, or the CA is new', async () => {
    await issue();
    await unlink(join(dir, 'pg1.key'));
    expect((await issue()).files.find((f) => f.file === 'pg1.crt')?.note).toBe(
      'replaced: only the certificate existed',
    );
    await rename(join(dir, 'root.crt'), join(dir, '..', 'old.crt'));
    await rename(join(dir, 'root.key'), join(dir, '..', 'old.key'));
    const r = await issue();
    expect(r.caCreated).toBe(true);
    expect(r.files.find((f) => f.file === 'app.crt')?.note).toBe('replaced: not issued by this CA');
  });

  it('keeps a leaf of another key type, noting that --key-type applies to new keys only', async () => {
    await issue();
    const r = await issue({ keyType: 'p384' });
    expect(r.files.find((f) => f.file === 'pg1.crt')).toMatchObject({
      status: 'kept',
      keyType: 'p256',
      note: 'p256 key kept; --key-type applies to new keys',
    });
  });

  it('an encrypted CA key: written encrypted, then needed again to issue', async () => {
    await issue({ caPassphrase: 'pw' });
    expect(await readFile(join(dir, 'root.key'), 'utf8')).toContain('ENCRYPTED PRIVATE KEY');
    const missing = await rejection(issue());
    expect(missing).toMatchObject({ code: 'key.encrypted-no-passphrase', exitCode: 2 });
    expect((await rejection(issue({ caPassphrase: 'nope' }))).code).toBe('key.wrong-passphrase');
    expect(statuses((await issue({ caPassphrase: 'pw' })).files)['root.key']).toBe('reused');
  });

  it('refuses to issue under an expired CA', async () => {
    await issue();
    const err = await rejection(issue({ now: new Date(Date.now() + 3651 * DAY) }));
    expect(err.code).toBe('pki.ca-expired');
  });
});

describe('openssl verify -x509_strict for every key type', () => {
  it.each(['p256', 'p384', 'rsa3072'] as const)(
    '%s',
    async (keyType) => {
      const r = await issue({ keyType });
      expect(r.files.every((f) => f.keyType === keyType)).toBe(true);
      expect(await verify('sslserver', 'pg1.crt')).toMatchObject({ code: 0 });
      expect(await verify('sslclient', 'app.crt')).toMatchObject({ code: 0 });
      expect((await openssl('pkey', '-in', 'pg1.key', '-noout')).code).toBe(0);
      // RSA key generation, not what is tested here, takes seconds on a busy 2-core machine.
    },
    30_000,
  );

  it('rsa4096, without blocking the event loop while the keys are generated', async () => {
    let last = performance.now();
    let worstGap = 0;
    const timer = setInterval(() => {
      worstGap = Math.max(worstGap, performance.now() - last);
      last = performance.now();
    }, 5);
    const r = await issueToDir({
      dir,
      cluster: 'prod',
      leaves: [LEAVES[0]!, LEAVES[2]!],
      keyType: 'rsa4096',
    });
    clearInterval(timer);
    expect(r.files.every((f) => f.keyType === 'rsa4096')).toBe(true);
    // Three RSA-4096 keys take seconds; synchronous keygen would stall the loop for ≥ 1 s.
    expect(worstGap).toBeLessThan(400);
    expect(await verify('sslserver', 'pg1.crt')).toMatchObject({ code: 0 });
    expect(await verify('sslclient', 'app.crt')).toMatchObject({ code: 0 });
  }, 60_000);
});
