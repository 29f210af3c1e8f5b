// Pgpool-II 4.3 in front of the pgpool variant's 3-node streaming cluster, run as its own OS user from its
// home. Deliberately insecure: ssl off, md5 pool_passwd entries, health-check password in plain text.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  LabError,
  mkdirOwned,
  readPidFile,
  run,
  tail,
  track,
  waitFor,
  writeOwned,
  type OsUser,
  type TrackedPid,
} from './proc.js';
import type { PgNode } from './postgres.js';
import type { LabPooler } from './types.js';

export const POOL_PORT = 9999;
export const PCP_PORT = 9898;
const SAMPLE_CONF = '/usr/share/doc/pgpool2/examples/pgpool.conf.sample';
const DEBIAN_CONF = '/etc/pgpool2/pgpool.conf';

export type PoolerPaths = Omit<LabPooler, 'sshdPidFile' | 'sshdLog'>;

export function poolerPaths(name: string, host: string, user: OsUser): PoolerPaths {
  const h = user.home;
  return {
    name,
    host,
    port: POOL_PORT,
    osUser: user.name,
    home: h,
    configFile: `${h}/pgpool.conf`,
    hbaFile: `${h}/pool_hba.conf`,
    pcpFile: `${h}/pcp.conf`,
    keyFile: `${h}/.pgpoolkey`,
    pidFile: `${h}/run/pgpool.pid`,
    logFile: `${h}/pgpool.log`,
  };
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** `user:md5<md5(password || user)>`: the form PostgreSQL's md5 auth and pool_passwd share. */
export function poolPasswdLine(user: string, password: string): string {
  return `${user}:md5${md5(password + user)}`;
}

function settings(p: PoolerPaths, backends: PgNode[], healthPassword: string): string {
  const s: [string, string][] = [
    ['listen_addresses', `'${p.host}'`],
    ['port', String(p.port)],
    ['socket_dir', `'${p.home}/run'`],
    ['pcp_listen_addresses', `'${p.host}'`],
    ['pcp_port', String(PCP_PORT)],
    ['pcp_socket_dir', `'${p.home}/run'`],
    ['wd_ipc_socket_dir', `'${p.home}/run'`],
    ['pid_file_name', `'${p.pidFile}'`],
    ['logdir', `'${p.home}/log'`],
    ['memqcache_oiddir', `'${p.home}/log/oiddir'`],
    ['backend_clustering_mode', `'streaming_replication'`],
    ['num_init_children', '16'],
    ['max_pool', '4'],
    ['enable_pool_hba', 'on'],
    ['pool_passwd', `'pool_passwd'`],
    ['ssl', 'off'],
    ['log_destination', `'stderr'`],
    ['logging_collector', 'off'],
    ['log_connections', 'on'],
    ['health_check_period', '1'],
    ['health_check_timeout', '5'],
    ['health_check_user', `'pgpool'`],
    ['health_check_password', `'${healthPassword}'`],
    ['health_check_database', `'postgres'`],
    ['sr_check_period', '1'],
    ['sr_check_user', `'pgpool'`],
    ['sr_check_password', `'${healthPassword}'`],
    ['sr_check_database', `'postgres'`],
    ['use_watchdog', 'off'],
    ['load_balance_mode', 'on'],
  ];
  backends.forEach((b, i) => {
    s.push(
      [`backend_hostname${i}`, `'${b.host}'`],
      [`backend_port${i}`, String(b.port)],
      [`backend_weight${i}`, '1'],
      [`backend_data_directory${i}`, `'${b.dataDir}'`],
      [`backend_flag${i}`, `'ALLOW_TO_FAILOVER'`],
      [`backend_application_name${i}`, `'${b.name}'`],
    );
  });
  return s.map(([k, v]) => `${k} = ${v}`).join('\n');
}

async function baseConf(): Promise<string> {
  for (const f of [SAMPLE_CONF, DEBIAN_CONF]) {
    try {
      return await readFile(f, 'utf8');
    } catch {
      // try the next
    }
  }
  return '';
}

/**
 * Write pgpool.conf (distribution example + the lab's settings at the end), pool_hba.conf, pcp.conf,
 * pool_passwd and the key file, all owned by the pooler's user.
 */
export async function configurePgpool(
  p: PoolerPaths,
  user: OsUser,
  backends: PgNode[],
  passwords: { app: string; pgpool: string },
): Promise<void> {
  await mkdirOwned(`${p.home}/run`, 0o755, user);
  await mkdirOwned(`${p.home}/log`, 0o755, user);
  const conf = `${(await baseConf()).trimEnd()}\n\n# ---- pgharden lab (test/lab) ----\n${settings(p, backends, passwords.pgpool)}\n`;
  await writeOwned(p.configFile, conf, 0o640, user);
  await writeOwned(
    p.hbaFile,
    [
      '# pool_hba.conf of the pgharden lab (test/lab)',
      '# TYPE  DATABASE        USER            ADDRESS                 METHOD',
      'local   all             all                                     trust',
      'host    all             all             127.0.0.0/8             md5',
      '',
    ].join('\n'),
    0o640,
    user,
  );
  await writeOwned(p.pcpFile, `# USERID:MD5PASSWD\npgpool:${md5(passwords.pgpool)}\n`, 0o600, user);
  await writeOwned(
    `${p.home}/pool_passwd`,
    `${poolPasswdLine('app', passwords.app)}\n${poolPasswdLine('pgpool', passwords.pgpool)}\n`,
    0o600,
    user,
  );
  await writeOwned(p.keyFile, `${randomBytes(24).toString('base64url')}\n`, 0o600, user);
}

/** The exact argv the lab starts pgpool with (pgharden restarts it with the running argv). */
export function pgpoolArgv(p: PoolerPaths): string[] {
  return ['-n', '-f', p.configFile, '-a', p.hbaFile, '-F', p.pcpFile, '-k', p.keyFile];
}

/** Start pgpool in the background as its user; pid from pid_file_name (NUL-terminated). */
export async function startPgpool(p: PoolerPaths, user: OsUser): Promise<TrackedPid> {
  // Owned by the pooler's user (start-stop-daemon would create it as root): a restart by pgharden, as
  // that user with the running process's stderr file, appends to the same log.
  await writeOwned(p.logFile, '', 0o644, user);
  try {
    await run(
      '/usr/sbin/start-stop-daemon',
      [
        '--start',
        '--background',
        '--pidfile',
        p.pidFile,
        '--chuid',
        user.name,
        '--chdir',
        p.home,
        '--output',
        p.logFile,
        '--exec',
        '/usr/sbin/pgpool',
        '--',
        ...pgpoolArgv(p),
      ],
      { env: { HOME: p.home, USER: user.name, LOGNAME: user.name } },
    );
  } catch (e) {
    throw new LabError(`lab: pgpool did not start: ${(e as Error).message}\n${await tail(p.logFile)}`);
  }
  const pid = await waitFor(`pgpool to write ${p.pidFile}`, () => readPidFile(p.pidFile), {
    timeoutMs: 15_000,
    intervalMs: 20,
    logs: [p.logFile],
  });
  return track(pid, `pgpool ${p.name}`, 'SIGINT');
}

export interface PoolNodeRow {
  hostname: string;
  port: string;
  status: string;
  role: string;
}

/** `SHOW POOL_NODES` through the pooler's TCP port, as `user` (password in the environment, not argv). */
export async function showPoolNodes(p: PoolerPaths, user: string, password: string): Promise<PoolNodeRow[]> {
  const r = await run(
    '/usr/lib/postgresql/15/bin/psql',
    [
      '-X',
      '--csv',
      '-h',
      p.host,
      '-p',
      String(p.port),
      '-U',
      user,
      '-d',
      'postgres',
      '-c',
      'SHOW POOL_NODES',
    ],
    { env: { PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' }, timeoutMs: 15_000 },
  );
  const [header = '', ...rows] = r.stdout.split('\n').filter((l) => l !== '');
  const cols = header.split(',');
  const at = (row: string[], name: string): string => row[cols.indexOf(name)] ?? '';
  return rows.map((line) => {
    const row = line.split(',');
    return {
      hostname: at(row, 'hostname'),
      port: at(row, 'port'),
      status: at(row, 'status'),
      role: at(row, 'role'),
    };
  });
}

/** Bounded wait until every backend is `up` in SHOW POOL_NODES. */
export async function waitPoolNodesUp(p: PoolerPaths, backends: number, password: string): Promise<void> {
  await waitFor(
    `pgpool on ${p.host}:${p.port} to show ${backends} backends up`,
    async () => {
      const rows = await showPoolNodes(p, 'app', password);
      return rows.length === backends && rows.every((r) => r.status === 'up');
    },
    { timeoutMs: 30_000, intervalMs: 100, logs: [p.logFile] },
  );
}
