// First-time hardening as the headless commands and the wizard both run it: from preflight results to
// a plan (passwords first, then certificates and step plans), and from a shown, confirmed plan to an
// applied run (run lock, journal, runPlan with rollback). Views differ; this flow does not.
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ConnectOptions } from './audit-run.js';
import type { EngineEvent } from './events.js';
import type { NodeOutcome } from './facts.js';
import {
  assertNoSecrets,
  planHardening,
  prepareHardening,
  roleAuth,
  type HardenRequest,
  type PlanDocument,
  type PreparedRun,
} from './harden.js';
import type { Inventory } from './inventory-schema.js';
import { Journal, newRunId, runDir } from './journal.js';
import { expandHome } from './paths.js';
import { reconnector } from './reconnect.js';
import { runPlan, type NodePlan, type RunResult } from './runner.js';
import { acquireRunLock } from './run-lock.js';
import { INTERNAL_KINDS, passwordMap, resolvePasswords, type PasswordRole } from './secrets.js';
import { getParam, parseConninfo } from '../pgconf/conninfo.js';
import { psqlQueries } from '../remote/psql.js';
import type { RemoteSession } from '../remote/types.js';
import type { AuthMode, HardenContext } from '../steps/context.js';
import { autoctlAfterRollback } from '../steps/pgaf-autoctl.js';
import { waitSsl } from '../steps/pgaf-enable-ssl.js';
import { PGAF_ROLES } from '../steps/pgaf-pgpass.js';
import { pgConn } from '../steps/tls-files.js';
import { detectFormation, type Formation } from '../topologies/pg-auto-failover-detect.js';
import { readSecretsFile } from '../verify/credentials.js';

export interface PasswordSources {
  env: NodeJS.ProcessEnv;
  secretsFile?: string | undefined;
  /** Interactive runs only (the wizard). */
  prompt?: ((role: string) => Promise<string | undefined>) | undefined;
  /** resume: the passwords the run generated before (its secrets file). */
  generatedBefore?: ReadonlyMap<string, string> | undefined;
}

export interface PlannedRun {
  plan: PlanDocument;
  run: PreparedRun;
  runId: string;
  /** Passwords pgharden issued (internal roles that had none): written to the run's 0600 secrets file. */
  generated: ReadonlyMap<string, string>;
}

/** Passwords, certificates, then every step's plan. Read-only on the nodes; may write the PKI dir. */
export async function planFromPreflight(
  req: Omit<HardenRequest, 'passwords'>,
  outcomes: readonly NodeOutcome[],
  sessions: ReadonlyMap<string, RemoteSession>,
  sources: PasswordSources,
  signal: AbortSignal,
  /** resume: the run's own id. */
  runId: string = newRunId(),
): Promise<PlannedRun> {
  // pg_auto_failover: detected from the nodes (the inventory may say so, or not); an unsettled
  // formation is refused here, before anything else.
  const formation = await detectFormation(req.inventory, outcomes, sessions, signal);
  if (formation !== undefined && req.inventory.topology !== 'pg_auto_failover') {
    req = { ...req, inventory: { ...req.inventory, topology: 'pg_auto_failover' } };
  }
  // Passwords first: a headless run that lacks one stops here, before any change (SPEC §3).
  const md5Roles = outcomes.flatMap((o) =>
    o.ok && o.facts.pg?.role === 'primary' ? o.facts.pg.md5Roles : [],
  );
  const md5Names = new Set(md5Roles.map((r) => r.name));
  const resolved = await resolvePasswords({
    roles: [
      // Every md5 role needs the operator's password: a new one would strand its clients (and a
      // replication role's .pgpass on the standbys).
      ...md5Roles.map((r) => ({ name: r.name, kind: 'client' as const })),
      // An internal role with no password at all (a trust rule let it in) would be locked out by
      // the new rules: it gets one, written where its consumers read it (SPEC §3).
      // Roles that certificates alone authenticate need none (the run's mode or their own).
      // pgpool: every role that logs in through it needs its password for pool_passwd's AES entries.
      ...(req.inventory.topology === 'pgpool'
        ? (req.inventory.roles ?? [])
            .filter(
              (r) =>
                (r.kind === 'client' || r.kind === 'health-check') &&
                !md5Names.has(r.name) &&
                roleAuth(r, req.auth) !== 'cert',
            )
            // As clients: a password pgharden made up would not be the one the backends hold.
            .map((r) => ({ name: r.name, kind: 'client' as const }))
        : []),
      ...(formation !== undefined
        ? req.auth === 'cert'
          ? []
          : autoFailoverPasswordRoles(formation, outcomes)
        : passwordlessInternalRoles(req.inventory, outcomes)
      ).filter((r) => !md5Names.has(r.name) && roleAuth(r, req.auth) !== 'cert'),
    ],
    env: sources.env,
    secretsFile: sources.secretsFile,
    prompt: sources.prompt,
    generatedBefore: sources.generatedBefore,
  });
  const full: HardenRequest = { ...req, passwords: passwordMap(resolved) };
  const run = await prepareHardening(full, outcomes, sessions, formation);
  const plan = await planHardening(run, full, runId, signal);
  const generated = new Map(
    [...resolved].flatMap(([role, r]) => (r.source === 'generated' ? [[role, r.password] as const] : [])),
  );
  return { plan, run, runId, generated };
}

/**
 * pg_auto_failover's own roles: autoctl_node (on the monitor), pgautofailover_replicator and
 * pgautofailover_monitor (on the data nodes). pgharden writes every place they are read (.pgpass,
 * pg_autoctl.cfg), so a role with no password gets a generated one; a role that has a password
 * already keeps it and the operator must give it (its other consumers are not pgharden's).
 */
export function autoFailoverPasswordRoles(
  formation: Formation,
  outcomes: readonly NodeOutcome[],
): (PasswordRole & { auth?: AuthMode | undefined })[] {
  const facts = (kind: 'monitor' | 'keeper'): NodeOutcome | undefined =>
    outcomes.find(
      (o) =>
        o.ok &&
        formation.nodes.get(o.node)?.kind === kind &&
        (kind === 'monitor' || o.facts.pg?.role === 'primary'),
    );
  const roles: PasswordRole[] = [];
  const add = (o: NodeOutcome | undefined, name: string, kind: PasswordRole['kind']): void => {
    if (o?.ok !== true || o.facts.pg === undefined) return;
    const none = (o.facts.pg.passwordlessRoles ?? []).includes(name);
    roles.push({ name, kind: none ? kind : 'client' });
  };
  add(facts('monitor'), PGAF_ROLES.node, 'monitor');
  add(facts('keeper'), PGAF_ROLES.replicator, 'replication');
  add(facts('keeper'), PGAF_ROLES.monitor, 'health-check');
  return roles;
}

/**
 * Internal roles (inventory kinds replication, monitor, health-check, and the user every standby
 * replicates as) that can log in and have no password on the primary.
 */
export function passwordlessInternalRoles(
  inventory: Inventory,
  outcomes: readonly NodeOutcome[],
): (PasswordRole & { auth?: AuthMode | undefined })[] {
  const primary = outcomes.find((o) => o.ok && o.facts.pg?.role === 'primary');
  const none = new Set(primary?.ok === true ? (primary.facts.pg?.passwordlessRoles ?? []) : []);
  const roles = new Map<string, PasswordRole & { auth?: AuthMode | undefined }>();
  for (const r of inventory.roles ?? []) if (INTERNAL_KINDS.includes(r.kind)) roles.set(r.name, r);
  for (const o of outcomes) {
    if (!o.ok || o.facts.pg?.role !== 'standby') continue;
    const conninfo = parseConninfo(o.facts.pg.primaryConninfo ?? '');
    const user = getParam(conninfo, 'user') ?? o.facts.osUser;
    if (!roles.has(user)) roles.set(user, { name: user, kind: 'replication' });
  }
  return [...roles.values()].filter((r) => none.has(r.name));
}

/** A plan that was shown and confirmed, and what running it needs. */
export interface ConfirmedRun extends PlannedRun {
  inventory: Inventory;
  stateDir: string;
  /** What preflight connected with: a node that drops mid-run is reconnected the same way. */
  connectOptions: ConnectOptions;
  /** Sessions opened to roll back a dropped node: the caller closes them with its own. */
  onReconnected: (session: RemoteSession) => void;
}

/**
 * The frame of every run that changes nodes (apply, resume): the cluster's run lock, the run's
 * journal, each node with a reconnect (a node whose connection drops mid-run is rolled back over a
 * fresh one: exit 4, not 1) and, after a rollback, a reload and a ping (SPEC §10). `execute` runs
 * the steps.
 */
export async function runConfirmedPlan(
  req: ConfirmedRun,
  execute: (journal: Journal, nodes: NodePlan<HardenContext>[]) => Promise<RunResult>,
): Promise<{ result: RunResult; journalPath: string }> {
  const lock = await acquireRunLock(req.stateDir, req.inventory.cluster, req.runId);
  const journal = await Journal.open(req.stateDir, req.runId, req.run.secrets);
  try {
    const nodes = req.run.nodePlans.map((np) => ({
      ...np,
      reconnect: reconnector(req.inventory, np.facts.node, np.session, req.connectOptions, req.onReconnected),
      afterRollback: async (session: RemoteSession, signal: AbortSignal) => {
        // A pooler's undo restarted it and waited for every backend up (pgpool-configure.ts).
        if (np.facts.pooler !== undefined) return;
        // pg_auto_failover: pg_autoctl reads its restored files (one service restart per node).
        if (np.facts.autoctl !== undefined) {
          await autoctlAfterRollback(
            session,
            np.facts,
            (want) => waitSsl(session, np.facts, want, signal),
            signal,
          );
        }
        await psqlQueries(
          session,
          pgConn(np.facts),
          { reload: 'SELECT pg_reload_conf() AS ok', ping: 'SELECT 1 AS ok' },
          { signal },
        );
      },
    }));
    const result = await execute(journal, nodes);
    return { result, journalPath: journal.path };
  } finally {
    await journal.close().catch(() => undefined);
    await lock.release();
  }
}

export interface ApplyRequest extends ConfirmedRun {
  /** As the operator gave it; the journal records it absolute, for resume and rollback. */
  inventoryPath: string;
  certs: HardenRequest['certs'];
  pkiDir: string;
  /** What the run is, in its journal's run:meta (resume continues first-time hardening only). Default apply. */
  job?: 'apply' | 'rotate' | undefined;
  /** rotate: where the local pairs it replaced were archived. */
  archive?: string | undefined;
  /**
   * The plan's checks ran in this process just before, with no confirmation in between (headless
   * `--yes`): the run follows the plan's decisions instead of reading every node again (runner `decided`).
   */
  planJustMade?: boolean | undefined;
  bus: { emit(event: EngineEvent): void };
  signal: AbortSignal;
}

/** Where a run keeps the passwords it generated (0600, the `--secrets` format: role: password). */
export function runSecretsPath(stateDir: string, runId: string): string {
  return join(runDir(stateDir, runId), 'secrets.yaml');
}

/**
 * Writes the generated passwords before any node gets them, so they are never only in this
 * process's memory. Resume reads the file back (the roles may have them already).
 */
export async function writeRunSecrets(
  stateDir: string,
  runId: string,
  generated: ReadonlyMap<string, string>,
): Promise<string | undefined> {
  if (generated.size === 0) return undefined;
  const path = runSecretsPath(stateDir, runId);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, stringify(Object.fromEntries(generated)), { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

/** The passwords an earlier part of this run generated, for resume; none when it generated none. */
export async function readRunSecrets(stateDir: string, runId: string): Promise<Map<string, string>> {
  const path = runSecretsPath(stateDir, runId);
  if (!existsSync(path)) return new Map();
  return readSecretsFile(path);
}

/** Apply a plan that was shown and confirmed, node by node with rollback. */
export function applyPlanned(
  req: ApplyRequest,
): Promise<{ result: RunResult; journalPath: string; secretsFile?: string | undefined }> {
  let secretsFile: string | undefined;
  return runConfirmedPlan(req, async (journal, nodes) => {
    secretsFile = await writeRunSecrets(req.stateDir, req.runId, req.generated);
    // What `resume RUN_ID` needs to prepare the same run again (never a secret).
    await journal.write({
      type: 'run:meta',
      job: req.job ?? 'apply',
      ...(req.archive === undefined ? {} : { archive: req.archive }),
      // Absolute: resume and rollback may run from another directory.
      inventory: resolve(expandHome(req.inventoryPath)),
      auth: req.plan.auth,
      certs: req.certs,
      pkiDir: resolve(req.pkiDir),
      ...(secretsFile === undefined ? {} : { secretsFile }),
    });
    assertNoSecrets(JSON.stringify(req.plan), req.run.secrets);
    return runPlan({
      runId: req.runId,
      nodes,
      phases: req.run.phases,
      journal,
      bus: req.bus,
      signal: req.signal,
      rollbackTimeoutMs: req.run.rollbackTimeoutMs,
      // pg_auto_failover: pg_autoctl edits pg_autoctl.cfg and pg_hba.conf between the plan and later
      // steps (restarts, promotions), so every check() runs again before its step.
      decided:
        req.planJustMade === true && req.plan.topology !== 'pg_auto_failover'
          ? planDecisions(req.plan)
          : undefined,
    });
  }).then((r) => ({ ...r, secretsFile }));
}

/** node → step id → needed, as the plan shows it. */
export function planDecisions(plan: PlanDocument): Map<string, Map<string, boolean>> {
  return new Map(plan.nodes.map((n) => [n.node, new Map(n.steps.map((s) => [s.id, s.needed]))]));
}

export { closeSessions } from './audit-run.js';
