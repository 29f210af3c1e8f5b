// pgaf.client-cert (SPEC §7.3, auth cert): the node's client certificate where libpq looks by
// default, ~/.postgresql/postgresql.crt (0644) and postgresql.key (0600) of its OS user: every
// connection pg_auto_failover makes from this node uses it — the keeper to the monitor
// (autoctl_node), a standby's WAL receiver and pg_rewind/pg_basebackup to the primary
// (pgautofailover_replicator), the monitor's health checks to the nodes (pgautofailover_monitor).
// One certificate per node, CN `pgaf-<node>`, mapped to those roles by pg_ident map
// `pgautofailover` (pgaf.ident-map). No root.crt there: libpq would then verify servers even for
// sslmode=require connections the operator makes. Harmless before the servers ask for
// certificates (libpq sends one only when asked), so it is staged with the server certificates.
// Undo: the engine restores or removes both files; the directory goes if this run made it.
import { FailedError } from '../core/errors.js';
import { defineStep, emptyPlan } from '../core/step.js';
import type { HardenContext, PemPair } from './context.js';
import { keyPlaceholder } from './install-server-cert.js';
import { autoctlOf } from './pgaf-autoctl.js';
import { inspectRemote, publicKeySha256, recall, remember, runAsPg, sha256Hex } from './tls-files.js';

export const PGAF_CLIENT_CERT = 'pgaf.client-cert';

export const pgafClientName = (node: string): string => `pgaf-${node}`;

export function clientPair(h: HardenContext): PemPair {
  const pair = h.tls.clients[pgafClientName(h.node.name)];
  if (pair === undefined) {
    throw new FailedError('pgaf.client-cert-missing', `${h.node.name}: no client certificate issued`);
  }
  return pair;
}

export function clientPaths(h: HardenContext): { dir: string; cert: string; key: string } {
  const dir = `${autoctlOf(h).home.replace(/\/+$/, '')}/.postgresql`;
  return { dir, cert: `${dir}/postgresql.crt`, key: `${dir}/postgresql.key` };
}

const marker = (dir: string, runId: string): string => `${dir}/.pgharden-created-${runId}`;

export const pgafClientCert = defineStep<HardenContext>({
  id: PGAF_CLIENT_CERT,
  title: 'Client certificate in ~/.postgresql (pg_auto_failover connections)',
  async check({ session, facts: h, signal }) {
    if (h.auth !== 'cert') return false;
    const p = clientPaths(h);
    const pair = clientPair(h);
    const [dir, cert, key] = await inspectRemote(
      session,
      h,
      [
        { path: p.dir, kind: 'none' },
        { path: p.cert, kind: 'none', read: true },
        { path: p.key, kind: 'pkey' },
      ],
      signal,
    );
    remember(h, PGAF_CLIENT_CERT, {
      dirExists: dir?.exists === true,
      files: key ? { [p.key]: key } : {},
      text: { [p.cert]: cert?.text ?? '' },
    });
    const ok =
      cert?.sha256 === sha256Hex(pair.certPem) &&
      key?.pubSha256 === publicKeySha256(pair.keyPem) &&
      key.mode === 0o600;
    return !ok;
  },
  plan({ facts: h }) {
    const p = clientPaths(h);
    const pair = clientPair(h);
    const seen = recall(h, PGAF_CLIENT_CERT);
    const oldKey = seen?.files[p.key];
    const plan = emptyPlan();
    plan.files.push(
      {
        path: p.cert,
        owner: h.facts.osUser,
        mode: 0o644,
        before: seen?.text[p.cert] ?? '',
        after: pair.certPem,
      },
      {
        path: p.key,
        owner: h.facts.osUser,
        mode: 0o600,
        before: oldKey?.exists === true ? keyPlaceholder(oldKey.pubSha256 || 'unreadable') : '',
        after: keyPlaceholder(publicKeySha256(pair.keyPem)),
      },
    );
    if (seen?.dirExists !== true) plan.commands.push(`mkdir -m 0700 ${p.dir}`);
    return plan;
  },
  async apply({ session, facts: h, runId, signal }) {
    const p = clientPaths(h);
    const pair = clientPair(h);
    await runAsPg(
      session,
      h,
      'if [ ! -d "$1" ]; then mkdir -m 0700 -- "$1" && : > "$2"; fi',
      [p.dir, marker(p.dir, runId)],
      `creating ${p.dir}`,
      signal,
    );
    await session.writeFileAtomic(p.key, pair.keyPem, { owner: h.facts.osUser, mode: 0o600, signal });
    await session.writeFileAtomic(p.cert, pair.certPem, { owner: h.facts.osUser, mode: 0o644, signal });
  },
  async verify({ session, facts: h, signal }) {
    const p = clientPaths(h);
    const pair = clientPair(h);
    const [cert, key] = await inspectRemote(
      session,
      h,
      [
        { path: p.cert, kind: 'none' },
        { path: p.key, kind: 'none' },
      ],
      signal,
    );
    return (
      cert?.sha256 === sha256Hex(pair.certPem) &&
      key?.sha256 === sha256Hex(pair.keyPem) &&
      key.mode === 0o600 &&
      key.owner === h.facts.osUser
    );
  },
  async undo({ session, facts: h, runId, signal }) {
    const p = clientPaths(h);
    await runAsPg(
      session,
      h,
      'if [ -e "$2" ]; then rm -f -- "$2"; rmdir -- "$1" 2>/dev/null || true; fi',
      [p.dir, marker(p.dir, runId)],
      `removing ${p.dir}`,
      signal,
    );
  },
});
