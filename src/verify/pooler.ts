// Verification through a Pgpool-II pooler (SPEC §7.4, §8): the operator-side probes on its port (TLS
// handshake and verify-full with the cluster CA, non-TLS, wrong CA and wrong password refused), then,
// logged in through it over verify-full: SHOW POOL_NODES (every backend up), SHOW
// POOL_HEALTH_CHECK_STATS (no failed health check since pgpool started, i.e. since apply restarted
// it) and pg_stat_ssl of the backend session pgpool opened for us (pgpool → backend over TLS).
import { X509Certificate } from 'node:crypto';
import { checkServerIdentity } from 'node:tls';
import type { Inventory } from '../core/inventory-schema.js';
import { loginCredential, type Credential } from './credentials.js';
import type { VerifyRow } from './evaluate.js';
import { probeNode, sanNames, type ProbeContext } from './probes.js';

type Pooler = NonNullable<Inventory['poolers']>[number];

export interface PoolerState {
  nodes: { hostname: string; port: string; status: string }[];
  health: { hostname: string; port: string; fail: number; total: number }[];
  backendSsl: boolean | undefined;
  backendTls: string | null;
}

/** Pure: the rows for what was read through the pooler. */
export function poolerRows(node: string, s: PoolerState): VerifyRow[] {
  const down = s.nodes.filter((n) => n.status !== 'up');
  const failed = s.health.filter((h) => h.fail > 0);
  return [
    {
      node,
      check: 'pooler.nodes-up',
      ok: s.nodes.length > 0 && down.length === 0,
      value:
        s.nodes.length === 0
          ? 'SHOW POOL_NODES returned no backend'
          : down.length === 0
            ? `${s.nodes.length} backend(s) up`
            : `not up: ${down.map((n) => `${n.hostname}:${n.port} ${n.status}`).join(', ')}`,
    },
    {
      node,
      check: 'pooler.health-check',
      ok: failed.length === 0,
      value:
        failed.length === 0
          ? `no failed health check since pgpool started (${s.health.reduce((a, h) => a + h.total, 0)} checks)`
          : `failed: ${failed.map((h) => `${h.hostname}:${h.port} ${h.fail}/${h.total}`).join(', ')}`,
    },
    {
      node,
      check: 'pooler.backend-tls',
      ok: s.backendSsl === true,
      value:
        s.backendSsl === true
          ? `pgpool → backend over ${s.backendTls ?? 'TLS'}`
          : 'the backend session pgpool opened is not over TLS',
    },
  ];
}

async function readThroughPooler(pooler: Pooler, cred: Credential, ctx: ProbeContext): Promise<PoolerState> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    host: pooler.host,
    port: pooler.port ?? 9999,
    user: cred.role,
    database: 'postgres',
    application_name: 'pgharden-verify',
    ssl: {
      ca: ctx.caPem,
      rejectUnauthorized: true,
      checkServerIdentity: (_host, cert) => checkServerIdentity(pooler.host, cert),
      ...(cred.cert ? { cert: cred.cert.cert, key: cred.cert.key } : {}),
    },
    connectionTimeoutMillis: ctx.timeoutMs,
    query_timeout: ctx.timeoutMs,
    password: () =>
      cred.password === undefined ? Promise.reject(new Error('no password')) : Promise.resolve(cred.password),
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const nodes = await client.query<Record<string, string>>('SHOW POOL_NODES');
    const health = await client.query<Record<string, string>>('SHOW POOL_HEALTH_CHECK_STATS');
    const ssl = await client.query<{ ssl: boolean; version: string | null }>(
      'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    return {
      nodes: nodes.rows.map((r) => ({
        hostname: r['hostname'] ?? '',
        port: r['port'] ?? '',
        status: r['status'] ?? '',
      })),
      health: health.rows.map((r) => ({
        hostname: r['hostname'] ?? '',
        port: r['port'] ?? '',
        fail: Number(r['fail_count'] ?? '0'),
        total: Number(r['total_count'] ?? '0'),
      })),
      backendSsl: ssl.rows[0]?.ssl,
      backendTls: ssl.rows[0]?.version ?? null,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Every pooler row of one pgpool pooler; rows go to `emit` as they come. */
export async function verifyPooler(
  pooler: Pooler,
  certPem: string | undefined,
  ctx: ProbeContext,
  emit: (row: VerifyRow) => void,
): Promise<void> {
  let sans: string[] = [];
  try {
    if (certPem !== undefined) sans = sanNames(new X509Certificate(certPem).subjectAltName);
  } catch {
    sans = [];
  }
  const names = [...new Set([pooler.host, ...sans])];
  const port = pooler.port ?? 9999;
  await probeNode(
    { node: pooler.name, host: pooler.host, port, names, ssl: undefined, pgpool: true },
    ctx,
    emit,
  );
  const cred = loginCredential(ctx.creds);
  if (cred === undefined || ctx.caPem === undefined) {
    emit({
      node: pooler.name,
      check: 'pooler.state',
      ok: false,
      value: 'no login credential or no cluster CA to read pgpool state with',
    });
    return;
  }
  try {
    poolerRows(pooler.name, await readThroughPooler(pooler, cred, ctx)).forEach(emit);
  } catch (err) {
    emit({
      node: pooler.name,
      check: 'pooler.state',
      ok: false,
      value: `reading SHOW POOL_NODES through pgpool failed: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
}
