// pgaf.enable-ssl (SPEC §7.3): TLS through pg_autoctl itself, `pg_autoctl enable ssl --ssl-ca-file …
// --server-cert … --server-key … --ssl-mode verify-full` with pgharden's CA and this node's
// certificate (installed by tls.install-ca / tls.install-server-cert, outside PGDATA). pg_autoctl
// writes pg_autoctl.cfg ([ssl], and on a keeper the monitor URI with sslmode=verify-full — only
// after a test connection with it succeeds) and signals its service, which rewrites
// postgresql-auto-failover.conf from the cfg and reloads PostgreSQL; a standby's primary_conninfo
// follows in the keeper's loop and restarts the standby.
//
// Undo: the engine has put pg_autoctl.cfg, postgresql-auto-failover.conf and (standby)
// postgresql-auto-failover-standby.conf back from their backups, and PostgreSQL reloads them.
// pg_autoctl.cfg is the source of truth (the service regenerates the .conf from it at every reload),
// so once every step of the node is undone its service is restarted once, signalled, and ssl waited
// for (autoctlAfterRollback; docs/decisions.md, "pg_auto_failover").
import { FailedError } from '../core/errors.js';
import { defineStep, emptyPlan, type FileChange } from '../core/step.js';
import type { RemoteSession } from '../remote/types.js';
import type { HardenContext } from './context.js';
import { tlsServed } from './enable-ssl.js';
import {
  autoctl,
  AUTOCTL_HBA_NOTE,
  autoctlHbaFile,
  autoctlOf,
  LOG_ERRORS,
  logPosition,
  logSince,
  maskSecrets,
  monitorUriWith,
  parseIni,
  markRestored,
  setIni,
  sleep,
  waitPgUp,
  waitSettled,
  settleAfterUndo,
} from './pgaf-autoctl.js';
import { inspectRemote, plainReload, recall, remember, sslOn, tlsPaths } from './tls-files.js';

export const PGAF_ENABLE_SSL = 'pgaf.enable-ssl';

export function autoFailoverConf(h: HardenContext): string {
  return `${h.facts.pg.dataDir.replace(/\/+$/, '')}/postgresql-auto-failover.conf`;
}

export function standbyConf(h: HardenContext): string {
  return `${h.facts.pg.dataDir.replace(/\/+$/, '')}/postgresql-auto-failover-standby.conf`;
}

export function enableSslArgs(h: HardenContext): string[] {
  const p = tlsPaths(h);
  return [
    'enable',
    'ssl',
    '--ssl-ca-file',
    p.ca,
    '--server-cert',
    p.cert,
    '--server-key',
    p.key,
    '--ssl-mode',
    'verify-full',
  ];
}

/** Does pg_autoctl.cfg already say what `enable ssl` would write? */
export function sslConfigured(h: HardenContext, cfgText: string): boolean {
  const p = tlsPaths(h);
  const c = parseIni(cfgText);
  const uriOk =
    autoctlOf(h).kind === 'monitor' || /[?&]sslmode=verify-full(&|$)/.test(c['pg_autoctl.monitor'] ?? '');
  return (
    c['ssl.active'] === '1' &&
    c['ssl.sslmode'] === 'verify-full' &&
    c['ssl.ca_file'] === p.ca &&
    c['ssl.cert_file'] === p.cert &&
    c['ssl.key_file'] === p.key &&
    uriOk
  );
}

/** pg_autoctl.cfg as `enable ssl` writes it (pgharden's prediction, for the plan). */
export function predictCfg(h: HardenContext, before: string): string {
  const p = tlsPaths(h);
  let t = before;
  for (const [k, v] of [
    ['active', '1'],
    ['sslmode', 'verify-full'],
    ['ca_file', p.ca],
    ['cert_file', p.cert],
    ['key_file', p.key],
  ] as const) {
    t = setIni(t, 'ssl', k, v);
  }
  const uri = parseIni(before)['pg_autoctl.monitor'];
  if (autoctlOf(h).kind === 'keeper' && uri !== undefined) {
    t = setIni(
      t,
      'pg_autoctl',
      'monitor',
      monitorUriWith(uri, { sslmode: 'verify-full', sslrootcert: p.ca }),
    );
  }
  return t;
}

/** postgresql-auto-failover.conf as the service rewrites it (prediction, for the plan). */
export function predictAutoFailoverConf(h: HardenContext, before: string): string {
  const p = tlsPaths(h);
  const set = {
    ssl: 'on',
    ssl_ca_file: `'${p.ca}'`,
    ssl_cert_file: `'${p.cert}'`,
    ssl_key_file: `'${p.key}'`,
  };
  let lines = before.split('\n');
  for (const [k, v] of Object.entries(set)) {
    const re = new RegExp(`^\\s*${k}\\s*=`);
    const i = lines.findIndex((l) => re.test(l));
    if (i >= 0) lines[i] = `${k} = ${v}`;
    else {
      const at = lines.findIndex((l) => /^\s*ssl\s*=/.test(l));
      lines = [...lines.slice(0, at + 1), `${k} = ${v}`, ...lines.slice(at + 1)];
    }
  }
  return lines.join('\n');
}

function predictStandbyConf(h: HardenContext, before: string): string {
  const p = tlsPaths(h);
  return before.replace(/sslmode=\S+?(?=['\s])/, `sslmode=verify-full sslrootcert=${p.ca}`);
}

export const pgafEnableSsl = defineStep<HardenContext>({
  id: PGAF_ENABLE_SSL,
  title: 'pg_autoctl enable ssl (verify-full, pgharden CA)',
  after: ['tls.install-ca', 'tls.install-server-cert'],
  async check({ session, facts: h, signal }) {
    const a = autoctlOf(h);
    const paths = [a.cfgPath, autoFailoverConf(h), standbyConf(h)];
    const seen = await inspectRemote(
      session,
      h,
      paths.map((path) => ({ path, kind: 'none' as const, read: true })),
      signal,
    );
    const text: Record<string, string> = {};
    const files: Record<string, (typeof seen)[number]> = {};
    seen.forEach((s, i) => {
      const path = paths[i] ?? '';
      files[path] = s;
      if (s.text !== undefined) text[path] = s.text;
    });
    remember(h, PGAF_ENABLE_SSL, { dirExists: true, files, text });
    return !sslConfigured(h, text[a.cfgPath] ?? '') || !(await sslOn(session, h, signal));
  },
  plan({ facts: h }) {
    const a = autoctlOf(h);
    const seen = recall(h, PGAF_ENABLE_SSL);
    const file = (path: string, after: (before: string) => string): FileChange | undefined => {
      const s = seen?.files[path];
      if (s?.exists !== true) return undefined;
      const before = seen?.text[path] ?? '';
      return {
        path,
        owner: h.facts.osUser,
        mode: s.mode,
        before: maskSecrets(before),
        after: maskSecrets(after(before)),
      };
    };
    const files = [
      file(a.cfgPath, (b) => predictCfg(h, b)),
      file(autoFailoverConf(h), (b) => predictAutoFailoverConf(h, b)),
      a.kind === 'keeper' ? file(standbyConf(h), (b) => predictStandbyConf(h, b)) : undefined,
    ].filter((f): f is FileChange => f !== undefined);
    const hba = autoctlHbaFile(h);
    const p = emptyPlan();
    p.files = hba === undefined ? files : [...files, hba];
    p.commands = [
      `pg_autoctl ${enableSslArgs(h).join(' ')}   (as ${h.facts.osUser}, PGDATA=${h.facts.pg.dataDir})`,
      '# pg_autoctl writes pg_autoctl.cfg and signals its service, which rewrites postgresql-auto-failover.conf and reloads PostgreSQL (the diffs above are pgharden’s prediction)',
      ...(a.kind === 'keeper'
        ? [
            '# the monitor URI gets sslmode=verify-full and sslrootcert; a standby restarts when its primary_conninfo changes',
          ]
        : []),
      ...(hba === undefined ? [] : [AUTOCTL_HBA_NOTE]),
    ];
    p.reload = true;
    return p;
  },
  async apply({ session, facts: h, signal }) {
    const pos = await logPosition(session, h, signal);
    const out = await autoctl(session, h, enableSslArgs(h), 'pg_autoctl enable ssl', signal);
    if (/Failed to update the monitor URI|could not be updated/.test(out)) {
      throw new FailedError(
        'pgaf.monitor-uri',
        `${h.node.name}: pg_autoctl could not switch its monitor URI to verify-full: ${lastLines(out)}`,
        'the monitor must serve TLS with a certificate from the same CA first',
      );
    }
    await waitSsl(session, h, true, signal);
    if (pos !== undefined) {
      const log = await logSince(session, h, pos, signal);
      const bad = log.split('\n').find((l) => LOG_ERRORS.test(l));
      if (bad !== undefined) {
        throw new FailedError(
          'pgaf.reload-rejected',
          `${h.node.name}: PostgreSQL did not take the TLS configuration: ${bad.trim().slice(0, 300)}`,
          `see ${pos.file}`,
        );
      }
      // The reload (or, on a standby, the restart) that took it: confirmed in the server log.
      if (!/parameter "ssl" changed to "on"|database system is ready to accept/.test(log)) {
        throw new FailedError(
          'pgaf.reload-unconfirmed',
          `${h.node.name}: ssl is on but the server log (${pos.file}) does not show the reload that turned it on`,
        );
      }
    }
    await waitSettled(session, h, signal);
    await waitPgUp(session, h, signal);
  },
  async verify({ session, facts: h, signal }) {
    if (!(await tlsServed(session, h, signal))) return false;
    if (autoctlOf(h).kind === 'monitor') return true;
    const uri = await autoctl(session, h, ['config', 'get', 'pg_autoctl.monitor'], 'monitor URI', signal);
    return /[?&]sslmode=verify-full(&|\s|$)/.test(uri);
  },
  async undo({ session, facts: h, signal }) {
    // The engine restored pg_autoctl.cfg and the .conf files it generates. The service is restarted
    // once per node after all of the node's steps are undone (autoctlAfterRollback): restarting
    // here too would spend the supervisor's restart budget twice. PostgreSQL reads the restored
    // .conf now (ssl back as before, a standby's primary_conninfo too).
    await waitPgUp(session, h, signal);
    markRestored(h);
    await plainReload(session, h, signal);
    await settleAfterUndo(session, h, signal);
  },
});

function lastLines(out: string): string {
  return out.trim().split('\n').slice(-3).join(' ').slice(0, 400);
}

/** Polls `SHOW ssl` from new connections until it is `want` (the service reloads asynchronously). */
export async function waitSsl(
  session: RemoteSession,
  h: HardenContext,
  want: boolean,
  signal?: AbortSignal,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await sslOn(session, h, signal)) === want) return;
    } catch (err) {
      // A standby restarting refuses connections for a moment.
      if (signal?.aborted === true || Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) {
      throw new FailedError(
        'pgaf.ssl-not-applied',
        `${h.node.name}: ssl is still ${want ? 'off' : 'on'} ${Math.round(timeoutMs / 1000)} s after pg_autoctl was told`,
      );
    }
    await sleep(200, signal);
  }
}
