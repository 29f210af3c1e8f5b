// Continuing and undoing an interrupted run, as `pgharden resume RUN_ID`, `pgharden rollback RUN_ID`
// and the wizard's welcome screen all do it (SPEC §3, §10). Views differ; this flow does not.
import { preflightAll, type ConnectOptions } from './audit-run.js';
import { posix } from 'node:path';
import { gatherPgpoolFacts } from './pgpool-facts.js';
import { restartPgpool } from '../steps/pgpool-ops.js';
import { readResumeState, resumeRun, type ResumeState } from './engine/resume.js';
import { UsageError } from './errors.js';
import type { EngineEvent, EventBus } from './events.js';
import { readRunSecrets, runConfirmedPlan, type ConfirmedRun } from './harden-flow.js';
import { loadInventory } from './inventory.js';
import { readJournal } from './journal.js';
import { DEFAULT_SUPERUSER } from './preflight.js';
import { rollbackRun, type RollbackRunResult } from './runner.js';
import { acquireRunLock } from './run-lock.js';
import type { RunResult } from './runner.js';
import type { Journal } from './journal.js';
import { psqlQueries } from '../remote/psql.js';
import { autoctlReadRestored } from '../steps/pgaf-autoctl.js';

/** What an interrupted run needs to be prepared again: from its journal, before any connection. */
export interface ResumeSetup {
  state: ResumeState;
  /** The run's inventory, or the one the operator names instead. */
  inventory: string;
  /** The run's auth mode (undefined in journals that lack it: the inventory's then). */
  auth: string | undefined;
  certs: 'generate' | 'import';
  /** The PKI dir the run used: the same CA and certificates are found again, never a new CA. */
  pkiDir: string | undefined;
  /** Passwords the run generated before the interruption: some roles may have them already. */
  generatedBefore: Map<string, string>;
}

/** Unknown, finished and rolled-back runs are refused here (exit 2), before any connection. */
export async function resumeSetup(
  stateDir: string,
  runId: string,
  inventoryOverride?: string,
): Promise<ResumeSetup> {
  const state = await readResumeState(stateDir, runId);
  const inventory = inventoryOverride ?? state.meta.inventory;
  if (inventory === undefined) {
    throw new UsageError(
      'resume.no-inventory',
      `run ${runId} does not name its inventory`,
      'pass -i INVENTORY',
    );
  }
  const { meta } = state;
  if (meta.certs === 'import' && meta.pkiDir === undefined) {
    throw new UsageError(
      'resume.no-pki-dir',
      `run ${runId} imported certificates but does not say from where`,
    );
  }
  return {
    state,
    inventory,
    auth: meta.auth,
    certs: meta.certs === 'import' ? 'import' : 'generate',
    pkiDir: meta.pkiDir,
    generatedBefore: await readRunSecrets(stateDir, runId),
  };
}

/** The rest of a resumed run, once its remaining plan was shown and confirmed: lock, journal, undo, run. */
export function runResumed(
  req: ConfirmedRun & { bus: { emit(event: EngineEvent): void }; signal: AbortSignal },
  state: ResumeState,
  note?: Record<string, unknown>,
): Promise<{ result: RunResult; journalPath: string }> {
  return runConfirmedPlan(req, (journal: Journal, nodes) =>
    resumeRun({
      state,
      runId: req.runId,
      nodes,
      phases: req.run.phases,
      journal,
      bus: req.bus,
      signal: req.signal,
      // As the run's first part had it (pg_auto_failover: a rollback waits for the formation).
      rollbackTimeoutMs: req.run.rollbackTimeoutMs,
      note,
    }),
  );
}

export interface RollbackByIdRequest {
  stateDir: string;
  runId: string;
  /** Instead of the inventory the run recorded. */
  inventory?: string | undefined;
  bus: EventBus;
  connectOptions: ConnectOptions;
}

/**
 * Undo a run from its journal with fresh sessions to the nodes it touched, under the cluster's run
 * lock; each node reloads and must answer afterwards. `failed`: nodes that could not be rolled back.
 */
export async function rollbackById(req: RollbackByIdRequest): Promise<RollbackRunResult> {
  const { stateDir, runId, bus } = req;
  const journalState = await readJournal(stateDir, runId);
  const meta = journalState.records.find((r) => r.type === 'run:meta');
  const inventoryPath =
    req.inventory ?? (typeof meta?.['inventory'] === 'string' ? meta['inventory'] : undefined);
  if (inventoryPath === undefined) {
    throw new UsageError(
      'rollback.no-inventory',
      `run ${runId} does not name its inventory`,
      'pass -i INVENTORY',
    );
  }
  const { inventory } = await loadInventory(inventoryPath);
  const touched = new Set(journalState.records.flatMap((r) => (r.node === undefined ? [] : [r.node])));
  const nodes = inventory.nodes.filter((n) => touched.has(n.name));
  const poolers = (inventory.topology === 'pgpool' ? (inventory.poolers ?? []) : []).filter(
    (p) => p.kind === 'pgpool' && touched.has(p.name),
  );
  const { outcomes, sessions } = await preflightAll({ ...inventory, nodes }, bus, req.connectOptions);
  try {
    const lock = await acquireRunLock(stateDir, inventory.cluster, runId);
    try {
      return await rollbackRun({
        stateDir,
        runId,
        sessions: Object.fromEntries(sessions),
        bus,
        // pgpool after the backends (its old md5/plain config needs their old rules back first).
        last: poolers.map((p) => p.name),
        // pool_passwd keeps its AES entries: the backends keep the SCRAM verifiers a rollback from the
        // journal cannot turn back into md5 hashes, and md5 pool_passwd entries cannot do SCRAM, while
        // AES entries serve md5 and SCRAM alike (pgpool decrypts them).
        keep: (node, path) => poolers.some((p) => p.name === node) && posix.basename(path) === 'pool_passwd',
        afterRollback: async (node, session, signal) => {
          const pooler = poolers.find((p) => p.name === node);
          if (pooler !== undefined) {
            // Its files are back: ssl and the key file are read at start only. Same argv.
            const pg = await gatherPgpoolFacts(session, pooler, signal);
            await restartPgpool(session, pg, pg.process.pid, signal);
            return;
          }
          const o = outcomes.find((x) => x.node === node);
          const pg = o?.ok ? o.facts.pg : undefined;
          if (pg === undefined) return; // not inspectable: the rollback result says what happened
          const inv = nodes.find((n) => n.name === node);
          // pg_auto_failover: the service must read the restored pg_autoctl.cfg (it rewrites
          // postgresql-auto-failover.conf from it); a no-op on nodes pg_autoctl does not run.
          const autoctl =
            o?.ok === true && (await autoctlReadRestored(session, o.facts.osUser, pg.dataDir, signal));
          const ping = (): Promise<unknown> =>
            psqlQueries(
              session,
              {
                osUser: o?.ok ? o.facts.osUser : 'postgres',
                superuser: inv?.pg?.superuser ?? DEFAULT_SUPERUSER,
                socketDir: pg.socketDir,
                port: pg.port,
                binDir: pg.binDir,
              },
              { reload: 'SELECT pg_reload_conf() AS ok', ping: 'SELECT 1 AS ok' },
              { signal },
            );
          // A standby whose primary_conninfo changed back is restarted by pg_autoctl: wait for it.
          for (let i = 0; ; i++) {
            try {
              await ping();
              break;
            } catch (err) {
              if (!autoctl || i >= 150 || signal.aborted) throw err;
              await new Promise((r) => setTimeout(r, 200));
            }
          }
        },
      });
    } finally {
      await lock.release();
    }
  } finally {
    await Promise.allSettled([...sessions.values()].map((s) => s.close()));
  }
}
