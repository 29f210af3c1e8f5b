// pg_auto_failover 2.0: monitor + two data nodes, `--no-ssl --auth trust` (deliberately insecure).
// Facts from LAB-NOTES: pg_autoctl needs its hostname on an interface, ignores PGHOST for the monitor's
// first connection unless set with PG_REGRESS_SOCK_DIR, and keeps its pid file under XDG_RUNTIME_DIR
// (default /tmp/pg_autoctl, which the first user would own): so every node gets its own runtime dir.
import {
  LabError,
  mkdirOwned,
  readPidFile,
  run,
  runAs,
  tail,
  track,
  waitFor,
  writeOwned,
  type TrackedPid,
} from './proc.js';
import { PG_BIN } from './paths.js';
import { waitReady, writeLabConf, type PgNode } from './postgres.js';

const PG_AUTOCTL = '/usr/bin/pg_autoctl';

/** Environment for pg_autoctl as the node's user (also written into its .bashrc for SSH sessions). */
export function autoctlEnv(node: PgNode): Record<string, string> {
  return {
    PGHOST: node.socketDir,
    PG_REGRESS_SOCK_DIR: node.socketDir,
    XDG_RUNTIME_DIR: node.socketDir,
    PGUSER: 'postgres',
    PGDATA: node.dataDir,
  };
}

export function autoctlPaths(node: PgNode): { pidFile: string; log: string; createLog: string } {
  const h = node.user.home;
  return {
    pidFile: `${h}/pg_autoctl.pid`,
    log: `${h}/pg_autoctl.log`,
    createLog: `${h}/pg_autoctl-create.log`,
  };
}

export function monitorUri(monitor: PgNode): string {
  return `postgres://autoctl_node@${monitor.host}:${monitor.port}/pg_auto_failover?sslmode=prefer`;
}

async function initdbTrust(node: PgNode): Promise<void> {
  // Same as pg_autoctl's own initdb (--auth=trust) but with superuser `postgres`, as on every lab node.
  await runAs(node.user, `${PG_BIN}/initdb`, [
    '-D',
    node.dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ]);
  await writeLabConf(node, 'autoctl');
}

async function create(node: PgNode, args: string[]): Promise<void> {
  const { createLog } = autoctlPaths(node);
  try {
    const r = await runAs(node.user, PG_AUTOCTL, args, { env: autoctlEnv(node), timeoutMs: 90_000 });
    await writeOwned(createLog, `${r.stdout}\n${r.stderr}\n`, 0o644);
  } catch (e) {
    throw new LabError(
      `lab: pg_autoctl ${args.slice(0, 2).join(' ')} on ${node.name} failed: ${(e as Error).message}`,
    );
  }
}

const common = (node: PgNode): string[] => [
  '--pgdata',
  node.dataDir,
  '--pgctl',
  `${PG_BIN}/pg_ctl`,
  '--pgport',
  String(node.port),
  '--hostname',
  node.host,
  '--listen',
  node.host,
  '--no-ssl',
  '--auth',
  'trust',
];

export async function createMonitor(monitor: PgNode): Promise<void> {
  await mkdirOwned(monitor.socketDir, 0o755, monitor.user);
  await initdbTrust(monitor);
  await create(monitor, ['create', 'monitor', ...common(monitor)]);
}

/**
 * First data node (initdb'd by us with superuser postgres), or a later one (pg_autoctl clones it).
 * `skipPgHba`: `--skip-pg-hba` (pg_autoctl 2.0 takes it for data nodes only, not `create monitor`).
 */
export async function createDataNode(
  node: PgNode,
  monitor: PgNode,
  first: boolean,
  skipPgHba = false,
): Promise<void> {
  await mkdirOwned(node.socketDir, 0o755, node.user);
  if (first) await initdbTrust(node);
  await create(node, [
    'create',
    'postgres',
    // --auth and --skip-pg-hba are mutually exclusive ("Please use either --auth or --skip-pg-hba").
    ...(skipPgHba
      ? common(node).filter((x, i, all) => x !== '--auth' && all[i - 1] !== '--auth')
      : common(node)),
    '--name',
    node.name,
    '--monitor',
    monitorUri(monitor),
    ...(skipPgHba ? ['--skip-pg-hba'] : []),
  ]);
  // pg_basebackup copied the first node's listen address, socket dir and cluster_name: make them this node's.
  if (!first) await writeLabConf(node, 'autoctl');
}

/** `pg_autoctl run` in the background under start-stop-daemon (it has no pid-file daemon mode). */
export async function runKeeper(node: PgNode): Promise<TrackedPid> {
  const p = autoctlPaths(node);
  await run(
    '/usr/sbin/start-stop-daemon',
    [
      '--start',
      '--background',
      '--make-pidfile',
      '--pidfile',
      p.pidFile,
      '--chuid',
      node.user.name,
      '--chdir',
      node.user.home,
      '--output',
      p.log,
      '--exec',
      PG_AUTOCTL,
      '--',
      'run',
      '--pgdata',
      node.dataDir,
    ],
    {
      env: {
        HOME: node.user.home,
        USER: node.user.name,
        PATH: `${PG_BIN}:/usr/sbin:/usr/bin:/sbin:/bin`,
        ...autoctlEnv(node),
      },
    },
  );
  const pid = await waitFor(`start-stop-daemon to write ${p.pidFile}`, () => readPidFile(p.pidFile), {
    timeoutMs: 5_000,
    intervalMs: 10,
    logs: [p.log],
  });
  return track(pid, `pg_autoctl ${node.name}`, 'SIGTERM');
}

export interface AutoctlNodeState {
  nodename: string;
  nodehost: string;
  current_group_state: string;
  assigned_group_state: string;
}

export async function showState(monitor: PgNode): Promise<AutoctlNodeState[]> {
  const r = await runAs(monitor.user, PG_AUTOCTL, ['show', 'state', '--pgdata', monitor.dataDir, '--json'], {
    env: autoctlEnv(monitor),
    timeoutMs: 15_000,
  });
  return JSON.parse(r.stdout) as AutoctlNodeState[];
}

/** Healthy formation: every node's current state == assigned, one primary and one secondary. */
export function isHealthy(states: AutoctlNodeState[], dataNodes: number): boolean {
  const settled = states.every((s) => s.current_group_state === s.assigned_group_state);
  const count = (st: string): number => states.filter((s) => s.current_group_state === st).length;
  return (
    states.length === dataNodes && settled && count('primary') === 1 && count('secondary') === dataNodes - 1
  );
}

export async function waitHealthy(
  monitor: PgNode,
  dataNodes: PgNode[],
  timeoutMs = 90_000,
): Promise<AutoctlNodeState[]> {
  await waitReady(monitor);
  try {
    return await waitFor(
      'the pg_auto_failover formation to settle (one primary, one secondary, current == assigned)',
      async () => {
        const s = await showState(monitor);
        return isHealthy(s, dataNodes.length) ? s : undefined;
      },
      { timeoutMs, intervalMs: 250, logs: [monitor, ...dataNodes].map((n) => autoctlPaths(n).log) },
    );
  } catch (e) {
    const last = await showState(monitor).catch((err: unknown) => String(err));
    throw new LabError(
      `${(e as Error).message}\nlast state: ${JSON.stringify(last)}\n${await tail(autoctlPaths(monitor).createLog)}`,
    );
  }
}
