// Preflight of a Pgpool-II pooler (SPEC §5, §7.4): version, backends, health-check and streaming-check
// users, and the files the *running* process uses. pool_hba.conf, pcp.conf and the key file come from
// the main process's argv (`-a`, `-F`, `-k`; /proc/<pid>/cmdline), not from pgpool.conf's directory:
// restarted with `-f` alone, pgpool silently falls back to the distribution's trust rules. One exec
// reads everything; nothing is changed.
import { posix } from 'node:path';
import { FailedError, UsageError } from './errors.js';
import type { Inventory } from './inventory-schema.js';
import {
  parsePgpoolConf,
  pgpoolBackends,
  pgpoolSetting,
  poolHbaProblems,
  poolPasswdUsers,
  type PgpoolBackend,
} from '../pgconf/pgpool-conf.js';
import { shellQuote } from '../remote/shell.js';
import type { RemoteSession } from '../remote/types.js';

export type PoolerEntry = NonNullable<Inventory['poolers']>[number];

/** Debian's compiled-in defaults (pgpool -a/-F when not given). */
export const PGPOOL_DEFAULT_HBA = '/etc/pgpool2/pool_hba.conf';
export const PGPOOL_DEFAULT_PCP = '/etc/pgpool2/pcp.conf';
export const PGPOOL_DEFAULT_CONF = '/etc/pgpool2/pgpool.conf';

export interface PgpoolProcess {
  pid: number;
  /** argv as the main process was started (argv[0] first). */
  argv: string[];
  /** /proc/<pid>/exe */
  exe: string;
  /** /proc/<pid>/cwd */
  cwd: string;
  /** Where its stderr goes (/proc/<pid>/fd/2), when that is a file. */
  stderrFile?: string | undefined;
  /** PGPOOLKEYFILE from its environment, if set. */
  keyFileEnv?: string | undefined;
}

export interface PgpoolFacts {
  name: string;
  host: string;
  osUser: string;
  home: string;
  version: string;
  configFile: string;
  configText: string;
  port: number;
  socketDir: string;
  pidFile: string;
  process: PgpoolProcess;
  hbaFile: string;
  hbaText: string;
  pcpFile: string;
  keyFile: string;
  keyMode: number;
  keyOwner: string;
  /** '' when pool_passwd is disabled. */
  poolPasswdFile: string;
  poolPasswdUsers: { user: string; kind: string }[];
  backends: PgpoolBackend[];
  healthCheckUser: string;
  srCheckUser: string;
  /** Settings pgharden reads or changes, as pgpool reads them now ('' when unset). */
  settings: Record<string, string>;
  /** pgpool_status in `logdir`: which backends pgpool holds up or down across restarts. */
  statusFile: string;
  /**
   * Its content before the run (undefined: absent). A rollback restart puts it back, so pgpool comes
   * back with the backend states it had: one it marked down while the backends were being changed
   * (a health check that hit a reload under load) would otherwise stay detached after the restart.
   */
  statusText?: string | undefined;
}

export const PGPOOL_READ_SETTINGS = [
  'ssl',
  'ssl_key',
  'ssl_cert',
  'ssl_ca_cert',
  'ssl_prefer_server_ciphers',
  'ssl_ciphers',
  'enable_pool_hba',
  'health_check_user',
  'health_check_password',
  'health_check_period',
  'sr_check_user',
  'sr_check_password',
  'recovery_user',
  'recovery_password',
  'wd_lifecheck_user',
  'wd_lifecheck_password',
  'pool_passwd',
  'listen_addresses',
  'port',
  'socket_dir',
  'pid_file_name',
  'logdir',
] as const;

interface OptionSpec {
  short: string;
  long: string;
}
const WITH_ARG: Record<'conf' | 'hba' | 'pcp' | 'key' | 'mode', OptionSpec> = {
  conf: { short: 'f', long: 'config-file' },
  hba: { short: 'a', long: 'hba-file' },
  pcp: { short: 'F', long: 'pcp-file' },
  key: { short: 'k', long: 'key-file' },
  mode: { short: 'm', long: 'mode' },
};

/** The file options of a pgpool argv (getopt_long: `-f X`, `-fX`, `--config-file=X`, `--config-file X`). */
export function pgpoolArgvFiles(argv: readonly string[]): Partial<Record<keyof typeof WITH_ARG, string>> {
  const out: Partial<Record<keyof typeof WITH_ARG, string>> = {};
  for (let i = 1; i < argv.length; i += 1) {
    const a = argv[i] ?? '';
    for (const [k, spec] of Object.entries(WITH_ARG) as [keyof typeof WITH_ARG, OptionSpec][]) {
      if (a === `-${spec.short}` || a === `--${spec.long}`) {
        const v = argv[i + 1];
        if (v !== undefined) out[k] = v;
        i += 1;
        break;
      }
      if (a.startsWith(`--${spec.long}=`)) {
        out[k] = a.slice(spec.long.length + 3);
        break;
      }
      if (a.startsWith(`-${spec.short}`) && !a.startsWith('--') && a.length > 2) {
        out[k] = a.slice(2);
        break;
      }
    }
  }
  return out;
}

// $1 pid file. Prints key=value lines; argv and environ are NUL-separated, sent as base64.
const PROC_SH = `pidf=$1
echo "home=$HOME"
echo "version=$(pgpool --version 2>&1 | head -n 1)"
[ -r "$pidf" ] || { echo "pid="; exit 0; }
pid=$(tr -d '\\000\\n ' < "$pidf")
echo "pid=$pid"
[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || exit 0
state=$(sed -n 's/^State:[[:space:]]*\\([A-Z]\\).*/\\1/p' "/proc/$pid/status" 2>/dev/null)
echo "state=$state"
echo "argv=$(base64 -w 0 < "/proc/$pid/cmdline")"
echo "exe=$(readlink "/proc/$pid/exe")"
echo "cwd=$(readlink "/proc/$pid/cwd")"
echo "stderr=$(readlink "/proc/$pid/fd/2")"
echo "keyenv=$(tr '\\000' '\\n' < "/proc/$pid/environ" 2>/dev/null | sed -n 's/^PGPOOLKEYFILE=//p' | head -n 1)"`;

// $1 hba, $2 key, $3 pool_passwd. File facts; pool_hba content as base64; pool_passwd users only.
const FILES_SH = `if [ -r "$1" ]; then echo "hba=$(base64 -w 0 < "$1")"; else echo "hba=-"; fi
if [ -e "$2" ]; then echo "key=$(stat -c '%U %a %s' -- "$2")"; else echo "key=-"; fi
if [ -n "$3" ] && [ -r "$3" ]; then echo "pp=$(cut -d: -f1,2 < "$3" | sed 's/^\\([^:]*\\):\\(...\\).*/\\1:\\2/' | base64 -w 0)"; else echo "pp="; fi`;

function kv(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

function resolveAgainst(dir: string, p: string): string {
  return posix.isAbsolute(p) ? p : posix.join(dir, p);
}

function expandTilde(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? posix.join(home, p.slice(2)) : p;
}

async function sh(
  session: RemoteSession,
  osUser: string,
  script: string,
  args: string[],
  signal?: AbortSignal,
): Promise<string> {
  const cmd = ['sh', '-c', script, 'sh', ...args].map(shellQuote).join(' ');
  const r = await session.exec(cmd, { asUser: osUser, ...(signal ? { signal } : {}) });
  if (r.code !== 0) {
    throw new FailedError(
      'pgpool.preflight-failed',
      `${session.node}: reading pgpool's state failed: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`,
    );
  }
  return r.stdout;
}

export async function gatherPgpoolFacts(
  session: RemoteSession,
  pooler: PoolerEntry,
  signal?: AbortSignal,
): Promise<PgpoolFacts> {
  const osUser = pooler.osUser ?? session.target.user;
  const configFile = pooler.configFile ?? PGPOOL_DEFAULT_CONF;
  const configText = await session
    .readFile(configFile, { asUser: osUser, ...(signal ? { signal } : {}) })
    .then((b) => b.toString('utf8'))
    .catch((e: unknown) => {
      throw new UsageError(
        'pgpool.conf-missing',
        `${pooler.name}: cannot read ${configFile}: ${(e as Error).message}`,
        'set poolers[].configFile to the pgpool.conf the running pgpool uses',
      );
    });
  const { file, problems } = parsePgpoolConf(configText);
  if (problems.length > 0) {
    throw new UsageError(
      'pgpool.conf-unparseable',
      `${pooler.name}: ${configFile} cannot be parsed: ${problems
        .slice(0, 3)
        .map((p) => `line ${p.line}: ${p.message}`)
        .join('; ')}`,
      'fix pgpool.conf by hand (pgpool would refuse it at its next start); nothing was changed',
    );
  }
  const settings: Record<string, string> = {};
  for (const n of PGPOOL_READ_SETTINGS) settings[n] = pgpoolSetting(file, n) ?? '';
  const confDir = posix.dirname(configFile);
  const pidFile = resolveAgainst(confDir, settings['pid_file_name'] || '/var/run/pgpool/pgpool.pid');
  const proc = kv(await sh(session, osUser, PROC_SH, [pidFile], signal));
  const home = proc.get('home') ?? '';
  const pid = Number(proc.get('pid') ?? '');
  const argvB64 = proc.get('argv');
  const state = proc.get('state') ?? '';
  if (!Number.isInteger(pid) || pid <= 0 || argvB64 === undefined || state === 'Z' || state === '') {
    throw new FailedError(
      'pgpool.not-running',
      `${pooler.name}: no running pgpool found through ${pidFile} (pid_file_name of ${configFile})`,
      'start pgpool first: pgharden restarts it with the exact arguments it is running with',
    );
  }
  const argv = Buffer.from(argvB64, 'base64')
    .toString('utf8')
    .split('\0')
    .filter((a, i, all) => a !== '' || i < all.length - 1);
  const opts = pgpoolArgvFiles(argv);
  const cwd = proc.get('cwd') ?? home;
  const runningConf = opts.conf === undefined ? PGPOOL_DEFAULT_CONF : resolveAgainst(cwd, opts.conf);
  if (posix.normalize(runningConf) !== posix.normalize(configFile)) {
    throw new UsageError(
      'pgpool.conf-mismatch',
      `${pooler.name}: the running pgpool (pid ${pid}) uses ${runningConf}, not ${configFile}`,
      'set poolers[].configFile to the file pgpool was started with',
    );
  }
  const hbaFile =
    pooler.hbaFile ?? (opts.hba === undefined ? PGPOOL_DEFAULT_HBA : resolveAgainst(cwd, opts.hba));
  const pcpFile = opts.pcp === undefined ? PGPOOL_DEFAULT_PCP : resolveAgainst(cwd, opts.pcp);
  const keyEnv = proc.get('keyenv') ?? '';
  const keyFile = expandTilde(
    pooler.keyFile ??
      (opts.key !== undefined
        ? resolveAgainst(cwd, opts.key)
        : keyEnv !== ''
          ? keyEnv
          : posix.join(home, '.pgpoolkey')),
    home,
  );
  const ppSetting = settings['pool_passwd'] ?? 'pool_passwd';
  const poolPasswdFile = ppSetting === '' ? '' : resolveAgainst(confDir, ppSetting || 'pool_passwd');
  const files = kv(await sh(session, osUser, FILES_SH, [hbaFile, keyFile, poolPasswdFile], signal));
  const hbaB64 = files.get('hba') ?? '-';
  if (hbaB64 === '-') {
    throw new UsageError(
      'pgpool.hba-missing',
      `${pooler.name}: pool_hba.conf ${hbaFile} (from pgpool's -a argument) is not readable`,
      'set poolers[].hbaFile, or start pgpool with -a pointing at its pool_hba.conf',
    );
  }
  const hbaText = Buffer.from(hbaB64, 'base64').toString('utf8');
  const hbaProblems = poolHbaProblems(hbaText);
  if (hbaProblems.length > 0) {
    throw new UsageError(
      'pgpool.hba-unparseable',
      `${pooler.name}: ${hbaFile} line ${hbaProblems[0]?.line}: ${hbaProblems[0]?.message}`,
      'fix pool_hba.conf by hand; nothing was changed',
    );
  }
  const key = files.get('key') ?? '-';
  const [keyOwner = '', keyModeText = '0', keySize = '0'] = key === '-' ? [] : key.split(' ');
  if (key === '-' || Number(keySize) === 0) {
    throw new UsageError(
      'pgpool.key-missing',
      `${pooler.name}: pgpool's AES key file ${keyFile} is ${key === '-' ? 'missing' : 'empty'}`,
      'create it (one line, the key; mode 0600, owned by the pgpool user) and restart pgpool, or set poolers[].keyFile; nothing was changed',
    );
  }
  const pp = Buffer.from(files.get('pp') ?? '', 'base64').toString('utf8');
  const statusFile = posix.join(resolveAgainst(confDir, settings['logdir'] || '/tmp'), 'pgpool_status');
  const status = (
    await sh(
      session,
      osUser,
      'if [ -r "$1" ]; then base64 -w 0 -- "$1"; else echo -; fi',
      [statusFile],
      signal,
    )
  ).trim();
  const version = /(\d+\.\d+(?:\.\d+)?)/.exec(proc.get('version') ?? '')?.[1] ?? '';
  return {
    name: pooler.name,
    host: pooler.host,
    osUser,
    home,
    version,
    configFile,
    configText,
    port: pooler.port ?? (Number(settings['port']) || 9999),
    socketDir: settings['socket_dir'] || '/var/run/postgresql',
    pidFile,
    process: {
      pid,
      argv,
      exe: proc.get('exe') || '/usr/sbin/pgpool',
      cwd,
      ...(proc.get('stderr')?.startsWith('/') === true && !proc.get('stderr')?.startsWith('/dev/')
        ? { stderrFile: proc.get('stderr') }
        : {}),
      ...(keyEnv !== '' ? { keyFileEnv: keyEnv } : {}),
    },
    statusFile,
    ...(status === '-' ? {} : { statusText: Buffer.from(status, 'base64').toString('utf8') }),
    hbaFile,
    hbaText,
    pcpFile,
    keyFile,
    keyMode: parseInt(keyModeText, 8),
    keyOwner,
    poolPasswdFile,
    poolPasswdUsers: poolPasswdUsers(pp),
    backends: pgpoolBackends(file),
    healthCheckUser: settings['health_check_user'] || 'nobody',
    srCheckUser: settings['sr_check_user'] || 'nobody',
    settings,
  };
}
