// Read-only audit: node facts → findings with severity and the fix pgharden would apply.
import type { Finding } from './events.js';
import type { CertFacts, NodeFacts, NodeOutcome, PostgresFacts } from './facts.js';
import type { Inventory } from './inventory-schema.js';
import { atLeast, severityRank, type Severity } from './severity.js';
import { auditHba } from './audit-hba.js';

export const FIX = {
  enableSsl: 'install-server-cert + enable-ssl: CA-signed certificate, ssl=on, reload (no restart)',
  scram: 'scram-migration: re-set the password as SCRAM, then switch md5 rules to scram-sha-256',
  hostssl: 'hba-hostssl: host → hostssl with the chosen method, hostnossl … reject',
  replicationTls:
    'replication-tls: primary_conninfo sslmode=verify-full with the cluster CA, password in .pgpass',
} as const;

function settingValue(pg: PostgresFacts, name: string): string | undefined {
  return pg.settings[name]?.setting;
}

const TLS_ORDER = ['', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

function conninfoParam(conninfo: string, key: string): string | undefined {
  const kv = new RegExp(`(?:^|\\s)${key}\\s*=\\s*('(?:[^'\\\\]|\\\\.)*'|\\S+)`).exec(conninfo);
  if (kv?.[1] !== undefined) return kv[1].replace(/^'|'$/g, '');
  const uri = new RegExp(`[?&]${key}=([^&]*)`).exec(conninfo);
  return uri?.[1];
}

function auditPostgres(facts: NodeFacts, pg: PostgresFacts, inventory: Inventory): Finding[] {
  const node = facts.node;
  const out: Finding[] = [];
  const add = (id: string, severity: Severity, message: string, fix: string, where?: string): void => {
    out.push({ id, severity, node, message, fix, ...(where !== undefined ? { where } : {}) });
  };
  const where = (name: string): string | undefined => {
    const s = pg.settings[name];
    return s?.sourcefile ? `${s.sourcefile}:${s.sourceline ?? '?'}` : undefined;
  };

  const sslOn = settingValue(pg, 'ssl') === 'on';
  if (!sslOn) {
    add(
      'ssl.off',
      'high',
      'ssl is off: every connection, passwords and replication included, is in clear text',
      FIX.enableSsl,
      where('ssl'),
    );
  } else {
    const min = settingValue(pg, 'ssl_min_protocol_version') ?? '';
    if (TLS_ORDER.indexOf(min) < TLS_ORDER.indexOf('TLSv1.2')) {
      add(
        'tls.min-version',
        'medium',
        `ssl_min_protocol_version is ${min || 'unset'}: TLS below 1.2 is accepted`,
        'enable-ssl: ssl_min_protocol_version = TLSv1.2',
        where('ssl_min_protocol_version'),
      );
    }
    if ((settingValue(pg, 'ssl_ca_file') ?? '') === '') {
      add(
        'tls.no-ca-file',
        'low',
        'ssl_ca_file is empty: the server cannot verify client certificates (cert auth impossible)',
        'install-ca: ssl_ca_file = root.crt of the cluster CA',
      );
    }
  }
  // Every certificate the node uses: error (high) under 7 days, warning (medium) under 30 (SPEC §9).
  const deployed: { what: string; cert: CertFacts; fix: string }[] = [
    ...(pg.serverCert === undefined
      ? []
      : [{ what: 'server certificate', cert: pg.serverCert, fix: 'pgharden rotate (reload only)' }]),
    ...(pg.caCerts ?? []).map((cert) => ({
      what: 'CA certificate',
      cert,
      fix: 'pgharden rotate --new-ca (CA rotation, SPEC §9)',
    })),
    ...(pg.replicationCert === undefined
      ? []
      : [
          {
            what: 'replication client certificate',
            cert: pg.replicationCert,
            fix: 'pgharden rotate: re-issue the client certificate',
          },
        ]),
  ];
  for (const { what, cert: c, fix } of deployed) {
    if (c.daysLeft >= 30) continue;
    add(
      'tls.cert-expiry',
      c.daysLeft < 0 ? 'critical' : c.daysLeft < 7 ? 'high' : 'medium',
      `${what} ${c.subject} in ${c.path} ${c.daysLeft < 0 ? 'expired' : 'expires'} ${c.notAfter} (${c.daysLeft} days left)`,
      fix,
    );
  }
  if (pg.crl?.daysLeft !== undefined && pg.crl.daysLeft < 7) {
    add(
      'tls.crl-expiry',
      pg.crl.daysLeft < 0 ? 'critical' : 'high',
      `CRL ${pg.crl.path} (${pg.crl.revoked} revoked) ${pg.crl.daysLeft < 0 ? 'expired' : 'expires'} ${pg.crl.nextUpdate ?? ''}: past that date every client certificate of its CA is refused`,
      '`pgharden certs crl` re-signs it, then `pgharden apply` deploys it (reload)',
    );
  }
  const cas = pg.caCerts ?? [];
  if (cas.length > 1) {
    // SPEC §9: audit says where a CA rotation stands. Which CA signed the served leaf tells the phase.
    const servedBy = cas.findIndex((c) => c.subject === pg.serverCert?.issuer);
    add(
      'tls.ca-rotation',
      'info',
      `ssl_ca_file trusts ${cas.length} CAs (${cas.map((c) => c.subject).join('; ')}): a CA rotation is in progress${
        servedBy === 0
          ? ' (the server certificate is from the first)'
          : servedBy > 0
            ? ` (the server certificate is from CA ${servedBy + 1})`
            : ''
      }`,
      'pgharden rotate --new-ca (next phase) or --finish (drop the old CA)',
    );
  }
  if (sslOn && pg.serverCert === undefined && pg.serverCertError !== undefined) {
    add('tls.cert-unreadable', 'medium', pg.serverCertError, 'install-server-cert');
  }
  for (const e of pg.certErrors ?? []) {
    if (e !== pg.serverCertError) add('tls.cert-unreadable', 'medium', e, 'install-ca / replication-tls');
  }

  const enc = settingValue(pg, 'password_encryption');
  if (enc !== undefined && enc !== 'scram-sha-256') {
    add(
      'auth.password-encryption',
      'medium',
      `password_encryption is ${enc}: new passwords are stored as md5 hashes`,
      'enable-ssl: password_encryption = scram-sha-256',
      where('password_encryption'),
    );
  }
  // Only the primary's catalog is authoritative; standbys replay it, so report md5 hashes once per cluster role.
  if (pg.md5Roles.length > 0 && pg.role === 'primary') {
    const names = pg.md5Roles.map((r) => r.name).join(', ');
    add(
      'roles.md5-hash',
      'high',
      `${pg.md5Roles.length} role(s) store md5 password hashes (password-equivalent for md5 auth): ${names}`,
      FIX.scram,
    );
  }
  for (const e of pg.settingErrors) {
    add(
      'settings.error',
      'high',
      `configuration file error${e.name ? ` for ${e.name}` : ''}: ${e.error}`,
      'fix the file before any reload',
      e.sourcefile ? `${e.sourcefile}:${e.sourceline ?? '?'}` : undefined,
    );
  }

  // Replication: the primary sees each standby's connection; the standby knows its own conninfo.
  for (const r of pg.replicationSenders) {
    if (r.ssl !== true) {
      add(
        'replication.no-tls',
        'high',
        `standby ${r.application_name} (${r.client_addr ?? 'local'}) replicates without TLS`,
        FIX.replicationTls,
      );
    }
  }
  if (pg.role === 'standby' && pg.primaryConninfo !== undefined) {
    const sslmode = conninfoParam(pg.primaryConninfo, 'sslmode') ?? 'prefer';
    if (sslmode !== 'verify-full') {
      const severity: Severity = ['disable', 'allow', 'prefer'].includes(sslmode) ? 'high' : 'medium';
      add(
        'replication.sslmode',
        severity,
        `primary_conninfo uses sslmode=${sslmode}: ${severity === 'high' ? 'TLS is not required' : "the primary's certificate name is not verified"}`,
        FIX.replicationTls,
        where('primary_conninfo'),
      );
    }
    if (/\bpassword\s*=/.test(pg.primaryConninfo) || /:\*{8}@/.test(pg.primaryConninfo)) {
      add(
        'replication.password-in-conninfo',
        'medium',
        'primary_conninfo carries the replication password in the configuration (readable in postgresql.auto.conf and base backups)',
        'replication-tls: move the password to a 0600 .pgpass',
        where('primary_conninfo'),
      );
    }
  }

  const libpqMajor = Number(/\b(\d+)(?:\.\d+)?/.exec(pg.libpqVersion ?? '')?.[1] ?? NaN);
  const byIp = /^[\d.]+$|:/.test(facts.host);
  if (byIp && libpqMajor > 0 && libpqMajor < 15) {
    add(
      'libpq.ip-san',
      'info',
      `client tools on this node are libpq ${libpqMajor}: sslmode=verify-full against an IP address needs libpq ≥ 15`,
      "give peers a DNS name in the node's names: list, or upgrade libpq",
    );
  }

  out.push(...auditHba(node, pg, inventory));
  return out;
}

export function auditNode(outcome: NodeOutcome, inventory: Inventory): Finding[] {
  if (!outcome.ok) {
    return [
      {
        id: 'node.unreachable',
        severity: 'critical',
        node: outcome.node,
        message: `not audited: ${outcome.error.message}`,
        fix: outcome.error.hint ?? 'make the node reachable over SSH and run again',
      },
    ];
  }
  const { facts } = outcome;
  if (facts.pg === undefined) {
    return [
      {
        id: facts.pgProblem?.code ?? 'pg.unavailable',
        severity: 'critical',
        node: facts.node,
        message: facts.pgProblem?.message ?? 'PostgreSQL could not be inspected',
        fix:
          facts.pgProblem?.hint ??
          'set pg.dataDir / pg.port / pg.osUser in the inventory, or start the server',
      },
    ];
  }
  return auditPostgres(facts, facts.pg, inventory);
}

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.node.localeCompare(b.node) ||
      a.id.localeCompare(b.id),
  );
}

/** SPEC: audit exits 3 when any finding is high or worse. */
export function auditExitCode(findings: Finding[]): 0 | 3 {
  return findings.some((f) => atLeast(f.severity, 'high')) ? 3 : 0;
}
