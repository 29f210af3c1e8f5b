// First-time hardening as the headless commands and the wizard both run it: from preflight results to
// a plan (passwords first, then certificates and step plans), and from a shown, confirmed plan to an
// applied run (run lock, journal, runPlan with rollback). Views differ; this flow does not.
import type { EventBus } from './events.js';
import type { NodeOutcome } from './facts.js';
import {
  assertNoSecrets,
  planHardening,
  prepareHardening,
  type HardenRequest,
  type PlanDocument,
  type PreparedRun,
} from './harden.js';
import type { Inventory } from './inventory-schema.js';
import { Journal, newRunId } from './journal.js';
import { expandHome } from './paths.js';
import { runPlan, type RunResult } from './runner.js';
import { acquireRunLock } from './run-lock.js';
import { passwordMap, resolvePasswords } from './secrets.js';
import { psqlQueries } from '../remote/psql.js';
import type { RemoteSession } from '../remote/types.js';
import { pgConn } from '../steps/tls-files.js';

export interface PasswordSources {
  env: NodeJS.ProcessEnv;
  secretsFile?: string | undefined;
  /** Interactive runs only (the wizard). */
  prompt?: ((role: string) => Promise<string | undefined>) | undefined;
}

export interface PlannedRun {
  plan: PlanDocument;
  run: PreparedRun;
  runId: string;
}

/** Passwords, certificates, then every step's plan. Read-only on the nodes; may write the PKI dir. */
export async function planFromPreflight(
  req: Omit<HardenRequest, 'passwords'>,
  outcomes: readonly NodeOutcome[],
  sessions: ReadonlyMap<string, RemoteSession>,
  sources: PasswordSources,
  signal: AbortSignal,
): Promise<PlannedRun> {
  // Passwords first: a headless run that lacks one stops here, before any change (SPEC §3).
  const md5Roles = outcomes.flatMap((o) =>
    o.ok && o.facts.pg?.role === 'primary' ? o.facts.pg.md5Roles : [],
  );
  const resolved = await resolvePasswords({
    // Every md5 role needs the operator's password: a new one would strand its clients (and a
    // replication role's .pgpass on the standbys).
    roles: md5Roles.map((r) => ({ name: r.name, kind: 'client' as const })),
    env: sources.env,
    secretsFile: sources.secretsFile,
    prompt: sources.prompt,
  });
  const full: HardenRequest = { ...req, passwords: passwordMap(resolved) };
  const run = await prepareHardening(full, outcomes, sessions);
  const runId = newRunId();
  const plan = await planHardening(run, full, runId, signal);
  return { plan, run, runId };
}

export interface ApplyRequest extends PlannedRun {
  inventory: Inventory;
  inventoryPath: string;
  stateDir: string;
  bus: EventBus;
  signal: AbortSignal;
}

/** Apply a plan that was shown and confirmed: run lock, journal, node by node with rollback. */
export async function applyPlanned(req: ApplyRequest): Promise<{ result: RunResult; journalPath: string }> {
  const { plan, run, runId } = req;
  const lock = await acquireRunLock(req.stateDir, req.inventory.cluster, runId);
  const journal = await Journal.open(req.stateDir, runId, run.secrets);
  try {
    await journal.write({ type: 'run:meta', inventory: expandHome(req.inventoryPath), auth: plan.auth });
    assertNoSecrets(JSON.stringify(plan), run.secrets);
    const result = await runPlan({
      runId,
      nodes: run.nodePlans.map((np) => ({
        ...np,
        // After undoing a node: reload what was restored, then prove PostgreSQL answers (SPEC §10).
        afterRollback: async (session, signal) => {
          await psqlQueries(
            session,
            pgConn(np.facts),
            { reload: 'SELECT pg_reload_conf() AS ok', ping: 'SELECT 1 AS ok' },
            { signal },
          );
        },
      })),
      phases: run.phases,
      journal,
      bus: req.bus,
      signal: req.signal,
    });
    return { result, journalPath: journal.path };
  } finally {
    await journal.close().catch(() => undefined);
    await lock.release();
  }
}

export function closeSessions(sessions: ReadonlyMap<string, RemoteSession>): Promise<unknown> {
  return Promise.allSettled([...sessions.values()].map((s) => s.close()));
}
