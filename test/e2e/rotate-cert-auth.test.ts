// Rotation on the lab hardened with certificate auth (issue #8, SPEC §9): a CA rotation re-issues the
// client pairs too (the standbys' replication pair included), so nothing that authenticates with a
// certificate breaks when the old CA goes; then revocation: `certs revoke app`, and `apply` deploys
// the CRL as ssl_crl_file on every node (reload only) and re-issues the revoked leaf. Leaves a fresh
// insecure lab.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { up } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { jsonEvents, runCli } from './rig.js';
import { labApplyArgs, labInventory, primaryOf, sql, streamingStandbys } from './lab-sql.js';

let lab: Lab;
let work: string;
let inv: string;
let state: string;
let pki: string;

/** A cert-auth login as `app`: undefined when it worked, else the error message. */
async function loginWith(node: LabNode, pair: { cert: string; key: string }): Promise<string | undefined> {
  const client = new pg.Client({
    host: node.host,
    port: node.port,
    user: 'app',
    database: 'postgres',
    ssl: { ca: await readFile(join(pki, 'root.crt'), 'utf8'), ...pair },
    connectionTimeoutMillis: 5000,
  });
  // Bounded as a whole: a handshake the server aborts must not leave the test waiting on the socket.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('pgharden test: no answer within 10 s'), 10_000);
  });
  const attempt = (async () => {
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  })();
  try {
    return await Promise.race([attempt, deadline]);
  } finally {
    clearTimeout(timer);
    void client.end().catch(() => undefined);
  }
}

const appPair = async (): Promise<{ cert: string; key: string }> => ({
  cert: await readFile(join(pki, 'app.crt'), 'utf8'),
  key: await readFile(join(pki, 'app.key'), 'utf8'),
});

beforeAll(async () => {
  lab = await up('streaming');
  work = await mkdtemp(join(tmpdir(), 'pgharden-revoke-'));
  pki = join(work, 'pki');
  state = join(work, 'state');
  inv = await labInventory(lab, work, 'revoke', pki);
  const hardened = await runCli(labApplyArgs(lab, inv, state, 'cert'));
  expect(hardened.code, hardened.stdout + hardened.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await up('streaming');
}, 120_000);

describe('rotation and revocation with certificate auth', () => {
  it('CA rotation: app logins and certificate-authenticated replication work through every phase; the old CA is refused after finish', async () => {
    const old = await appPair();
    for (const phase of ['--new-ca', '--new-ca', '--finish']) {
      const run = await runCli(['rotate', '-i', inv, phase, '--yes', '--state-dir', state, '--json']);
      expect(run.code, `${phase}: ${run.stdout}${run.stderr}`).toBe(0);
      const now = await appPair();
      for (const n of lab.nodes) expect(await loginWith(n, now), `${phase} ${n.name}`).toBeUndefined();
      // Standbys reconnect with the client pair they have now (new CA after phase 2).
      sql(primaryOf(lab), 'SELECT pg_terminate_backend(pid) FROM pg_stat_replication');
      await new Promise((r) => setTimeout(r, 500));
      expect(await streamingStandbys(lab), phase).toBe('2');
    }
    expect((await appPair()).cert).not.toBe(old.cert);
    for (const n of lab.nodes) expect(await loginWith(n, old), n.name).toMatch(/unknown ca|certificate/i);
  }, 240_000);

  it('a revoked client certificate is refused once apply deployed the CRL; the re-issued one and replication work', async () => {
    const old = await appPair();
    for (const n of lab.nodes) expect(await loginWith(n, old), n.name).toBeUndefined();

    const revoked = await runCli(['certs', 'revoke', 'app', '-i', inv, '--reason', 'keyCompromise']);
    expect(revoked.code, revoked.stdout + revoked.stderr).toBe(0);
    const started = Object.fromEntries(
      lab.nodes.map((n) => [n.name, sql(n, 'SELECT pg_postmaster_start_time()')]),
    );
    const applied = await runCli(labApplyArgs(lab, inv, state, 'cert'));
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const done = jsonEvents(applied.stdout).filter(
      (e) => e.type === 'step:done' && e['skipped'] === undefined,
    );
    for (const n of lab.nodes) {
      expect(done.some((e) => e['node'] === n.name && e['step'] === 'tls.install-ca')).toBe(true);
      expect(sql(n, 'SHOW ssl_crl_file')).toMatch(/\/pgharden-tls\/root\.crl$/);
      expect(sql(n, 'SELECT pg_postmaster_start_time()')).toBe(started[n.name]);
    }

    const fresh = await appPair();
    expect(fresh.cert).not.toBe(old.cert);
    for (const n of lab.nodes) {
      expect(await loginWith(n, old), n.name).toMatch(/revoked/i);
      expect(await loginWith(n, fresh), n.name).toBeUndefined();
    }
    // Standbys authenticate their replication with the replicator's certificate: not revoked.
    sql(primaryOf(lab), 'SELECT pg_terminate_backend(pid) FROM pg_stat_replication');
    await new Promise((r) => setTimeout(r, 500));
    expect(await streamingStandbys(lab)).toBe('2');
    const verify = await runCli(['verify', '-i', inv, '--secrets', lab.secretsPath, '--state-dir', state]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    // A CA rotation with a deployed CRL is refused (not supported yet), nothing changed.
    const rotate = await runCli(['rotate', '-i', inv, '--new-ca', '--yes', '--state-dir', state, '--json']);
    expect(rotate.code).toBe(2);
    expect(jsonEvents(rotate.stdout).at(-1)).toMatchObject({ error: { code: 'rotate.ca-with-crl' } });
  }, 180_000);
});
