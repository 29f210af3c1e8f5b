// `pgharden rollback RUN_ID`: undo a finished (or half rolled back) run from its journal with fresh
// SSH sessions. Files are restored byte for byte from the on-node backups (a file the run created is
// removed), then each node reloads and must answer. Step-specific undo that needs the run's secrets
// (md5 hashes replaced by SCRAM verifiers) cannot be replayed: the verifiers stay, and the restored
// md5 rules accept them with the same passwords.
import { preflightAll } from '../core/audit-run.js';
import { EventBus } from '../core/events.js';
import { UsageError, type ExitCode } from '../core/errors.js';
import { loadInventory } from '../core/inventory.js';
import { readJournal } from '../core/journal.js';
import { stateDir } from '../core/paths.js';
import { DEFAULT_SUPERUSER } from '../core/preflight.js';
import { rollbackRun } from '../core/runner.js';
import { acquireRunLock } from '../core/run-lock.js';
import { detectMode } from '../core/terminal.js';
import { autoctlReadRestored } from '../steps/pgaf-autoctl.js';
import { psqlQueries } from '../remote/psql.js';
import type { CliIo, GlobalOptions } from './io.js';
import { reportFailure } from './report-error.js';
import { envSecrets, envSecretValues } from './secrets.js';
import { auditProgressView } from './views/audit-human.js';
import { jsonLinesView } from './views/json-lines.js';
import { makeStyle } from './views/style.js';

export async function rollbackCommand(
  runId: string,
  opts: { inventory?: string },
  global: GlobalOptions,
  io: CliIo,
): Promise<ExitCode> {
  const mode = detectMode(io.env, io, { json: global.json, color: global.color });
  const style = makeStyle(mode.color);
  const json = global.json === true ? jsonLinesView(io.stdout, () => envSecretValues(io.env)) : undefined;
  const bus = new EventBus();
  bus.subscribe(json ? json.onEvent : auditProgressView(io.stderr, style));
  const dir = stateDir(io.env, global.stateDir);
  let close: () => Promise<unknown> = () => Promise.resolve();
  try {
    const state = await readJournal(dir, runId);
    const meta = state.records.find((r) => r.type === 'run:meta');
    const inventoryPath =
      opts.inventory ?? (typeof meta?.['inventory'] === 'string' ? meta['inventory'] : undefined);
    if (inventoryPath === undefined) {
      throw new UsageError(
        'rollback.no-inventory',
        `run ${runId} does not name its inventory`,
        'pass -i INVENTORY',
      );
    }
    const { inventory } = await loadInventory(inventoryPath);
    const touched = new Set(state.records.flatMap((r) => (r.node === undefined ? [] : [r.node])));
    const nodes = inventory.nodes.filter((n) => touched.has(n.name));
    const { outcomes, sessions } = await preflightAll({ ...inventory, nodes }, bus, {
      hostKeys: global.acceptNewHostKeys === true ? 'accept-and-save' : 'reject',
      secrets: envSecrets(io.env),
    });
    close = () => Promise.allSettled([...sessions.values()].map((s) => s.close()));
    const lock = await acquireRunLock(dir, inventory.cluster, runId);
    try {
      const result = await rollbackRun({
        stateDir: dir,
        runId,
        sessions: Object.fromEntries(sessions),
        bus,
        afterRollback: async (node, session, signal) => {
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
      const code: ExitCode = result.failed.length > 0 ? 1 : 0;
      json?.summary({
        command: 'rollback',
        exitCode: code,
        runId,
        nodes: result.nodes,
        failed: result.failed,
      });
      if (!json) {
        for (const [node, steps] of Object.entries(result.nodes)) {
          io.stderr.write(
            `${style('green', '↺')} ${node}: ${steps.length === 0 ? 'nothing to undo' : steps.join(', ')}\n`,
          );
        }
        io.stderr.write(
          result.failed.length === 0
            ? `${style('green', '✓')} run ${runId} rolled back\n`
            : `${style('red', '✗')} could not roll back ${result.failed.join(', ')}; fix the connection and run again\n`,
        );
      }
      return code;
    } finally {
      await lock.release();
    }
  } catch (err) {
    return reportFailure(err, 'rollback', global, io);
  } finally {
    await close();
  }
}
