// Shared by the TLS step e2e files: lab sessions, PKI material, contexts, a runPlan driver and the
// "lab is exactly as before" snapshot.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { readLab, up } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import type { NodeFacts, PostgresFacts } from '../../src/core/facts.js';
import { Journal, newRunId } from '../../src/core/journal.js';
import { gatherNodeFacts } from '../../src/core/preflight.js';
import { runPlan, type NodePlan } from '../../src/core/runner.js';
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

export let lab: Lab;
export let state: string;
export let caPem: string;
export const leaves = new Map<string, IssuedLeaf>();
export const sessions = new Map<string, RemoteSession>();
export let before: Record<string, string>;
export let startedAt: Record<string, string>;
const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
export const nodes = (): LabNode[] => lab.nodes;
export const primary = (): LabNode => lab.nodes.find((n) => n.role === 'primary') as LabNode;
export const tlsDir = (n: LabNode): string => `${n.home}/pgharden-tls`;
export const sess = (n: LabNode): RemoteSession => sessions.get(n.name) as RemoteSession;
export const pg = (n: LabNode): PgConnection => ({
  osUser: n.osUser,
  superuser: 'postgres',
  socketDir: n.socketDir,
  port: n.port,
  binDir: n.binDir,
});
export const q = async (n: LabNode, sql: string): Promise<unknown> =>
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
export async function snapshot(): Promise<Record<string, string>> {
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

export async function contexts(server: (n: LabNode) => IssuedLeaf): Promise<Map<string, HardenContext>> {
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

export const STEPS: Step<HardenContext>[] = [installCa, installServerCert, enableSsl, reload];
export const byId = Object.fromEntries([...STEPS, replicationTls].map((s) => [s.id, s])) as Record<
  string,
  Step<never>
>;

export async function reloadAndPing(n: LabNode, s: RemoteSession): Promise<void> {
  const r = await psqlQueries(s, pg(n), { a: 'SELECT pg_reload_conf() AS ok', b: 'SELECT 1 AS v' });
  if (r.b[0]?.['v'] !== 1) throw new Error(`${n.name} does not answer`);
}

export async function run(
  ctx: Map<string, HardenContext>,
  stepsOf: (n: LabNode) => Step<HardenContext>[] = (n) =>
    n.role === 'primary' ? STEPS : [...STEPS, replicationTls],
  only?: string[],
): Promise<{ runId: string; err: unknown }> {
  const runId = newRunId();
  const journal = await Journal.open(state, runId);
  const chosen = nodes().filter((n) => only === undefined || only.includes(n.name));
  const plans: NodePlan<HardenContext>[] = chosen.map((n) => ({
    node: n.name,
    session: sess(n),
    facts: ctx.get(n.name) as HardenContext,
    steps: stepsOf(n),
    afterRollback: (s) => reloadAndPing(n, s),
  }));
  const standbys = chosen.filter((n) => n.role !== 'primary').map((n) => n.name);
  const err = await runPlan({
    runId,
    journal,
    bus: { emit: () => undefined },
    signal: new AbortController().signal,
    nodes: plans,
    phases: [[primary().name], standbys].filter(
      (ph) => ph.length > 0 && chosen.some((n) => ph.includes(n.name)),
    ),
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  await journal.close();
  return { runId, err };
}

export async function expectStreaming(): Promise<void> {
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

export async function expectAsBefore(): Promise<void> {
  expect(await snapshot()).toEqual(before);
  for (const n of nodes()) {
    expect(await q(n, "SELECT current_setting('ssl') AS v")).toBe('off');
    expect(await q(n, 'SELECT pg_postmaster_start_time()::text AS v')).toBe(startedAt[n.name]);
  }
  await expectStreaming();
}

export async function setupRig(): Promise<void> {
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
}

export async function teardownRig(): Promise<void> {
  await Promise.allSettled([...sessions.values()].map((s) => s.close()));
  rmSync(state, { recursive: true, force: true });
  // Every file is back, but a standby that reconnected while the primary still had ssl on keeps
  // that TLS connection (sslmode=prefer): the files after this one expect plain replication.
  await up('streaming');
}
