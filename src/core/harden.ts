// First-time hardening, planning half: from preflight facts, the chosen auth mode and the PKI,
// build every node's HardenContext and schedule, then ask each step what it would change. The
// plan document is plain JSON with no secret in it (checked), so it can be shown, saved with
// `plan -o plan.json` and replayed by `apply --plan plan.json`.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { RemoteSession } from '../remote/types.js';
import { issueToDir, keyMatchesCert, planLeaves } from '../pki/index.js';
import type { AuthMode, HardenContext, PemPair } from '../steps/context.js';
import { RELOAD } from '../steps/reload.js';
import { pgpoolSchedule } from '../topologies/pgpool.js';
import { pgAutoFailoverSchedule, type AutoctlRole } from '../topologies/pg-auto-failover.js';
import type { Formation } from '../topologies/pg-auto-failover-detect.js';
import { pgafClientName } from '../steps/pgaf-client-cert.js';
import { streamingSchedule } from '../topologies/streaming.js';
import { unifiedDiff } from './diff.js';
import { BugError, FailedError, UsageError } from './errors.js';
import type { NodeOutcome } from './facts.js';
import type { Inventory, InventoryNode } from './inventory-schema.js';
import { gatherPgpoolFacts } from './pgpool-facts.js';
import type { NodePlan, PhaseEntry } from './runner.js';
import type { PlannedChange, Step, StepContext } from './step.js';

export interface HardenRequest {
  inventory: Inventory;
  auth: AuthMode;
  /** `generate`: issue (or keep) certificates in `pkiDir`; `import`: use what is there, issue nothing. */
  certs: 'generate' | 'import';
  pkiDir: string;
  caPassphrase?: string | undefined;
  passwords: ReadonlyMap<string, string>;
}

export interface PreparedRun {
  contexts: Map<string, HardenContext>;
  nodePlans: NodePlan<HardenContext>[];
  phases: PhaseEntry[][];
  /** Everything that must never appear in a plan, journal or output. */
  secrets: string[];
  /** What the plan must tell the operator (pg_auto_failover: --skip-pg-hba, TLS paths, …). */
  notes?: string[] | undefined;
  /**
   * Budget for a rollback (runner default 60 s). pg_auto_failover: every undo waits for the
   * formation to settle again, and a standby restarts on each primary_conninfo change.
   */
  rollbackTimeoutMs?: number | undefined;
}

export interface PlannedStep {
  id: string;
  title: string;
  /** false: check() says it is done already; apply will skip it. */
  needed: boolean;
  change?: PlannedChange | undefined;
  diffs?: string[] | undefined;
}

export interface PlanDocument {
  v: 1;
  cluster: string;
  topology: Inventory['topology'];
  auth: AuthMode;
  createdAt: string;
  nodes: {
    node: string;
    host: string;
    role: 'primary' | 'standby' | 'monitor' | 'pooler';
    steps: PlannedStep[];
  }[];
  /** Things the operator must know about this plan (pg_auto_failover: who owns pg_hba.conf, …). */
  notes?: string[] | undefined;
  phases: { node: string; steps: string[] }[][];
  /** sha256 of each file's content as planned, per node: apply --plan refuses when one differs now. */
  checksums: Record<string, Record<string, string>>;
  reloads: number;
  restarts: number;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

async function readPair(dir: string, name: string): Promise<PemPair> {
  const read = (f: string): Promise<string> =>
    readFile(join(dir, f), 'utf8').catch(() => {
      throw new UsageError(
        'plan.pki-missing',
        `${join(dir, f)} is missing`,
        'run `pgharden certs issue -i INVENTORY --out DIR` or use --certs generate',
      );
    });
  const [certPem, keyPem] = await Promise.all([read(`${name}.crt`), read(`${name}.key`)]);
  return { certPem, keyPem };
}

/** How a role authenticates: its own `auth` in the inventory (SPEC §5 `roles:`), else the run's. */
export function roleAuth(role: { auth?: AuthMode | undefined }, auth: AuthMode): AuthMode {
  return role.auth ?? auth;
}

/**
 * Roles that get a client certificate: every inventory role that certificates authenticate (not
 * pg_auto_failover, where certificates are per node, pgaf.client-cert; other roles keep SCRAM).
 */
export function certRoles(req: Pick<HardenRequest, 'auth' | 'inventory'>): string[] {
  if (req.inventory.topology === 'pg_auto_failover') return [];
  return (req.inventory.roles ?? []).filter((r) => roleAuth(r, req.auth) !== 'scram').map((r) => r.name);
}

export async function prepareHardening(
  req: HardenRequest,
  outcomes: readonly NodeOutcome[],
  sessions: ReadonlyMap<string, RemoteSession>,
  /** pg_auto_failover: what detection found (src/topologies/pg-auto-failover-detect.ts). */
  formation?: Formation,
): Promise<PreparedRun> {
  const { inventory } = req;
  if (inventory.topology !== 'streaming' && inventory.topology !== 'pgpool' && formation === undefined) {
    throw new UsageError(
      'plan.topology-unsupported',
      `topology ${inventory.topology} cannot be hardened by this version yet (streaming and pgpool only)`,
      'run `pgharden audit` for a read-only report',
    );
  }
  const down = outcomes.filter((o) => !o.ok || o.facts.pg === undefined);
  if (down.length > 0) {
    const why = down.map((o) =>
      o.ok ? `${o.node}: ${o.facts.pgProblem?.message ?? 'PostgreSQL not inspected'}` : o.error.message,
    );
    throw new FailedError(
      'plan.nodes-unavailable',
      `cannot plan without every node: ${why.join('; ')}`,
      'fix these nodes (see `pgharden audit`) and run again; nothing was changed',
    );
  }
  const facts = outcomes.flatMap((o) =>
    o.ok && o.facts.pg !== undefined ? [{ ...o.facts, pg: o.facts.pg }] : [],
  );
  const isMonitor = (node: string): boolean => formation?.nodes.get(node)?.kind === 'monitor';
  const primaries = facts.filter((f) => f.pg.role === 'primary' && !isMonitor(f.node));
  const [primary] = primaries;
  if (primary === undefined || primaries.length > 1) {
    throw new UsageError(
      'plan.primary',
      `expected exactly one primary, found ${primaries.map((p) => p.node).join(', ') || 'none'}`,
    );
  }
  const primaryNode = inventory.nodes.find((n) => n.name === primary.node);
  if (formation !== undefined && req.auth === 'scram+cert') {
    throw new UsageError(
      'pgaf.auth-unsupported',
      'auth scram+cert is not supported for pg_auto_failover yet',
      "use --auth cert (pg_auto_failover's own roles by certificate, pg_ident map pgautofailover) or --auth scram",
    );
  }
  // pg_auto_failover, cert: one client certificate per node (CN pgaf-<node>, in its OS user's
  // ~/.postgresql), mapped to pg_auto_failover's roles by pg_ident map `pgautofailover`.
  const clientNames =
    formation !== undefined
      ? req.auth === 'cert'
        ? inventory.nodes.map((n) => pgafClientName(n.name))
        : []
      : certRoles(req);
  if (req.certs === 'generate') {
    await issueToDir({
      dir: req.pkiDir,
      cluster: inventory.cluster,
      leaves: planLeaves(inventory, clientNames),
      ...(req.caPassphrase !== undefined ? { caPassphrase: req.caPassphrase } : {}),
    });
  }
  const caPem = await readFile(join(req.pkiDir, 'root.crt'), 'utf8').catch(() => {
    throw new UsageError(
      'plan.pki-missing',
      `${join(req.pkiDir, 'root.crt')} is missing`,
      'use --certs generate, or issue certificates first',
    );
  });
  const clients: Record<string, PemPair> = {};
  for (const role of clientNames) clients[role] = await readPair(req.pkiDir, role);
  // After `certs revoke`: every node gets the CRL (ssl_crl_file), so the revoked certificate is refused.
  const crlPem = await readFile(join(req.pkiDir, 'root.crl'), 'utf8').catch(() => undefined);

  const contexts = new Map<string, HardenContext>();
  const secrets = [...req.passwords.values(), ...Object.values(clients).map((c) => c.keyPem)];
  for (const f of facts) {
    const node = inventory.nodes.find((n) => n.name === f.node);
    if (node === undefined) throw new BugError('plan.node', `no inventory entry for ${f.node}`);
    const tlsDir = inventory.tls?.dir ?? posix.join(posix.dirname(f.pg.dataDir), 'pgharden-tls');
    if (`${posix.normalize(tlsDir)}/`.startsWith(`${posix.normalize(f.pg.dataDir).replace(/\/+$/, '')}/`)) {
      throw new UsageError(
        'plan.tls-dir-in-pgdata',
        `tls.dir ${tlsDir} is inside the data directory of ${f.node} (${f.pg.dataDir})`,
        'base backups and pg_rewind would copy the private key: choose a directory outside PGDATA',
      );
    }
    const server = await readPair(req.pkiDir, f.node);
    secrets.push(server.keyPem);
    // Imported (or hand-edited) material is bad input: refuse it before anything is changed.
    if (!keyMatchesCert(createPrivateKey(server.keyPem), new X509Certificate(server.certPem))) {
      throw new UsageError(
        'plan.key-mismatch',
        `${join(req.pkiDir, `${f.node}.key`)} does not match ${join(req.pkiDir, `${f.node}.crt`)}`,
        'give the node its own key and certificate (pgharden certs lint FILE --key KEY), or use --certs generate',
      );
    }
    contexts.set(f.node, {
      inventory,
      node,
      facts: f,
      role: f.pg.role,
      primary:
        f.pg.role === 'standby' && primaryNode !== undefined
          ? { name: primaryNode.name, host: primaryNode.host, port: primary.pg.port }
          : undefined,
      auth: req.auth,
      minTlsVersion: inventory.tls?.minVersion ?? 'TLSv1.2',
      tls: { caPem, server, clients, ...(crlPem === undefined ? {} : { crlPem }) },
      // Outside PGDATA, so base backups and pg_rewind never copy the private key.
      tlsDir,
      passwords: req.passwords,
      autoctl: formation?.nodes.get(f.node),
    });
  }
  const poolerNames: string[] = [];
  if (inventory.topology === 'pgpool') {
    for (const pooler of (inventory.poolers ?? []).filter((p) => p.kind === 'pgpool')) {
      const session = sessions.get(pooler.name);
      if (session === undefined) {
        throw new FailedError(
          'plan.pooler-unavailable',
          `cannot plan without pooler ${pooler.name} (no SSH session)`,
          'fix its SSH access (see the preflight output) and run again; nothing was changed',
        );
      }
      const pgpool = await gatherPgpoolFacts(session, pooler);
      const server = await readPair(req.pkiDir, pooler.name);
      secrets.push(server.keyPem);
      if (!keyMatchesCert(createPrivateKey(server.keyPem), new X509Certificate(server.certPem))) {
        throw new UsageError(
          'plan.key-mismatch',
          `${join(req.pkiDir, `${pooler.name}.key`)} does not match ${join(req.pkiDir, `${pooler.name}.crt`)}`,
        );
      }
      const node: InventoryNode = {
        name: pooler.name,
        host: pooler.host,
        ...(pooler.names ? { names: pooler.names } : {}),
        ...(pooler.ssh ? { ssh: pooler.ssh } : {}),
      };
      // Every role that logs in through pgpool: its pool_passwd users, the health-check and
      // streaming-check users, and the inventory's client and health-check roles.
      const aesRoles = [
        ...new Set([
          ...pgpool.poolPasswdUsers.map((u) => u.user),
          pgpool.healthCheckUser,
          pgpool.srCheckUser,
          ...(inventory.roles ?? [])
            .filter(
              (r) => (r.kind === 'client' || r.kind === 'health-check') && roleAuth(r, req.auth) !== 'cert',
            )
            .map((r) => r.name),
        ]),
      ].filter((r) => r !== '' && r !== 'nobody');
      contexts.set(pooler.name, {
        inventory,
        node,
        facts: { ...primary, node: pooler.name, host: pooler.host, osUser: pgpool.osUser },
        role: 'pooler',
        primary: undefined,
        auth: req.auth,
        minTlsVersion: inventory.tls?.minVersion ?? 'TLSv1.2',
        tls: { caPem, server, clients: {} },
        tlsDir: inventory.tls?.dir ?? posix.join(posix.dirname(pgpool.configFile), 'pgharden-tls'),
        serverSlot: 'a',
        passwords: req.passwords,
        pooler: { pgpool, aesRoles, networks: [...inventory.network] },
      });
      poolerNames.push(pooler.name);
    }
  }
  const primaryCtx = contexts.get(primary.node);
  if (primaryCtx !== undefined && poolerNames.length > 0) {
    primaryCtx.watchPoolers = poolerNames.flatMap((name) => {
      const pooler = contexts.get(name)?.pooler;
      return pooler === undefined ? [] : [{ name, pooler }];
    });
  }
  const notes = [...(formation?.notes ?? [])];
  const tlsDirs = new Set([...contexts.values()].map((c) => c.tlsDir));
  if (formation !== undefined && tlsDirs.size > 1) {
    notes.push(
      `TLS files go to a different directory on each node (${[...tlsDirs].join(', ')}): pg_autoctl stores absolute paths and rewrites postgresql-auto-failover.conf from its own pg_autoctl.cfg when a node restarts as a standby, so a switchover works; set tls.dir to one path valid on every node if you can`,
    );
  }
  const autoctlRole = (f: (typeof facts)[number]): AutoctlRole =>
    isMonitor(f.node) ? 'monitor' : f.pg.role === 'primary' ? 'primary' : 'secondary';
  const nodeRoles = facts.map((f) => ({ name: f.node, role: f.pg.role }));
  const schedule =
    formation !== undefined
      ? pgAutoFailoverSchedule(
          facts.map((f) => ({ name: f.node, role: autoctlRole(f) })),
          req.auth,
        )
      : inventory.topology === 'pgpool'
        ? pgpoolSchedule(nodeRoles, poolerNames)
        : streamingSchedule(nodeRoles);
  const nodePlans: NodePlan<HardenContext>[] = [...facts.map((f) => f.node), ...poolerNames].map((name) => {
    const session = sessions.get(name);
    if (session === undefined) throw new BugError('plan.session', `no session for ${name}`);
    return {
      node: name,
      session,
      facts: contexts.get(name) as HardenContext,
      steps: schedule.steps.get(name) ?? [],
    };
  });
  return {
    contexts,
    nodePlans,
    phases: schedule.phases,
    secrets,
    notes,
    ...(formation === undefined ? {} : { rollbackTimeoutMs: 600_000 }),
  };
}

/** Ask every step of every node whether it is needed and what it would change. Read-only. */
export async function planHardening(
  prepared: PreparedRun,
  req: HardenRequest,
  runId: string,
  signal: AbortSignal,
): Promise<PlanDocument> {
  const nodes = await Promise.all(
    prepared.nodePlans.map(async (np) => {
      const ctx: StepContext<HardenContext> = {
        node: np.node,
        session: np.session,
        runId,
        facts: np.facts,
        signal,
      };
      const steps: PlannedStep[] = [];
      // Every check reads the node as it is now (nothing is applied while planning), so they run
      // side by side; each caches what its own plan() shows. Always all of them: some steps'
      // plan() uses what their check() read.
      const live = await Promise.all(np.steps.map(async (step) => step.check(ctx)));
      for (const [i, step] of np.steps.entries()) {
        // tls.reload is due when an earlier step changes a file the server reads and no step
        // reloads after it (enable-ssl, replication-tls, … reload themselves), whatever the live
        // state says now: what the plan shows is what apply will do.
        const reloadDue = step.id === RELOAD && changedSinceLastReload(steps);
        const needed = reloadDue || live[i] === true;
        if (!needed) {
          steps.push({ id: step.id, title: step.title, needed });
          continue;
        }
        const change = step.plan(ctx);
        steps.push({
          id: step.id,
          title: step.title,
          needed,
          change,
          diffs: change.files.map((f) => unifiedDiff(f.path, f.before, f.after)).filter((d) => d !== ''),
        });
      }
      const role = np.facts.autoctl?.kind === 'monitor' ? ('monitor' as const) : np.facts.role;
      return { node: np.node, host: np.facts.node.host, role, steps };
    }),
  );
  const checksums: PlanDocument['checksums'] = {};
  for (const n of nodes) {
    checksums[n.node] = {};
    for (const s of n.steps)
      for (const f of s.change?.files ?? []) checksums[n.node]![f.path] ??= sha256(f.before);
  }
  const changes = nodes.flatMap((n) => n.steps.flatMap((s) => (s.change ? [s.change] : [])));
  const doc: PlanDocument = {
    v: 1,
    cluster: req.inventory.cluster,
    topology: req.inventory.topology,
    auth: req.auth,
    ...(prepared.notes !== undefined && prepared.notes.length > 0 ? { notes: prepared.notes } : {}),
    createdAt: new Date().toISOString(),
    nodes,
    phases: prepared.phases.map((ph) =>
      ph.map((e) => ({ node: e.node, steps: e.steps.map((s: Step) => s.id) })),
    ),
    checksums,
    reloads: changes.filter((c) => c.reload).length,
    restarts: changes.filter((c) => c.restart).length,
  };
  assertNoSecrets(JSON.stringify(doc), prepared.secrets);
  return doc;
}

/** Some planned step changes a file after the last planned step that reloads (or with none). */
export function changedSinceLastReload(earlier: readonly PlannedStep[]): boolean {
  let lastReload = -1;
  earlier.forEach((s, i) => {
    if (s.change?.reload === true) lastReload = i;
  });
  return earlier.some((s, i) => i > lastReload && (s.change?.files.length ?? 0) > 0);
}

/** A plan is shown and saved: a secret in it is our bug, and it must stop here. */
export function assertNoSecrets(text: string, secrets: readonly string[]): void {
  const keyLine = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  if (keyLine.test(text) || secrets.some((s) => s.length >= 4 && text.includes(s.trim()))) {
    throw new BugError(
      'plan.secret',
      'a plan would contain a password or private key; refusing to show or save it',
    );
  }
}

/**
 * What differs between a saved plan and the plan computed now (apply --plan refuses then): a file's
 * content, or the set of steps a node needs.
 */
export function changedSince(saved: PlanDocument, now: PlanDocument): string[] {
  const out: string[] = [];
  const needed = (doc: PlanDocument, node: string): string =>
    (doc.nodes.find((n) => n.node === node)?.steps ?? [])
      .filter((st) => st.needed)
      .map((st) => st.id)
      .join(',');
  for (const n of new Set([...saved.nodes, ...now.nodes].map((x) => x.node))) {
    if (needed(saved, n) !== needed(now, n))
      out.push(`${n}: steps [${needed(saved, n)}] → [${needed(now, n)}]`);
  }
  for (const [node, files] of Object.entries(saved.checksums)) {
    for (const [path, sum] of Object.entries(files)) {
      const current = now.checksums[node]?.[path];
      if (current !== undefined && current !== sum) out.push(`${node}:${path}`);
    }
  }
  return out;
}
