// `pgharden rollback RUN_ID`: undo a run from its journal alone, with fresh sessions — after a
// finished run, or after a run whose own rollback could not reach a node. Every step that began
// and was not undone yet is undone (newest first per node); nodes go in reverse order of the run.
import { UsageError } from '../errors.js';
import type { EngineEvent } from '../events.js';
import { Journal, readJournal } from '../journal.js';
import type { Step } from '../step.js';
import { journaledSteps, toBegun } from './journaled-steps.js';
import { undoNode } from './undo.js';
import type { RemoteSession } from '../../remote/types.js';

export interface RollbackRunOptions {
  stateDir: string;
  runId: string;
  sessions: Record<string, RemoteSession>;
  /** Step definitions by id: their undo runs after the files are restored. Unknown ids: files only. */
  steps?: Record<string, Step<never>> | undefined;
  facts?: Record<string, unknown> | undefined;
  bus: { emit(event: EngineEvent): void };
  secrets?: Iterable<string> | undefined;
  afterRollback?: ((node: string, session: RemoteSession, signal: AbortSignal) => Promise<void>) | undefined;
  timeoutMs?: number | undefined;
  /**
   * Nodes undone after every other one (a pgpool pooler: restarted into its old config only once the
   * backends accept that config again, or its health check detaches them all).
   */
  last?: readonly string[] | undefined;
  /** Backups not to restore (left on the node as they are): the caller knows the new file is safer. */
  keep?: ((node: string, path: string) => boolean) | undefined;
}

export interface RollbackRunResult {
  runId: string;
  nodes: Record<string, string[]>;
  failed: string[];
}

export async function rollbackRun(options: RollbackRunOptions): Promise<RollbackRunResult> {
  const { runId, stateDir } = options;
  const state = await readJournal(stateDir, runId);
  if (state.rolledBack) throw new UsageError('run.rolled-back', `run ${runId} was already rolled back`);
  const order: string[] = [];
  for (const r of state.records) if (r.node !== undefined && !order.includes(r.node)) order.push(r.node);
  const missing = order.filter((n) => options.sessions[n] === undefined);
  if (missing.length > 0) {
    throw new UsageError('run.no-session', `rollback of ${runId} needs a session to ${missing.join(', ')}`);
  }
  const journal = await Journal.open(stateDir, runId, options.secrets);
  const signal = AbortSignal.timeout(options.timeoutMs ?? 60_000);
  const result: RollbackRunResult = { runId, nodes: {}, failed: [] };
  try {
    const last = options.last ?? [];
    const sequence = [...order].reverse();
    for (const node of [
      ...sequence.filter((n) => !last.includes(n)),
      ...sequence.filter((n) => last.includes(n)),
    ]) {
      const begun = toBegun(journaledSteps(state.records, node), {
        node,
        runId,
        facts: options.facts?.[node],
        steps: options.steps,
      });
      if (options.keep !== undefined) {
        for (const b of begun) b.backups = b.backups.filter((x) => !options.keep!(node, x.path));
      }
      result.nodes[node] = begun.map((b) => b.id).reverse();
      if (begun.length === 0) continue;
      const session = options.sessions[node] as RemoteSession;
      const err = await undoNode({
        node,
        session: () => Promise.resolve(session),
        begun,
        journal,
        emit: (e) => options.bus.emit(e),
        reason: `rollback ${runId}`,
        signal,
        afterRollback:
          options.afterRollback === undefined ? undefined : (s, sig) => options.afterRollback!(node, s, sig),
      });
      if (err !== undefined) result.failed.push(node);
    }
    if (result.failed.length === 0)
      await journal.write({ type: 'rollback:done', reason: `rollback ${runId}` });
  } finally {
    await journal.close();
  }
  return result;
}
