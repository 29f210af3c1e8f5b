// The audit job: preflight every node in parallel, then evaluate findings. Changes nothing.
import { connect } from '../remote/session.js';
import { resolveTarget } from '../remote/ssh-config.js';
import type { RemoteSession, Secrets, SshTarget, UnknownHostKeyPolicy } from '../remote/types.js';
import { auditNode, auditExitCode, sortFindings } from './audit.js';
import { toPghardenError } from './errors.js';
import type { EventBus, Finding } from './events.js';
import type { NodeOutcome } from './facts.js';
import type { Inventory, InventoryNode } from './inventory-schema.js';
import { gatherNodeFacts } from './preflight.js';
import { effectiveSsh, nodeTargetInput } from './targets.js';

export interface ConnectOptions {
  hostKeys: UnknownHostKeyPolicy;
  secrets?: Secrets;
  sshConfigPath?: string;
}

export interface PreflightResult {
  outcomes: NodeOutcome[];
  sessions: Map<string, RemoteSession>;
}

/**
 * One node's SSH session, with the inventory's target (and ~/.ssh/config) and the given host-key
 * policy and secrets: what preflight connects with, and what apply reconnects with.
 */
export async function connectNode(
  inventory: Inventory,
  node: InventoryNode,
  options: ConnectOptions,
  signal?: AbortSignal,
  onTarget?: (target: SshTarget) => void,
): Promise<RemoteSession> {
  const target = resolveTarget(nodeTargetInput(inventory, node), {
    ...(options.sshConfigPath !== undefined ? { configPath: options.sshConfigPath } : {}),
  });
  onTarget?.(target);
  return connect(target, {
    hostKeys: options.hostKeys,
    ...(options.secrets !== undefined ? { secrets: options.secrets } : {}),
    ...(signal !== undefined ? { signal } : {}),
  });
}

/** Connect to and inspect every node in parallel; one node's failure never hides the others. */
export async function preflightAll(
  inventory: Inventory,
  bus: EventBus,
  options: ConnectOptions,
  signal?: AbortSignal,
): Promise<PreflightResult> {
  const sessions = new Map<string, RemoteSession>();
  const outcomes = await Promise.all(
    inventory.nodes.map(async (node): Promise<NodeOutcome> => {
      try {
        const started = performance.now();
        const session = await connectNode(inventory, node, options, signal, (target) =>
          bus.emit({ type: 'node:connecting', node: node.name, host: target.host, port: target.port }),
        );
        const connectMs = performance.now() - started;
        sessions.set(node.name, session);
        bus.emit({
          type: 'node:connected',
          node: node.name,
          hostKey: session.hostKey.fingerprint,
          keyType: session.hostKey.keyType,
          ms: Math.round(connectMs),
        });
        const facts = await gatherNodeFacts(session, node, connectMs, {
          sudo: effectiveSsh(inventory, node.ssh).sudo,
          signal,
        });
        bus.emit({
          type: 'preflight:done',
          node: node.name,
          ms: facts.ms,
          summary: facts.pg
            ? `PostgreSQL ${facts.pg.version} ${facts.pg.role}, ssl ${facts.pg.settings['ssl']?.setting ?? '?'}`
            : (facts.pgProblem?.message ?? 'PostgreSQL not inspected'),
        });
        return { node: node.name, ok: true, facts };
      } catch (err) {
        const e = toPghardenError(err);
        const error = { code: e.code, message: e.message, hint: e.hint };
        bus.emit({ type: 'node:failed', node: node.name, error });
        return { node: node.name, ok: false, error };
      }
    }),
  );
  return { outcomes, sessions };
}

export interface AuditResult {
  outcomes: NodeOutcome[];
  findings: Finding[];
  exitCode: 0 | 3;
}

export async function runAudit(
  inventory: Inventory,
  bus: EventBus,
  options: ConnectOptions,
  signal?: AbortSignal,
): Promise<AuditResult> {
  bus.emit({
    type: 'run:started',
    command: 'audit',
    cluster: inventory.cluster,
    nodes: inventory.nodes.map((n) => n.name),
  });
  const { outcomes, sessions } = await preflightAll(inventory, bus, options, signal);
  try {
    const findings = sortFindings(outcomes.flatMap((o) => auditNode(o, inventory)));
    for (const finding of findings) bus.emit({ type: 'finding', finding });
    return { outcomes, findings, exitCode: auditExitCode(findings) };
  } finally {
    await Promise.allSettled([...sessions.values()].map((s) => s.close()));
  }
}

export function closeSessions(sessions: Iterable<RemoteSession>): Promise<unknown> {
  return Promise.allSettled([...sessions].map((s) => s.close()));
}
