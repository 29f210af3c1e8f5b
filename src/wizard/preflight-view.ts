// Node facts → one preflight table row (SPEC §4 screen 3). Pure.
import type { NodeOutcome } from '../core/facts.js';
import type { PreflightDetail } from './state.js';

export function preflightDetail(outcome: NodeOutcome): PreflightDetail | undefined {
  if (!outcome.ok) return undefined;
  const { facts } = outcome;
  const pg = facts.pg;
  const base = {
    node: facts.node,
    sshUser: facts.ssh.user,
    access: facts.access,
    md5Roles: pg?.md5Roles.map((r) => r.name) ?? [],
    hbaErrors: pg?.hbaRules.filter((r) => r.error !== null).length ?? 0,
  };
  if (pg === undefined) {
    return { ...base, replication: '—', problem: facts.pgProblem?.message ?? 'PostgreSQL not inspected' };
  }
  const senders = pg.replicationSenders;
  const replication =
    pg.role === 'primary'
      ? senders.length === 0
        ? 'no standbys'
        : `${senders.length} standby(s), ${senders.filter((r) => r.ssl === true).length} over TLS`
      : pg.walReceiver === undefined
        ? 'no WAL receiver'
        : `receiver ${pg.walReceiver.status}`;
  return {
    ...base,
    pgVersion: pg.version,
    role: pg.role,
    dataDir: pg.dataDir,
    configFile: pg.configFile,
    hbaFile: pg.hbaFile,
    ssl: pg.settings['ssl']?.setting,
    passwordEncryption: pg.settings['password_encryption']?.setting,
    replication,
    libpq: pg.libpqVersion,
  };
}
