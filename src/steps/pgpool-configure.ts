// pgpool.configure (SPEC §7.4, phase 2 of the pgpool order): pool_passwd AES entries with the current
// passwords for every role that logs in through pgpool (health_check_user and sr_check_user included)
// via `pg_enc -m -k KEY -f pgpool.conf -i FILE` — the `user:password` FILE is written 0600 from stdin
// and removed by the same command, never a password on argv —, the key file 0600, pgpool.conf (ssl,
// ssl_key/ssl_cert/ssl_ca_cert, enable_pool_hba, `*_password` emptied) and pool_hba.conf (hostssl
// scram-sha-256, hostnossl reject), then ONE restart with the exact argv pgpool was running with, and
// a bounded wait until SHOW POOL_NODES, through TLS, has every backend up. The backends still accept
// what pgpool sends them (their hba is unchanged until the next phase), so its health check never fails.
// Undo runs after the engine restored every file: it restarts pgpool once more with the same argv if
// this step had restarted it (or it is not running), and waits for every backend up again.
import { posix } from 'node:path';
import { FailedError } from '../core/errors.js';
import { defineStep, emptyPlan, type FileChange } from '../core/step.js';
import { joinPhysicalLines } from '../pgconf/lines.js';
import { parseConf } from '../pgconf/postgresql-conf.js';
import { setPgpoolSettings, setPoolHbaBlock } from '../pgconf/pgpool-conf.js';
import type { HardenContext } from './context.js';
import {
  checkLogin,
  handleOf,
  plainPassword,
  poolerOf,
  poolerTlsPaths,
  restartPgpool,
  runAsPooler,
  runningPid,
  settingMatches,
  waitPoolNodesUp,
  wantedPgpoolSettings,
} from './pgpool-ops.js';
import { PGPOOL_INSTALL_TLS } from './pgpool-install-tls.js';
import { inspectRemote, recall, remember } from './tls-files.js';

export const PGPOOL_CONFIGURE = 'pgpool.configure';

/** pgpool.conf for display: every non-empty `*_password` value hidden (the plan is shown and saved). */
export function redactPasswords(text: string): string {
  const file = parseConf(text);
  const lines = file.lines.map((l) =>
    l.kind === 'param' && l.param.key.endsWith('_password') && l.param.value !== ''
      ? { text: `${l.param.name} = '(hidden by pgharden)'`, eol: l.eol }
      : l,
  );
  return joinPhysicalLines(lines);
}

export function newPgpoolConf(f: HardenContext): string {
  return setPgpoolSettings(poolerOf(f).pgpool.configText, wantedPgpoolSettings(f));
}

export function newPoolHba(f: HardenContext): string {
  const p = poolerOf(f);
  return setPoolHbaBlock(p.pgpool.hbaText, p.networks);
}

/** Passwords for the AES entries; a role without one is refused at plan time (nothing changed). */
export function aesInput(f: HardenContext): string {
  const p = poolerOf(f);
  const s = p.pgpool.settings;
  // The check users' passwords may still be in pgpool.conf in clear text (emptied by this step).
  const fallback = new Map<string, string>();
  for (const [user, setting] of [
    [p.pgpool.healthCheckUser, 'health_check_password'],
    [p.pgpool.srCheckUser, 'sr_check_password'],
  ] as const) {
    const pw = plainPassword(s[setting]);
    if (pw !== undefined && !fallback.has(user)) fallback.set(user, pw);
  }
  return p.aesRoles
    .map((role) => {
      const pw = f.passwords.get(role) ?? fallback.get(role);
      if (pw === undefined) {
        throw new FailedError(
          'pgpool.password-missing',
          `${f.node.name}: no password for ${role}, which logs in through pgpool (pool_passwd needs it)`,
          `give it with --secrets FILE or PGHARDEN_PASSWORD_${role.toUpperCase()}; nothing was changed`,
        );
      }
      if (/[\r\n]/.test(pw) || role.includes(':')) {
        throw new FailedError(
          'pgpool.password-unusable',
          `${role}: pool_passwd cannot hold this name/password`,
        );
      }
      return `${role}:${pw}\n`;
    })
    .join('');
}

interface Seen {
  restartedPid?: number;
}
const seenByCtx = new WeakMap<object, Seen>();

const PG_ENC_SH = `umask 077
t=$(mktemp "$1/.pgharden-pgenc.XXXXXX") || exit 1
trap 'rm -f -- "$t"' EXIT
cat > "$t"
e="$4/pg_enc"; [ -x "$e" ] || e=pg_enc
"$e" -m -k "$2" -f "$3" -i "$t" > /dev/null
rc=$?
chmod 0600 -- "$2" || rc=1
exit $rc`;

export const pgpoolConfigure = defineStep<HardenContext>({
  id: PGPOOL_CONFIGURE,
  title: 'pgpool: AES pool_passwd, TLS, pool_hba, one restart',
  after: [PGPOOL_INSTALL_TLS],
  async check({ session, facts: f, signal }) {
    const pg = poolerOf(f).pgpool;
    const [conf, hba] = await inspectRemote(
      session,
      f,
      [
        { path: pg.configFile, kind: 'none' },
        { path: pg.hbaFile, kind: 'none' },
      ],
      signal,
    );
    remember(f, PGPOOL_CONFIGURE, {
      dirExists: true,
      files: { ...(conf ? { [pg.configFile]: conf } : {}), ...(hba ? { [pg.hbaFile]: hba } : {}) },
      text: {},
    });
    const settingsOk = Object.entries(wantedPgpoolSettings(f)).every(([k, v]) =>
      settingMatches(pg.settings[k], v),
    );
    const aes = new Set(pg.poolPasswdUsers.filter((u) => u.kind === 'aes').map((u) => u.user));
    const entriesOk = poolerOf(f).aesRoles.every((r) => aes.has(r));
    return !(settingsOk && entriesOk && newPoolHba(f) === pg.hbaText && pg.keyMode === 0o600);
  },
  plan({ facts: f }) {
    const p = poolerOf(f);
    const pg = p.pgpool;
    aesInput(f); // refuse a missing password now, not half-way
    const seen = recall(f, PGPOOL_CONFIGURE);
    const modeOf = (path: string, dflt: number): number => seen?.files[path]?.mode ?? dflt;
    const ownerOf = (path: string): string => seen?.files[path]?.owner || pg.osUser;
    const users = (kinds: Map<string, string>): string =>
      [...kinds].map(([u, k]) => `${u}:${k}…(hidden)\n`).join('');
    const before = new Map(pg.poolPasswdUsers.map((u) => [u.user, u.kind]));
    const after = new Map(before);
    for (const r of p.aesRoles) after.set(r, 'AES');
    const files: FileChange[] = [
      {
        path: pg.configFile,
        owner: ownerOf(pg.configFile),
        mode: modeOf(pg.configFile, 0o640),
        before: redactPasswords(pg.configText),
        after: redactPasswords(newPgpoolConf(f)),
      },
      {
        path: pg.hbaFile,
        owner: ownerOf(pg.hbaFile),
        mode: modeOf(pg.hbaFile, 0o640),
        before: pg.hbaText,
        after: newPoolHba(f),
      },
    ];
    if (pg.poolPasswdFile !== '') {
      files.push({
        path: pg.poolPasswdFile,
        owner: pg.osUser,
        mode: 0o600,
        before: users(before),
        after: users(after),
      });
    }
    files.push({
      path: pg.keyFile,
      owner: pg.keyOwner || pg.osUser,
      mode: 0o600,
      before: `(AES key file, mode ${pg.keyMode.toString(8)})`,
      after: '(AES key file, mode 600)',
    });
    const [, ...args] = pg.process.argv;
    return {
      ...emptyPlan(),
      commands: [
        `${posix.dirname(pg.process.exe)}/pg_enc -m -k ${pg.keyFile} -f ${pg.configFile} -i <0600 temp file: ${p.aesRoles.join(', ')}>`,
        `chmod 0600 ${pg.keyFile}`,
        `kill -INT ${pg.process.pid}; ${pg.process.exe} ${args.join(' ')}`,
        '-- pgpool 4.3 has no ssl_min_protocol_version: it negotiates what its OpenSSL allows',
      ],
      files,
      restart: true,
    };
  },
  async apply({ session, facts: f, signal }) {
    const p = poolerOf(f);
    const pg = p.pgpool;
    const paths = poolerTlsPaths(f);
    await runAsPooler(
      session,
      f,
      PG_ENC_SH,
      [paths.dir, pg.keyFile, pg.configFile, posix.dirname(pg.process.exe)],
      'pg_enc -m',
      {
        stdin: aesInput(f),
        signal,
      },
    );
    const seen = recall(f, PGPOOL_CONFIGURE);
    await session.writeFileAtomic(pg.configFile, newPgpoolConf(f), {
      owner: pg.osUser,
      mode: seen?.files[pg.configFile]?.mode ?? 0o640,
      signal,
    });
    await session.writeFileAtomic(pg.hbaFile, newPoolHba(f), {
      owner: pg.osUser,
      mode: seen?.files[pg.hbaFile]?.mode ?? 0o640,
      signal,
    });
    // ssl and the key file are read at start only: one restart, with the argv it runs with.
    const current = await runningPid(session, pg, signal);
    const pid = await restartPgpool(session, pg, current, signal);
    seenByCtx.set(f, { restartedPid: pid });
    await waitPoolNodesUp(session, handleOf(f), true, { signal });
  },
  async verify({ session, facts: f, signal }) {
    const nodes = await waitPoolNodesUp(session, handleOf(f), true, { signal, timeoutMs: 10_000 });
    return nodes.every((n) => n.status === 'up');
  },
  async undo({ session, facts: f, signal }) {
    const pg = poolerOf(f).pgpool;
    checkLogin(handleOf(f));
    const now = await runningPid(session, pg, signal);
    // Not restarted by us (failed before) and still the original process: the restored files are
    // what it runs with already (pool_passwd is read at each login).
    if (now === pg.process.pid) return;
    await restartPgpool(session, pg, now, signal, true);
    await waitPoolNodesUp(session, handleOf(f), false, { signal });
  },
});
