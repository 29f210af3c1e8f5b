// Shared by the pg_auto_failover steps: running pg_autoctl as the node's OS user (with its PGDATA;
// the rest of its environment — XDG_RUNTIME_DIR for the pid file, PATH — comes from the user's
// shell, as for the operator's own `ssh node pg_autoctl …`), reading and editing pg_autoctl.cfg
// (an INI file), and waiting for the formation to settle. Facts measured on pg_auto_failover 2.0
// are in LAB-NOTES ("pg_auto_failover 2.0 (Debian)") and docs/decisions.md.
import { posix } from 'node:path';
import { FailedError } from '../core/errors.js';
import type { FileChange } from '../core/step.js';
import { psqlQueries } from '../remote/psql.js';
import { shellQuote } from '../remote/shell.js';
import type { RemoteSession } from '../remote/types.js';
import type { AutoctlFacts, HardenContext } from './context.js';
import { pgConn, runAsPg, str } from './tls-files.js';

/** The facts of a pg_auto_failover node; a bug when a pgaf step runs on another topology. */
export function autoctlOf(h: HardenContext): AutoctlFacts {
  if (h.autoctl === undefined) {
    throw new FailedError('pgaf.not-detected', `${h.node.name}: not a pg_auto_failover node`);
  }
  return h.autoctl;
}

/** Seconds a restarted pg_autoctl service must stay up before anything signals it. */
const STABLE_S = 3;

const AUTOCTL_SH = 'PGDATA=$1; export PGDATA; shift; exec pg_autoctl "$@" 2>&1';

/** `pg_autoctl ARGS…` as the PostgreSQL OS user with its PGDATA; stdout and stderr together. */
export async function autoctl(
  session: RemoteSession,
  h: HardenContext,
  args: string[],
  what: string,
  signal?: AbortSignal,
): Promise<string> {
  return runAsPg(session, h, AUTOCTL_SH, [h.facts.pg.dataDir, ...args], what, signal);
}

/**
 * pg_hba.conf of a keeper, as a planned file that pgharden itself leaves as it is: when its service
 * restarts or reloads with ssl on and the new auth_method, pg_autoctl adds `hostssl … <method>`
 * lines for the other nodes to it (measured: a run that failed before hba.hostssl left node1's
 * pg_hba.conf with them after the rollback). Planned by the pgaf steps that make pg_autoctl do so,
 * the engine backs the original up before they run (one backup per file per run) and restores it
 * on undo. Not with --skip-pg-hba (pg_autoctl never edits it), not on the monitor (it edits its
 * pg_hba.conf only when a node registers).
 */
export function autoctlHbaFile(h: HardenContext): FileChange | undefined {
  const a = autoctlOf(h);
  if (a.kind !== 'keeper' || a.skipPgHba) return undefined;
  return {
    path: h.facts.pg.hbaFile,
    owner: h.facts.osUser,
    mode: 0o600,
    before: h.facts.pg.hbaText,
    after: h.facts.pg.hbaText,
  };
}

/** The plan's line for autoctlHbaFile. */
export const AUTOCTL_HBA_NOTE =
  '# pg_hba.conf backed up first: pg_autoctl may add hostssl lines for the other nodes to it (a rollback restores it)';

// ---- pg_autoctl.cfg -------------------------------------------------------------------------------

/** `section.key` → value. Later duplicates win, as in pg_autoctl's ini reader. */
export function parseIni(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec !== null) {
      section = sec[1]?.trim() ?? '';
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out[`${section}.${line.slice(0, eq).trim()}`] = line.slice(eq + 1).trim();
  }
  return out;
}

/** The same file with `section.key = value` set (added at the end of its section, or a new section). */
export function setIni(text: string, section: string, key: string, value: string): string {
  const lines = text.split('\n');
  let current = '';
  let sectionEnd = -1;
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec !== null) {
      current = sec[1]?.trim() ?? '';
      continue;
    }
    if (current !== section) continue;
    if (line !== '') sectionEnd = i;
    const eq = line.indexOf('=');
    if (eq >= 0 && line.slice(0, eq).trim() === key) {
      lines[i] = `${key} = ${value}`;
      return lines.join('\n');
    }
  }
  if (sectionEnd < 0) {
    const header = lines.findIndex((l) => l.trim() === `[${section}]`);
    if (header >= 0) sectionEnd = header;
  }
  if (sectionEnd >= 0) {
    lines.splice(sectionEnd + 1, 0, `${key} = ${value}`);
    return lines.join('\n');
  }
  const body = text.endsWith('\n') || text === '' ? text : `${text}\n`;
  return `${body}\n[${section}]\n${key} = ${value}\n`;
}

/** Lines that carry a password (replication.password, a password= in a URI) shown as `********`. */
export function maskSecrets(text: string): string {
  return text
    .replace(/^(\s*password\s*=\s*).+$/gm, '$1********')
    .replace(/(:\/\/[^:@/\s]+:)[^@\s]+@/g, '$1********@')
    .replace(/(\bpassword=)(?:'(?:[^'\\]|\\.)*'|[^\s']+)/g, '$1********');
}

/** The monitor URI with sslmode (and sslrootcert, sslcrl) set as `pg_autoctl enable ssl` writes it. */
export function monitorUriWith(uri: string, params: Record<string, string>): string {
  const q = uri.indexOf('?');
  const base = q < 0 ? uri : uri.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : uri.slice(q + 1));
  for (const [k, v] of Object.entries(params)) query.set(k, v);
  return `${base}?${[...query].map(([k, v]) => `${k}=${v}`).join('&')}`;
}

/** Reads a file as the PostgreSQL OS user; '' when it does not exist. */
export async function readText(
  session: RemoteSession,
  h: HardenContext,
  path: string,
  signal?: AbortSignal,
): Promise<string> {
  const out = await runAsPg(
    session,
    h,
    'if [ -f "$1" ]; then base64 -w 0 -- "$1"; fi',
    [path],
    `reading ${path}`,
    signal,
  );
  return Buffer.from(out.trim(), 'base64').toString('utf8');
}

// ---- the service ----------------------------------------------------------------------------------

/**
 * SIGHUP to the pg_autoctl supervisor (what `pg_autoctl enable ssl` and `config set` do): the
 * services re-read pg_autoctl.cfg and rewrite postgresql-auto-failover.conf from it, then reload
 * PostgreSQL. A no-op when the service is not running.
 */
export async function reloadService(session: RemoteSession, h: HardenContext, signal?: AbortSignal) {
  const script = `${AUTOCTL_SH.replace(' 2>&1', '')}`;
  const pidFile = (
    await runAsPg(session, h, script, [h.facts.pg.dataDir, 'show', 'file', '--pid'], 'pid file', signal)
  ).trim();
  await runAsPg(
    session,
    h,
    'if [ -f "$1" ]; then pid=$(sed -n 1p "$1"); kill -HUP "$pid" 2>/dev/null || true; fi',
    [pidFile],
    'signalling pg_autoctl',
    signal,
  );
}

// $1 PGDATA, $2 service. `do service restart` exits 12 ("Failed to find pid for service name")
// when it looks for the new pid while the supervisor is still starting it (measured): the restart
// happened, so the exit status is not trusted; the new pid is polled for instead (10 s). Never
// retried: pg_autoctl's supervisor stops pg_autoctl altogether — PostgreSQL included — when a
// service starts more than 5 times within 300 s, its first start included (SUPERVISOR_SERVICE_MAX_RETRY
// / _MAX_TIME; a formation started a minute ago has 4 restarts left). The new pid must then still be
// the service's 3 s later: a service that dies at start (and is restarted by the supervisor, spending
// that budget) is reported, not waited through.
const RESTART_SH = `PGDATA=$1; export PGDATA; PG_AUTOCTL_DEBUG=1; export PG_AUTOCTL_DEBUG
old=$(pg_autoctl do service getpid "$2" 2>/dev/null)
pg_autoctl do service restart "$2" >/dev/null 2>&1
i=0
while [ $i -lt 50 ]; do
  new=$(pg_autoctl do service getpid "$2" 2>/dev/null)
  if [ -n "$new" ] && [ "$new" != "$old" ]; then
    sleep ${STABLE_S}
    now=$(pg_autoctl do service getpid "$2" 2>/dev/null)
    if [ "$now" = "$new" ]; then echo "restarted $new"; exit 0; fi
    echo "pg_autoctl's $2 service did not stay up after its restart (pid $new, then '$now')" >&2
    exit 1
  fi
  i=$((i+1)); sleep 0.2
done
echo "pg_autoctl's $2 service did not come back (pid before: $old)" >&2
exit 1`;

/**
 * Restarts the sub-process that reads pg_autoctl.cfg at its start (keeper: node-active, monitor:
 * listener), and returns once the new process has run for a few seconds (its signal handlers are
 * installed: a SIGHUP before that would kill it, and the supervisor would count one more start).
 * Needed for settings a reload does not take — postgresql.auth_method is written back to its old
 * value by the reload it triggers (LAB-NOTES). PostgreSQL keeps running. Counts against the
 * supervisor's budget (see RESTART_SH): callers restart at most once per node per apply step that
 * changes pg_autoctl.cfg, and once per node per rollback.
 */
export async function restartNodeService(
  session: RemoteSession,
  h: HardenContext,
  signal?: AbortSignal,
): Promise<void> {
  const service = autoctlOf(h).kind === 'monitor' ? 'listener' : 'node-active';
  await runAsPg(
    session,
    h,
    RESTART_SH,
    [h.facts.pg.dataDir, service],
    `restarting pg_autoctl's ${service} service`,
    signal,
  );
}

export interface AutoctlNodeState {
  nodename: string;
  nodehost: string;
  nodeport: number;
  health: number;
  current_group_state: string;
  assigned_group_state: string;
}

export function parseState(text: string): AutoctlNodeState[] {
  const start = text.indexOf('[');
  if (start < 0) throw new FailedError('pgaf.state-unreadable', `pg_autoctl show state: ${text.trim()}`);
  return JSON.parse(text.slice(start, text.lastIndexOf(']') + 1)) as AutoctlNodeState[];
}

/** Why the formation is not settled, or undefined: every node at its goal state, one primary. */
export function unsettled(states: readonly AutoctlNodeState[]): string | undefined {
  const moving = states.filter((s) => s.current_group_state !== s.assigned_group_state);
  if (moving.length > 0) {
    return moving
      .map((s) => `${s.nodename} is ${s.current_group_state}, assigned ${s.assigned_group_state}`)
      .join('; ');
  }
  const primaries = states.filter((s) => s.current_group_state === 'primary').length;
  if (primaries !== 1) return `${primaries} nodes are primary`;
  return undefined;
}

export async function showState(
  session: RemoteSession,
  h: HardenContext,
  signal?: AbortSignal,
): Promise<AutoctlNodeState[]> {
  return parseState(await autoctl(session, h, ['show', 'state', '--json'], 'pg_autoctl show state', signal));
}

/**
 * Polls `pg_autoctl show state` (from this node: keepers ask the monitor) until the formation is
 * settled and has stayed settled for `stableMs` (every reading in between settled too), within a
 * bound: a primary_conninfo change or a service restart makes a standby restart a moment later, and
 * the group goes through catchingup / wait_primary for a few seconds (LAB-NOTES); a single settled
 * reading can predate that. No fixed sleep.
 */
export async function waitSettled(
  session: RemoteSession,
  h: HardenContext,
  signal?: AbortSignal,
  timeoutMs = 90_000,
  stableMs = STABLE_S * 1000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let why = 'no answer';
  let settledSince: number | undefined;
  // A change takes a moment to reach the monitor: a state read right away may predate it.
  await sleep(500, signal);
  for (;;) {
    try {
      const states = await showState(session, h, signal);
      const u = unsettled(states);
      if (u === undefined) {
        settledSince ??= Date.now();
        if (Date.now() - settledSince >= stableMs) return;
      } else {
        settledSince = undefined;
        why = u;
      }
    } catch (err) {
      if (signal?.aborted === true) throw err;
      settledSince = undefined;
      why = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new FailedError(
        'pgaf.not-settled',
        `${h.node.name}: the formation did not settle within ${Math.round(timeoutMs / 1000)} s: ${why}`,
      );
    }
    await sleep(500, signal);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

// ---- the server log -------------------------------------------------------------------------------

export interface LogPosition {
  file: string;
  offset: number;
}

/** Where the server log is now (logging collector only; undefined otherwise). */
export async function logPosition(
  session: RemoteSession,
  h: HardenContext,
  signal?: AbortSignal,
): Promise<LogPosition | undefined> {
  const r = await psqlQueries(
    session,
    pgConn(h),
    {
      log: `SELECT current_setting('data_directory') AS data, l AS file,
                   coalesce((pg_stat_file(l, true)).size, 0) AS size
              FROM pg_current_logfile() AS l WHERE l IS NOT NULL`,
    },
    { signal },
  );
  const row = r.log[0];
  if (row === undefined) return undefined;
  const file = str(row['file']);
  return {
    file: posix.isAbsolute(file) ? file : posix.join(str(row['data'], h.facts.pg.dataDir), file),
    offset: Number(row['size'] ?? 0) || 0,
  };
}

/** The server log written since `pos` (at most 1 MiB). */
export async function logSince(
  session: RemoteSession,
  h: HardenContext,
  pos: LogPosition,
  signal?: AbortSignal,
): Promise<string> {
  return runAsPg(
    session,
    h,
    'tail -c +"$2" -- "$1" 2>/dev/null | head -c 1048576; true',
    [pos.file, String(pos.offset + 1)],
    'reading the server log',
    signal,
  );
}

export const LOG_ERRORS =
  /SSL configuration was not reloaded|could not load|could not reload|was not reloaded/;

/**
 * Polls a query from new connections until `ok(rows)` says yes, within a bound. Connection errors
 * count as "not yet": pg_autoctl restarts a standby whenever its primary_conninfo changes, and the
 * socket is gone for a moment.
 */
export async function pollPg(
  session: RemoteSession,
  h: HardenContext,
  sql: string,
  ok: (rows: Record<string, unknown>[]) => boolean,
  what: string,
  signal?: AbortSignal,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const r = await psqlQueries(session, pgConn(h), { q: sql }, { signal });
      if (ok(r.q ?? [])) return;
      last = JSON.stringify(r.q ?? []).slice(0, 300);
    } catch (err) {
      if (signal?.aborted === true) throw err;
      last = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    }
    if (Date.now() > deadline) {
      throw new FailedError(
        'pgaf.timeout',
        `${h.node.name}: ${what} did not happen within ${Math.round(timeoutMs / 1000)} s (last: ${last})`,
      );
    }
    await sleep(200, signal);
  }
}

/** PostgreSQL answers on its socket again (after a restart by pg_autoctl). */
export function waitPgUp(session: RemoteSession, h: HardenContext, signal?: AbortSignal): Promise<void> {
  return pollPg(session, h, 'SELECT 1 AS ok', (rows) => rows.length === 1, 'PostgreSQL answering', signal);
}

/**
 * The wait at the end of a pgaf step's undo: PostgreSQL answers. Service restarts and the formation
 * wait come once per node, after all of its steps are undone (autoctlAfterRollback).
 */
export async function settleAfterUndo(
  session: RemoteSession,
  h: HardenContext,
  signal?: AbortSignal,
): Promise<void> {
  await waitPgUp(session, h, signal);
}

/** A pgaf step's undo: the engine restored a file pg_autoctl reads; see autoctlAfterRollback. */
export function markRestored(h: HardenContext): void {
  autoctlOf(h).restored = true;
}

/**
 * After every step of a pg_auto_failover node was undone in a run (the engine restored the files
 * newest first): when a pgaf step restored pg_autoctl's files, restart the node's service ONCE —
 * the restarted service reads the restored pg_autoctl.cfg and, in its first loop, rewrites
 * postgresql-auto-failover.conf from it and reloads PostgreSQL — then SIGHUP it (the monitor's
 * listener too) once it has run a few seconds, and wait for `ssl` to be as before. Restart first: a
 * SIGHUP to a service still holding the run's values writes them back over the restored file
 * (auth_method, measured). Keepers then wait for their PostgreSQL only (they cannot always reach
 * the monitor during a rollback: their .pgpass is gone while the monitor's pg_hba.conf still wants
 * a password, until the monitor, undone last, is back); the monitor waits for the whole formation
 * to settle, stably.
 */
export async function autoctlAfterRollback(
  session: RemoteSession,
  h: HardenContext,
  waitSsl: (want: boolean) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const a = autoctlOf(h);
  await waitPgUp(session, h, signal);
  if (a.restored === true) {
    await restartNodeService(session, h, signal);
    await reloadService(session, h, signal);
    a.restored = false;
  }
  await waitSsl(h.facts.pg.settings['ssl']?.setting === 'on');
  await waitPgUp(session, h, signal);
  if (a.kind === 'monitor') await waitSettled(session, h, signal, 120_000);
}

// $1 PGDATA. For `pgharden rollback RUN_ID`, which restores files from the journal alone (no step
// facts): when pg_autoctl runs this node, make its service read the restored pg_autoctl.cfg —
// restart the service that reads it at start, then SIGHUP (rewrites postgresql-auto-failover.conf,
// reloads PostgreSQL). In that order: a SIGHUP to a service still holding the run's values writes
// them back over the restored file (auth_method). Prints `pgaf` when it did something.
const RESTORED_SH = `PGDATA=$1; export PGDATA
command -v pg_autoctl >/dev/null 2>&1 || exit 0
pidfile=$(pg_autoctl show file --pid 2>/dev/null) || exit 0
[ -f "$pidfile" ] || exit 0
role=$(pg_autoctl config get pg_autoctl.role 2>/dev/null) || exit 0
case $role in monitor) svc=listener ;; *) svc=node-active ;; esac
old=$(PG_AUTOCTL_DEBUG=1 pg_autoctl do service getpid "$svc" 2>/dev/null)
PG_AUTOCTL_DEBUG=1 pg_autoctl do service restart "$svc" >/dev/null 2>&1
i=0
while [ $i -lt 50 ]; do
  new=$(PG_AUTOCTL_DEBUG=1 pg_autoctl do service getpid "$svc" 2>/dev/null)
  [ -n "$new" ] && [ "$new" != "$old" ] && break
  i=$((i+1)); sleep 0.2
done
[ $i -lt 50 ] || exit 3
sleep ${STABLE_S}
kill -HUP "$(sed -n 1p "$pidfile")" 2>/dev/null || true
echo pgaf`;

/** After files were restored without the steps' facts (rollback RUN_ID): see RESTORED_SH. */
export async function autoctlReadRestored(
  session: RemoteSession,
  osUser: string,
  dataDir: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const cmd = ['sh', '-c', RESTORED_SH, 'sh', dataDir].map(shellQuote).join(' ');
  const r = await session.exec(cmd, { asUser: osUser, signal });
  if (r.code !== 0) {
    throw new FailedError(
      'pgaf.service-restart',
      `${session.node}: pg_autoctl did not restart its service: ${r.stderr.trim().slice(0, 300)}`,
    );
  }
  return r.stdout.includes('pgaf');
}
