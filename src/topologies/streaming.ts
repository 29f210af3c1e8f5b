// Plain streaming replication (SPEC §7.2). Three phases:
// 1. every node gets its certificates and ssl = on, side by side: serving TLS changes nothing for
//    existing connections, and a standby's own replication connection is outbound, so the primary
//    and the standbys do not depend on each other here (existing plain replication keeps working
//    because hba still allows it);
// 2. then the standbys switch primary_conninfo to verify-full, side by side, once the primary serves
//    TLS — the primary is never touched at the same time as a standby's conninfo;
// 3. only then do passwords and pg_hba.conf switch, on every node.
// SPEC §7.2 lists the primary's TLS before the standbys'; running the TLS steps of all nodes in one
// phase keeps the invariant that order protects (see docs/decisions.md) and saves a phase.
import type { PhaseEntry } from '../core/runner.js';
import type { Step } from '../core/step.js';
import { certAuth } from '../steps/cert-auth.js';
import type { HardenContext } from '../steps/context.js';
import { enableSsl } from '../steps/enable-ssl.js';
import { hbaHostssl } from '../steps/hba-hostssl.js';
import { installCa } from '../steps/install-ca.js';
import { installServerCert } from '../steps/install-server-cert.js';
import { reload } from '../steps/reload.js';
import { replicationTls } from '../steps/replication-tls.js';
import { scramMigration } from '../steps/scram-migration.js';

type HardenStep = Step<HardenContext>;

const TLS: HardenStep[] = [installCa, installServerCert, enableSsl, reload];

export interface StreamingSchedule {
  /** Every step of each node, in the order it runs. */
  steps: Map<string, HardenStep[]>;
  phases: PhaseEntry[][];
}

export function streamingSchedule(
  nodes: readonly { name: string; role: 'primary' | 'standby' }[],
): StreamingSchedule {
  const primary = nodes.filter((n) => n.role === 'primary');
  const standbys = nodes.filter((n) => n.role === 'standby');
  const tlsOf = (role: 'primary' | 'standby'): HardenStep[] =>
    role === 'primary' ? TLS : [...TLS, replicationTls];
  const tlsPhase = (n: { name: string; role: 'primary' | 'standby' }): PhaseEntry => ({
    node: n.name,
    steps: TLS,
  });
  // Passwords are reset before any rule switches (the md5 method already accepts SCRAM verifiers).
  const authOf = (role: 'primary' | 'standby'): HardenStep[] =>
    role === 'primary' ? [scramMigration, certAuth, hbaHostssl] : [certAuth, hbaHostssl];
  const steps = new Map(nodes.map((n) => [n.name, [...tlsOf(n.role), ...authOf(n.role)]]));
  const phases: PhaseEntry[][] = [
    [...primary, ...standbys].map(tlsPhase),
    standbys.map((n) => ({ node: n.name, steps: [replicationTls] })),
    nodes.map((n) => ({ node: n.name, steps: authOf(n.role) })),
  ].filter((phase) => phase.length > 0);
  return { steps, phases };
}
