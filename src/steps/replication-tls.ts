// tls.replication-tls (standbys): primary_conninfo gains sslmode=verify-full and sslrootcert (plus
// the replication client cert for cert auth), points at the primary's inventory host (the name its
// certificate carries), and loses its password: that moves to the PG OS user's .pgpass (0600, else
// libpq ignores it) named by passfile=. The new conninfo has no secret, so plan() can show it
// exactly from the redacted preflight value; only apply reads the real one, and never logs it.
import { posix } from 'node:path';
import { BugError, FailedError } from '../core/errors.js';
import { redactConninfo } from '../core/redact.js';
import { defineStep, emptyPlan, type FileChange } from '../core/step.js';
import { editConninfo, formatConninfo, getParam, parseConninfo } from '../pgconf/conninfo.js';
import { upsertPgpass } from '../pgconf/pgpass.js';
import { psqlQueries } from '../remote/psql.js';
import type { HardenContext } from './context.js';
import { roleAuthOf } from './hba-rules.js';
import { keyPlaceholder } from './install-server-cert.js';
import { validateAndReload } from './reload.js';
import {
  inspectRemote,
  pgConn,
  plainReload,
  publicKeySha256,
  sha256Hex,
  recall,
  remember,
  runAsPg,
  sqlLiteral,
  str,
  tlsPaths,
  waitStreaming,
} from './tls-files.js';

export const REPLICATION_TLS = 'tls.replication-tls';

export interface ConninfoEdit {
  conninfo: string;
  /**
   * The password the old conninfo carried, or the one generated for a role that had none ('' if
   * neither): goes to .pgpass, never into the new conninfo.
   */
  password: string;
  user: string;
  passfile: string | undefined;
}

/** Pure. `home` is the PG OS user's home (for a new passfile), `osUser` libpq's default user. */
export function secureConninfo(f: HardenContext, current: string, home: string | undefined): ConninfoEdit {
  if (f.primary === undefined)
    throw new BugError('steps.no-primary', `${f.node.name}: standby without a primary`);
  const p = tlsPaths(f);
  const params = parseConninfo(current);
  const user = getParam(params, 'user') ?? f.facts.osUser;
  // A replication role that had no password gets a generated one (scram-migration sets it on the
  // primary): it goes to .pgpass like a password that was in the conninfo.
  const first = (f.facts.pg.passwordlessRoles ?? []).includes(user) ? f.passwords.get(user) : undefined;
  const password = getParam(params, 'password') ?? first ?? '';
  let passfile = getParam(params, 'passfile');
  if (password !== '' && passfile === undefined) {
    if (home === undefined)
      throw new BugError('steps.no-home', 'replication-tls: check() must run before plan()');
    passfile = posix.join(home, '.pgpass');
  }
  // Only roles that certificates authenticate (the run's mode or their own) use a client cert.
  const client = roleAuthOf(f, user) !== 'scram' ? f.tls.clients[user] : undefined;
  const conninfo = formatConninfo(
    editConninfo(params, {
      password: undefined,
      host: f.primary.host,
      hostaddr: undefined,
      port: String(f.primary.port),
      passfile,
      sslmode: 'verify-full',
      sslrootcert: p.ca,
      sslcert: client === undefined ? undefined : p.replCert,
      sslkey: client === undefined ? undefined : p.replKey,
    }),
  );
  return { conninfo, password, user, passfile };
}

export const replicationTls = defineStep<HardenContext>({
  id: REPLICATION_TLS,
  title: 'Replication over verify-full TLS',
  after: ['tls.install-ca', 'tls.reload'],
  async check({ session, facts: f, signal }) {
    if (f.role !== 'standby') return false;
    const out = await runAsPg(
      session,
      f,
      'getent passwd "$(id -un)" | cut -d: -f6',
      [],
      'home of the PG user',
      signal,
    );
    remember(f, REPLICATION_TLS, { dirExists: true, files: {}, text: {}, home: out.trim() || undefined });
    const redacted = f.facts.pg.primaryConninfo ?? '';
    const edit = secureConninfo(f, redacted, out.trim() || undefined);
    if (edit.conninfo !== redacted) return true;
    // The conninfo is right; with certificate auth the client pair it names must be ours too (a CA
    // rotation re-issues it: the old one would be refused once the old CA is gone).
    const client = f.auth !== 'scram' ? f.tls.clients[edit.user] : undefined;
    if (client === undefined) return false;
    const p = tlsPaths(f);
    const [cert, key] = await inspectRemote(
      session,
      f,
      [
        { path: p.replCert, kind: 'none' },
        { path: p.replKey, kind: 'pkey' },
      ],
      signal,
    );
    return !(cert?.sha256 === sha256Hex(client.certPem) && key?.pubSha256 === publicKeySha256(client.keyPem));
  },
  plan({ facts: f }) {
    const p = tlsPaths(f);
    const edit = secureConninfo(f, f.facts.pg.primaryConninfo ?? '', recall(f, REPLICATION_TLS)?.home);
    const files: FileChange[] = [
      {
        path: p.autoConf,
        owner: f.facts.osUser,
        mode: 0o600,
        before: `primary_conninfo = ${sqlLiteral(f.facts.pg.primaryConninfo ?? '')}`,
        after: `primary_conninfo = ${sqlLiteral(edit.conninfo)}`,
      },
    ];
    if (edit.password !== '' && edit.passfile !== undefined) {
      const host = f.primary?.host ?? '';
      files.push({
        path: edit.passfile,
        owner: f.facts.osUser,
        mode: 0o600,
        before: '(.pgpass as on the node)',
        after: `(.pgpass with ${host}:${f.primary?.port ?? ''}:replication:${edit.user}:******** first among matching lines)`,
      });
    }
    const client = f.tls.clients[edit.user];
    if (roleAuthOf(f, edit.user) !== 'scram' && client !== undefined) {
      files.push(
        { path: p.replCert, owner: f.facts.osUser, mode: 0o644, before: '', after: client.certPem },
        {
          path: p.replKey,
          owner: f.facts.osUser,
          mode: 0o600,
          before: '',
          after: keyPlaceholder(publicKeySha256(client.keyPem)),
        },
      );
    }
    return {
      ...emptyPlan(),
      sql: [`ALTER SYSTEM SET primary_conninfo = ${sqlLiteral(edit.conninfo)};`],
      files,
      reload: true,
    };
  },
  async apply({ session, facts: f, planned, signal }) {
    const conn = pgConn(f);
    const r = await psqlQueries(
      session,
      conn,
      { c: "SELECT current_setting('primary_conninfo') AS c" },
      {
        signal,
        sensitive: true,
      },
    );
    const real = str(r.c[0]?.['c']);
    if (redactConninfo(real) !== (f.facts.pg.primaryConninfo ?? '')) {
      throw new FailedError(
        'plan.stale',
        `${session.node}: primary_conninfo changed since the plan was made`,
        'plan again',
      );
    }
    const edit = secureConninfo(f, real, recall(f, REPLICATION_TLS)?.home);
    if (!planned.sql.includes(`ALTER SYSTEM SET primary_conninfo = ${sqlLiteral(edit.conninfo)};`)) {
      throw new FailedError('plan.stale', `${session.node}: the new primary_conninfo differs from the plan`);
    }
    const owner = f.facts.osUser;
    if (edit.password !== '' && edit.passfile !== undefined && f.primary !== undefined) {
      const old = await runAsPg(
        session,
        f,
        'cat -- "$1" 2>/dev/null || true',
        [edit.passfile],
        'reading .pgpass',
        signal,
      );
      const entry = {
        host: f.primary.host,
        port: String(f.primary.port),
        database: 'replication',
        user: edit.user,
      };
      const text = upsertPgpass(old, { ...entry, password: edit.password });
      // Rewritten even when unchanged: the mode must be 0600 or libpq ignores the file.
      await session.writeFileAtomic(edit.passfile, text, { owner, mode: 0o600, signal });
    }
    const client = f.tls.clients[edit.user];
    if (roleAuthOf(f, edit.user) !== 'scram' && client !== undefined) {
      const p = tlsPaths(f);
      await session.writeFileAtomic(p.replKey, client.keyPem, { owner, mode: 0o600, signal });
      await session.writeFileAtomic(p.replCert, client.certPem, { owner, mode: 0o644, signal });
    }
    // PG >= 13: the WAL receiver restarts with the new conninfo at reload.
    await validateAndReload(
      session,
      f,
      signal,
      `ALTER SYSTEM SET primary_conninfo = ${sqlLiteral(edit.conninfo)};`,
    );
  },
  async verify({ session, facts: f, signal }) {
    return waitStreaming(session, f, { verifyFull: true, timeoutMs: 15_000, signal });
  },
  async undo({ session, facts: f, signal }) {
    // The runner restored auto.conf/.pgpass (if this step was the first of the run to back them up;
    // else enable-ssl's undo restores auto.conf and waits for streaming itself).
    await plainReload(session, f, signal);
    if (!(await waitStreaming(session, f, { timeoutMs: 15_000, signal }))) {
      throw new FailedError(
        'replication.not-streaming',
        `${session.node}: not streaming 15 s after the rollback`,
      );
    }
  },
});
