// pgpool.health-watch (SPEC §7.4 step 4): after the backends switched to SCRAM verifiers and
// hostssl-only rules, watch every pgpool through one more health-check period: every backend still
// `up` in SHOW POOL_NODES and no failed health check in SHOW POOL_HEALTH_CHECK_STATS (counted since
// the restart of pgpool.configure, i.e. since pgpool holds AES entries and speaks TLS). Changes nothing.
// It runs on the primary (through the primary's session, psql to pgpool's port with the primary's CA
// file), not on the pooler: the runner undoes a node at its latest phase, so this keeps the rollback
// order backends → pgpool. pgpool restarted into its old md5/plain config while the backends still
// want SCRAM over TLS would fail its health check and detach every backend.
import { FailedError } from '../core/errors.js';
import { defineStep, emptyPlan } from '../core/step.js';
import type { RemoteSession } from '../remote/types.js';
import type { HardenContext } from './context.js';
import { checkLogin, queryThroughPooler, waitPoolNodesUp, type PoolerHandle } from './pgpool-ops.js';
import { tlsPaths } from './tls-files.js';

export const PGPOOL_HEALTH_WATCH = 'pgpool.health-watch';

export function watchHandles(f: HardenContext): PoolerHandle[] {
  return (f.watchPoolers ?? []).map((w) => ({
    name: w.name,
    pgpool: w.pooler.pgpool,
    passwords: f.passwords,
    runAs: f.facts.osUser,
    caPath: tlsPaths(f).ca,
  }));
}

export function watchMs(f: HardenContext): number {
  const periods = watchHandles(f).map((h) => Number(h.pgpool.settings['health_check_period'] || '0'));
  const period = Math.max(0, ...periods.filter((p) => Number.isFinite(p)));
  // One period plus a margin; a disabled health check (0) still gets a short look at POOL_NODES.
  return Math.min(30_000, Math.max(1_500, period * 1000 + 1_000));
}

export async function healthCheckFailures(
  session: RemoteSession,
  h: PoolerHandle,
  signal?: AbortSignal,
): Promise<{ node: string; fail: number; total: number }[]> {
  const rows = await queryThroughPooler(session, h, 'SHOW POOL_HEALTH_CHECK_STATS', {
    tls: true,
    ...checkLogin(h),
    signal,
  });
  return rows.map((r) => ({
    node: `${r['hostname'] ?? '?'}:${r['port'] ?? '?'}`,
    fail: Number(r['fail_count'] ?? '0'),
    total: Number(r['total_count'] ?? '0'),
  }));
}

export const pgpoolHealthWatch = defineStep<HardenContext>({
  id: PGPOOL_HEALTH_WATCH,
  title: 'pgpool: watch one health-check period (no failure, every backend up)',
  check({ facts: f }) {
    return watchHandles(f).length > 0;
  },
  plan({ facts: f }) {
    return {
      ...emptyPlan(),
      commands: watchHandles(f).map(
        (h) =>
          `wait ${watchMs(f)} ms, then SHOW POOL_NODES and SHOW POOL_HEALTH_CHECK_STATS through ${h.name} (${h.pgpool.host}:${h.pgpool.port})`,
      ),
    };
  },
  async apply({ facts: f, signal }) {
    await new Promise<void>((res, rej) => {
      const t = setTimeout(res, watchMs(f));
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        rej(signal.reason as Error);
      });
    });
  },
  async verify({ session, facts: f, signal }) {
    for (const h of watchHandles(f)) {
      await waitPoolNodesUp(session, h, true, { signal, timeoutMs: 5_000 });
      const failed = (await healthCheckFailures(session, h, signal)).filter((s) => s.fail > 0);
      if (failed.length > 0) {
        throw new FailedError(
          'pgpool.health-check-failed',
          `${h.name}: pgpool's health check failed (${failed.map((s) => `${s.node}: ${s.fail}`).join(', ')})`,
          "see pgpool's log; the backends' new rules or verifiers do not accept pgpool's logins",
        );
      }
    }
    return true;
  },
  async undo() {
    // Nothing to undo: this step only watches.
  },
});
