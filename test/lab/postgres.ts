// PostgreSQL 15 nodes of the lab, deliberately insecure: ssl off, md5, `host all all 0.0.0.0/0 md5`.
// Everything runs as the node's OS user (initdb refuses root).
import { readFile, rm } from 'node:fs/promises';
import {
  LabError,
  mkdirOwned,
  readPidFile,
  runAs,
  tail,
  track,
  waitFor,
  writeOwned,
  type OsUser,
  type TrackedPid,
} from './proc.js';
import { PG_BIN, PG_PORT } from './paths.js';

export interface PgNode {
  name: string;
  host: string;
  user: OsUser;
  dataDir: string;
  socketDir: string;
  port: number;
}

export function pgNode(name: string, host: string, user: OsUser): PgNode {
  return { name, host, user, dataDir: `${user.home}/data`, socketDir: `${user.home}/run`, port: PG_PORT };
}

export type ConfProfile = 'streaming' | 'autoctl';

const CONF_BEGIN = '# ---- pgharden lab (test/lab) ----';
const CONF_END = '# ---- end of pgharden lab ----';

/**
 * The lab's block at the end of postgresql.conf; per node (pg_basebackup copies the primary's).
 * `autoctl`: only what is the lab's own (addresses, sockets, logging, md5): pg_auto_failover owns the
 * replication settings in its include files, which this block would otherwise override.
 */
export function labConf(node: PgNode, profile: ConfProfile = 'streaming'): string {
  const settings: Record<string, string> = {
    listen_addresses: `'${node.host}'`,
    port: String(node.port),
    unix_socket_directories: `'${node.socketDir}'`,
    cluster_name: `'${node.name}'`,
    password_encryption: 'md5',
    ...(profile === 'streaming'
      ? {
          ssl: 'off',
          wal_level: 'replica',
          max_wal_senders: '10',
          hot_standby: 'on',
          // The standbys are cloned side by side, each pg_basebackup forcing a checkpoint (-c fast):
          // one clone's checkpoint could recycle the segment the other's WAL stream still needed
          // ("requested WAL segment … has already been removed", seen once).
          wal_keep_size: "'64MB'",
        }
      : {}),
    logging_collector: 'on',
    log_directory: `'log'`,
    log_filename: `'postgresql.log'`,
    log_connections: 'on',
  };
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
  return [CONF_BEGIN, ...lines, CONF_END].join('\n');
}

/** Replace the lab block of <dataDir>/postgresql.conf in place (what others appended after it stays), or append it. */
export async function writeLabConf(node: PgNode, profile: ConfProfile = 'streaming'): Promise<void> {
  const path = `${node.dataDir}/postgresql.conf`;
  const text = await readFile(path, 'utf8');
  const begin = text.indexOf(CONF_BEGIN);
  const end = text.indexOf(CONF_END);
  const next =
    begin !== -1 && end > begin
      ? text.slice(0, begin) + labConf(node, profile) + text.slice(end + CONF_END.length)
      : `${text.trimEnd()}\n\n${labConf(node, profile)}\n`;
  await writeOwned(path, next, 0o600, node.user);
}

/** Keep initdb's comment header (up to the `# TYPE  DATABASE` line) and put `rules` under it. */
export function replaceHbaRules(initdbHba: string, rules: string[]): string {
  const lines = initdbHba.split('\n');
  const typeLine = lines.findIndex((l) => /^#\s*TYPE\s+DATABASE/.test(l));
  const header =
    typeLine === -1
      ? lines.filter((l) => l.startsWith('#') || l.trim() === '')
      : lines.slice(0, typeLine + 1);
  return `${header.join('\n').trimEnd()}\n${rules.join('\n')}\n`;
}

export const LAB_HBA_RULES = [
  'local   all             all                                     peer map=lab',
  'host    all             all             127.0.0.0/8             md5',
  'host    replication     replicator      127.0.0.0/8             md5',
  'host    all             all             0.0.0.0/0               md5',
];

/** initdb (superuser `postgres`, peer/md5), lab postgresql.conf, pg_hba.conf and pg_ident.conf. */
export async function initPrimary(node: PgNode, identUsers: string[]): Promise<void> {
  await mkdirOwned(node.socketDir, 0o755, node.user);
  await runAs(node.user, `${PG_BIN}/initdb`, [
    '-D',
    node.dataDir,
    '-U',
    'postgres',
    '--auth-local=peer',
    '--auth-host=md5',
    '--encoding=UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ]);
  await writeLabConf(node);
  const hbaPath = `${node.dataDir}/pg_hba.conf`;
  await writeOwned(
    hbaPath,
    replaceHbaRules(await readFile(hbaPath, 'utf8'), LAB_HBA_RULES),
    0o600,
    node.user,
  );
  const identPath = `${node.dataDir}/pg_ident.conf`;
  const ident = await readFile(identPath, 'utf8');
  const map = [
    ...identUsers.map((u) => `lab             ${u.padEnd(24)}postgres`),
    'lab             /^(.*)$                 \\1',
  ];
  await writeOwned(identPath, `${ident.trimEnd()}\n${map.join('\n')}\n`, 0o600, node.user);
}

/** Bounded wait for postmaster.pid line 8 = `ready` (PostgreSQL accepts connections). */
export async function waitReady(node: PgNode, timeoutMs = 30_000): Promise<number> {
  return waitFor(
    `PostgreSQL on ${node.name} (${node.host}) to be ready`,
    async () => {
      const lines = (await readFile(`${node.dataDir}/postmaster.pid`, 'utf8')).split('\n');
      return lines[7]?.trim() === 'ready' && /^\d+$/.test(lines[0] ?? '') ? Number(lines[0]) : undefined;
    },
    { timeoutMs, intervalMs: 50, logs: [`${node.dataDir}/log/postgresql.log`] },
  );
}

/** `pg_ctl start -w`; returns the postmaster's pid (postmaster.pid line 1). */
export async function startPostgres(node: PgNode): Promise<TrackedPid> {
  const ctlLog = `${node.user.home}/pg_ctl.log`;
  try {
    await runAs(node.user, `${PG_BIN}/pg_ctl`, ['-D', node.dataDir, '-l', ctlLog, '-w', '-t', '30', 'start']);
  } catch (e) {
    throw new LabError(
      `lab: PostgreSQL on ${node.name} (${node.host}) did not start: ${(e as Error).message}\n${await tail(ctlLog)}\n${await tail(`${node.dataDir}/log/postgresql.log`)}`,
    );
  }
  const pid = await readPidFile(`${node.dataDir}/postmaster.pid`);
  if (pid === undefined) throw new LabError(`lab: ${node.dataDir}/postmaster.pid missing after start`);
  return track(pid, `postgres ${node.name}`, 'SIGINT');
}

/** psql as the node's OS user over its socket, as `postgres`; SQL (and so passwords) on stdin. */
export async function psql(node: PgNode, sql: string, db = 'postgres'): Promise<string> {
  const r = await runAs(
    node.user,
    `${PG_BIN}/psql`,
    [
      '-X',
      '-q',
      '-A',
      '-t',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      node.socketDir,
      '-p',
      String(node.port),
      '-U',
      'postgres',
      '-d',
      db,
      '-f',
      '-',
    ],
    { input: sql, timeoutMs: 30_000 },
  );
  return r.stdout;
}

export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Roles with md5 passwords (password_encryption = md5 is in postgresql.conf; set again to be sure). */
export async function createRoles(
  primary: PgNode,
  roles: { name: string; password: string; attrs: string }[],
  databases: { name: string; owner: string }[],
): Promise<void> {
  const sql = [
    `SET password_encryption = 'md5';`,
    ...roles.map((r) => `CREATE ROLE ${r.name} ${r.attrs} PASSWORD ${sqlLiteral(r.password)};`),
  ];
  await psql(primary, sql.join('\n'));
  for (const d of databases) await psql(primary, `CREATE DATABASE ${d.name} OWNER ${d.owner};`);
}

/**
 * Standby: ~/.pgpass with the replicator password (so primary_conninfo gets passfile=), pg_basebackup -R
 * as the node's user, then this node's own listen address and socket dir (the copy has the primary's).
 */
export async function cloneStandby(node: PgNode, primary: PgNode, replicatorPassword: string): Promise<void> {
  await mkdirOwned(node.socketDir, 0o755, node.user);
  await writeOwned(`${node.user.home}/.pgpass`, `*:*:*:replicator:${replicatorPassword}\n`, 0o600, node.user);
  await runAs(node.user, `${PG_BIN}/pg_basebackup`, [
    '-h',
    primary.host,
    '-p',
    String(primary.port),
    '-U',
    'replicator',
    '-D',
    node.dataDir,
    '-R',
    '-X',
    'stream',
    '-c',
    'fast',
    '--no-sync',
    '-w',
  ]);
  // The copy carries the primary's server log: start this node's log afresh.
  await rm(`${node.dataDir}/log`, { recursive: true, force: true });
  await writeLabConf(node);
}

/** Bounded wait until the primary's pg_stat_replication shows every standby streaming. */
export async function waitStreaming(primary: PgNode, standbys: PgNode[], timeoutMs = 20_000): Promise<void> {
  const want = standbys.map((s) => s.name).sort();
  await waitFor(
    `standbys ${want.join(', ')} to stream from ${primary.name}`,
    async () => {
      const out = await psql(
        primary,
        `SELECT application_name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1;`,
      );
      const got = out.split('\n').filter((l) => l !== '');
      return want.every((w) => got.includes(w));
    },
    {
      timeoutMs,
      intervalMs: 50,
      logs: [primary, ...standbys].map((n) => `${n.dataDir}/log/postgresql.log`),
    },
  );
}

/** `.bashrc` so `ssh node psql` finds this node's server (Debian's bash reads it for remote commands). */
export async function writeBashrc(node: PgNode, extra: Record<string, string> = {}): Promise<void> {
  const vars: Record<string, string> = {
    PGHOST: node.socketDir,
    PGPORT: String(node.port),
    PGUSER: 'postgres',
    PGDATA: node.dataDir,
    ...extra,
  };
  const text = [
    '# Written by the pgharden lab (test/lab).',
    `export PATH=${PG_BIN}:$PATH`,
    ...Object.entries(vars).map(([k, v]) => `export ${k}=${v}`),
    '',
  ].join('\n');
  await writeOwned(`${node.user.home}/.bashrc`, text, 0o644, node.user);
}
