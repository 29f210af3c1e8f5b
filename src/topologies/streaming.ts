// Plain streaming replication (SPEC §7.2): the primary gets TLS first (existing plain replication
// keeps working because hba still allows it), then every standby gets TLS and a verify-full
// primary_conninfo (standbys side by side; the primary is never touched at the same time as a
// standby's conninfo), and only then do passwords and pg_hba.conf switch, on every node.
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
  // Passwords are reset before any rule switches (the md5 method already accepts SCRAM verifiers).
  const authOf = (role: 'primary' | 'standby'): HardenStep[] =>
    role === 'primary' ? [scramMigration, certAuth, hbaHostssl] : [certAuth, hbaHostssl];
  const steps = new Map(nodes.map((n) => [n.name, [...tlsOf(n.role), ...authOf(n.role)]]));
  const phases: PhaseEntry[][] = [
    primary.map((n) => ({ node: n.name, steps: tlsOf('primary') })),
    standbys.map((n) => ({ node: n.name, steps: tlsOf('standby') })),
    nodes.map((n) => ({ node: n.name, steps: authOf(n.role) })),
  ].filter((phase) => phase.length > 0);
  return { steps, phases };
}
