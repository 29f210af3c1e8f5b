// `pgharden resume RUN_ID` (SPEC §10): continue a run whose process died (SIGKILL, laptop, OOM) or
// whose own rollback failed, under the same run id and journal. What the journal records as done
// stays done (with its backups, so a failure now rolls the whole run back); a step that began and
// did not finish is first undone exactly as rollback would, then runs again from check().
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FailedError, PghardenError, UsageError } from '../errors.js';
import type { PlanDocument } from '../harden.js';
import { readJournal, type RunState } from '../journal.js';
import {
  runPlan,
  type NodePlan,
  type PhaseEntry,
  type RunPlanOptions,
  type RunResult,
  type RunResume,
} from '../runner.js';
import type { Step } from '../step.js';
import { journaledSteps, toBegun, type JournaledStep } from './journaled-steps.js';
import { undoNode } from './undo.js';

/** What `run:meta` recorded: enough to prepare the same hardening again. */
export interface RunMeta {
  inventory: string | undefined;
  auth: string | undefined;
  /** Journals written before resume existed lack these two: generate in the default PKI dir. */
  certs: 'generate' | 'import' | undefined;
  pkiDir: string | undefined;
}

export interface NodeResumeState {
  /** Finished and not undone: skipped now, rolled back with the rest on a failure. */
  kept: JournaledStep[];
  /** Steps check() found already done: skipped now. */
  skipped: string[];
  /** Began and did not finish, or a rollback did not finish undoing them: undone first, then run again. */
  interrupted: JournaledStep[];
}

export interface ResumeState {
  runId: string;
  meta: RunMeta;
  /** Nodes in the order they first appear in the journal. */
  order: string[];
  nodes: Record<string, NodeResumeState>;
  /** The schedule `run:begin` recorded; undefined when the run died before it began. */
  phases: { node: string; steps: string[] }[][] | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Pure: the journal of an unfinished run → what to keep, skip and undo. Refuses a finished or rolled-back run. */
export function resumeStateOf(
  run: Pick<RunState, 'runId' | 'records' | 'finished' | 'rolledBack'>,
): ResumeState {
  const { runId, records } = run;
  if (run.rolledBack) {
    throw new UsageError(
      'resume.rolled-back',
      `run ${runId} was rolled back: there is nothing to continue`,
      'run again with `pgharden apply`',
    );
  }
  if (run.finished) {
    throw new UsageError(
      'resume.finished',
      `run ${runId} finished: nothing to resume`,
      `\`pgharden verify\` checks it; \`pgharden rollback ${runId}\` undoes it`,
    );
  }
  const meta = records.find((r) => r.type === 'run:meta');
  const job = str(meta?.['job']);
  if (job !== undefined && job !== 'apply') {
    // resume re-plans first-time hardening; a rotation half done is rolled back and run again.
    throw new UsageError(
      'resume.not-apply',
      `run ${runId} is a ${job} run: resume continues first-time hardening (apply) runs only`,
      `\`pgharden rollback ${runId}\` undoes what it did; then run \`pgharden ${job}\` again`,
    );
  }
  const certs = str(meta?.['certs']);
  const begin = records.find((r) => r.type === 'run:begin');
  const order: string[] = [];
  for (const r of records) if (r.node !== undefined && !order.includes(r.node)) order.push(r.node);
  const nodes: Record<string, NodeResumeState> = {};
  for (const node of order) {
    const steps = journaledSteps(records, node);
    nodes[node] = {
      kept: steps.filter((s) => s.status === 'done'),
      skipped: skippedSteps(records, node),
      interrupted: steps.filter((s) => s.status !== 'done'),
    };
  }
  return {
    runId,
    meta: {
      inventory: str(meta?.['inventory']),
      auth: str(meta?.['auth']),
      certs: certs === 'generate' || certs === 'import' ? certs : undefined,
      pkiDir: str(meta?.['pkiDir']),
    },
    order,
    nodes,
    phases: Array.isArray(begin?.['phases']) ? (begin['phases'] as ResumeState['phases']) : undefined,
  };
}

/**
 * Steps check() skipped. A rollback on the node since (even a partial one) voids them: what check()
 * saw may have been undone, so they go through check() again (which is read-only and cheap).
 */
function skippedSteps(records: RunState['records'], node: string): string[] {
  let skipped: string[] = [];
  for (const r of records) {
    if (r.node !== node || r.step === undefined) continue;
    if (r.type === 'step:skipped') skipped.push(r.step);
    else if (r.type === 'undo:begin') skipped = [];
  }
  return skipped;
}

export async function readResumeState(stateDir: string, runId: string): Promise<ResumeState> {
  return resumeStateOf(await readJournal(stateDir, runId));
}

/**
 * Runs under `<stateDir>/runs` that `resume` would continue (neither done nor rolled back), newest
 * first: what the wizard's welcome screen offers. Directories that are not runs, or whose journal
 * is missing or finished, are left out.
 */
export async function listInterruptedRuns(stateDir: string): Promise<ResumeState[]> {
  const ids = await readdir(join(stateDir, 'runs')).catch(() => [] as string[]);
  const out: ResumeState[] = [];
  for (const id of ids.sort().reverse()) {
    try {
      out.push(await readResumeState(stateDir, id));
    } catch (err) {
      if (!PghardenError.is(err) || err.exitCode !== 2) throw err; // not a run, unknown, finished
    }
  }
  return out;
}

/** Refuses to continue when the cluster's schedule differs from the run's (a failover, a node added). */
export function assertSameSchedule(state: ResumeState, phases: readonly PhaseEntry[][]): void {
  const now = phases.map((ph) => ph.map((e) => ({ node: e.node, steps: e.steps.map((s) => s.id) })));
  const missing = state.order.filter((n) => !now.some((ph) => ph.some((e) => e.node === n)));
  const differs = state.phases !== undefined && JSON.stringify(state.phases) !== JSON.stringify(now);
  if (missing.length > 0 || differs) {
    throw new UsageError(
      'resume.plan-changed',
      missing.length > 0
        ? `run ${state.runId} changed ${missing.join(', ')}, which the plan no longer has`
        : `the cluster changed since run ${state.runId} began: its nodes' roles or steps differ now`,
      `roll it back with \`pgharden rollback ${state.runId}\`, then run \`pgharden apply\` again`,
    );
  }
}

/** The plan of what is left: steps the run finished or skipped are shown as done; interrupted ones run again. */
export function remainingPlan(plan: PlanDocument, state: ResumeState): PlanDocument {
  const nodes = plan.nodes.map((n) => {
    const st = state.nodes[n.node];
    const done = new Set([...(st?.kept ?? []).map((k) => k.id), ...(st?.skipped ?? [])]);
    const interrupted = new Set((st?.interrupted ?? []).map((k) => k.id));
    return {
      ...n,
      steps: n.steps.map((s) =>
        done.has(s.id)
          ? { id: s.id, title: s.title, needed: false }
          : interrupted.has(s.id)
            ? { ...s, needed: true }
            : s,
      ),
    };
  });
  const changes = nodes.flatMap((n) => n.steps.flatMap((s) => (s.needed && s.change ? [s.change] : [])));
  return {
    ...plan,
    nodes,
    reloads: changes.filter((c) => c.reload).length,
    restarts: changes.filter((c) => c.restart).length,
  };
}

export interface ResumeRunOptions extends Omit<RunPlanOptions, 'resume'> {
  state: ResumeState;
  /** Extra fields for the `run:resumed` record (e.g. an inventory path other than the run's). */
  note?: Record<string, unknown> | undefined;
}

/** Undo what the crash left half done, then run the rest of the plan under the same run id and journal. */
export async function resumeRun(options: ResumeRunOptions): Promise<RunResult> {
  const { state, note, ...run } = options;
  const { journal, bus, runId } = run;
  const plans = run.nodes as NodePlan[];
  const byName = new Map(plans.map((p) => [p.node, p]));
  const phases = (run.phases ?? plans.map((p) => [p.node])).map((ph) =>
    ph.map((e) => (typeof e === 'string' ? { node: e, steps: byName.get(e)?.steps ?? [] } : e)),
  );
  assertSameSchedule(state, phases);
  const stepsOf = (p: NodePlan): Record<string, Step<never>> =>
    Object.fromEntries(p.steps.map((s) => [s.id, s as Step<never>]));
  const interrupted = Object.fromEntries(
    state.order.map((n) => [n, (state.nodes[n]?.interrupted ?? []).map((s) => s.id)]),
  );
  await journal.write({ type: 'run:resumed', pid: process.pid, interrupted, ...note });

  // Newest node first, one at a time: like rollback RUN_ID. The runner has not started, so the
  // run's signal is not ours to stop an undo half way; it gets the rollback budget.
  const signal = AbortSignal.timeout(run.rollbackTimeoutMs ?? 60_000);
  const failed: string[] = [];
  let firstError: unknown;
  for (const node of [...state.order].reverse()) {
    const steps = state.nodes[node]?.interrupted ?? [];
    const plan = byName.get(node);
    if (steps.length === 0 || plan === undefined) continue;
    const err = await undoNode({
      node,
      session: () => Promise.resolve(plan.session),
      begun: toBegun(steps, { node, runId, facts: plan.facts, steps: stepsOf(plan) }),
      journal,
      emit: (e) => bus.emit(e),
      reason: `resume ${runId}: undoing what the interruption left half done`,
      signal,
      afterRollback: plan.afterRollback,
    });
    if (err !== undefined) {
      failed.push(node);
      firstError ??= err;
    }
  }
  if (failed.length > 0) {
    throw new FailedError(
      'resume.undo-failed',
      `could not undo the interrupted steps on ${failed.join(', ')}: ${(firstError as Error).message}`,
      `no step was run again; fix the connection, then \`pgharden resume ${runId}\` again or \`pgharden rollback ${runId}\` (journal: ${journal.path})`,
      { cause: firstError },
    );
  }

  const resume: RunResume = { begun: {}, done: {} };
  for (const node of state.order) {
    const st = state.nodes[node];
    const plan = byName.get(node);
    if (st === undefined || plan === undefined) continue;
    resume.begun[node] = toBegun(st.kept, { node, runId, facts: plan.facts, steps: stepsOf(plan) });
    resume.done[node] = [...st.kept.map((k) => k.id), ...st.skipped];
  }
  return runPlan({ ...run, resume });
}
