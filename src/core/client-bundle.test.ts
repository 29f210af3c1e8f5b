import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectionLines, writeClientBundle } from './client-bundle.js';
import type { Inventory } from './inventory-schema.js';

const INVENTORY: Inventory = {
  cluster: 'prod',
  topology: 'streaming',
  network: ['10.0.0.0/24'],
  nodes: [
    { name: 'pg1', host: '10.0.0.1', role: 'primary', pg: { port: 5433 } },
    { name: 'pg2', host: 'db2.example.com', role: 'standby' },
  ],
  roles: [
    { name: 'replicator', kind: 'replication' },
    { name: 'app', kind: 'client' },
  ],
};

let work: string;
let pki: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'pgharden-bundle-'));
  pki = join(work, 'pki');
  mkdirSync(pki);
  for (const name of ['root', 'app', 'replicator']) {
    // Stand-in certificates (the bundle copies files, it does not parse them) and real keys.
    writeFileSync(
      join(pki, `${name}.crt`),
      `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n`,
    );
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    writeFileSync(join(pki, `${name}.key`), key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('client bundle', () => {
  it('cert auth: a 0700 directory with root.crt, each role cert + 0600 key, and verify-full strings', async () => {
    const dir = join(work, 'runs', 'r1', 'client-bundle');
    const b = await writeClientBundle({
      dir,
      inventory: INVENTORY,
      pkiDir: pki,
      certRoles: ['replicator', 'app'],
    });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir).sort()).toEqual([
      'app.crt',
      'app.key',
      'connections.txt',
      'replicator.crt',
      'replicator.key',
      'root.crt',
    ]);
    for (const k of ['app.key', 'replicator.key']) expect(statSync(join(dir, k)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'app.key'), 'utf8')).toBe(readFileSync(join(pki, 'app.key'), 'utf8'));
    expect(readFileSync(join(dir, 'root.crt'), 'utf8')).toBe(readFileSync(join(pki, 'root.crt'), 'utf8'));
    expect(b.files).toHaveLength(6);
    const text = readFileSync(b.connections, 'utf8');
    expect(text).toContain(
      `pg1 (primary): host=10.0.0.1 port=5433 dbname=postgres user=app sslmode=verify-full sslrootcert=${dir}/root.crt sslcert=${dir}/app.crt sslkey=${dir}/app.key`,
    );
    expect(text).toContain(
      'pg2 (standby): host=db2.example.com port=5432 dbname=postgres user=app sslmode=verify-full',
    );
    expect(text).not.toMatch(/user=replicator/); // standbys' role: pgharden configured it on the nodes
    expect(text).not.toMatch(/PRIVATE KEY|password=/);
  });

  it('scram: root.crt and the strings only, no key anywhere', async () => {
    const dir = join(work, 'bundle');
    await writeClientBundle({ dir, inventory: INVENTORY, pkiDir: pki, certRoles: [] });
    expect(readdirSync(dir).sort()).toEqual(['connections.txt', 'root.crt']);
    const text = readFileSync(join(dir, 'connections.txt'), 'utf8');
    expect(text).toMatch(/user=app sslmode=verify-full sslrootcert=\S+\/root\.crt$/m);
    expect(text).not.toContain('sslkey');
  });

  it('quotes a path with a space the way libpq reads it', () => {
    const [, , , , , first] = connectionLines(INVENTORY, "/home/o'neil/my bundle", []);
    expect(first).toContain("sslrootcert='/home/o\\'neil/my bundle/root.crt'");
  });
});
