// pgaf.ident-map (SPEC §7.3, auth cert): pg_ident.conf map `pgautofailover` from each node's client
// certificate (CN pgaf-<node>, pgaf.client-cert) to the role pg_auto_failover connects as here —
// on the monitor autoctl_node (keepers), on data nodes pgautofailover_replicator (the other data
// nodes) and pgautofailover_monitor (the monitor's health checks; issue #850: the one people forget).
// The hba rules naming the map go into hba.hostssl's managed block (pgafHbaRules), which runs after
// this step: the map must exist before a rule names it. Undo: the engine restores the file; reload.
import { defineStep, emptyPlan } from '../core/step.js';
import { addMapping, parseIdent, serializeIdent } from '../pgconf/index.js';
import type { HardenContext } from './context.js';
import { identTextOf, readIdentText, validateAndReload } from './hba-rules.js';
import { PGAF_ROLES } from './pgaf-pgpass.js';
import { pgafClientName } from './pgaf-client-cert.js';
import { inspectRemote, plainReload } from './tls-files.js';

export const PGAF_IDENT_MAP = 'pgaf.ident-map';
export const PGAF_MAP = 'pgautofailover';

/** (certificate CN, role) pairs this node must accept. */
export function pgafMappings(h: HardenContext): { cn: string; role: string }[] {
  const a = h.autoctl;
  if (a === undefined || h.auth !== 'cert') return [];
  if (a.kind === 'monitor')
    return a.dataNodes.map((n) => ({ cn: pgafClientName(n.name), role: PGAF_ROLES.node }));
  return [
    ...a.dataNodes.map((n) => ({ cn: pgafClientName(n.name), role: PGAF_ROLES.replicator })),
    { cn: pgafClientName(a.monitor.name), role: PGAF_ROLES.monitor },
  ];
}

/** The managed-block rules of hba.hostssl for pg_auto_failover's roles (auth cert). */
export function pgafHbaRules(h: HardenContext): string[] {
  const a = h.autoctl;
  if (a === undefined || h.auth !== 'cert') return [];
  const rules =
    a.kind === 'monitor'
      ? [`pg_auto_failover ${PGAF_ROLES.node}`]
      : [
          `replication ${PGAF_ROLES.replicator}`,
          `postgres ${PGAF_ROLES.replicator}`,
          `all ${PGAF_ROLES.monitor}`,
        ];
  return rules.flatMap((r) => h.inventory.network.map((cidr) => `hostssl ${r} ${cidr} cert map=${PGAF_MAP}`));
}

export function pgafIdentAfter(h: HardenContext, text: string): string {
  let file = parseIdent(text);
  for (const m of pgafMappings(h))
    file = addMapping(file, { map: PGAF_MAP, systemUser: m.cn, pgUser: m.role });
  return serializeIdent(file);
}

export const pgafIdentMap = defineStep<HardenContext>({
  id: PGAF_IDENT_MAP,
  title: 'pg_ident.conf map pgautofailover (client certificate → role)',
  async check(ctx) {
    if (pgafMappings(ctx.facts).length === 0) return false;
    const text = await readIdentText(ctx);
    return pgafIdentAfter(ctx.facts, text) !== text;
  },
  plan({ facts: h }) {
    const before = identTextOf(h);
    const p = emptyPlan();
    p.files.push({
      path: h.facts.pg.identFile,
      owner: h.facts.osUser,
      mode: 0o600,
      before,
      after: pgafIdentAfter(h, before),
    });
    p.reload = true;
    return p;
  },
  async apply(ctx) {
    const h = ctx.facts;
    const text = await readIdentText(ctx);
    const [now] = await inspectRemote(
      ctx.session,
      h,
      [{ path: h.facts.pg.identFile, kind: 'none' }],
      ctx.signal,
    );
    await ctx.session.writeFileAtomic(h.facts.pg.identFile, pgafIdentAfter(h, text), {
      owner: h.facts.osUser,
      mode: now?.mode || 0o600,
      signal: ctx.signal,
    });
    await validateAndReload(ctx.session, h, ctx.signal);
  },
  async verify(ctx) {
    const text = await readIdentText(ctx);
    return pgafIdentAfter(ctx.facts, text) === text;
  },
  async undo(ctx) {
    await plainReload(ctx.session, ctx.facts, ctx.signal);
  },
});
