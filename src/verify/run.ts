// `pgharden verify` engine (SPEC §8): preflight every node, then per node in parallel the SQL checks
// (one psql batch), the operator-side probes and the peer probes; rows stream out as they come.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { preflightAll, type ConnectOptions } from '../core/audit-run.js';
import type { EventBus } from '../core/events.js';
import type { NodeFacts, NodeOutcome } from '../core/facts.js';
import type { Inventory, InventoryNode } from '../core/inventory-schema.js';
import { expandHome, pkiDir } from '../core/paths.js';
import { DEFAULT_SUPERUSER } from '../core/preflight.js';
import type { RemoteSession } from '../remote/types.js';
import { createCa } from '../pki/ca.js';
import { loginCredential, resolveCredentials } from './credentials.js';
import { certExpiryRow, type VerifyRow } from './evaluate.js';
import { peerProbes } from './peer.js';
import { verifyPooler } from './pooler.js';
import { formationOf, monitorRows } from './pgaf.js';
import { probeNode, sanNames, type ProbeContext } from './probes.js';
import { pgConnectionOf, queryRows, type QueryContext } from './queries.js';

export interface VerifyOptions {
  connect: ConnectOptions;
  env: NodeJS.ProcessEnv;
  /** Role → password from --secrets (see readSecretsFile). */
  secrets?: Map<string, string> | undefined;
  probeTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface VerifyResult {
  rows: VerifyRow[];
  exitCode: 0 | 3;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function readOptional(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

/** Names to probe: the host, then every SAN of the node's cert (PKI dir first, else the served one). */
async function probeNames(node: InventoryNode, pki: string, facts: NodeFacts | undefined): Promise<string[]> {
  const pem = await readOptional(join(pki, `${node.name}.crt`));
  let sans: string[] = [];
  if (pem !== undefined) {
    try {
      sans = sanNames(new X509Certificate(pem).subjectAltName);
    } catch {
      sans = [];
    }
  } else if (facts?.pg?.serverCert !== undefined) {
    sans = sanNames(facts.pg.serverCert.sans.join(', '));
  }
  return [...new Set([node.host, ...sans])];
}

function expiryRow(node: string, facts: NodeFacts): VerifyRow {
  const pg = facts.pg;
  if (pg?.serverCert !== undefined) return certExpiryRow(node, pg.serverCert.daysLeft, pg.serverCert.path);
  const why = pg?.serverCertError ?? (pg?.settings['ssl']?.setting === 'on' ? 'not found' : 'ssl is off');
  return certExpiryRow(node, undefined, why);
}

export async function runVerify(
  inventory: Inventory,
  bus: EventBus,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const secrets = options.secrets ?? new Map<string, string>();
  const pki =
    inventory.pki?.dir === undefined ? pkiDir(inventory.cluster, options.env) : expandHome(inventory.pki.dir);
  bus.emit({
    type: 'run:started',
    command: 'verify',
    cluster: inventory.cluster,
    nodes: inventory.nodes.map((n) => n.name),
  });

  const [creds, caPem, foreignCa] = await Promise.all([
    resolveCredentials(inventory.roles ?? [], pki, options.env, secrets),
    readOptional(join(pki, 'root.crt')),
    createCa({ cluster: 'pgharden-verify-untrusted', days: 1 }),
  ]);
  const rows: VerifyRow[] = [];
  const emit = (row: VerifyRow): void => {
    rows.push(row);
    bus.emit({ type: 'verify:row', ...row });
  };
  const minVersion = inventory.tls?.minVersion ?? 'TLSv1.2';
  const probeCtx: ProbeContext = {
    caPem,
    caPath: join(pki, 'root.crt'),
    foreignCaPem: foreignCa.certPem,
    creds,
    minVersion,
    timeoutMs: options.probeTimeoutMs ?? 5_000,
  };

  const { outcomes, sessions } = await preflightAll(inventory, bus, options.connect, options.signal);
  try {
    const factsOf = (name: string): NodeFacts | undefined => {
      const o = outcomes.find((x: NodeOutcome) => x.node === name);
      return o?.ok === true ? o.facts : undefined;
    };
    const declared = inventory.nodes.filter((n) => n.role === 'standby').length;
    const discovered = outcomes.filter((o) => o.ok && o.facts.pg?.role === 'standby').length;
    const queryCtx: QueryContext = {
      network: inventory.network,
      minVersion,
      standbys: Math.max(declared, discovered),
    };
    const peerUser = loginCredential(creds)?.role ?? creds[0]?.role ?? 'postgres';
    // pg_auto_failover: the formation's own checks; its monitor has no standbys of its own.
    const signal = options.signal ?? new AbortController().signal;
    const pgaf =
      inventory.topology === 'pg_auto_failover' || inventory.nodes.some((n) => n.role === 'monitor')
        ? await formationOf(inventory, outcomes, sessions, signal)
        : { formation: undefined, rows: [] };
    pgaf.rows.forEach(emit);
    const isMonitor = (name: string): boolean =>
      pgaf.formation?.nodes.get(name)?.kind === 'monitor' ||
      inventory.nodes.find((n) => n.name === name)?.role === 'monitor';
    const pgafWork =
      pgaf.formation === undefined
        ? Promise.resolve()
        : monitorRows(pgaf.formation, outcomes, sessions, signal).then((r) => r.forEach(emit));

    await Promise.all(
      inventory.nodes.map(async (node) => {
        const outcome = outcomes.find((o) => o.node === node.name);
        const facts = factsOf(node.name);
        const session: RemoteSession | undefined = sessions.get(node.name);
        const work: Promise<void>[] = [];
        if (outcome !== undefined && !outcome.ok) {
          emit({ node: node.name, check: 'node.reachable', ok: false, value: outcome.error.message });
        } else if (facts !== undefined && session !== undefined) {
          emit({
            node: node.name,
            check: 'node.reachable',
            ok: true,
            value: `ssh ${facts.ssh.user}@${facts.host}`,
          });
          const conn = pgConnectionOf(facts, node.pg?.superuser ?? DEFAULT_SUPERUSER);
          if (conn === undefined || facts.pg === undefined) {
            emit({
              node: node.name,
              check: 'node.postgres',
              ok: false,
              value: facts.pgProblem?.message ?? 'not inspected',
            });
          } else {
            const pg = facts.pg;
            const ctx = isMonitor(node.name) ? { ...queryCtx, standbys: 0 } : queryCtx;
            work.push(
              queryRows(session, node.name, conn, ctx, options.signal).then(
                (r) => r.forEach(emit),
                (err: unknown) =>
                  emit({ node: node.name, check: 'node.queries', ok: false, value: errorText(err) }),
              ),
            );
            emit(expiryRow(node.name, facts));
            const peers = inventory.nodes
              .filter((p) => p.name !== node.name)
              .map((p) => ({
                node: p.name,
                host: p.host,
                port: factsOf(p.name)?.pg?.port ?? p.pg?.port ?? 5432,
              }));
            work.push(
              peerProbes(
                {
                  node: node.name,
                  session,
                  osUser: facts.osUser,
                  binDir: pg.binDir,
                  dataDir: pg.dataDir,
                  sslCaFile: pg.settings['ssl_ca_file']?.setting ?? '',
                },
                peers,
                peerUser,
                emit,
                options.signal,
              ).catch((err: unknown) =>
                emit({ node: node.name, check: 'peer.probes', ok: false, value: errorText(err) }),
              ),
            );
          }
        }
        // Operator-side probes run even when SSH failed: the PostgreSQL port may still answer.
        const names = await probeNames(node, pki, facts);
        const port = facts?.pg?.port ?? node.pg?.port ?? 5432;
        const ssl = facts?.pg === undefined ? undefined : facts.pg.settings['ssl']?.setting === 'on';
        work.push(probeNode({ node: node.name, host: node.host, port, names, ssl }, probeCtx, emit));
        await Promise.all(work);
      }),
    );
    // Through each pgpool pooler (topology pgpool): its port, its backends, its health check.
    if (inventory.topology === 'pgpool') {
      await Promise.all(
        (inventory.poolers ?? [])
          .filter((p) => p.kind === 'pgpool')
          .map(async (p) => verifyPooler(p, await readOptional(join(pki, `${p.name}.crt`)), probeCtx, emit)),
      );
    }
    await pgafWork;
  } finally {
    await Promise.allSettled([...sessions.values()].map((s) => s.close()));
  }
  return { rows, exitCode: rows.every((r) => r.ok) ? 0 : 3 };
}
