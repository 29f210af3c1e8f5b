// Pgpool-II in front of a streaming cluster (SPEC §7.4). pgpool's health check must never fail, so:
// 1. backends: certificates and ssl = on with hba unchanged (streaming phase 1), standbys' replication
//    over TLS (streaming phase 2);
// 2. pgpool: certificates, AES pool_passwd entries with the current passwords, key file, ssl,
//    pool_hba, one restart with its running argv, every backend up;
// 3. backends: SCRAM verifiers (same passwords) and hostssl-only rules (streaming phase 3);
// 4. pgpool: one more health-check period watched (from the primary, so a rollback undoes the
//    backends before pgpool).
// Backends first would make pgpool detach them all (its md5 entries and plain connections refused),
// and the detached state survives a plain restart.
import type { PhaseEntry } from '../core/runner.js';
import type { Step } from '../core/step.js';
import type { HardenContext } from '../steps/context.js';
import { pgpoolConfigure } from '../steps/pgpool-configure.js';
import { pgpoolHealthWatch } from '../steps/pgpool-health-watch.js';
import { pgpoolInstallTls } from '../steps/pgpool-install-tls.js';
import { streamingSchedule, type StreamingSchedule } from './streaming.js';

type HardenStep = Step<HardenContext>;

export const POOLER_PHASE_STEPS: HardenStep[] = [pgpoolInstallTls, pgpoolConfigure];
/** On the primary, last (pgpool-health-watch.ts says why it is not the pooler's). */
export const WATCH_STEPS: HardenStep[] = [pgpoolHealthWatch];

export function pgpoolSchedule(
  nodes: readonly { name: string; role: 'primary' | 'standby' }[],
  poolers: readonly string[],
): StreamingSchedule {
  const base = streamingSchedule(nodes);
  const steps = new Map(base.steps);
  for (const p of poolers) steps.set(p, POOLER_PHASE_STEPS);
  const primary = nodes.find((n) => n.role === 'primary');
  if (primary !== undefined && poolers.length > 0)
    steps.set(primary.name, [...(steps.get(primary.name) ?? []), ...WATCH_STEPS]);
  // streamingSchedule: [tls] [replication-tls (only with standbys)] [auth]; pgpool goes before auth.
  const auth = base.phases[base.phases.length - 1] ?? [];
  const before = base.phases.slice(0, -1);
  const phases: PhaseEntry[][] = [
    ...before,
    poolers.map((p) => ({ node: p, steps: POOLER_PHASE_STEPS })),
    auth,
    primary !== undefined && poolers.length > 0 ? [{ node: primary.name, steps: WATCH_STEPS }] : [],
  ].filter((ph) => ph.length > 0);
  return { steps, phases };
}
