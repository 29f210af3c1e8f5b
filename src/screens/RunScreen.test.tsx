import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { initialState, type WizardState } from '../wizard/state.js';
import { INVENTORY, PLAN } from '../wizard/test-fixtures.js';
import { KEY, renderWizard, tick } from './test-harness.js';

afterEach(cleanup);

const RUN = '20260101T000000Z-abcdef';
const withRun = (): WizardState => ({
  ...initialState(),
  welcome: {
    inventories: [],
    runs: [{ runId: RUN, inventory: '/inv.yaml', nodes: ['pg1', 'pg2'], interrupted: 1 }],
  },
});

/** A new screen binds its keys in an effect: on a loaded machine 50 ms after a key is not enough. */
const settle = (): Promise<void> => tick(250);

/** Polls the frame until it shows `text` (a loaded machine renders late), then lets effects run. */
async function shows(w: { frame: () => string }, text: string): Promise<void> {
  for (let i = 0; i < 200 && !w.frame().includes(text); i++) await tick(25);
  expect(w.frame()).toContain(text);
  await settle();
}

/** Welcome → ↓×4 → Enter: the interrupted run's screen. */
async function toRunScreen() {
  const w = await renderWizard(withRun());
  await w.press(KEY.down, KEY.down, KEY.down, KEY.down);
  await shows(w, `❯ ! Interrupted run ${RUN}`);
  await w.press(KEY.enter);
  await shows(w, '❯ Resume it');
  return w;
}

describe('RunScreen (an interrupted run from the welcome screen)', () => {
  it('↓ to the run and Enter shows it with Resume / Roll back / Back; Esc returns to the jobs', async () => {
    const w = await toRunScreen();
    expect(w.intents).toEqual([{ type: 'run:select', runId: RUN }]);
    const f = w.frame();
    expect(f).toContain('pgharden · Interrupted run');
    expect(f).toContain(`Interrupted run ${RUN}`);
    expect(f).toMatch(/inventory +\/inv\.yaml/);
    expect(f).toMatch(/nodes +pg1, pg2/);
    expect(f).toMatch(/cut off +1 step\(s\): undone from their backups first on resume/);
    expect(f).toContain('❯ Resume it');
    expect(f).toContain('Roll it back');
    await w.press('?');
    expect(w.frame()).toMatch(/steps cut off half way are undone first/);
    await w.press('?');
    await settle();
    await w.press(KEY.escape);
    await shows(w, 'What do you want to do?');
    // Back (the third choice) does the same.
    await w.press(KEY.down, KEY.down, KEY.down, KEY.down);
    await shows(w, `❯ ! Interrupted run ${RUN}`);
    await w.press(KEY.enter);
    await shows(w, '❯ Resume it');
    await w.press(KEY.down, KEY.down);
    await shows(w, '❯ Back');
    await w.press(KEY.enter);
    await shows(w, 'What do you want to do?');
    expect(w.intents.at(-1)).toEqual({ type: 'back' });
    expect(w.frame()).toContain('What do you want to do?');
  });

  it('Resume: busy while it connects and plans; the rest of the run is shown on the plan screen; Esc back', async () => {
    const w = await toRunScreen();
    await w.press(KEY.enter);
    expect(w.intents.at(-1)).toEqual({ type: 'run:resume' });
    expect(w.frame()).toContain(`Connecting to the nodes of run ${RUN} and planning what is left…`);
    await w.push({ type: 'run:planned', view: INVENTORY, auth: 'scram', certsDir: '/pki', plan: PLAN });
    await settle();
    const f = w.frame();
    expect(f).toContain('5/8 Plan');
    expect(f).toContain(`Rest of run ${RUN}: cut-off steps are undone first`);
    expect(f).toContain('Plan for lab (auth scram)');
    await w.press('a');
    expect(w.frame()).toContain('Apply this plan to 2 node(s) now?');
    await w.press('n');
    await settle();
    await w.press(KEY.escape);
    await shows(w, '❯ Resume it');
  });

  it('Resume refused — run locked by another process: the error and what to do, the choices stay', async () => {
    const w = await toRunScreen();
    await w.press(KEY.enter);
    await w.push({
      type: 'failed',
      error: {
        code: 'run.locked',
        message: 'cluster lab is locked by run 20260101T000001Z-bbbbbb (pid 4242 on op, since 2026-01-01)',
        hint: 'wait for that run to finish',
      },
    });
    const f = w.frame();
    expect(f).toContain('cluster lab is locked by run 20260101T000001Z-bbbbbb (pid 4242');
    expect(f).toContain('→ wait for that run to finish');
    expect(f).not.toContain('Connecting to the nodes');
    await settle();
    await w.press(KEY.enter); // tried again once the other run is gone
    expect(w.intents.filter((i) => i.type === 'run:resume')).toHaveLength(2);
  });

  it('Resume refused — journal unreadable: the error, and Esc leaves', async () => {
    const w = await toRunScreen();
    await w.press(KEY.enter);
    await w.push({
      type: 'failed',
      error: {
        code: 'run.unknown',
        message: `no journal for run ${RUN} at /state/runs/${RUN}/journal.jsonl`,
        hint: 'list runs under the state dir',
      },
    });
    expect(w.frame()).toContain(`no journal for run ${RUN}`);
    await settle();
    await w.press(KEY.escape, KEY.escape);
    await settle();
    expect(w.frame()).toContain('What do you want to do?');
  });

  it('Roll back asks first (n keeps the screen); y shows the undo live, then Done', async () => {
    const w = await toRunScreen();
    await w.press(KEY.down, KEY.enter);
    await settle();
    expect(w.frame()).toContain(`Roll back run ${RUN} on pg1, pg2 now?`);
    await w.press('n');
    await settle();
    expect(w.intents.some((i) => i.type === 'run:rollback')).toBe(false);
    await w.press(KEY.enter);
    await settle();
    await w.press('y');
    await settle();
    expect(w.intents.at(-1)).toEqual({ type: 'run:rollback' });
    expect(w.frame()).toContain('pgharden · Apply');
    expect(w.frame()).toContain(`Rolling back run ${RUN}: connecting…`);
    expect(w.frame()).toContain('Rolling back: it is not stopped half way');
    // Ctrl-C does not interrupt a roll back.
    await w.press(KEY.ctrlC);
    expect(w.frame()).not.toContain('?  ');
    expect(w.intents.some((i) => i.type === 'interrupt:request')).toBe(false);
    await w.push(
      {
        type: 'engine',
        event: {
          type: 'rollback:started',
          node: 'pg2',
          steps: ['tls.install-ca'],
          reason: `rollback ${RUN}`,
        },
      },
      { type: 'engine', event: { type: 'rollback:step', node: 'pg2', step: 'tls.install-ca', ok: true } },
      { type: 'engine', event: { type: 'rollback:done', node: 'pg2', ms: 12 } },
      { type: 'run:rolled-back', exitCode: 0, nodes: { pg2: ['tls.install-ca'] }, failed: [] },
    );
    expect(w.output()).toMatch(/↺ pg2 tls\.install-ca undone/);
    const f = w.frame();
    expect(f).toContain(`Roll back of run ${RUN}: rolled back`);
    expect(f).toContain('Enter: exit (0)');
  });

  it('Roll back refused before any change (lock or journal): says nothing was changed; Enter → Done', async () => {
    const w = await toRunScreen();
    await w.press(KEY.down, KEY.enter);
    await settle();
    await w.press('y');
    await settle();
    await w.push({
      type: 'apply:failed',
      error: { code: 'run.unknown', message: `no journal for run ${RUN}` },
      exitCode: 2,
    });
    expect(w.frame()).toContain('Stopped before any change: nothing was changed.');
    expect(w.frame()).toContain(`no journal for run ${RUN}`);
    await settle();
    await w.press(KEY.enter);
    await settle();
    expect(w.frame()).toContain('Enter: exit (2)');
  });
});
