import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { initialState } from '../wizard/state.js';
import { KEY, renderWizard } from './test-harness.js';

afterEach(cleanup);

describe('WelcomeScreen', () => {
  it('lists the four jobs, marks those the engine cannot run, and says what it found', async () => {
    const w = await renderWizard({ ...initialState(), welcome: { inventories: ['prod.yaml'], runs: [] } });
    const f = w.frame();
    expect(f).toContain('❯ First-time hardening');
    expect(f).toContain('Upgrade pg_auto_failover to SSL');
    expect(f).not.toContain('coming in a later version');
    expect(f).toContain('Certificate re-issue / rotation\n');
    expect(f).toContain('Audit (read-only)');
    expect(f).toContain('Inventory here: prod.yaml');
  });

  it('offers an interrupted run as a choice below the jobs', async () => {
    const w = await renderWizard({
      ...initialState(),
      welcome: {
        inventories: [],
        runs: [
          { runId: '20260101T000000Z-abcdef', inventory: '/inv.yaml', nodes: ['pg1', 'pg2'], interrupted: 1 },
        ],
      },
    });
    const f = w.frame();
    expect(f).toContain('  ! Interrupted run 20260101T000000Z-abcdef on pg1, pg2 · 1 step(s) cut off');
  });

  it('↓⏎ chooses the pg_auto_failover job, counted in the hardening flow; Esc, then ⏎ on hardening', async () => {
    const w = await renderWizard(initialState());
    await w.press(KEY.down, KEY.enter);
    expect(w.intents).toEqual([{ type: 'job:choose', job: 'pgautofailover' }]);
    expect(w.frame()).toContain('1/8 Inventory');
    await w.press(KEY.escape, KEY.up, KEY.enter);
    expect(w.intents.at(-1)).toEqual({ type: 'job:choose', job: 'harden' });
    expect(w.frame()).toContain('1/8 Inventory');
  });

  it('the rotation job goes to the inventory, counted in its own flow', async () => {
    const w = await renderWizard(initialState());
    await w.press(KEY.down, KEY.down, KEY.enter);
    expect(w.intents).toEqual([{ type: 'job:choose', job: 'rotate' }]);
    expect(w.frame()).toContain('1/7 Inventory');
  });

  it('q asks to leave; ? shows help', async () => {
    const w = await renderWizard(initialState());
    await w.press('?');
    expect(w.frame()).toMatch(/q or Esc leaves pgharden/);
    await w.press('?', 'q');
    expect(w.intents.map((i) => i.type)).toEqual(['help:toggle', 'help:toggle', 'back']);
  });

  it('Ctrl-C asks before quitting; n keeps the wizard', async () => {
    const w = await renderWizard(initialState());
    await w.press(KEY.ctrlC);
    expect(w.frame()).toContain('Quit pgharden? Nothing has been changed.');
    await w.press('n');
    expect(w.intents.map((i) => i.type)).toEqual(['interrupt:request', 'interrupt:cancel']);
    expect(w.frame()).not.toContain('Quit pgharden?');
  });
});

describe('keys typed ahead in one chunk', () => {
  it('↓↓⏎ in one write chooses the third job, not the first', async () => {
    const w = await renderWizard(initialState());
    await w.press(`${KEY.down}${KEY.down}${KEY.enter}`);
    expect(w.intents).toEqual([{ type: 'job:choose', job: 'rotate' }]);
  });
});
