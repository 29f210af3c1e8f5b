// pgpool.health-watch (SPEC §7.4 step 4): after the backends switched to SCRAM verifiers and
// hostssl-only rules, watch pgpool through one more health-check period: every backend still `up` in
// SHOW POOL_NODES and no failed health check in SHOW POOL_HEALTH_CHECK_STATS (counted since the
// restart of pgpool.configure, i.e. since pgpool holds AES entries and speaks TLS). Changes nothing.
import { FailedError } from '../core/errors.js';
import { defineStep, emptyPlan } from '../core/step.js';
import type { HardenContext } from './context.js';
import { PGPOOL_CONFIGURE } from './pgpool-configure.js';
import { checkLogin, poolerOf, queryThroughPooler, waitPoolNodesUp } from './pgpool-ops.js';

export const PGPOOL_HEALTH_WATCH = 'pgpool.health-watch';

export function watchMs(f: HardenContext): number {
  const period = Number(poolerOf(f).pgpool.settings['health_check_period'] || '0');
  // One period plus a margin; a disabled health check (0) still gets a short look at POOL_NODES.
  return Math.min(30_000, Math.max(1_500, (Number.isFinite(period) ? period : 0) * 1000 + 1_000));
}

export async function healthCheckFailures(
  session: Parameters<typeof queryThroughPooler>[0],
  f: HardenContext,
  signal?: AbortSignal,
): Promise<{ node: string; fail: number; total: number }[]> {
  const rows = await queryThroughPooler(session, f, 'SHOW POOL_HEALTH_CHECK_STATS', {
    tls: true,
    ...checkLogin(f),
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
  after: [PGPOOL_CONFIGURE],
  check() {
    return true;
  },
  plan({ facts: f }) {
    return {
      ...emptyPlan(),
      commands: [
        `wait ${watchMs(f)} ms, then SHOW POOL_NODES and SHOW POOL_HEALTH_CHECK_STATS through ${f.node.host}`,
      ],
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
    await waitPoolNodesUp(session, f, true, { signal, timeoutMs: 5_000 });
    const failed = (await healthCheckFailures(session, f, signal)).filter((s) => s.fail > 0);
    if (failed.length > 0) {
      throw new FailedError(
        'pgpool.health-check-failed',
        `${f.node.name}: pgpool's health check failed (${failed.map((s) => `${s.node}: ${s.fail}`).join(', ')})`,
        "see pgpool's log; the backends' new rules or verifiers do not accept pgpool's logins",
      );
    }
    return true;
  },
  async undo() {
    // Nothing to undo: this step only watches.
  },
});
