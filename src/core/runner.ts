// The engine: runs each node's steps in order, phase by phase, with the journal written before
// every action and backups taken before every file change. On a failure or an abort every node
// this run changed is rolled back (each node undoes its own steps, newest first; nodes of the
// current phase first, then earlier phases), so exit 4 / 130 means the cluster is as it was: a
// primary left hardened behind an unhardened standby could break replication.
// The caller holds the cluster's run lock (run-lock.ts) around runPlan and rollbackRun.
// `resume RUN_ID` (engine/resume.ts) runs the same plan again with `resume`: what the earlier part
// of the run finished is skipped but stays part of the run (its backups, its rollback).
import { backupFiles, type BackupRecord } from './backup.js';
import { BugError, FailedError, InterruptedError, RolledBackError, toPghardenError } from './errors.js';
import type { EngineEvent } from './events.js';
import type { Journal } from './journal.js';
import type { ApplyContext, Step, StepContext } from './step.js';
import { pauseBeforeApply } from './engine/pause-point.js';
import { isDisconnect, undoNode, type BegunStep } from './engine/undo.js';
import type { RemoteSession } from '../remote/types.js';

export interface NodePlan<F = unknown> {
  node: string;
  session: RemoteSession;
  facts: F;
  /** Already ordered (the planner resolves `after`). */
  steps: Step<F>[];
  /** A fresh session when the first one dropped; without it, a dropped node is left to `rollback RUN_ID`. */
  reconnect?: (() => Promise<RemoteSession>) | undefined;
  /** After undoing this node's steps: reload, then check PostgreSQL answers (SPEC §10). */
  afterRollback?: ((session: RemoteSession, signal: AbortSignal) => Promise<void>) | undefined;
}

export interface RunPlanOptions {
  runId: string;
  nodes: NodePlan<never>[] | NodePlan[];
  /**
   * Phases run one after the other, the entries of a phase in parallel. An entry is a node name (all
   * of its steps: [['pg1'], ['pg2', 'pg3']] = primary first, then the standbys) or `{ node, steps }`
   * so a node can come back in a later phase (SPEC §7.2: hba on every node only after every
   * standby replicates over TLS). Default: one node per phase.
   */
  phases?: (string | PhaseEntry)[][] | undefined;
  journal: Journal;
  bus: { emit(event: EngineEvent): void };
  signal: AbortSignal;
  /** Budget for the whole rollback, on its own signal (the run's may be aborted already). */
  rollbackTimeoutMs?: number | undefined;
  /** Continuing an interrupted run under its id (the caller journals `run:resumed`, not `run:begin`). */
  resume?: RunResume | undefined;
  /**
   * What each step's check() answered while the plan was made, by node and step id, when that was
   * moments ago in this process (headless `apply --yes`): the run does exactly what the plan showed
   * and does not read every node again (a round trip per step). Absent — after a confirmation that
   * may have taken minutes, or on resume — every check() runs again before its step.
   */
  decided?: ReadonlyMap<string, ReadonlyMap<string, boolean>> | undefined;
}

/**
 * What the earlier part of a run left, per node. `begun`: steps that finished and were not undone,
 * with the backups they took: a failure now rolls them back too, and a file they backed up is not
 * backed up again (the first backup holds the original). `done`: step ids not to run again (those
 * of `begun`, and those check() skipped).
 */
export interface RunResume {
  begun: Record<string, BegunStep[]>;
  done: Record<string, string[]>;
}

/** Some of a node's steps, in a phase; `steps` ⊆ the node's plan, in the order given. */
export interface PhaseEntry {
  node: string;
  steps: Step[];
}

export interface RunResult {
  runId: string;
  nodes: Record<string, { done: string[]; skipped: string[] }>;
}

interface NodeState {
  plan: NodePlan;
  session: RemoteSession;
  dropped: boolean;
  begun: BegunStep[];
  done: string[];
  skipped: string[];
  /** Resume: ids the earlier part of the run finished or skipped. */
  doneBefore: ReadonlySet<string>;
}

interface Stop {
  failure?: { node: string; step: string; error: unknown } | undefined;
}

export async function runPlan(options: RunPlanOptions): Promise<RunResult> {
  const { journal, bus, signal, runId } = options;
  const plans = options.nodes as NodePlan[];
  const byName = new Map(plans.map((p) => [p.node, p]));
  const phases = normalizePhases(options.phases ?? plans.map((p) => [p.node]), byName);
  if (options.resume === undefined) {
    await journal.write({
      type: 'run:begin',
      nodes: plans.map((p) => p.node),
      phases: phases.map((ph) => ph.map((e) => ({ node: e.node, steps: e.steps.map((st) => st.id) }))),
    });
  }
  const states = new Map<string, NodeState>();
  const stateOf = (node: string): NodeState => {
    let st = states.get(node);
    if (st === undefined) {
      st = newState(byName.get(node) as NodePlan, options.resume);
      states.set(node, st);
    }
    return st;
  };
  // Per phase, the nodes that began a step in it: this process, or the run before a resume.
  const touched: NodeState[][] = phases.map((phase) =>
    phase
      .filter((e) => (options.resume?.begun[e.node] ?? []).some((b) => e.steps.some((st) => st.id === b.id)))
      .map((e) => stateOf(e.node)),
  );
  const stop: Stop = {};
  for (const [i, phase] of phases.entries()) {
    if (stop.failure !== undefined || signal.aborted) break;
    const running = phase.map((e) => ({ state: stateOf(e.node), steps: e.steps }));
    for (const r of running) if (!touched[i]?.includes(r.state)) touched[i]?.push(r.state);
    await Promise.all(running.map((r) => runNode(r.state, r.steps, options, stop)));
  }
  if (stop.failure === undefined && !signal.aborted) {
    await journal.write({ type: 'run:done' });
    const nodes: RunResult['nodes'] = {};
    for (const s of states.values()) nodes[s.plan.node] = { done: s.done, skipped: s.skipped };
    return { runId, nodes };
  }
  const reason =
    stop.failure === undefined
      ? 'interrupted'
      : `${stop.failure.node}: ${stop.failure.step} failed: ${toPghardenError(stop.failure.error).message}`;
  const rbSignal = AbortSignal.timeout(options.rollbackTimeoutMs ?? 60_000);
  const failedNodes: string[] = [];
  let firstRollbackError: unknown;
  // Newest phase first; a node that ran in several phases is undone once, at its latest phase,
  // newest step first.
  const undone = new Set<NodeState>();
  for (const phaseStates of [...touched].reverse()) {
    const pending = phaseStates.filter((s) => !undone.has(s));
    for (const s of pending) undone.add(s);
    const results = await Promise.all(
      pending.map((s) =>
        undoNode({
          node: s.plan.node,
          session: () => sessionOf(s),
          begun: s.begun,
          journal,
          emit: (e) => bus.emit(e),
          reason,
          signal: rbSignal,
          afterRollback: s.plan.afterRollback,
        }),
      ),
    );
    results.forEach((r, i) => {
      if (r === undefined) return;
      failedNodes.push(pending[i]?.plan.node ?? '?');
      firstRollbackError ??= r;
    });
  }
  const hint = `journal: ${journal.path}`;
  if (failedNodes.length > 0) {
    // Neither 4 nor 130: the cluster is *not* as it was. Exit 1 with the way out.
    throw new FailedError(
      'rollback.failed',
      `${reason}; rolling back ${failedNodes.join(', ')} failed: ${toPghardenError(firstRollbackError).message}`,
      `fix the connection, then run \`pgharden rollback ${runId}\` (${hint})`,
      { cause: firstRollbackError },
    );
  }
  await journal.write({ type: 'rollback:done', reason });
  if (stop.failure === undefined) {
    throw new InterruptedError(
      'run.interrupted',
      'stopped by the operator; every changed node was rolled back',
      hint,
      {
        cause: signal.reason,
      },
    );
  }
  throw new RolledBackError('run.rolled-back', `${reason}; every changed node was rolled back`, hint, {
    cause: stop.failure.error,
  });
}

/**
 * Node names → all of that node's steps. Every node of the plan must run every one of its steps
 * exactly once across the phases, and at most once per phase.
 */
function normalizePhases(phases: (string | PhaseEntry)[][], byName: Map<string, NodePlan>): PhaseEntry[][] {
  const bad = (why: string): BugError => new BugError('run.bad-phases', `phases do not fit the plan: ${why}`);
  const out = phases.map((phase) => {
    const entries = phase.map((e) => {
      const plan = byName.get(typeof e === 'string' ? e : e.node);
      if (plan === undefined) throw bad(`unknown node ${typeof e === 'string' ? e : e.node}`);
      return typeof e === 'string' ? { node: e, steps: plan.steps } : e;
    });
    if (new Set(entries.map((e) => e.node)).size !== entries.length) throw bad('a node twice in one phase');
    return entries;
  });
  for (const plan of byName.values()) {
    const run = out
      .flat()
      .filter((e) => e.node === plan.node)
      .flatMap((e) => e.steps);
    const same =
      run.length === plan.steps.length && plan.steps.every((st) => run.filter((r) => r === st).length === 1);
    if (!same) throw bad(`${plan.node} must run each of its ${plan.steps.length} steps exactly once`);
  }
  return out;
}

function newState(plan: NodePlan, resume: RunResume | undefined): NodeState {
  const begun = [...(resume?.begun[plan.node] ?? [])];
  const doneBefore = new Set(resume?.done[plan.node] ?? []);
  const s: NodeState = {
    plan,
    session: plan.session,
    dropped: false,
    begun,
    // The result covers the whole run, both parts.
    done: plan.steps.filter((st) => begun.some((b) => b.id === st.id)).map((st) => st.id),
    skipped: plan.steps
      .filter((st) => doneBefore.has(st.id) && !begun.some((b) => b.id === st.id))
      .map((st) => st.id),
    doneBefore,
  };
  watch(s);
  return s;
}

function watch(s: NodeState): void {
  const session = s.session;
  void session.closed.then((e) => {
    if (e !== undefined && s.session === session) s.dropped = true;
  });
}

async function sessionOf(s: NodeState): Promise<RemoteSession> {
  if (!s.dropped || s.plan.reconnect === undefined) return s.session;
  s.session = await s.plan.reconnect();
  s.dropped = false;
  watch(s);
  return s.session;
}

/** Runs one node's steps; a failure is recorded in `stop` (so the other nodes stop after their in-flight step). */
async function runNode(
  s: NodeState,
  steps: readonly Step[],
  options: RunPlanOptions,
  stop: Stop,
): Promise<void> {
  const { journal, bus, signal, runId } = options;
  const node = s.plan.node;
  for (const step of steps) {
    // Between steps: a started step completes or is undone, a new one does not start.
    if (stop.failure !== undefined || signal.aborted) return;
    if (s.doneBefore.has(step.id)) {
      bus.emit({ type: 'step:done', node, step: step.id, ms: 0, skipped: 'done-before-resume' });
      continue;
    }
    const t0 = Date.now();
    const base: StepContext = { node, session: s.session, runId, facts: s.plan.facts, signal };
    let begun: BegunStep | undefined;
    try {
      bus.emit({ type: 'step:started', node, step: step.id });
      const decided = options.resume === undefined ? options.decided?.get(node)?.get(step.id) : undefined;
      if (!(decided ?? (await step.check(base)))) {
        await journal.write({ type: 'step:skipped', node, step: step.id });
        s.skipped.push(step.id);
        bus.emit({ type: 'step:done', node, step: step.id, ms: Date.now() - t0, skipped: 'already-done' });
        continue;
      }
      const planned = step.plan(base);
      const ctx: ApplyContext = { ...base, planned };
      // The journal keeps paths and flags, not contents: a file or SQL text may hold a secret.
      await journal.write({
        type: 'step:begin',
        node,
        step: step.id,
        files: planned.files.map((f) => f.path),
        reload: planned.reload,
        restart: planned.restart,
      });
      begun = {
        step: step,
        id: step.id,
        ctx: { node, runId, facts: s.plan.facts, planned },
        backups: [],
      };
      s.begun.push(begun);
      // One backup per file per run: the first holds the original, and undo always goes back to it.
      const fresh = planned.files.filter(
        (f, i) =>
          planned.files.findIndex((g) => g.path === f.path) === i &&
          !s.begun.some((b) => b.backups.some((x) => x.path === f.path)),
      );
      // One remote command per owner (backups run as the file's owner).
      for (const owner of new Set(fresh.map((f) => f.owner))) {
        const paths = fresh.filter((f) => f.owner === owner).map((f) => f.path);
        for (const path of paths) await journal.write({ type: 'backup:begin', node, step: step.id, path });
        await backupFiles(s.session, paths, {
          runId,
          asUser: owner,
          signal,
          onRecord: async (b: BackupRecord) => {
            begun?.backups.push(b);
            await journal.write({ type: 'backup', node, step: step.id, backup: b });
          },
        });
      }
      // Test-only (fault matrix), inert unless PGHARDEN_TEST_PAUSE_AT names this node and step.
      await pauseBeforeApply(node, step.id, (e) => bus.emit(e), signal);
      await journal.write({ type: 'step:apply', node, step: step.id });
      await step.apply(ctx);
      await journal.write({ type: 'step:applied', node, step: step.id });
      if (!(await step.verify(ctx))) {
        throw new FailedError('step.verify-failed', `${node}: ${step.id} did not take effect`);
      }
      await journal.write({ type: 'step:done', node, step: step.id, ms: Date.now() - t0 });
      s.done.push(step.id);
      bus.emit({ type: 'step:done', node, step: step.id, ms: Date.now() - t0 });
    } catch (err) {
      const e = toPghardenError(err);
      if (isDisconnect(e) || s.dropped) {
        s.dropped = true;
        bus.emit({ type: 'node:disconnected', node, error: { code: e.code, message: e.message } });
      }
      // An abort that lands inside a step is an interruption, not a failure of the step (exit 130).
      if (!signal.aborted) stop.failure ??= { node, step: step.id, error: err };
      await journal.write({
        type: 'step:failed',
        node,
        step: step.id,
        error: { code: e.code, message: e.message },
      });
      bus.emit({ type: 'step:failed', node, step: step.id, error: { message: e.message, hint: e.hint } });
      return;
    }
  }
}

export { rollbackRun, type RollbackRunOptions, type RollbackRunResult } from './engine/rollback-run.js';
