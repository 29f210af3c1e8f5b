// The database side of each lab variant. Each returns its nodes (and poolers) once healthy; every process
// it starts is recorded at once through `rec`, so a failure half-way can be torn down by pid.
import { randomBytes } from 'node:crypto';
import { PG_BIN } from './paths.js';
import { allSettled, type OsUser } from './proc.js';
import {
  cloneStandby,
  createRoles,
  initPrimary,
  pgNode,
  psql,
  sqlLiteral,
  startPostgres,
  waitReady,
  waitStreaming,
  writeBashrc,
  type PgNode,
} from './postgres.js';
import { autoctlEnv, createDataNode, createMonitor, runKeeper, waitHealthy } from './pgautofailover.js';
import { configurePgpool, poolerPaths, startPgpool, waitPoolNodesUp } from './pgpool.js';
import { sshdPaths } from './sshd.js';
import type { StartedRecorder } from './state.js';
import type { HostSpec } from './paths.js';
import type { LabNode, LabPooler, LabVariant } from './types.js';

export function newPassword(): string {
  return randomBytes(15).toString('base64url');
}

export function passwordsFor(variant: LabVariant): Record<string, string> {
  const names =
    variant === 'pg_auto_failover'
      ? ['app', 'pgautofailover_replicator', 'pgautofailover_monitor', 'autoctl_node']
      : variant === 'pgpool'
        ? ['replicator', 'app', 'pgpool']
        : ['replicator', 'app'];
  return Object.fromEntries(names.map((n) => [n, newPassword()]));
}

export interface VariantContext {
  variant: LabVariant;
  hosts: HostSpec[];
  users: Map<string, OsUser>;
  /** Every lab login user of the variant plus the sudo users: mapped to `postgres` in pg_ident.conf. */
  identUsers: string[];
  passwords: Record<string, string>;
  rec: StartedRecorder;
  log: (line: string) => void;
  /** pg_auto_failover: `--skip-pg-hba` on the data nodes. */
  skipPgHba?: boolean;
}

export interface VariantResult {
  nodes: LabNode[];
  poolers: LabPooler[];
}

function pw(ctx: VariantContext, role: string): string {
  const p = ctx.passwords[role];
  if (p === undefined) throw new Error(`lab: no password generated for ${role}`);
  return p;
}

function nodeOf(ctx: VariantContext, h: HostSpec): PgNode {
  const user = ctx.users.get(h.user);
  if (user === undefined) throw new Error(`lab: user ${h.user} missing`);
  return pgNode(h.name, h.host, user);
}

function labNode(n: PgNode, role: LabNode['role']): LabNode {
  const s = sshdPaths(n.user.home);
  return {
    name: n.name,
    host: n.host,
    role,
    osUser: n.user.name,
    home: n.user.home,
    dataDir: n.dataDir,
    port: n.port,
    socketDir: n.socketDir,
    binDir: PG_BIN,
    sshdPidFile: s.pidFile,
    sshdLog: s.log,
  };
}

/** Primary + standbys cloned in parallel; all streaming before this returns. */
async function streamingCluster(ctx: VariantContext, hosts: HostSpec[]): Promise<LabNode[]> {
  const [primaryHost, ...standbyHosts] = hosts;
  if (primaryHost === undefined) throw new Error('lab: no primary');
  const primary = nodeOf(ctx, primaryHost);
  const standbys = standbyHosts.map((h) => nodeOf(ctx, h));
  await initPrimary(primary, ctx.identUsers);
  ctx.log(`lab ${ctx.variant}: ${primary.name} initdb done`);
  await ctx.rec.pid(await startPostgres(primary));
  ctx.log(`lab ${ctx.variant}: ${primary.name} started`);
  const roles = [
    { name: 'replicator', attrs: 'LOGIN REPLICATION', password: pw(ctx, 'replicator') },
    { name: 'app', attrs: 'LOGIN', password: pw(ctx, 'app') },
  ];
  if (ctx.variant === 'pgpool') roles.push({ name: 'pgpool', attrs: 'LOGIN', password: pw(ctx, 'pgpool') });
  await createRoles(primary, roles, [{ name: 'app', owner: 'app' }]);
  if (ctx.variant === 'pgpool') await psql(primary, 'GRANT pg_monitor TO pgpool;');
  ctx.log(`lab ${ctx.variant}: roles and database app created`);
  await allSettled([
    writeBashrc(primary),
    ...standbys.map(async (s) => {
      await cloneStandby(s, primary, pw(ctx, 'replicator'));
      ctx.log(`lab ${ctx.variant}: ${s.name} cloned`);
      await writeBashrc(s);
      await ctx.rec.pid(await startPostgres(s));
      ctx.log(`lab ${ctx.variant}: ${s.name} started`);
    }),
  ]);
  await waitStreaming(primary, standbys);
  ctx.log(`lab ${ctx.variant}: ${standbys.map((s) => s.name).join(', ')} streaming`);
  return [labNode(primary, 'primary'), ...standbys.map((s) => labNode(s, 'standby'))];
}

export async function upStreaming(ctx: VariantContext): Promise<VariantResult> {
  return { nodes: await streamingCluster(ctx, ctx.hosts), poolers: [] };
}

export async function upPgpool(ctx: VariantContext): Promise<VariantResult> {
  const backends = ctx.hosts.filter((h) => h.kind !== 'pooler');
  const poolHost = ctx.hosts.find((h) => h.kind === 'pooler');
  const poolUser = poolHost && ctx.users.get(poolHost.user);
  if (poolHost === undefined || poolUser === undefined) throw new Error('lab: pgpool variant without pooler');
  const nodes = await streamingCluster(ctx, backends);
  const pooler = poolerPaths(poolHost.name, poolHost.host, poolUser);
  await configurePgpool(
    pooler,
    poolUser,
    backends.map((h) => nodeOf(ctx, h)),
    { app: pw(ctx, 'app'), pgpool: pw(ctx, 'pgpool') },
  );
  await ctx.rec.pid(await startPgpool(pooler, poolUser));
  ctx.log(`lab ${ctx.variant}: pgpool started`);
  await waitPoolNodesUp(pooler, backends.length, pw(ctx, 'app'));
  ctx.log(`lab ${ctx.variant}: pgpool shows every backend up`);
  const s = sshdPaths(poolUser.home);
  return { nodes, poolers: [{ ...pooler, sshdPidFile: s.pidFile, sshdLog: s.log }] };
}

export async function upPgAutoFailover(ctx: VariantContext): Promise<VariantResult> {
  const monitorHost = ctx.hosts.find((h) => h.kind === 'monitor');
  if (monitorHost === undefined) throw new Error('lab: pg_auto_failover without monitor');
  const monitor = nodeOf(ctx, monitorHost);
  const data = ctx.hosts.filter((h) => h.kind !== 'monitor').map((h) => nodeOf(ctx, h));
  await createMonitor(monitor);
  await ctx.rec.pid(await runKeeper(monitor));
  await waitReady(monitor);
  ctx.log(`lab ${ctx.variant}: monitor running`);
  // Data nodes one after the other: the first registers as single/primary, the next is cloned from it.
  for (const [i, n] of data.entries()) {
    await createDataNode(n, monitor, i === 0, ctx.skipPgHba === true);
    await ctx.rec.pid(await runKeeper(n));
    ctx.log(`lab ${ctx.variant}: ${n.name} created, keeper running`);
  }
  const states = await waitHealthy(monitor, data);
  ctx.log(`lab ${ctx.variant}: formation healthy`);
  const primaryName = states.find((s) => s.current_group_state === 'primary')?.nodename;
  const primary = data.find((n) => n.name === primaryName);
  if (primary === undefined) throw new Error('lab: formation has no primary');
  const alter = (role: string): string => `ALTER ROLE ${role} PASSWORD ${sqlLiteral(pw(ctx, role))};`;
  await psql(
    primary,
    [
      `SET password_encryption = 'md5';`,
      `CREATE ROLE app LOGIN PASSWORD ${sqlLiteral(pw(ctx, 'app'))};`,
      alter('pgautofailover_replicator'),
      alter('pgautofailover_monitor'),
    ].join('\n'),
  );
  await psql(primary, 'CREATE DATABASE app OWNER app;');
  await psql(monitor, [`SET password_encryption = 'md5';`, alter('autoctl_node')].join('\n'));
  await allSettled([monitor, ...data].map((n) => writeBashrc(n, autoctlEnv(n))));
  return {
    nodes: [
      labNode(monitor, 'monitor'),
      ...data.map((n) => labNode(n, n.name === primary.name ? 'primary' : 'standby')),
    ],
    poolers: [],
  };
}
