// The SQL side of verification (SPEC §8): one psql batch per node over its local socket, evaluated
// into rows by ./evaluate.ts. Never reads a password hash: only whether a role has an md5 one.
import type { HbaRuleRow, NodeFacts } from '../core/facts.js';
import { psqlQueries, type PgConnection } from '../remote/psql.js';
import type { RemoteSession } from '../remote/types.js';
import {
  hbaRows,
  md5RolesRow,
  replicationTlsRow,
  settingRows,
  walReceiverRow,
  type ReplicationSslRow,
  type VerifyRow,
} from './evaluate.js';

export const VERIFY_QUERIES = {
  settings: `SELECT current_setting('ssl') AS ssl,
                    current_setting('ssl_min_protocol_version') AS min_protocol,
                    current_setting('password_encryption') AS password_encryption,
                    pg_is_in_recovery() AS standby`,
  replication: `SELECT r.application_name, host(r.client_addr) AS client_addr,
                       s.ssl, s.version, s.cipher, s.bits
                  FROM pg_stat_replication r LEFT JOIN pg_stat_ssl s USING (pid)
                 ORDER BY r.application_name`,
  walReceiver: `SELECT conninfo FROM pg_stat_wal_receiver`,
  hba: `SELECT line_number, type, database, user_name, address, netmask, auth_method, options, error
          FROM pg_hba_file_rules ORDER BY line_number`,
  md5Roles: `SELECT rolname AS name FROM pg_authid WHERE rolpassword LIKE 'md5%' ORDER BY rolname`,
} as const;

export interface QueryContext {
  network: string[];
  minVersion: string;
  /** Standbys the inventory lists: the primary must stream to this many. */
  standbys: number;
}

export function pgConnectionOf(facts: NodeFacts, superuser: string): PgConnection | undefined {
  const pg = facts.pg;
  if (pg === undefined) return undefined;
  return {
    osUser: facts.osUser,
    superuser,
    socketDir: pg.socketDir,
    port: pg.port,
    binDir: pg.binDir,
  };
}

export async function queryRows(
  session: RemoteSession,
  node: string,
  conn: PgConnection,
  ctx: QueryContext,
  signal?: AbortSignal,
): Promise<VerifyRow[]> {
  const r = await psqlQueries(session, conn, VERIFY_QUERIES, { signal, timeoutMs: 30_000 });
  // psqlQueries returns untyped JSON rows; the column names come from VERIFY_QUERIES.
  const s = r.settings[0] as
    { ssl: string; min_protocol: string; password_encryption: string; standby: boolean } | undefined;
  if (s === undefined) throw new Error(`${node}: psql returned no settings row`);
  const rows = settingRows(
    node,
    { ssl: s.ssl, minProtocol: s.min_protocol, passwordEncryption: s.password_encryption },
    ctx.minVersion,
  );
  if (s.standby) {
    const receiver = r.walReceiver[0] as { conninfo: string | null } | undefined;
    rows.push(walReceiverRow(node, receiver?.conninfo));
  } else {
    rows.push(
      replicationTlsRow(node, r.replication as unknown as ReplicationSslRow[], ctx.standbys, ctx.minVersion),
    );
  }
  rows.push(...hbaRows(node, r.hba as unknown as HbaRuleRow[], ctx.network));
  rows.push(
    md5RolesRow(
      node,
      (r.md5Roles as { name: string }[]).map((x) => x.name),
    ),
  );
  return rows;
}
