// auth.scram-migration (SPEC §7.1): every role with an md5 hash gets a SCRAM-SHA-256 verifier, and
// so does every internal role that had no password at all (SPEC §3: a generated one). The
// verifier is computed here (RFC 5802/7677, PostgreSQL's rolpassword format), so the clear password
// never reaches the server, its logs or pg_stat_activity; PostgreSQL stores a pre-hashed verifier
// as given. Primary only: standbys replay pg_authid. Runs before hba.hostssl switches md5 rules to
// scram-sha-256 — the md5 method already accepts a SCRAM verifier, so no client notices the reset.
//
// Undo: apply reads the old md5 hashes (or the absence of a password) (never into the plan, journal or events) and keeps them in
// this process's memory, so a failure later in the same run puts them back exactly. `rollback
// RUN_ID` in a later process has no hashes to restore: it leaves the SCRAM verifiers, which the
// md5 rules of the restored pg_hba.conf accept with the same passwords; going back to md5 hashes
// would need the passwords again.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { FailedError, UsageError } from '../core/errors.js';
import { passwordEnvVar } from '../core/secrets.js';
import { defineStep, emptyPlan, type ApplyContext } from '../core/step.js';
import { psqlExec, psqlQueries } from '../remote/psql.js';
import { shellQuote } from '../remote/shell.js';
import { attempt } from '../verify/pg-attempt.js';
import type { HardenContext } from './context.js';
import { pgConn, quoteIdent, quoteLiteral } from './hba-rules.js';
import { streamFromNode } from './tls-files.js';

/**
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` as PostgreSQL's
 * scram_build_secret writes it. PostgreSQL SASLpreps the password first; for the ASCII passwords
 * pgharden generates and most operators type that is the identity, otherwise NFKC is the close
 * approximation used here (PostgreSQL itself falls back to the raw bytes when SASLprep fails).
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const normalized = /^[\x20-\x7e]*$/.test(password) ? password : password.normalize('NFKC');
  const salted = pbkdf2Sync(Buffer.from(normalized, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Does `verifier` (from pg_authid) belong to `password`? Recomputes with its salt and iterations. */
export function scramMatches(verifier: string, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$[^:]+:.+$/.exec(verifier);
  if (m === null) return false;
  return scramVerifier(password, Buffer.from(m[2] ?? '', 'base64'), Number(m[1])) === verifier;
}

/** Old md5 hashes (null: the role had no password), per run and node, for undo in this process only. */
const savedHashes = new Map<string, Map<string, string | null>>();
const key = (ctx: { runId: string; node: string }): string => `${ctx.runId}\u0000${ctx.node}`;

/** Roles with no password that get their first one in this run (internal roles: generated, SPEC §3). */
function firstPasswordRoles(h: HardenContext): string[] {
  return (h.facts.pg.passwordlessRoles ?? []).filter((r) => h.passwords.has(r));
}

function rolesOf(h: HardenContext): string[] {
  return [...h.facts.pg.md5Roles.map((r) => r.name), ...firstPasswordRoles(h)];
}

export const scramMigration = defineStep<HardenContext>({
  id: 'auth.scram-migration',
  title: 'md5 password hashes → SCRAM-SHA-256',
  check: (ctx) => ctx.facts.role === 'primary' && rolesOf(ctx.facts).length > 0,
  plan(ctx) {
    const h = ctx.facts;
    const missing = rolesOf(h).filter((r) => h.passwords.get(r) === undefined);
    if (missing.length > 0) {
      throw new UsageError(
        'secrets.missing-password',
        `${ctx.node}: no password for ${missing.join(', ')}, whose md5 hash must be replaced`,
        `set ${missing.map(passwordEnvVar).join(', ')} or use --secrets FILE`,
      );
    }
    const p = emptyPlan();
    // What the plan shows: the statements, never a verifier (it is as good as a hash to crack).
    p.sql.push(
      "SET password_encryption = 'scram-sha-256'",
      ...h.facts.pg.md5Roles.map(
        (r) => `ALTER ROLE ${quoteIdent(r.name)} PASSWORD '<SCRAM-SHA-256 verifier computed locally>'`,
      ),
      ...firstPasswordRoles(h).map(
        (r) =>
          `ALTER ROLE ${quoteIdent(r)} PASSWORD '<SCRAM-SHA-256 verifier computed locally; the role had no password>'`,
      ),
    );
    return p;
  },
  async apply(ctx) {
    const h = ctx.facts;
    const pg = pgConn(h);
    const roles = rolesOf(h);
    const list = roles.map(quoteLiteral).join(', ');
    const r = await psqlQueries(
      ctx.session,
      pg,
      {
        old: `SELECT rolname, rolpassword FROM pg_authid
               WHERE rolname IN (${list}) AND (rolpassword LIKE 'md5%' OR rolpassword IS NULL)`,
      },
      { signal: ctx.signal, sensitive: true },
    );
    const old = new Map(
      (r.old ?? []).map((row) => [
        String(row['rolname']),
        typeof row['rolpassword'] === 'string' ? row['rolpassword'] : null,
      ]),
    );
    savedHashes.set(key(ctx), old);
    const statements = [...old.keys()].map((role) => {
      const password = h.passwords.get(role);
      if (password === undefined)
        throw new FailedError('secrets.missing-password', `${ctx.node}: no password for ${role}`);
      return `ALTER ROLE ${quoteIdent(role)} PASSWORD ${quoteLiteral(scramVerifier(password))};`;
    });
    if (statements.length === 0) return;
    // One transaction: all roles change, or none.
    const sql = ['BEGIN;', "SET LOCAL password_encryption = 'scram-sha-256';", ...statements, 'COMMIT;'];
    await psqlExec(ctx.session, pg, sql.join('\n'), { signal: ctx.signal, sensitive: true });
  },
  async undo(ctx) {
    const old = savedHashes.get(key(ctx));
    if (old === undefined || old.size === 0) return; // nothing read = nothing changed, or another process (see top)
    // A pre-hashed md5 string is stored as given, whatever password_encryption says.
    const sql = [
      'BEGIN;',
      ...[...old].map(
        ([role, hash]) =>
          `ALTER ROLE ${quoteIdent(role)} PASSWORD ${hash === null ? 'NULL' : quoteLiteral(hash)};`,
      ),
      'COMMIT;',
    ];
    await psqlExec(ctx.session, pgConn(ctx.facts), sql.join('\n'), { signal: ctx.signal, sensitive: true });
  },
  verify: (ctx) => verifyScram(ctx),
});

async function verifyScram(ctx: ApplyContext<HardenContext>): Promise<boolean> {
  const h = ctx.facts;
  const roles = rolesOf(h);
  const list = roles.map(quoteLiteral).join(', ');
  const r = await psqlQueries(
    ctx.session,
    pgConn(h),
    {
      left: `SELECT rolname FROM pg_authid WHERE rolname IN (${list}) AND rolpassword NOT LIKE 'SCRAM-SHA-256$%'`,
    },
    { signal: ctx.signal },
  );
  if ((r.left ?? []).length > 0) return false;
  const login = h.facts.pg.md5Roles.find((x) => x.canLogin);
  const password = login === undefined ? undefined : h.passwords.get(login.name);
  if (login === undefined || password === undefined) return true;
  return (await scramLogin(ctx, login.name, password)) !== 'refused';
}

/**
 * A password login to the node's own address, as the node reaches it: through the SSH connection
 * with node-postgres when sshd forwards, else psql on the node with the password in a script on
 * stdin (`sh -s`), into PGPASSWORD — never on a command line. 'untestable' when the rules do not
 * let this role in from the node at all (only a wrong password fails the check).
 */
export async function scramLogin(
  ctx: ApplyContext<HardenContext>,
  role: string,
  password: string,
): Promise<'ok' | 'refused' | 'untestable'> {
  const h = ctx.facts;
  const stream = await streamFromNode(ctx.session, h, ctx.signal);
  if (stream !== undefined) {
    // pg speaks SCRAM itself: the password stays in this process, nothing runs on the node.
    const r = await attempt({
      host: h.node.host,
      port: h.facts.pg.port,
      user: role,
      ssl: { ca: h.tls.caPem, checkServerIdentity: () => undefined },
      password,
      timeoutMs: 10_000,
      stream,
    });
    if (r.kind === 'connected') return 'ok';
    return r.code === '28P01' ? 'refused' : 'untestable';
  }
  const psql = `${h.facts.pg.binDir.replace(/\/+$/, '')}/psql`;
  const conninfo = `host=${h.node.host} port=${h.facts.pg.port} dbname=postgres user=${role} sslmode=prefer connect_timeout=10`;
  const script = [
    `PGPASSWORD=${shellQuote(password)}`,
    'export PGPASSWORD LC_ALL=C',
    `exec ${shellQuote(psql)} -X -w -At -c 'SELECT 1' ${shellQuote(conninfo)} 2>&1`,
    '',
  ].join('\n');
  const r = await ctx.session.exec('sh -s', { stdin: script, asUser: h.facts.osUser, signal: ctx.signal });
  if (r.code === 0 && r.stdout.trim() === '1') return 'ok';
  return /password authentication failed/.test(r.stdout) ? 'refused' : 'untestable';
}
