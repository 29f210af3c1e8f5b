// pg_hba.conf findings: what the server reports (pg_hba_file_rules.error) plus pgharden's own
// rule analysis of the file on disk (weak methods, non-TLS, rule order).
import { findShadowedRules, insecureRules, parseHba, type HbaFindingId } from '../pgconf/index.js';
import type { Finding } from './events.js';
import type { PostgresFacts } from './facts.js';
import type { Inventory } from './inventory-schema.js';
import type { Severity } from './severity.js';

const HBA_SEVERITY: Record<HbaFindingId, Severity> = {
  'hba.trust-tcp': 'critical',
  'hba.password-cleartext': 'critical',
  'hba.md5': 'high',
  'hba.non-tls': 'high',
  'hba.ident-tcp': 'high',
  'hba.local-trust': 'medium',
  'hba.wider-than-network': 'medium',
  'hba.no-nossl-reject': 'low',
};

const HBA_FIX: Record<HbaFindingId, string> = {
  'hba.trust-tcp': 'hba-hostssl: replace trust with the chosen method (scram-sha-256 or cert) on hostssl',
  'hba.password-cleartext': 'hba-hostssl: scram-sha-256 over hostssl',
  'hba.md5': 'scram-migration, then hba-hostssl: md5 → scram-sha-256',
  'hba.non-tls': 'hba-hostssl: host → hostssl',
  'hba.ident-tcp': 'hba-hostssl: replace ident with scram-sha-256 or cert',
  'hba.local-trust':
    'use peer (with a pg_ident map) for local connections; pgharden keeps its own socket access',
  'hba.wider-than-network': 'hba-hostssl: restrict the address to the inventory network',
  'hba.no-nossl-reject': 'hba-hostssl: managed block with hostnossl all all 0.0.0.0/0 reject and ::/0',
};

export function auditHba(node: string, pg: PostgresFacts, inventory: Inventory): Finding[] {
  const out: Finding[] = [];
  const at = (line: number | undefined): string =>
    line === undefined ? pg.hbaFile : `${pg.hbaFile}:${line}`;

  for (const row of pg.hbaRules) {
    if (row.error !== null) {
      out.push({
        id: 'hba.error',
        severity: 'high',
        node,
        message: `PostgreSQL cannot load this pg_hba.conf line: ${row.error}; a reload would keep the old rules`,
        fix: 'correct the line; pgharden validates pg_hba_file_rules before every reload',
        where: at(row.line_number),
      });
    }
  }

  const file = parseHba(pg.hbaText);
  for (const e of file.errors) {
    out.push({
      id: e.id,
      severity: 'medium',
      node,
      message: `pgharden cannot parse this line (${e.message}); it will not edit this file until it can`,
      fix: 'rewrite the line in plain pg_hba.conf syntax',
      where: at(e.line),
    });
  }

  for (const f of insecureRules(file.rules, inventory.network)) {
    out.push({
      id: f.id,
      severity: HBA_SEVERITY[f.id],
      node,
      message: f.message,
      fix: HBA_FIX[f.id],
      where: at(f.rule?.line),
    });
  }

  for (const s of findShadowedRules(file.rules)) {
    out.push({
      id: 'hba.shadowed',
      severity: s.shadowedBy.method === 'reject' ? 'low' : 'medium',
      node,
      message: s.consequence,
      fix: 'hba-hostssl: the managed block goes first, and shadowing host rules become hostssl',
      where: at(s.rule.line),
    });
  }
  return out;
}
