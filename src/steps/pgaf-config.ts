// pgaf.autoctl-config (SPEC §7.3): pg_autoctl.cfg made 0600 (created 0644: replication.password
// would be world-readable, and pg_autoctl keeps the mode), postgresql.auth_method set to the chosen
// method (pg_autoctl writes hba lines for other nodes at every promotion with it: left at trust,
// `trust` comes back after the first switchover), on keepers replication.password (scram), and
// password_encryption = scram-sha-256 (ALTER SYSTEM) so later passwords are stored as SCRAM.
// `pg_autoctl config set postgresql.auth_method` is reverted by the very reload it triggers
// (LAB-NOTES), so pgharden writes the file (atomic rename, 0600) and restarts the service that reads
// it at start (keeper: node-active, monitor: listener); PostgreSQL keeps running.
// Undo: the engine restores pg_autoctl.cfg and postgresql.auto.conf, PostgreSQL reloads; the service
// is restarted once per node after all of its steps are undone (autoctlAfterRollback).
import { defineStep, emptyPlan } from '../core/step.js';
import { psqlExec } from '../remote/psql.js';
import type { HardenContext } from './context.js';
import { predictAutoConf } from './enable-ssl.js';
import {
  AUTOCTL_HBA_NOTE,
  autoctlHbaFile,
  autoctlOf,
  markRestored,
  maskSecrets,
  parseIni,
  pollPg,
  readText,
  restartNodeService,
  setIni,
  waitPgUp,
  waitSettled,
  settleAfterUndo,
} from './pgaf-autoctl.js';
import { PGAF_ROLES } from './pgaf-pgpass.js';
import { inspectRemote, pgConn, plainReload, recall, remember, str, tlsPaths } from './tls-files.js';

export const PGAF_CONFIG = 'pgaf.autoctl-config';

export function authMethodOf(h: HardenContext): string {
  return h.auth === 'cert' ? 'cert' : 'scram-sha-256';
}

export function cfgAfter(h: HardenContext, before: string): string {
  let t = setIni(before, 'postgresql', 'auth_method', authMethodOf(h));
  const pw = h.passwords.get(PGAF_ROLES.replicator);
  if (autoctlOf(h).kind === 'keeper' && h.auth !== 'cert' && pw !== undefined) {
    t = setIni(t, 'replication', 'password', pw);
  }
  return t;
}

export const pgafConfig = defineStep<HardenContext>({
  id: PGAF_CONFIG,
  title: 'pg_autoctl.cfg: auth_method, replication password, mode 0600',
  after: ['pgaf.enable-ssl'],
  async check({ session, facts: h, signal }) {
    const a = autoctlOf(h);
    const auto = tlsPaths(h).autoConf;
    const [cfg, autoConf] = await inspectRemote(
      session,
      h,
      [
        { path: a.cfgPath, kind: 'none' },
        { path: auto, kind: 'none', read: true },
      ],
      signal,
    );
    const text = await readText(session, h, a.cfgPath, signal);
    remember(h, PGAF_CONFIG, {
      dirExists: true,
      files: {},
      text: { [a.cfgPath]: text, [auto]: autoConf?.text ?? '' },
    });
    const encryption = h.facts.pg.settings['password_encryption']?.setting;
    return cfg?.mode !== 0o600 || cfgAfter(h, text) !== text || encryption !== 'scram-sha-256';
  },
  plan({ facts: h }) {
    const a = autoctlOf(h);
    const auto = tlsPaths(h).autoConf;
    const seen = recall(h, PGAF_CONFIG);
    const before = seen?.text[a.cfgPath] ?? '';
    const autoBefore = seen?.text[auto] ?? '';
    const p = emptyPlan();
    p.files.push(
      {
        path: a.cfgPath,
        owner: h.facts.osUser,
        mode: 0o600,
        before: maskSecrets(before),
        after: maskSecrets(cfgAfter(h, before)),
      },
      {
        path: auto,
        owner: h.facts.osUser,
        mode: 0o600,
        before: autoBefore,
        after: predictAutoConf(autoBefore, { password_encryption: 'scram-sha-256' }),
      },
    );
    const hba = autoctlHbaFile(h);
    if (hba !== undefined) p.files.push(hba);
    p.sql.push("ALTER SYSTEM SET password_encryption = 'scram-sha-256'", 'SELECT pg_reload_conf()');
    p.commands.push(
      `pg_autoctl do service restart ${a.kind === 'monitor' ? 'listener' : 'node-active'}   # reads pg_autoctl.cfg again; PostgreSQL keeps running`,
      ...(hba === undefined ? [] : [AUTOCTL_HBA_NOTE]),
      ...(a.skipPgHba
        ? ['# --skip-pg-hba: pg_autoctl never edits pg_hba.conf here; pgharden owns it (hba.hostssl)']
        : []),
    );
    p.reload = true;
    return p;
  },
  async apply({ session, facts: h, signal }) {
    const a = autoctlOf(h);
    // Read again: the service may have rewritten the file since check().
    const now = await readText(session, h, a.cfgPath, signal);
    await session.writeFileAtomic(a.cfgPath, cfgAfter(h, now), {
      owner: h.facts.osUser,
      mode: 0o600,
      signal,
    });
    await psqlExec(
      session,
      pgConn(h),
      "ALTER SYSTEM SET password_encryption = 'scram-sha-256';\nSELECT pg_reload_conf();",
      { signal },
    );
    await restartNodeService(session, h, signal);
    if (h.role === 'standby' && cfgAfter(h, now).includes('\npassword = ')) {
      // The keeper writes the password into primary_conninfo and restarts the standby: wait for
      // the WAL receiver to stream with it, or the next step would meet a PostgreSQL going down.
      await pollPg(
        session,
        h,
        'SELECT status, conninfo FROM pg_stat_wal_receiver',
        (rows) => rows[0]?.['status'] === 'streaming' && /\bpassword=/.test(str(rows[0]['conninfo'])),
        'the standby streaming with the replication password',
        signal,
      );
    }
    await waitSettled(session, h, signal);
    await waitPgUp(session, h, signal);
  },
  async verify({ session, facts: h, signal }) {
    const a = autoctlOf(h);
    const [cfg] = await inspectRemote(session, h, [{ path: a.cfgPath, kind: 'none' }], signal);
    const text = await readText(session, h, a.cfgPath, signal);
    const c = parseIni(text);
    return cfg?.mode === 0o600 && c['postgresql.auth_method'] === authMethodOf(h);
  },
  async undo({ session, facts: h, signal }) {
    // pg_autoctl.cfg is restored by the engine (by this step when it backed it up, or by the earlier
    // pgaf.enable-ssl); the service restart that makes pg_autoctl read it comes once per node, after
    // all of its steps are undone (autoctlAfterRollback).
    await waitPgUp(session, h, signal);
    markRestored(h);
    await plainReload(session, h, signal);
    await settleAfterUndo(session, h, signal);
  },
});
