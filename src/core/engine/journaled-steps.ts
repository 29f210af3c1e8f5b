// What the journal says about each step of a node that began and was not undone since: the paths
// it announced, its backups, and how far it got. `rollback RUN_ID` undoes all of them; `resume
// RUN_ID` keeps the finished ones and undoes the rest before running them again.
import type { BackupRecord } from '../backup.js';
import type { JournalRecord } from '../journal.js';
import { emptyPlan, type Step } from '../step.js';
import type { BegunStep } from './undo.js';

export interface JournaledStep {
  id: string;
  files: string[];
  reload: boolean;
  restart: boolean;
  /** Backups this step took (the first step to touch a file backs it up, once per run). */
  backups: BackupRecord[];
  /**
   * done: applied and verified. begun: in flight when the process died, or failed. undoing: a
   * rollback started on it and did not finish (its files may be half restored).
   */
  status: 'begun' | 'done' | 'undoing';
}

/** The node's steps that began and were not undone since, in the order they began. */
export function journaledSteps(records: readonly JournalRecord[], node: string): JournaledStep[] {
  const steps: JournaledStep[] = [];
  const last = (id: string): JournaledStep | undefined => steps.findLast((s) => s.id === id);
  for (const r of records) {
    if (r.node !== node || r.step === undefined) continue;
    switch (r.type) {
      case 'step:begin':
        steps.push({
          id: r.step,
          files: Array.isArray(r['files']) ? (r['files'] as string[]) : [],
          reload: r['reload'] === true,
          restart: r['restart'] === true,
          backups: [],
          status: 'begun',
        });
        break;
      case 'backup':
        if (r.backup !== undefined) last(r.step)?.backups.push(r.backup);
        break;
      case 'step:done': {
        const s = last(r.step);
        if (s !== undefined) s.status = 'done';
        break;
      }
      case 'undo:begin': {
        const s = last(r.step);
        if (s !== undefined) s.status = 'undoing';
        break;
      }
      case 'undo:done': {
        const i = steps.findLastIndex((s) => s.id === r.step);
        if (i >= 0) steps.splice(i, 1);
        break;
      }
      default:
        break;
    }
  }
  return steps;
}

/**
 * The engine's view of journaled steps, for undoNode and the runner. Only paths are journaled, so
 * undo sees the files' paths, not their contents; `steps` gives each id its undo (unknown: files only).
 */
export function toBegun(
  journaled: readonly JournaledStep[],
  context: { node: string; runId: string; facts: unknown; steps?: Record<string, Step<never>> | undefined },
): BegunStep[] {
  return journaled.map((j) => {
    const planned = emptyPlan();
    planned.files = j.files.map((path) => ({ path, owner: '', mode: 0, before: '', after: '' }));
    planned.reload = j.reload;
    planned.restart = j.restart;
    return {
      id: j.id,
      step: context.steps?.[j.id],
      ctx: { node: context.node, runId: context.runId, facts: context.facts, planned },
      backups: [...j.backups],
    };
  });
}
