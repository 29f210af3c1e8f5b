// auth.scram-migration on the lab primary and hba.hostssl on one standby (pg3, with a throwaway
// self-signed server cert so TLS is on there), driven through runPlan. The lab stays insecure for the
// other e2e files: afterAll puts the md5 hashes, pg3's pg_hba.conf (sha256), its ssl settings and
// files back, and checks replication still streams.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLab } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { Journal, newRunId } from '../../src/core/journal.js';
import { loadInventory } from '../../src/core/inventory.js';
import type { Inventory } from '../../src/core/inventory-schema.js';
import { gatherNodeFacts } from '../../src/core/preflight.js';
import { runPlan } from '../../src/core/runner.js';
import { defineStep, emptyPlan, type Step } from '../../src/core/step.js';
import { psqlExec, psqlQueries, type PgConnection } from '../../src/remote/psql.js';
import { connect } from '../../src/remote/session.js';
import { resolveTarget } from '../../src/remote/ssh-config.js';
import type { RemoteSession } from '../../src/remote/types.js';
import type { HardenContext } from '../../src/steps/context.js';
import { hbaHostssl } from '../../src/steps/hba-hostssl.js';
import { scramMatches, scramMigration } from '../../src/steps/scram-migration.js';

let lab: Lab;
let inventory: Inventory;
let pg1: LabNode;
let pg3: LabNode;
let state: string;
let hashesBefore: Record<string, string>;
let hba3Before: Buffer;
let autoConf3Before: Buffer;
const started: Record<string, string> = {};
const open: RemoteSession[] = [];
const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
const SSL = ['ssl', 'ssl_cert_file', 'ssl_key_file'] as const;

async function session(n: LabNode): Promise<RemoteSession> {
  const t = resolveTarget(
    {
      node: n.name,
      host: n.host,
      user: n.osUser,
      identityFile: lab.identityFile,
      knownHosts: lab.knownHostsPath,
    },
    { configText: '' },
  );
  const s = await connect(t, { hostKeys: 'reject' });
  open.push(s);
  return s;
}

const pg = (n: LabNode): PgConnection => ({
  osUser: n.osUser,
  superuser: 'postgres',
  socketDir: n.socketDir,
  port: n.port,
  binDir: n.binDir,
});

async function one(s: RemoteSession, n: LabNode, sql: string): Promise<unknown> {
  const r = await psqlQueries(s, pg(n), { q: sql });
  return Object.values(r.q[0] ?? {})[0];
}

async function md5Hashes(s: RemoteSession): Promise<Record<string, string>> {
  const r = await psqlQueries(
    s,
    pg(pg1),
    { q: "SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN ('app', 'replicator') ORDER BY 1" },
    { sensitive: true },
  );
  return Object.fromEntries(r.q.map((x) => [String(x['rolname']), String(x['rolpassword'])]));
}

async function contextOf(s: RemoteSession, n: LabNode): Promise<HardenContext> {
  const node = inventory.nodes.find((x) => x.name === n.name);
  if (node === undefined) throw new Error(`${n.name} not in the inventory`);
  const facts = await gatherNodeFacts(s, node, 0);
  if (facts.pg === undefined) throw new Error(`${n.name}: no PostgreSQL facts`);
  return {
    inventory,
    node,
    facts: { ...facts, pg: facts.pg },
    role: facts.pg.role,
    auth: 'scram',
    minTlsVersion: 'TLSv1.2',
    tls: { caPem: '', server: { certPem: '', keyPem: '' }, clients: {} },
    tlsDir: n.dataDir,
    passwords: new Map(Object.entries(lab.passwords)),
  };
}

async function run(s: RemoteSession, h: HardenContext, steps: Step<HardenContext>[]): Promise<unknown> {
  const runId = newRunId();
  const journal = await Journal.open(state, runId, Object.values(lab.passwords));
  try {
    return await runPlan({
      runId,
      journal,
      bus: { emit: () => undefined },
      signal: new AbortController().signal,
      nodes: [{ node: h.node.name, session: s, facts: h, steps: steps as Step[] }],
    });
  } catch (e) {
    return e;
  } finally {
    await journal.close();
  }
}

const failAfter = defineStep<HardenContext>({
  id: 'e2e.fail',
  title: 'fails on purpose',
  check: () => true,
  plan: () => emptyPlan(),
  apply: () => Promise.reject(new Error('injected failure')),
  undo: () => Promise.resolve(),
  verify: () => true,
});

/** Every process's argv, sampled while `during` runs (the lab's nodes are on this machine). */
async function argvSeen<T>(during: () => Promise<T>): Promise<{ result: T; argv: string }> {
  const seen: string[] = [];
  let running = true;
  const poll = (async () => {
    while (running) {
      seen.push(
        await new Promise<string>((res) => execFile('ps', ['-eo', 'args'], (_e, out) => res(String(out)))),
      );
    }
  })();
  try {
    return { result: await during(), argv: seen.join('\n') };
  } finally {
    running = false;
    await poll;
  }
}

/** A non-TLS TCP login as app from pg3 itself; the password goes via stdin into PGPASSWORD. */
async function appLogin(s: RemoteSession, n: LabNode, sslmode: string): Promise<string> {
  const conninfo = `host=${n.host} port=${n.port} dbname=postgres user=app sslmode=${sslmode}`;
  const script = `PGPASSWORD='${lab.passwords['app'] ?? ''}'\nexport PGPASSWORD\nexec ${n.binDir}/psql -X -w -At -c 'SELECT 1' '${conninfo}' 2>&1\n`;
  return (await s.exec('sh -s', { stdin: script })).stdout.trim();
}

beforeAll(async () => {
  const l = await readLab('streaming');
  if (l === undefined) throw new Error('the streaming lab is not up');
  lab = l;
  inventory = (await loadInventory(lab.inventoryPath)).inventory;
  const p = lab.nodes.find((n) => n.role === 'primary');
  const s3 = lab.nodes.find((n) => n.name === 'pg3');
  if (p === undefined || s3 === undefined) throw new Error('the lab has no pg1/pg3');
  pg1 = p;
  pg3 = s3;
  state = mkdtempSync(join(tmpdir(), 'pgh-auth-e2e-'));
  const a = await session(pg1);
  const b = await session(pg3);
  hashesBefore = await md5Hashes(a);
  expect(Object.values(hashesBefore).every((h) => h.startsWith('md5'))).toBe(true);
  hba3Before = await b.readFile(join(pg3.dataDir, 'pg_hba.conf'));
  autoConf3Before = await b.readFile(join(pg3.dataDir, 'postgresql.auto.conf'));
  for (const [n, s] of [
    [pg1, a],
    [pg3, b],
  ] as const)
    started[n.name] = String(await one(s, n, 'SELECT pg_postmaster_start_time()::text'));
  // TLS on pg3 only, with a throwaway self-signed cert: hostssl rules need a server that speaks TLS.
  const mk = `cd ${pg3.dataDir} && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=pg3 -keyout pgh-auth-e2e.key -out pgh-auth-e2e.crt 2>/dev/null && chmod 600 pgh-auth-e2e.key`;
  expect((await b.exec(mk)).code).toBe(0);
  await psqlExec(
    b,
    pg(pg3),
    "ALTER SYSTEM SET ssl_cert_file = 'pgh-auth-e2e.crt';\nALTER SYSTEM SET ssl_key_file = 'pgh-auth-e2e.key';\nALTER SYSTEM SET ssl = on;\nSELECT pg_reload_conf();",
  );
  for (let i = 0; i < 50 && (await one(b, pg3, "SELECT current_setting('ssl')")) !== 'on'; i++)
    await new Promise((r) => setTimeout(r, 100));
});

afterAll(async () => {
  const a = await session(pg1);
  const b = await session(pg3);
  const hbaPath = join(pg3.dataDir, 'pg_hba.conf');
  if (sha256(await b.readFile(hbaPath)) !== sha256(hba3Before))
    await b.writeFileAtomic(hbaPath, hba3Before, { owner: pg3.osUser, mode: 0o600 });
  await psqlExec(
    b,
    pg(pg3),
    `${SSL.map((x) => `ALTER SYSTEM RESET ${x};`).join('\n')}\nSELECT pg_reload_conf();`,
  );
  await b.exec(
    `rm -f -- ${pg3.dataDir}/pgh-auth-e2e.key ${pg3.dataDir}/pgh-auth-e2e.crt ${pg3.dataDir}/pg_hba.conf.pgharden-*`,
  );
  // The lab made its hashes with password_encryption=md5: the same command gives the same hash.
  const pw = (r: string): string => (lab.passwords[r] ?? '').replace(/'/g, "''");
  await psqlExec(
    a,
    pg(pg1),
    `SET password_encryption = 'md5';\nALTER ROLE app PASSWORD '${pw('app')}';\nALTER ROLE replicator PASSWORD '${pw('replicator')}';`,
    { sensitive: true },
  );
  expect(await md5Hashes(a)).toEqual(hashesBefore);
  expect(sha256(await b.readFile(hbaPath))).toBe(sha256(hba3Before));
  expect(sha256(await b.readFile(join(pg3.dataDir, 'postgresql.auto.conf')))).toBe(sha256(autoConf3Before));
  for (let i = 0; i < 50 && (await one(b, pg3, "SELECT current_setting('ssl')")) !== 'off'; i++)
    await new Promise((r) => setTimeout(r, 100));
  expect(await one(b, pg3, "SELECT current_setting('ssl')")).toBe('off');
  expect(await one(a, pg1, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")).toBe(2);
  await Promise.allSettled(open.map((x) => x.close()));
  rmSync(state, { recursive: true, force: true });
});

describe('auth steps on the lab', () => {
  it('scram-migration: a later failure puts the exact md5 hashes back', async () => {
    const s = await session(pg1);
    const err = await run(s, await contextOf(s, pg1), [scramMigration, failAfter]);
    expect(err).toMatchObject({ exitCode: 4, code: 'run.rolled-back' });
    expect(await md5Hashes(s)).toEqual(hashesBefore);
  });

  it('scram-migration: md5 hashes gone, SCRAM verifiers PostgreSQL accepts, app still logs in', async () => {
    const s = await session(pg1);
    const h = await contextOf(s, pg1);
    expect(h.facts.pg.md5Roles.map((r) => r.name).sort()).toEqual(['app', 'replicator']);
    const { result: r, argv } = await argvSeen(() => run(s, h, [scramMigration]));
    expect(r).toMatchObject({ nodes: { pg1: { done: ['auth.scram-migration'] } } });
    const now = await md5Hashes(s);
    // Neither a password nor a hash or verifier on any command line or in the journal.
    const journals = readdirSync(state, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => readFileSync(join(d.parentPath, d.name), 'utf8'))
      .join('\n');
    expect(argv).toContain('ps -eo args');
    for (const secret of [
      ...Object.values(lab.passwords),
      ...Object.values(hashesBefore),
      ...Object.values(now),
    ]) {
      expect(argv).not.toContain(secret);
      expect(journals).not.toContain(secret);
    }
    for (const role of ['app', 'replicator']) {
      expect(now[role]).toMatch(/^SCRAM-SHA-256\$4096:/);
      // Cross-check with the server's own bytes: our verifier reproduces from its salt.
      expect(scramMatches(now[role] ?? '', lab.passwords[role] ?? '')).toBe(true);
    }
    expect(await appLogin(s, pg1, 'disable')).toBe('1'); // md5 rules accept a SCRAM verifier
    // Second run: nothing to do.
    const again = await run(s, await contextOf(s, pg1), [scramMigration]);
    expect(again).toMatchObject({ nodes: { pg1: { skipped: ['auth.scram-migration'] } } });
    // The primary's pg_authid reached the standbys: replication (now SCRAM) still streams.
    for (let i = 0; i < 50; i++) {
      if ((await one(s, pg1, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")) === 2)
        break;
      await new Promise((res) => setTimeout(res, 100));
    }
  });

  it('hba.hostssl on pg3: a failed validation is rolled back byte for byte, nothing reloaded', async () => {
    const s = await session(pg3);
    const h = await contextOf(s, pg3);
    const broken = defineStep<HardenContext>({
      ...hbaHostssl,
      plan: (ctx) => {
        const p = hbaHostssl.plan(ctx);
        const f = p.files[0];
        if (f !== undefined) f.after += 'host all all 10.0.0.0/8 no-such-method\n';
        return p;
      },
    });
    const err = await run(s, h, [broken]);
    expect(err).toMatchObject({ exitCode: 4 });
    expect(String((err as Error).message)).toMatch(/not reload(ing|ed)/);
    expect(sha256(await s.readFile(join(pg3.dataDir, 'pg_hba.conf')))).toBe(sha256(hba3Before));
    expect(await one(s, pg3, 'SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL')).toBe(0);
  });

  it('hba.hostssl on pg3: non-TLS refused, app logs in over TLS with SCRAM, no restart; twice = once', async () => {
    const s = await session(pg3);
    const h = await contextOf(s, pg3);
    const r = await run(s, h, [hbaHostssl]);
    expect(r).toMatchObject({ nodes: { pg3: { done: ['hba.hostssl'] } } });
    expect(await appLogin(s, pg3, 'disable')).toMatch(/no pg_hba\.conf entry|no encryption/);
    expect(await appLogin(s, pg3, 'require')).toBe('1');
    const after = await s.readFile(join(pg3.dataDir, 'pg_hba.conf'));
    const again = await run(s, await contextOf(s, pg3), [hbaHostssl]);
    expect(again).toMatchObject({ nodes: { pg3: { skipped: ['hba.hostssl'] } } });
    expect(sha256(await s.readFile(join(pg3.dataDir, 'pg_hba.conf')))).toBe(sha256(after));
    expect(await one(s, pg3, 'SELECT pg_postmaster_start_time()::text')).toBe(started['pg3']);
    const s1 = await session(pg1);
    expect(await one(s1, pg1, 'SELECT pg_postmaster_start_time()::text')).toBe(started['pg1']);
  });
});
