// auth.cert-auth (SPEC §7.1), auth modes cert and scram+cert: pg_ident.conf map `pgharden` entries
// (certificate CN → role) where a client certificate's CN is not the role name. The cert rules
// themselves are part of hba.hostssl's managed block (one writer for pg_hba.conf, one block), which
// runs after this step: the map must exist before a rule names it. Needs ssl_ca_file: PostgreSQL
// cannot check a client certificate without it, and refuses cert rules (enable-ssl sets it).
import { FailedError } from '../core/errors.js';
import { defineStep, emptyPlan, type PlannedChange } from '../core/step.js';
import { addMapping, parseIdent, serializeIdent } from '../pgconf/index.js';
import { psqlQueries } from '../remote/psql.js';
import { shellJoin } from '../remote/shell.js';
import type { HardenContext } from './context.js';
import { plainReload } from './tls-files.js';
import { certRolesOf } from './hba-hostssl.js';
import { IDENT_MAP, identTextOf, pgConn, readIdentText, validateAndReload } from './hba-rules.js';

/** pg_ident.conf after adding the CN → role entries; the same text when nothing is missing. */
export function identAfter(h: HardenContext, identText: string): string {
  let file = parseIdent(identText);
  for (const r of certRolesOf(h)) {
    if (r.cn === undefined || r.cn === r.name) continue;
    file = addMapping(file, { map: IDENT_MAP, systemUser: r.cn, pgUser: r.name });
  }
  return serializeIdent(file);
}

function planOf(h: HardenContext): PlannedChange {
  const before = identTextOf(h);
  if (before === undefined)
    throw new FailedError('ident.unknown', `${h.node.name}: pg_ident.conf was not read`);
  const p = emptyPlan();
  const after = identAfter(h, before);
  if (after !== before) {
    p.files.push({ path: h.facts.pg.identFile, owner: h.facts.osUser, mode: 0o600, before, after });
    p.reload = true;
  }
  p.sql.push('SHOW ssl_ca_file -- must be set (enable-ssl)');
  return p;
}

export const certAuth = defineStep<HardenContext>({
  id: 'auth.cert-auth',
  title: 'client certificates: pg_ident.conf maps',
  after: ['tls.reload'],
  async check(ctx) {
    const h = ctx.facts;
    if (certRolesOf(h).length === 0) return false;
    const text = await readIdentText(ctx);
    return identAfter(h, text) !== text;
  },
  plan: (ctx) => planOf(ctx.facts),
  async apply(ctx) {
    const h = ctx.facts;
    const pg = pgConn(h);
    // Live, not the preflight fact: enable-ssl may have set it earlier in this run.
    const r = await psqlQueries(
      ctx.session,
      pg,
      { ca: "SELECT current_setting('ssl_ca_file') AS ca" },
      { signal: ctx.signal },
    );
    const ca = r.ca?.[0]?.['ca'];
    if (typeof ca !== 'string' || ca === '') {
      throw new FailedError(
        'cert-auth.no-ca',
        `${ctx.node}: ssl_ca_file is not set, so PostgreSQL cannot check client certificates`,
        'enable-ssl (tls.enable-ssl) must run first: plan again with TLS',
      );
    }
    const [file] = ctx.planned.files;
    if (file === undefined) return;
    const now = (
      await ctx.session.readFile(file.path, { asUser: h.facts.osUser, signal: ctx.signal })
    ).toString('utf8');
    if (now !== file.before)
      throw new FailedError(
        'ident.changed',
        `${ctx.node}: ${file.path} changed since the plan was made`,
        'run plan again',
      );
    const m = await ctx.session.exec(shellJoin(['stat', '-c', '%a', '--', file.path]), {
      asUser: h.facts.osUser,
      signal: ctx.signal,
    });
    const mode = parseInt(m.stdout.trim(), 8);
    await ctx.session.writeFileAtomic(file.path, file.after, {
      owner: file.owner,
      mode: Number.isInteger(mode) ? mode : 0o600,
      signal: ctx.signal,
    });
    await validateAndReload(ctx.session, h, ctx.signal);
  },
  async undo(ctx) {
    if (ctx.planned.files.length === 0) return;
    // A plain SIGHUP, as in hba.hostssl's undo: the restored files are the ones the server ran with.
    await plainReload(ctx.session, ctx.facts, ctx.signal);
  },
  async verify(ctx) {
    // A cert login needs the client key on the node (the TLS steps' job); until then the map is
    // checked as PostgreSQL reads it (pg_ident_file_mappings, PostgreSQL ≥ 15).
    const h = ctx.facts;
    const wanted = certRolesOf(h).filter((r) => r.cn !== undefined && r.cn !== r.name);
    if (wanted.length === 0 || h.facts.pg.versionNum < 150000) return true;
    const r = await psqlQueries(
      ctx.session,
      pgConn(h),
      {
        maps: `SELECT sys_name, pg_username FROM pg_ident_file_mappings WHERE map_name = '${IDENT_MAP}' AND error IS NULL`,
      },
      { signal: ctx.signal },
    );
    const rows = r.maps ?? [];
    return wanted.every((w) => rows.some((x) => x['sys_name'] === w.cn && x['pg_username'] === w.name));
  },
});
