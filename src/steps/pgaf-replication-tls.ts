// pgaf.replication-tls (secondaries, after the primary serves TLS): a secondary's `enable ssl` ran
// while its primary had no TLS yet, so its keeper could not move primary_conninfo to verify-full
// ("can't connect to the primary") and kept the old one until its next reload (LAB-NOTES). This
// step signals the keeper again and waits for the WAL receiver to stream with sslmode=verify-full
// and the formation to settle (the keeper restarts the standby for a new primary_conninfo).
// Undo: the engine restores postgresql-auto-failover-standby.conf and PostgreSQL reloads it; the
// keeper is restarted once the node's steps are all undone (autoctlAfterRollback).
import { defineStep, emptyPlan } from '../core/step.js';
import type { HardenContext } from './context.js';
import {
  autoctlOf,
  markRestored,
  pollPg,
  readText,
  reloadService,
  settleAfterUndo,
  waitPgUp,
  waitSettled,
} from './pgaf-autoctl.js';
import { standbyConf } from './pgaf-enable-ssl.js';
import { plainReload, recall, remember, tlsPaths, waitStreaming } from './tls-files.js';
import { psqlQueries } from '../remote/psql.js';
import { pgConn, str } from './tls-files.js';

export const PGAF_REPLICATION_TLS = 'pgaf.replication-tls';

export const pgafReplicationTls = defineStep<HardenContext>({
  id: PGAF_REPLICATION_TLS,
  title: 'Replication to the primary over TLS (verify-full)',
  after: ['pgaf.enable-ssl'],
  async check({ session, facts: h, signal }) {
    const text = await readText(session, h, standbyConf(h), signal);
    remember(h, PGAF_REPLICATION_TLS, { dirExists: true, files: {}, text: { [standbyConf(h)]: text } });
    const r = await psqlQueries(
      session,
      pgConn(h),
      { w: 'SELECT conninfo FROM pg_stat_wal_receiver' },
      { signal },
    );
    return !/\bsslmode=verify-full\b/.test(str(r.w[0]?.['conninfo']));
  },
  plan({ facts: h }) {
    autoctlOf(h);
    const path = standbyConf(h);
    const before = recall(h, PGAF_REPLICATION_TLS)?.text[path] ?? '';
    const p = emptyPlan();
    if (before !== '') {
      p.files.push({
        path,
        owner: h.facts.osUser,
        mode: 0o644,
        before: before.replace(/password=\S+/g, 'password=********'),
        after: before
          .replace(/password=\S+/g, 'password=********')
          .replace(/sslmode=\S+?(?=['\s])/, `sslmode=verify-full sslrootcert=${tlsPaths(h).ca}`),
      });
    }
    p.commands = [
      'kill -HUP <pg_autoctl pid>   # the keeper rewrites primary_conninfo with verify-full and restarts the standby',
    ];
    p.restart = true;
    return p;
  },
  async apply({ session, facts: h, signal }) {
    await reloadService(session, h, signal);
    await pollPg(
      session,
      h,
      'SELECT status, conninfo FROM pg_stat_wal_receiver',
      (rows) =>
        rows[0]?.['status'] === 'streaming' && /\bsslmode=verify-full\b/.test(str(rows[0]['conninfo'])),
      'streaming with sslmode=verify-full',
      signal,
    );
    await waitSettled(session, h, signal);
    await waitPgUp(session, h, signal);
  },
  async verify({ session, facts: h, signal }) {
    return waitStreaming(session, h, { timeoutMs: 10_000, verifyFull: true, signal });
  },
  async undo({ session, facts: h, signal }) {
    await waitPgUp(session, h, signal);
    markRestored(h);
    await plainReload(session, h, signal);
    await settleAfterUndo(session, h, signal);
  },
});
