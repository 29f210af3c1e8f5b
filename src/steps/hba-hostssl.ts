// hba.hostssl (SPEC §7.1): TCP clients must use TLS. A managed block at the top refuses non-TLS
// connections, `host` rules become `hostssl` with the chosen method, `local` rules stay (pgharden's
// own connection is the socket: the plan refuses a file that would lock it out). Runs last on each
// node — after the passwords are SCRAM and TLS is on, or it would lock clients out.
import { FailedError } from '../core/errors.js';
import { defineStep, emptyPlan, type PlannedChange, type StepContext } from '../core/step.js';
import { plainStartup } from '../remote/pg-wire.js';
import { psqlQueries } from '../remote/psql.js';
import { shellJoin } from '../remote/shell.js';
import type { AuthMode, HardenContext } from './context.js';
import { pgafHbaRules } from './pgaf-ident-map.js';
import { inspectRemote, plainReload, streamFromNode } from './tls-files.js';
import {
  certCommonName,
  identTextOf,
  pgConn,
  readIdentText,
  remainingHostRules,
  roleAuthOf,
  transformHba,
  validateAndReload,
  type HbaTransform,
} from './hba-rules.js';

/**
 * Roles that get cert rules: inventory roles with a client certificate for this node (the planner
 * issues one exactly to the roles that cert modes authenticate: the run's mode or their own).
 */
export function certRolesOf(h: HardenContext): {
  name: string;
  kind: string;
  cn: string | undefined;
  auth?: AuthMode | undefined;
}[] {
  return (h.inventory.roles ?? [])
    .filter((r) => h.tls.clients[r.name] !== undefined && roleAuthOf(h, r.name) !== 'scram')
    .map((r) => ({
      name: r.name,
      kind: r.kind,
      cn: certCommonName(h.tls.clients[r.name]?.certPem ?? ''),
      ...(r.auth === undefined ? {} : { auth: r.auth }),
    }));
}

// check() re-reads pg_hba.conf (plan() is pure and takes it from here): pg_autoctl adds rules of its
// own between preflight and this step (at a keeper's restart it writes hba lines for the other
// nodes), and what the step converts must be the file as it is when it runs.
const hbaTexts = new WeakMap<object, string>();

export function hbaTransformOf(h: HardenContext): HbaTransform {
  const auth = h.auth;
  return transformHba(hbaTexts.get(h) ?? h.facts.pg.hbaText, {
    auth,
    network: h.inventory.network,
    certRoles: certRolesOf(h),
    scramRoles:
      auth === 'scram'
        ? []
        : (h.inventory.roles ?? [])
            .filter((r) => r.auth === 'scram')
            .map((r) => ({ name: r.name, kind: r.kind })),
    extraRules: pgafHbaRules(h),
    operator: {
      osUser: h.facts.osUser,
      user: h.node.pg?.superuser ?? 'postgres',
      identText: identTextOf(h),
    },
  });
}

/** The plan's notes (shadowing, what happens to it) as SQL comments: the plan view prints them. */
function planOf(h: HardenContext): PlannedChange {
  const t = hbaTransformOf(h);
  const p = emptyPlan();
  p.files.push({
    path: h.facts.pg.hbaFile,
    owner: h.facts.osUser,
    mode: 0o600,
    before: t.before,
    after: t.after,
  });
  p.sql.push(
    ...t.shadowing.map((s) => `-- shadowing: ${s}`),
    'SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL -- must be empty',
    'SELECT pg_reload_conf()',
  );
  p.reload = true;
  return p;
}

export const hbaHostssl = defineStep<HardenContext>({
  id: 'hba.hostssl',
  title: 'pg_hba.conf: TLS for every TCP connection',
  after: ['auth.scram-migration', 'auth.cert-auth', 'tls.reload'],
  async check(ctx) {
    await readIdentText(ctx);
    const h = ctx.facts;
    const hba = await ctx.session.readFile(h.facts.pg.hbaFile, {
      asUser: h.facts.osUser,
      signal: ctx.signal,
    });
    hbaTexts.set(h, hba.toString('utf8'));
    const t = hbaTransformOf(ctx.facts);
    return t.after !== t.before;
  },
  plan: (ctx) => planOf(ctx.facts),
  async apply(ctx) {
    const h = ctx.facts;
    const [file] = ctx.planned.files;
    if (file === undefined) return;
    // Content and mode in one exec: the file keeps its mode (the engine's backup kept it too).
    const [now] = await inspectRemote(
      ctx.session,
      h,
      [{ path: file.path, kind: 'none', read: true }],
      ctx.signal,
    );
    if (now?.text !== file.before) {
      throw new FailedError(
        'hba.changed',
        `${ctx.node}: ${file.path} changed since the plan was made`,
        'run plan again',
      );
    }
    const mode = now.mode === 0 ? 0o600 : now.mode;
    await ctx.session.writeFileAtomic(file.path, file.after, { owner: file.owner, mode, signal: ctx.signal });
    await validateAndReload(ctx.session, h, ctx.signal);
  },
  async undo(ctx) {
    // The engine has put the old file back; the server must read it again. A plain SIGHUP, as every
    // undo does: validating here would let an unrelated bad file (a TLS key that later undo steps
    // remove anyway) fail the whole rollback, and the restored file is the one the server ran with.
    await plainReload(ctx.session, ctx.facts, ctx.signal);
  },
  async verify(ctx) {
    const h = ctx.facts;
    const r = await psqlQueries(
      ctx.session,
      pgConn(h),
      {
        plain: "SELECT line_number FROM pg_hba_file_rules WHERE type = 'host' AND auth_method <> 'reject'",
        errors: 'SELECT line_number FROM pg_hba_file_rules WHERE error IS NOT NULL',
      },
      { signal: ctx.signal },
    );
    if ((r.plain ?? []).length > 0 || (r.errors ?? []).length > 0) return false;
    if (remainingHostRules(ctx.planned.files[0]?.after ?? '').length > 0) return false;
    return refusesPlainTcp(ctx);
  },
});

/**
 * A non-TLS TCP connection to the node's own address must be refused by pg_hba.conf: a startup packet
 * through the SSH connection when sshd forwards, else psql on the node. No password is ever sent
 * (`-w` never prompts), so a server that asks for one (or lets us in) proves a rule still takes plain TCP. When the
 * node cannot reach its own address (listen_addresses, NAT) there is nothing to probe: the
 * pg_hba_file_rules check above stands, and the operator-side probes of `verify` cover the rest.
 */
export async function refusesPlainTcp(ctx: StepContext<HardenContext>): Promise<boolean> {
  const h = ctx.facts;
  const user = h.node.pg?.superuser ?? 'postgres';
  const stream = await streamFromNode(ctx.session, h, ctx.signal);
  if (stream !== undefined) {
    const r = await plainStartup(stream, user, 'postgres');
    return r.kind === 'refused' || r.kind === 'failed';
  }
  const psql = `${h.facts.pg.binDir.replace(/\/+$/, '')}/psql`;
  const conninfo = `host=${h.node.host} port=${h.facts.pg.port} dbname=postgres user=${user} sslmode=disable connect_timeout=10`;
  const r = await ctx.session.exec(
    `${shellJoin(['env', 'LC_ALL=C', psql, '-X', '-w', '-At', '-c', 'SELECT 1', conninfo])} 2>&1`,
    {
      asUser: h.facts.osUser,
      signal: ctx.signal,
    },
  );
  if (r.code === 0) return false;
  return !/password authentication failed|no password supplied|authentication failed for user/.test(r.stdout);
}
