// The step contract (STYLE §2.1): read-only `check`, pure `plan`, effectful `apply`, exact `undo`,
// `verify`. A step without a reverse is refused when it is defined, not when a run needs it
// (node-pg-migrate's rule: a migration that cannot go down fails at build time).
import { BugError } from './errors.js';
import type { RemoteSession } from '../remote/types.js';

/** One file a step writes. `before` is what plan() saw; the engine backs the path up before apply. */
export interface FileChange {
  path: string;
  owner: string;
  mode: number;
  before: string;
  after: string;
}

/** What a step will do on one node: plain JSON, so it can be written to plan.json and diffed. */
export interface PlannedChange {
  files: FileChange[];
  sql: string[];
  commands: string[];
  reload: boolean;
  restart: boolean;
}

export interface StepContext<F = unknown> {
  node: string;
  session: RemoteSession;
  runId: string;
  /** What discovery learned about this node; opaque to the engine. */
  facts: F;
  /** The run's signal in check/plan/apply/verify; rollback's own 60 s signal in undo. */
  signal: AbortSignal;
}

export interface ApplyContext<F = unknown> extends StepContext<F> {
  planned: PlannedChange;
}

export interface StepDefinition<F = unknown> {
  /** Stable `area.action` id: journals and plan.json refer to steps by it across versions. */
  id: string;
  title: string;
  /** Ids of steps that must come before this one (the planner orders by it). */
  after?: string[];
  /** false = already done on this node: skipped. Read-only. */
  check(ctx: StepContext<F>): boolean | Promise<boolean>;
  /** Pure: no I/O. What the plan screen shows is exactly what apply writes. */
  plan(ctx: StepContext<F>): PlannedChange;
  apply(ctx: ApplyContext<F>): Promise<void>;
  /**
   * Runs after the engine has restored this step's file backups. Must be safe whether apply ran
   * fully, partly or not at all: a command may have finished after the connection died.
   */
  undo(ctx: ApplyContext<F>): Promise<void>;
  /** true = the change is in effect. false fails the step (and rolls it back). */
  verify(ctx: ApplyContext<F>): boolean | Promise<boolean>;
}

export type Step<F = unknown> = Readonly<StepDefinition<F>>;

const ID = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9.-]*$/;

export function defineStep<F = unknown>(def: StepDefinition<F>): Step<F> {
  if (!ID.test(def.id))
    throw new BugError('step.bad-id', `step id "${def.id}" is not of the form area.action`);
  for (const fn of ['check', 'plan', 'apply', 'undo', 'verify'] as const) {
    if (typeof (def as Partial<StepDefinition<F>>)[fn] !== 'function') {
      throw new BugError(
        'step.incomplete',
        `step ${def.id} has no ${fn}()`,
        fn === 'undo'
          ? 'every step needs an exact reverse; a change that cannot be undone is refused'
          : undefined,
      );
    }
  }
  return Object.freeze({ ...def, after: def.after === undefined ? undefined : [...def.after] });
}

export function emptyPlan(): PlannedChange {
  return { files: [], sql: [], commands: [], reload: false, restart: false };
}
