// pg_auto_failover (SPEC §7.3). Phases, each waiting for the formation to settle before the next:
// 1. every node gets the CA and its certificate (files only: harmless, and staged everywhere first so
//    a rollback never needs a node that was not reachable at the start);
// 2. the monitor enables TLS through pg_autoctl (keepers can only switch their monitor URI to
//    verify-full once the monitor serves TLS: pg_autoctl tests the new URI before writing it);
// 3. the secondaries, then 4. the primary (a failure on a secondary never touched the primary);
// 5. the secondaries move replication to verify-full now that the primary serves TLS;
// 6–8. passwords (cert: the pg_ident map) and pg_autoctl.cfg (monitor, primary, secondaries): every consumer has its password
//    before any rule asks for one;
// 9. pg_hba.conf on the monitor, then 10. on the data nodes (host → hostssl, non-TLS refused).
// A node is undone at its latest phase, newest first: secondaries before the primary, the monitor
// last — keepers go back to a plain monitor URI while the monitor still serves TLS.
import type { PhaseEntry } from '../core/runner.js';
import type { Step } from '../core/step.js';
import type { AuthMode, HardenContext } from '../steps/context.js';
import { hbaHostssl } from '../steps/hba-hostssl.js';
import { installCa } from '../steps/install-ca.js';
import { installServerCert } from '../steps/install-server-cert.js';
import { pgafClientCert } from '../steps/pgaf-client-cert.js';
import { pgafConfig } from '../steps/pgaf-config.js';
import { pgafEnableSsl } from '../steps/pgaf-enable-ssl.js';
import { pgafIdentMap } from '../steps/pgaf-ident-map.js';
import { pgafPgpass } from '../steps/pgaf-pgpass.js';
import { pgafReplicationTls } from '../steps/pgaf-replication-tls.js';
import { scramMigration } from '../steps/scram-migration.js';

type HardenStep = Step<HardenContext>;

export type AutoctlRole = 'monitor' | 'primary' | 'secondary';

export interface PgAutoFailoverSchedule {
  steps: Map<string, HardenStep[]>;
  phases: PhaseEntry[][];
}

export function pgAutoFailoverSchedule(
  nodes: readonly { name: string; role: AutoctlRole }[],
  auth: AuthMode = 'scram',
): PgAutoFailoverSchedule {
  // cert: each OS user's client certificate is staged too, and the pg_ident map comes before hba.
  const cert = auth === 'cert';
  const STAGE: HardenStep[] = cert
    ? [installCa, installServerCert, pgafClientCert]
    : [installCa, installServerCert];
  const of = (role: AutoctlRole): string[] => nodes.filter((n) => n.role === role).map((n) => n.name);
  const monitor = of('monitor');
  const primary = of('primary');
  const secondaries = of('secondary');
  const authSteps = (role: AutoctlRole): HardenStep[] => [
    ...(role === 'secondary' ? [] : [scramMigration]),
    ...(cert ? [pgafIdentMap] : [pgafPgpass]),
    pgafConfig,
  ];
  const entry = (names: string[], steps: (role: AutoctlRole) => HardenStep[]): PhaseEntry[] =>
    names.map((node) => ({ node, steps: steps(nodes.find((n) => n.name === node)?.role ?? 'secondary') }));
  const phases: PhaseEntry[][] = [
    entry([...monitor, ...primary, ...secondaries], () => STAGE),
    entry(monitor, () => [pgafEnableSsl]),
    entry(secondaries, () => [pgafEnableSsl]),
    entry(primary, () => [pgafEnableSsl]),
    entry(secondaries, () => [pgafReplicationTls]),
    entry(monitor, authSteps),
    entry(primary, authSteps),
    entry(secondaries, authSteps),
    entry(monitor, () => [hbaHostssl]),
    entry([...primary, ...secondaries], () => [hbaHostssl]),
  ].filter((phase) => phase.length > 0);
  const steps = new Map<string, HardenStep[]>();
  for (const phase of phases) {
    for (const e of phase) steps.set(e.node, [...(steps.get(e.node) ?? []), ...e.steps]);
  }
  return { steps, phases };
}
