// Verification rows for a pg_auto_failover formation (SPEC §7.3, §8): the formation is settled
// (`pg_autoctl show state`: every node at its goal state), every keeper's connection to the monitor
// uses TLS (pg_stat_ssl on the monitor), and the monitor's health-check role really logs in to each
// data node over TLS with verify-full (the monitor reports nodes healthy even when that login fails,
// LAB-NOTES: so it is tested, not inferred).
import type { NodeOutcome } from '../core/facts.js';
import type { Inventory } from '../core/inventory-schema.js';
import { psqlQueries } from '../remote/psql.js';
import { shellJoin } from '../remote/shell.js';
import type { RemoteSession } from '../remote/types.js';
import { PGAF_ROLES } from '../steps/pgaf-pgpass.js';
import { detectFormation, type Formation } from '../topologies/pg-auto-failover-detect.js';
import type { VerifyRow } from './evaluate.js';
import { pgConnectionOf } from './queries.js';

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The formation, or a failed row saying why it cannot be verified (not settled, no monitor, …). */
export async function formationOf(
  inventory: Inventory,
  outcomes: readonly NodeOutcome[],
  sessions: ReadonlyMap<string, RemoteSession>,
  signal: AbortSignal,
): Promise<{ formation: Formation | undefined; rows: VerifyRow[] }> {
  try {
    const formation = await detectFormation(inventory, outcomes, sessions, signal);
    if (formation === undefined) return { formation, rows: [] };
    const mon = [...formation.nodes].find(([, a]) => a.kind === 'monitor')?.[0] ?? '?';
    const states = formation.states.map((s) => `${s.nodename} ${s.current_group_state}`).join(', ');
    return {
      formation,
      rows: [{ node: mon, check: 'pgaf.formation', ok: true, value: `settled: ${states}` }],
    };
  } catch (err) {
    const node = inventory.nodes.find((n) => n.role === 'monitor')?.name ?? inventory.nodes[0]?.name ?? '?';
    return {
      formation: undefined,
      rows: [{ node, check: 'pgaf.formation', ok: false, value: errorText(err) }],
    };
  }
}

/** Monitor-side rows: keepers reach it over TLS, and its health-check role logs in to every node. */
export async function monitorRows(
  formation: Formation,
  outcomes: readonly NodeOutcome[],
  sessions: ReadonlyMap<string, RemoteSession>,
  signal: AbortSignal,
): Promise<VerifyRow[]> {
  const entry = [...formation.nodes].find(([, a]) => a.kind === 'monitor');
  const outcome = outcomes.find((o) => o.node === entry?.[0]);
  const session = entry === undefined ? undefined : sessions.get(entry[0]);
  if (entry === undefined || outcome?.ok !== true || session === undefined) return [];
  const [node, a] = entry;
  const conn = pgConnectionOf(outcome.facts, 'postgres');
  if (conn === undefined || outcome.facts.pg === undefined) return [];
  const rows: VerifyRow[] = [];
  try {
    // Keepers connect to the monitor in their loop and keep a LISTEN connection that comes back a
    // moment after their service restarts: poll (bounded) until every data node has one.
    let all: Record<string, unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await psqlQueries(
        session,
        conn,
        {
          c: `SELECT a.usename, coalesce(s.ssl, false) AS ssl, s.version FROM pg_stat_activity a
                LEFT JOIN pg_stat_ssl s USING (pid)
               WHERE a.client_addr IS NOT NULL AND a.usename = '${PGAF_ROLES.node}'`,
        },
        { signal },
      );
      all = r.c ?? [];
      if (all.length >= a.dataNodes.length || all.some((x) => x['ssl'] !== true) || signal.aborted) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    const plain = all.filter((x) => x['ssl'] !== true);
    rows.push({
      node,
      check: 'pgaf.monitor-tls',
      ok: all.length > 0 && plain.length === 0,
      value:
        all.length === 0
          ? 'no keeper connected to the monitor'
          : `${all.length - plain.length} of ${all.length} keeper connections use TLS`,
    });
  } catch (err) {
    rows.push({ node, check: 'pgaf.monitor-tls', ok: false, value: errorText(err) });
  }
  const psql = `${outcome.facts.pg.binDir.replace(/\/+$/, '')}/psql`;
  const ca = outcome.facts.pg.settings['ssl_ca_file']?.setting ?? '';
  for (const n of a.dataNodes) {
    const conninfo = `host=${n.host} port=${n.port} dbname=postgres user=${PGAF_ROLES.monitor} sslmode=verify-full sslrootcert=${ca} connect_timeout=10`;
    try {
      const r = await session.exec(
        `${shellJoin(['env', 'LC_ALL=C', psql, '-X', '-w', '-At', '-c', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', conninfo])} 2>&1`,
        { asUser: outcome.facts.osUser, signal },
      );
      const ok = r.code === 0 && r.stdout.trim() === 't';
      rows.push({
        node,
        check: 'pgaf.health-check-login',
        ok,
        value: `→ ${n.name}: ${ok ? `${PGAF_ROLES.monitor} logged in over TLS (verify-full)` : (r.stdout.trim().split('\n').slice(-1)[0] ?? '')}`,
      });
    } catch (err) {
      rows.push({
        node,
        check: 'pgaf.health-check-login',
        ok: false,
        value: `→ ${n.name}: ${errorText(err)}`,
      });
    }
  }
  return rows;
}
