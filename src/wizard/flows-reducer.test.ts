import { describe, expect, it } from 'vitest';
import { canGoBack, reduce } from './reducer.js';
import { initialState, type Action, type WizardState } from './state.js';
import { INVENTORY, PLAN } from './test-fixtures.js';

const RUN = '20260101T000000Z-abcdef';
const welcome: WizardState = {
  ...initialState(),
  welcome: {
    inventories: [],
    runs: [{ runId: RUN, inventory: '/inv.yaml', nodes: ['pg1'], interrupted: 1 }],
  },
};
const after = (actions: Action[], from: WizardState = welcome): WizardState => actions.reduce(reduce, from);
const NOTHING_NEEDED = {
  ...PLAN,
  nodes: PLAN.nodes.map((n) => ({ ...n, steps: n.steps.map((s) => ({ ...s, needed: false })) })),
};

describe('reducer: interrupted runs and saved answers', () => {
  it('only a listed run can be chosen, and only on the welcome screen', () => {
    expect(after([{ type: 'run:select', runId: '20260101T000000Z-ffffff' }]).screen).toBe('welcome');
    expect(after([{ type: 'run:select', runId: RUN }])).toMatchObject({
      screen: 'run',
      runAction: { runId: RUN },
    });
    const onInventory = after([{ type: 'job:choose', job: 'harden' }]);
    expect(reduce(onInventory, { type: 'run:select', runId: RUN })).toBe(onInventory);
  });

  it('resume → plan of what is left; a resumed run goes through apply even with no step left; Esc back to the run', () => {
    const planned = after([
      { type: 'run:select', runId: RUN },
      { type: 'run:resume' },
      { type: 'run:planned', view: INVENTORY, auth: 'scram', certsDir: '/pki', plan: NOTHING_NEEDED },
    ]);
    expect(planned).toMatchObject({ screen: 'plan', job: 'harden', auth: 'scram', busy: undefined });
    expect(reduce(planned, { type: 'plan:confirm' }).screen).toBe('apply');
    const back = reduce(planned, { type: 'back' });
    expect(back).toMatchObject({
      screen: 'run',
      plan: undefined,
      runAction: { runId: RUN },
    });
    expect(back.runAction?.kind).toBeUndefined();
    expect(reduce(back, { type: 'back' })).toMatchObject({ screen: 'welcome', runAction: undefined });
  });

  it('a plan that arrives after the operator left the run screen is dropped', () => {
    const left = after([
      { type: 'run:select', runId: RUN },
      { type: 'run:resume' },
      { type: 'failed', error: { code: 'x', message: 'x' } },
      { type: 'back' }, // dismisses the error
      { type: 'back' },
    ]);
    expect(left.screen).toBe('welcome');
    const late = reduce(left, {
      type: 'run:planned',
      view: INVENTORY,
      auth: 'scram',
      certsDir: '/pki',
      plan: PLAN,
    });
    expect(late.screen).toBe('welcome');
  });

  it('roll back: apply screen running, Ctrl-C not taken; the result ends on Done with its exit code', () => {
    const rolling = after([{ type: 'run:select', runId: RUN }, { type: 'run:rollback' }]);
    expect(rolling).toMatchObject({ screen: 'apply', apply: { status: 'running', runId: RUN } });
    expect(reduce(rolling, { type: 'interrupt:request' }).quitConfirm).toBe(false);
    expect(canGoBack(rolling)).toBe(false);
    const done = reduce(rolling, { type: 'run:rolled-back', exitCode: 1, nodes: {}, failed: ['pg1'] });
    expect(done).toMatchObject({ screen: 'done', apply: { status: 'failed', exitCode: 1 } });
  });

  it('save: only from the plan screen; while the dialog is open Esc/q do not leave the plan', () => {
    const toPlan: Action[] = [
      { type: 'run:select', runId: RUN },
      { type: 'run:resume' },
      { type: 'run:planned', view: INVENTORY, auth: 'scram', certsDir: '/pki', plan: PLAN },
    ];
    expect(reduce(welcome, { type: 'save:suggested', dir: '/d' }).save).toBeUndefined();
    const asking = after([...toPlan, { type: 'save:ask' }, { type: 'save:suggested', dir: '/d' }]);
    expect(asking.save).toEqual({ asking: { dir: '/d' } });
    expect(canGoBack(asking)).toBe(false);
    expect(reduce(asking, { type: 'back' }).screen).toBe('plan');
    const writing = reduce(asking, { type: 'save:write', dir: '/e' });
    expect(writing.busy).toBe('Saving to /e…');
    const saved = reduce(writing, {
      type: 'save:done',
      saved: { dir: '/e', inventory: '/e/inventory.yaml', plan: '/e/plan.json', command: 'c', env: [] },
    });
    expect(canGoBack(saved)).toBe(false);
    const closed = reduce(saved, { type: 'save:close' });
    expect(closed.save).toBeUndefined();
    expect(canGoBack(closed)).toBe(true);
  });
});
