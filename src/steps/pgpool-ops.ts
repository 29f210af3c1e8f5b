// What the pgpool steps share (SPEC §7.4): the pooler's TLS paths, the pgpool.conf settings pgharden
// wants, running sh as the pgpool user, one SQL statement through the pooler's port (password on
// stdin, never argv), and the restart with the exact argv the running pgpool has (SIGINT to its pid
// and wait: ~60 ms, where `pgpool -m fast stop` polls once a second).
import { posix } from 'node:path';
import { BugError, FailedError } from '../core/errors.js';
import type { PgpoolFacts } from '../core/pgpool-facts.js';
import { shellQuote } from '../remote/shell.js';
import type { RemoteSession } from '../remote/types.js';
import type { HardenContext, PoolerContext } from './context.js';

export function poolerOf(f: HardenContext): PoolerContext {
  if (f.pooler === undefined) throw new BugError('pgpool.no-pooler', `${f.node.name} is not a pooler`);
  return f.pooler;
}

export interface PoolerTlsPaths {
  dir: string;
  cert: string;
  key: string;
  ca: string;
}

export function poolerTlsPaths(f: HardenContext): PoolerTlsPaths {
  const dir = posix.normalize(f.tlsDir).replace(/\/+$/, '');
  return { dir, cert: `${dir}/server.crt`, key: `${dir}/server.key`, ca: `${dir}/root.crt` };
}

/** pgpool.conf settings for TLS, pool_hba and pool_passwd-only passwords (values as pgpool reads them). */
export function wantedPgpoolSettings(f: HardenContext): Record<string, string | boolean> {
  const p = poolerTlsPaths(f);
  const s = poolerOf(f).pgpool.settings;
  const out: Record<string, string | boolean> = {
    ssl: true,
    ssl_key: p.key,
    ssl_cert: p.cert,
    ssl_ca_cert: p.ca,
    ssl_prefer_server_ciphers: true,
    enable_pool_hba: true,
    // A value here overrides pool_passwd (and is a password in clear text in a 0640 file).
    health_check_password: '',
    sr_check_password: '',
  };
  if (f.inventory.tls?.ciphers !== undefined) out['ssl_ciphers'] = f.inventory.tls.ciphers;
  for (const k of ['recovery_password', 'wd_lifecheck_password']) if ((s[k] ?? '') !== '') out[k] = '';
  return out;
}

/** pgpool reads booleans as on/off/true/false/yes/no/1/0. */
export function settingMatches(now: string | undefined, want: string | boolean): boolean {
  if (typeof want === 'string') return (now ?? '') === want;
  const v = (now ?? '').toLowerCase();
  return want ? ['on', 'true', 'yes', '1'].includes(v) : ['off', 'false', 'no', '0', ''].includes(v);
}

export async function runAsPooler(
  session: RemoteSession,
  f: HardenContext,
  script: string,
  args: string[],
  what: string,
  opts: { stdin?: string; signal?: AbortSignal | undefined; timeoutMs?: number } = {},
): Promise<string> {
  return runAs(session, poolerOf(f).pgpool.osUser, script, args, what, opts);
}

/**
 * How a step reaches one pgpool: through the pooler's own session (its steps), or through the
 * primary's (the health watch after the backends' auth phase), as `runAs`, with the CA at `caPath`.
 */
export interface PoolerHandle {
  name: string;
  pgpool: PgpoolFacts;
  passwords: ReadonlyMap<string, string>;
  runAs: string;
  caPath: string;
}

export function handleOf(f: HardenContext): PoolerHandle {
  const p = poolerOf(f);
  return {
    name: f.node.name,
    pgpool: p.pgpool,
    passwords: f.passwords,
    runAs: p.pgpool.osUser,
    caPath: poolerTlsPaths(f).ca,
  };
}

async function runAs(
  session: RemoteSession,
  user: string,
  script: string,
  args: string[],
  what: string,
  opts: { stdin?: string; signal?: AbortSignal | undefined; timeoutMs?: number } = {},
): Promise<string> {
  const cmd = ['sh', '-c', script, 'sh', ...args].map(shellQuote).join(' ');
  const r = await session.exec(cmd, {
    asUser: user,
    ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
  if (r.code !== 0) {
    const detail = r.stderr.trim().split('\n').slice(-2).join(' ');
    throw new FailedError('pgpool.remote-failed', `${session.node}: ${what} failed: ${detail}`);
  }
  return r.stdout;
}

// $1 conninfo (no password), $2 SQL. The password arrives on stdin and goes to PGPASSWORD.
const QUERY_SH = `PGPASSWORD=$(cat); export PGPASSWORD
p=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | tail -n 1)
PGCONNECT_TIMEOUT=5 exec "$p" -X -q --csv -v ON_ERROR_STOP=1 -d "$1" -c "$2"`;

/** One statement through pgpool's TCP port as `user`: CSV rows as objects. */
export async function queryThroughPooler(
  session: RemoteSession,
  h: PoolerHandle,
  sql: string,
  opts: { tls: boolean; user: string; password: string; signal?: AbortSignal | undefined },
): Promise<Record<string, string>[]> {
  const ssl = opts.tls
    ? `sslmode=verify-full sslrootcert=${h.caPath}`
    : // prefer: before hardening (undo) pgpool may or may not speak TLS.
      'sslmode=prefer';
  const conninfo = `host=${h.pgpool.host} port=${h.pgpool.port} dbname=postgres user=${opts.user} ${ssl}`;
  const out = await runAs(session, h.runAs, QUERY_SH, [conninfo, sql], `${sql} through pgpool`, {
    stdin: opts.password,
    signal: opts.signal,
    timeoutMs: 20_000,
  });
  return parseCsv(out);
}

/** psql --csv output (RFC 4180 quoting) → rows keyed by the header. */
export function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      records.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    records.push(row);
  }
  const [header, ...rows] = records;
  if (header === undefined) return [];
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

/** The user pgharden checks pgpool with (health_check_user) and its password. */
export function checkLogin(h: PoolerHandle): { user: string; password: string } {
  const user = h.pgpool.healthCheckUser;
  const password = h.passwords.get(user) ?? plainPassword(h.pgpool.settings['health_check_password']);
  if (password === undefined) {
    throw new FailedError(
      'pgpool.password-missing',
      `${h.name}: no password for health_check_user ${user}`,
      `give it with --secrets or PGHARDEN_PASSWORD_${user.toUpperCase()}`,
    );
  }
  return { user, password };
}

/** A *_password setting in clear text (not md5…/AES…/empty). */
export function plainPassword(v: string | undefined): string | undefined {
  if (v === undefined || v === '' || /^(md5|AES|SCRAM-SHA-256\$)/.test(v)) return undefined;
  return v;
}

export interface PoolNode {
  hostname: string;
  port: string;
  status: string;
  role: string;
}

export async function showPoolNodes(
  session: RemoteSession,
  h: PoolerHandle,
  tls: boolean,
  signal?: AbortSignal,
): Promise<PoolNode[]> {
  const rows = await queryThroughPooler(session, h, 'SHOW POOL_NODES', { tls, ...checkLogin(h), signal });
  return rows.map((r) => ({
    hostname: r['hostname'] ?? '',
    port: r['port'] ?? '',
    status: r['status'] ?? '',
    role: r['role'] ?? '',
  }));
}

/** Bounded wait until pgpool answers and shows every configured backend up. */
export async function waitPoolNodesUp(
  session: RemoteSession,
  h: PoolerHandle,
  tls: boolean,
  opts: { timeoutMs?: number; signal?: AbortSignal | undefined } = {},
): Promise<PoolNode[]> {
  const want = h.pgpool.backends.length;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const nodes = await showPoolNodes(session, h, tls, opts.signal);
      if (nodes.length >= want && nodes.every((n) => n.status === 'up')) return nodes;
      last = new Error(nodes.map((n) => `${n.hostname}:${n.port} ${n.status}`).join(', '));
    } catch (e) {
      last = e;
      // pgpool 4.3 whose ssl_key/ssl_cert cannot be loaded starts anyway and serves no TLS at all
      // (measured): no point waiting for it.
      if (tls && /does not support SSL/.test((e as Error).message)) {
        throw new FailedError(
          'pgpool.tls-not-served',
          `${h.name}: pgpool runs but serves no TLS`,
          'pgpool could not load ssl_key/ssl_cert (see its log): it starts without TLS rather than refusing',
        );
      }
    }
    if (Date.now() > deadline || opts.signal?.aborted === true) {
      throw new FailedError(
        'pgpool.nodes-not-up',
        `${h.name}: pgpool does not show every backend up: ${(last as Error).message}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

// $1 pid file, $2 old pid, $3 cwd, $4 stderr file, $5 exe, $6 host, $7 port, then argv[1..]. SIGINT
// (fast shutdown) to the old pid, wait until it is gone (a zombie counts: no systemd reaps it here),
// start the same argv detached, wait for a new pid in the pid file, then until pgpool answers on its
// port (any answer, an authentication error included: the pid file is written ~0.3 s before it
// listens). Prints the new pid.
const RESTART_SH = `pidf=$1; old=$2; dir=$3; log=$4; exe=$5; host=$6; port=$7; sf=$8; sb=$9; shift 9
alive() { [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
if [ -n "$old" ] && alive "$old"; then
  kill -INT "$old" 2>/dev/null || true
  i=0; while alive "$old"; do i=$((i+1)); [ $i -gt 600 ] && { echo "pgpool $old did not stop in 30 s" >&2; exit 1; }; sleep 0.05; done
fi
# pgpool_status as it was (written by the pgpool that just stopped): '-' = it did not exist.
if [ -n "$sf" ]; then
  if [ "$sb" = - ]; then rm -f -- "$sf"
  else printf '%s' "$sb" | base64 -d > "$sf.pgharden-tmp" && mv -f -- "$sf.pgharden-tmp" "$sf" || exit 1
  fi
fi
[ -n "$log" ] && { : >> "$log"; } 2>/dev/null || log=/dev/null
cd "$dir" || exit 1
setsid nohup "$exe" "$@" >> "$log" 2>&1 < /dev/null &
i=0
while :; do
  new=$(tr -d '\\000\\n ' < "$pidf" 2>/dev/null)
  if [ -n "$new" ] && [ "$new" != "$old" ] && alive "$new"; then break; fi
  i=$((i+1)); [ $i -gt 300 ] && { echo "pgpool did not write $pidf in 15 s" >&2; exit 1; }
  sleep 0.05
done
p=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | tail -n 1)
if [ -n "$p" ]; then
  i=0
  while :; do
    out=$(PGPASSWORD= PGCONNECT_TIMEOUT=2 "$p" -X -w -d "host=$host port=$port dbname=postgres user=pgharden-probe sslmode=prefer" -c '' 2>&1)
    case $out in *"Connection refused"*|*"could not connect"*|*"No such file"*) ;; *) break;; esac
    alive "$new" || { echo "pgpool $new exited after start" >&2; exit 1; }
    i=$((i+1)); [ $i -gt 300 ] && { echo "pgpool $new does not answer on $host:$port" >&2; exit 1; }
    sleep 0.05
  done
fi
echo "$new"`;

/** Stop the running pgpool by its pid and start it with its own argv; returns the new pid. */
export async function restartPgpool(
  session: RemoteSession,
  pg: PgpoolFacts,
  oldPid: number | undefined,
  signal?: AbortSignal,
  /** Rollback: pgpool_status back to its content before the run (PgpoolFacts.statusText) before the start. */
  restoreStatus = false,
): Promise<number> {
  const [, ...args] = pg.process.argv;
  const out = await runAs(
    session,
    pg.osUser,
    RESTART_SH,
    [
      pg.pidFile,
      oldPid === undefined ? '' : String(oldPid),
      pg.process.cwd,
      pg.process.stderrFile ?? '',
      pg.process.exe,
      pg.host,
      String(pg.port),
      restoreStatus ? pg.statusFile : '',
      pg.statusText === undefined ? '-' : Buffer.from(pg.statusText).toString('base64'),
      ...args,
    ],
    'restarting pgpool',
    { signal, timeoutMs: 60_000 },
  );
  const pid = Number(out.trim().split('\n').pop());
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new FailedError('pgpool.restart-failed', `${pg.name}: pgpool did not come back (${out.trim()})`);
  }
  return pid;
}

/** The pid in pgpool's pid file when that process is alive, else undefined. */
export async function runningPid(
  session: RemoteSession,
  pg: PgpoolFacts,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const out = await runAs(
    session,
    pg.osUser,
    `p=$(tr -d '\\000\\n ' < "$1" 2>/dev/null); if [ -n "$p" ] && [ -d "/proc/$p" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status"; then echo "$p"; fi`,
    [pg.pidFile],
    'reading pgpool pid',
    { signal },
  );
  const pid = Number(out.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
