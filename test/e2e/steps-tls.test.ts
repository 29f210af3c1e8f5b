// The TLS steps on the real streaming lab, driven through runPlan: primary first, then both
// standbys; a mismatched key rolls everything back; a successful run is rolled back at the end
// (rollbackRun) so the other e2e files find the insecure lab exactly as it was.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLab } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import type { NodeFacts, PostgresFacts } from '../../src/core/facts.js';
import { Journal, newRunId } from '../../src/core/journal.js';
import { gatherNodeFacts } from '../../src/core/preflight.js';
import { rollbackRun, runPlan, type NodePlan } from '../../src/core/runner.js';
import type { Step } from '../../src/core/step.js';
import { createCa, issueLeaf, type IssuedLeaf } from '../../src/pki/index.js';
import { psqlQueries, type PgConnection } from '../../src/remote/psql.js';
import { connect } from '../../src/remote/session.js';
import { resolveTarget } from '../../src/remote/ssh-config.js';
import type { RemoteSession } from '../../src/remote/types.js';
import type { HardenContext, NodeTls } from '../../src/steps/context.js';
import { enableSsl } from '../../src/steps/enable-ssl.js';
import { installCa } from '../../src/steps/install-ca.js';
import { installServerCert } from '../../src/steps/install-server-cert.js';
import { reload } from '../../src/steps/reload.js';
import { replicationTls } from '../../src/steps/replication-tls.js';

let lab: Lab;
let state: string;
let caPem: string;
const leaves = new Map<string, IssuedLeaf>();
const sessions = new Map<string, RemoteSession>();
let before: Record<string, string>;
let startedAt: Record<string, string>;
const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
const nodes = (): LabNode[] => lab.nodes;
const primary = (): LabNode => lab.nodes.find((n) => n.role === 'primary') as LabNode;
const tlsDir = (n: LabNode): string => `${n.home}/pgharden-tls`;
const sess = (n: LabNode): RemoteSession => sessions.get(n.name) as RemoteSession;
const pg = (n: LabNode): PgConnection => ({
  osUser: n.osUser,
  superuser: 'postgres',
  socketDir: n.socketDir,
  port: n.port,
  binDir: n.binDir,
});
const q = async (n: LabNode, sql: string): Promise<unknown> =>
  (await psqlQueries(sess(n), pg(n), { r: sql })).r[0]?.['v'];

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
  return connect(t, { hostKeys: 'reject' });
}

/** Every file a run may touch, plus leftovers (backups, tlsDir): must be identical after a rollback. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of nodes()) {
    const s = sess(n);
    for (const p of [`${n.dataDir}/postgresql.auto.conf`, `${n.dataDir}/pg_hba.conf`, `${n.home}/.pgpass`]) {
      out[p] = await s.readFile(p).then(sha256, () => '<missing>');
    }
    const ls = await s.exec(`ls -a ${n.dataDir} ${n.home} | grep -e pgharden || true`);
    out[`${n.name} leftovers`] = ls.stdout.trim();
  }
  return out;
}

async function facts(n: LabNode): Promise<NodeFacts & { pg: PostgresFacts }> {
  const f = await gatherNodeFacts(sess(n), inventoryNode(n), 0);
  if (f.pg === undefined) throw new Error(`${n.name}: no PostgreSQL facts: ${f.pgProblem?.message}`);
  return f as NodeFacts & { pg: PostgresFacts };
}

function inventoryNode(n: LabNode): HardenContext['node'] {
  return {
    name: n.name,
    host: n.host,
    role: n.role === 'primary' ? 'primary' : 'standby',
    pg: { osUser: n.osUser, superuser: 'postgres', dataDir: n.dataDir, port: n.port, socketDir: n.socketDir },
  };
}

async function contexts(server: (n: LabNode) => IssuedLeaf): Promise<Map<string, HardenContext>> {
  const p = primary();
  const out = new Map<string, HardenContext>();
  for (const n of nodes()) {
    const leaf = server(n);
    const tls: NodeTls = { caPem, server: { certPem: leaf.certPem, keyPem: leaf.keyPem }, clients: {} };
    out.set(n.name, {
      inventory: {
        cluster: 'lab',
        topology: 'streaming',
        network: ['127.0.0.0/8'],
        nodes: nodes().map(inventoryNode),
      },
      node: inventoryNode(n),
      facts: await facts(n),
      role: n.role === 'primary' ? 'primary' : 'standby',
      primary: n.role === 'primary' ? undefined : { name: p.name, host: p.host, port: p.port },
      auth: 'scram',
      minTlsVersion: 'TLSv1.2',
      tls,
      tlsDir: tlsDir(n),
      passwords: new Map(),
    });
  }
  return out;
}

const STEPS: Step<HardenContext>[] = [installCa, installServerCert, enableSsl, reload];
const byId = Object.fromEntries([...STEPS, replicationTls].map((s) => [s.id, s])) as Record<
  string,
  Step<never>
>;

async function reloadAndPing(n: LabNode, s: RemoteSession): Promise<void> {
  const r = await psqlQueries(s, pg(n), { a: 'SELECT pg_reload_conf() AS ok', b: 'SELECT 1 AS v' });
  if (r.b[0]?.['v'] !== 1) throw new Error(`${n.name} does not answer`);
}

async function run(ctx: Map<string, HardenContext>): Promise<{ runId: string; err: unknown }> {
  const runId = newRunId();
  const journal = await Journal.open(state, runId);
  const plans: NodePlan<HardenContext>[] = nodes().map((n) => ({
    node: n.name,
    session: sess(n),
    facts: ctx.get(n.name) as HardenContext,
    steps: n.role === 'primary' ? STEPS : [...STEPS, replicationTls],
    afterRollback: (s) => reloadAndPing(n, s),
  }));
  const standbys = nodes()
    .filter((n) => n.role !== 'primary')
    .map((n) => n.name);
  const err = await runPlan({
    runId,
    journal,
    bus: { emit: () => undefined },
    signal: new AbortController().signal,
    nodes: plans,
    phases: [[primary().name], standbys],
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  await journal.close();
  return { runId, err };
}

async function expectStreaming(): Promise<void> {
  for (const n of nodes().filter((x) => x.role !== 'primary')) {
    const deadline = Date.now() + 15_000;
    let status: unknown;
    while (Date.now() < deadline) {
      status = await q(n, 'SELECT status AS v FROM pg_stat_wal_receiver');
      if (status === 'streaming') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status, `${n.name} streams`).toBe('streaming');
  }
}

async function expectAsBefore(): Promise<void> {
  expect(await snapshot()).toEqual(before);
  for (const n of nodes()) {
    expect(await q(n, "SELECT current_setting('ssl') AS v")).toBe('off');
    expect(await q(n, 'SELECT pg_postmaster_start_time()::text AS v')).toBe(startedAt[n.name]);
  }
  await expectStreaming();
}

async function hardened(): Promise<void> {
  for (const n of nodes()) {
    expect(await q(n, "SELECT current_setting('ssl') AS v")).toBe('on');
    expect(await q(n, 'SELECT pg_postmaster_start_time()::text AS v')).toBe(startedAt[n.name]);
  }
  const conninfo = await q(nodes()[1] as LabNode, 'SELECT conninfo AS v FROM pg_stat_wal_receiver');
  expect(String(conninfo)).toContain('sslmode=verify-full');
  expect(
    await q(
      primary(),
      'SELECT count(*)::int AS v FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl',
    ),
  ).toBe(2);
  // From the operator machine, as a client would: verify-full against the lab's CA.
  const dir = mkdtempSync(join(tmpdir(), 'pgh-ca-'));
  try {
    writeFileSync(join(dir, 'root.crt'), caPem);
    const p = primary();
    const r = await execa(
      join(p.binDir, 'psql'),
      [
        `host=${p.host} port=${p.port} dbname=app user=app sslmode=verify-full sslrootcert=${join(dir, 'root.crt')}`,
        '-XAtc',
        'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      ],
      { env: { PGPASSWORD: lab.passwords['app'] ?? '' }, reject: false },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('t');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Second pass: every step already done.
  const again = await contexts((n) => leaves.get(n.name) as IssuedLeaf);
  for (const n of nodes()) {
    for (const s of n.role === 'primary' ? STEPS : [...STEPS, replicationTls]) {
      const f = again.get(n.name) as HardenContext;
      const c = { node: n.name, session: sess(n), runId: 'x', facts: f, signal: AbortSignal.timeout(30_000) };
      expect(await s.check(c), `${n.name} ${s.id} done`).toBe(false);
    }
  }
}

beforeAll(async () => {
  const l = await readLab('streaming');
  if (l === undefined) throw new Error('the streaming lab is not up');
  lab = l;
  state = mkdtempSync(join(tmpdir(), 'pgh-steps-tls-'));
  await Promise.all(nodes().map(async (n) => sessions.set(n.name, await session(n))));
  const ca = await createCa({ cluster: 'lab' });
  caPem = ca.certPem;
  for (const n of nodes()) {
    leaves.set(
      n.name,
      await issueLeaf(ca, { name: n.name, kind: 'node', sans: [n.host] }, { keyType: 'p256' }),
    );
  }
  before = await snapshot();
  startedAt = {};
  for (const n of nodes())
    startedAt[n.name] = String(await q(n, 'SELECT pg_postmaster_start_time()::text AS v'));
  expect(await q(primary(), "SELECT current_setting('ssl') AS v")).toBe('off');
});

afterAll(async () => {
  await Promise.allSettled([...sessions.values()].map((s) => s.close()));
  rmSync(state, { recursive: true, force: true });
});

describe('TLS steps on the streaming lab', () => {
  it('primary then standbys: TLS everywhere, verify-full replication, no restart; rollbackRun restores it all', async () => {
    const t0 = performance.now();
    const ctx = await contexts((n) => leaves.get(n.name) as IssuedLeaf);
    const { runId, err } = await run(ctx);
    const applyMs = performance.now() - t0;
    try {
      expect(err).toBeUndefined();
      await hardened();
    } finally {
      // Whatever failed above: the other e2e files need the insecure lab back.
      const t1 = performance.now();
      const rb = await rollbackRun({
        stateDir: state,
        runId,
        sessions: Object.fromEntries(sessions),
        steps: byId,
        facts: Object.fromEntries(ctx),
        bus: { emit: () => undefined },
        afterRollback: (name, s) => reloadAndPing(lab.nodes.find((n) => n.name === name) as LabNode, s),
      });
      expect(rb.failed).toEqual([]);
      console.log(`apply ${Math.round(applyMs)} ms, rollback ${Math.round(performance.now() - t1)} ms`);
    }
    await expectAsBefore();
  });

  it('a server key that does not match its certificate (pg2) → RolledBackError, every node as before', async () => {
    const wrong = leaves.get(nodes()[0]?.name ?? '') as IssuedLeaf;
    const ctx = await contexts((n) => {
      const own = leaves.get(n.name) as IssuedLeaf;
      return n.name === 'pg2' ? { ...own, keyPem: wrong.keyPem } : own;
    });
    const { err } = await run(ctx);
    expect(err).toMatchObject({ exitCode: 4, code: 'run.rolled-back' });
    expect(String((err as Error).message)).toContain('does not match');
    expect(String((err as Error).message)).not.toContain('PRIVATE KEY');
    await expectAsBefore();
  });
});
