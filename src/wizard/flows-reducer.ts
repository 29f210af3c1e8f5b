// The reducer's part for two flows around the main job (SPEC §4): an interrupted run chosen on the
// welcome screen (resume through the plan screen, or roll back), and the plan screen's "save the
// answers for a headless replay". Pure; reducer.ts hands these actions here.
import type { Action, Screen, WizardState } from './state.js';

export type FlowAction = Extract<
  Action,
  {
    type:
      | 'run:select'
      | 'run:resume'
      | 'run:rollback'
      | 'run:planned'
      | 'run:rolled-back'
      | 'save:ask'
      | 'save:write'
      | 'save:close'
      | 'save:suggested'
      | 'save:done';
  }
>;

function goTo(s: WizardState, screen: Screen): WizardState {
  return { ...s, screen, history: [...s.history, s.screen], error: undefined, help: false, busy: undefined };
}

/** A save dialog (directory field or its result) has the keyboard. */
export function saveOpen(s: WizardState): boolean {
  return s.save?.asking !== undefined || s.save?.saved !== undefined;
}

/** A roll back chosen on the run screen is running: it is not stopped half way (Ctrl-C waits). */
export function rollingBack(s: WizardState): boolean {
  return s.runAction?.kind === 'rollback' && s.screen === 'apply' && s.apply.status === 'running';
}

export function reduceFlows(s: WizardState, a: FlowAction): WizardState {
  switch (a.type) {
    case 'run:select':
      if (s.screen !== 'welcome' || !s.welcome.runs.some((r) => r.runId === a.runId)) return s;
      return { ...goTo(s, 'run'), runAction: { runId: a.runId } };
    case 'run:resume':
      if (s.screen !== 'run' || s.runAction === undefined || s.busy !== undefined) return s;
      return {
        ...s,
        error: undefined,
        runAction: { ...s.runAction, kind: 'resume' },
        busy: `Connecting to the nodes of run ${s.runAction.runId} and planning what is left…`,
      };
    case 'run:rollback':
      if (s.screen !== 'run' || s.runAction === undefined || s.busy !== undefined) return s;
      return {
        ...goTo(s, 'apply'),
        runAction: { ...s.runAction, kind: 'rollback' },
        apply: { status: 'running', done: [], live: {}, runId: s.runAction.runId },
      };
    case 'run:planned':
      if (s.screen !== 'run' || s.runAction?.kind !== 'resume') return s;
      return {
        ...goTo(s, 'plan'),
        job: 'harden',
        auth: a.auth,
        plan: a.plan,
        inventory: { ...s.inventory, view: a.view },
        certs: { dir: a.certsDir, items: [] },
      };
    case 'run:rolled-back':
      if (s.runAction?.kind !== 'rollback') return s;
      return {
        ...goTo(s, 'done'),
        apply: {
          ...s.apply,
          live: {},
          status: a.failed.length > 0 ? 'failed' : 'done',
          exitCode: a.exitCode,
        },
      };
    case 'save:ask':
      return s.screen === 'plan' && s.plan !== undefined && !saveOpen(s) ? { ...s, error: undefined } : s;
    case 'save:suggested':
      return s.screen === 'plan' ? { ...s, save: { asking: { dir: a.dir } } } : s;
    case 'save:write':
      return s.save?.asking === undefined ? s : { ...s, error: undefined, busy: `Saving to ${a.dir}…` };
    case 'save:done':
      return { ...s, busy: undefined, save: { saved: a.saved } };
    case 'save:close':
      return { ...s, error: undefined, save: undefined };
  }
}
