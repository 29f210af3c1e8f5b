// Undoing one node: the steps it began, newest first. For each step the engine first restores the
// files it backed up (newest first), then calls step.undo for what is not a file (SQL, reload).
// The step that failed is undone too: a command may have finished on the node after the
// connection died (LAB-NOTES, SSH faults), so "failed" never means "did nothing".
import { removeBackup, restoreFile, type BackupRecord } from '../backup.js';
import { toPghardenError, type PghardenError } from '../errors.js';
import type { EngineEvent } from '../events.js';
import type { Journal } from '../journal.js';
import type { ApplyContext, Step } from '../step.js';
import type { RemoteSession } from '../../remote/types.js';

/** A step that began on a node (done, failed, or in flight when the run stopped). */
export interface BegunStep {
  step: Step<never> | undefined;
  id: string;
  ctx: Omit<ApplyContext<unknown>, 'signal' | 'session'>;
  backups: BackupRecord[];
}

export interface UndoNodeInput {
  node: string;
  /** Called for a session; returns a fresh one when the old one dropped (if the caller can). */
  session: () => Promise<RemoteSession>;
  begun: BegunStep[];
  journal: Journal;
  emit: (e: EngineEvent) => void;
  reason: string;
  signal: AbortSignal;
  /** Reload and check PostgreSQL answers; runs once every step is undone. */
  afterRollback?: ((session: RemoteSession, signal: AbortSignal) => Promise<void>) | undefined;
}

export function isDisconnect(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'ssh.disconnected' || code === 'ssh.closed';
}

/** Resolves with undefined when the node is back as it was, or with what went wrong. */
export async function undoNode(input: UndoNodeInput): Promise<PghardenError | undefined> {
  const { node, journal, emit, signal } = input;
  const t0 = Date.now();
  const steps = [...input.begun].reverse();
  await journal.write({ type: 'rollback:begin', node, steps: steps.map((s) => s.id), reason: input.reason });
  emit({ type: 'rollback:started', node, steps: steps.map((s) => s.id), reason: input.reason });
  let firstError: PghardenError | undefined;
  const fail = (err: unknown): void => {
    const e = toPghardenError(err);
    firstError ??= e;
    if (isDisconnect(e))
      emit({ type: 'node:disconnected', node, error: { code: e.code, message: e.message } });
  };
  // Keep going after a failure: every file we can still put back is one less to fix by hand.
  for (const s of steps) {
    try {
      await journal.write({ type: 'undo:begin', node, step: s.id });
      const session = await input.session();
      for (const b of [...s.backups].reverse()) {
        await journal.write({ type: 'restore', node, step: s.id, backup: b });
        await restoreFile(session, b, { signal });
      }
      if (s.step !== undefined) await s.step.undo({ ...s.ctx, session, signal } as never);
      await journal.write({ type: 'undo:done', node, step: s.id });
      emit({ type: 'rollback:step', node, step: s.id, ok: true });
    } catch (err) {
      fail(err);
      const e = toPghardenError(err);
      await journal.write({
        type: 'undo:failed',
        node,
        step: s.id,
        error: { code: e.code, message: e.message },
      });
      emit({ type: 'rollback:step', node, step: s.id, ok: false });
    }
  }
  if (firstError === undefined && input.afterRollback !== undefined) {
    try {
      await input.afterRollback(await input.session(), signal);
    } catch (err) {
      fail(err);
    }
  }
  if (firstError !== undefined) {
    const e: PghardenError = firstError;
    await journal.write({ type: 'rollback:failed', node, error: { code: e.code, message: e.message } });
    emit({ type: 'rollback:failed', node, error: { code: e.code, message: e.message, hint: e.hint } });
    return e;
  }
  // Backups go once the node is verifiably back: the restored file is the original (sha256 checked).
  // A failed rollback keeps them, and so does a successful run (for `rollback RUN_ID`).
  try {
    const session = await input.session();
    for (const s of steps) for (const b of s.backups) await removeBackup(session, b, { signal });
  } catch (err) {
    emit({ type: 'warning', node, message: `could not remove backups: ${toPghardenError(err).message}` });
  }
  await journal.write({ type: 'rollback:done', node });
  emit({ type: 'rollback:done', node, ms: Date.now() - t0 });
  return undefined;
}
