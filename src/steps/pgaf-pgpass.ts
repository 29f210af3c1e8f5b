// pgaf.pgpass (SPEC §7.3, scram): the passwords pg_auto_failover's own connections need, in the OS
// user's ~/.pgpass (0600, else libpq silently ignores it): on a keeper autoctl_node@monitor (the
// monitor URI carries no password) and pgautofailover_replicator@every data node (pg_autoctl checks
// the upstream's replication slot with a password-less connection before pg_basebackup, and any
// data node can become the upstream); on the monitor pgautofailover_monitor@every data node (its
// health checks). Other lines are kept byte for byte. Plans show the lines with `********`.
// Undo: the engine restores (or removes) the file; nothing else read it yet.
import { defineStep, emptyPlan } from '../core/step.js';
import { upsertPgpass, type PgpassEntry } from '../pgconf/pgpass.js';
import type { HardenContext } from './context.js';
import { autoctlOf, readText } from './pgaf-autoctl.js';
import { inspectRemote, recall, remember, sha256Hex } from './tls-files.js';

export const PGAF_PGPASS = 'pgaf.pgpass';

export const PGAF_ROLES = {
  node: 'autoctl_node',
  replicator: 'pgautofailover_replicator',
  monitor: 'pgautofailover_monitor',
} as const;

export function pgpassPath(h: HardenContext): string {
  return `${autoctlOf(h).home.replace(/\/+$/, '')}/.pgpass`;
}

export function pgpassEntries(h: HardenContext): PgpassEntry[] {
  const a = autoctlOf(h);
  const pw = (role: string): string | undefined => h.passwords.get(role);
  const out: PgpassEntry[] = [];
  const add = (host: string, port: number, database: string, user: string): void => {
    const password = pw(user);
    if (password !== undefined) out.push({ host, port: String(port), database, user, password });
  };
  if (a.kind === 'keeper') {
    add(a.monitor.host, a.monitor.port, 'pg_auto_failover', PGAF_ROLES.node);
    for (const n of a.dataNodes) add(n.host, n.port, '*', PGAF_ROLES.replicator);
  } else {
    for (const n of a.dataNodes) add(n.host, n.port, '*', PGAF_ROLES.monitor);
  }
  return out;
}

export function pgpassAfter(h: HardenContext, before: string): string {
  let t = before;
  for (const e of pgpassEntries(h)) t = upsertPgpass(t, e);
  return t;
}

const mask = (text: string): string =>
  text.replace(/^((?:[^:\\\n]|\\.)*(?::(?:[^:\\\n]|\\.)*){3}:).*$/gm, '$1********');

export const pgafPgpass = defineStep<HardenContext>({
  id: PGAF_PGPASS,
  title: '~/.pgpass for pg_auto_failover’s own connections (0600)',
  async check({ session, facts: h, signal }) {
    if (pgpassEntries(h).length === 0) return false;
    const path = pgpassPath(h);
    const [file] = await inspectRemote(session, h, [{ path, kind: 'none' }], signal);
    const text = file?.exists === true ? await readText(session, h, path, signal) : '';
    remember(h, PGAF_PGPASS, {
      dirExists: true,
      files: file ? { [path]: file } : {},
      text: { [path]: text },
    });
    return !(file?.exists === true && file.mode === 0o600 && pgpassAfter(h, text) === text);
  },
  plan({ facts: h }) {
    const path = pgpassPath(h);
    const before = recall(h, PGAF_PGPASS)?.text[path] ?? '';
    const p = emptyPlan();
    p.files.push({
      path,
      owner: h.facts.osUser,
      mode: 0o600,
      before: mask(before),
      after: mask(pgpassAfter(h, before)),
    });
    return p;
  },
  async apply({ session, facts: h, signal }) {
    const path = pgpassPath(h);
    const before = recall(h, PGAF_PGPASS)?.text[path] ?? '';
    await session.writeFileAtomic(path, pgpassAfter(h, before), {
      owner: h.facts.osUser,
      mode: 0o600,
      signal,
    });
  },
  async verify({ session, facts: h, signal }) {
    const path = pgpassPath(h);
    const before = recall(h, PGAF_PGPASS)?.text[path] ?? '';
    const [file] = await inspectRemote(session, h, [{ path, kind: 'none' }], signal);
    return (
      file?.mode === 0o600 &&
      file.owner === h.facts.osUser &&
      file.sha256 === sha256Hex(pgpassAfter(h, before))
    );
  },
  async undo() {
    // The engine put the old file back (or removed the new one); nothing else to do.
  },
});
