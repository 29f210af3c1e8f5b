import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { KEY, renderWizard, stateAfter, tick, TO_PLAN } from './test-harness.js';

/** The field mounts its key handler in an effect: give it time on a loaded machine before typing. */
const fieldReady = (): Promise<void> => tick(200);

afterEach(cleanup);

const SAVED = {
  dir: '/state/saved/lab-1',
  inventory: '/state/saved/lab-1/inventory.yaml',
  plan: '/state/saved/lab-1/plan.json',
  command: 'pgharden apply -i /state/saved/lab-1/inventory.yaml --plan /state/saved/lab-1/plan.json --yes',
  env: ['PGHARDEN_PASSWORD_APP'],
};

describe('plan screen: save the answers for a headless replay', () => {
  it('s (in the footer and ? help) asks where, Enter saves there, then the exact command and what it needs', async () => {
    const w = await renderWizard(stateAfter(TO_PLAN));
    expect(w.frame()).toContain('s: save');
    await w.press('?');
    expect(w.frame()).toMatch(/s saves inventory\.yaml \+ plan\.json/);
    await w.press('?', 's');
    expect(w.intents.at(-1)).toEqual({ type: 'save:ask' });
    await w.push({ type: 'save:suggested', dir: '/state/saved/lab-1' });
    await fieldReady();
    expect(w.frame()).toContain('Save inventory.yaml and plan.json for a headless replay into');
    expect(w.frame()).toContain('/state/saved/lab-1');
    // The plan's keys are off while the field has them: a typed "a" does not start an apply.
    await w.press(KEY.enter);
    expect(w.intents.at(-1)).toEqual({ type: 'save:write', dir: '/state/saved/lab-1' });
    await w.push({ type: 'save:done', saved: SAVED });
    await fieldReady();
    const f = w.frame();
    expect(f).toContain('Saved to /state/saved/lab-1 (0700)');
    expect(f.replace(/\n│? */g, ' ')).toContain(SAVED.command);
    expect(f).toContain('PGHARDEN_PASSWORD_APP');
    await w.press(KEY.enter);
    expect(w.intents.at(-1)).toEqual({ type: 'save:close' });
    expect(w.frame()).not.toContain('Saved to');
    expect(w.frame()).toContain('a: apply…');
  });

  it('host keys accepted for this run only: the saved dialog says the replay refuses them', async () => {
    const w = await renderWizard(stateAfter(TO_PLAN));
    await w.press('s');
    await w.push(
      { type: 'save:suggested', dir: '/state/saved/lab-1' },
      { type: 'save:done', saved: { ...SAVED, env: [], hostKeysOnce: ['pg1', 'pg2'] } },
    );
    const f = w.frame().replace(/\n│? */g, ' ');
    expect(f).toContain('It needs no password from you.');
    expect(f).toMatch(/Host keys of pg1, pg2 were accepted for this run only: the replay refuses them/);
    expect(f).toContain('--accept-new-host-keys');
  });

  it('Esc cancels; a refused directory shows why and keeps the field', async () => {
    const w = await renderWizard(stateAfter(TO_PLAN));
    await w.press('s');
    await w.push({ type: 'save:suggested', dir: '/state/saved/lab-1' });
    await fieldReady();
    await w.press('a');
    expect(w.frame()).not.toContain('Apply this plan');
    await w.press(KEY.enter);
    await w.push({
      type: 'failed',
      error: {
        code: 'save.exists',
        message: '/state/saved/lab-1a/inventory.yaml exists already',
        hint: 'choose another directory; nothing was written',
      },
    });
    expect(w.frame()).toContain('exists already');
    expect(w.frame()).toContain('Save inventory.yaml and plan.json');
    await w.press(KEY.escape);
    expect(w.intents.at(-1)).toEqual({ type: 'save:close' });
    expect(w.frame()).not.toContain('Save inventory.yaml');
    expect(w.intents.some((i) => i.type === 'plan:confirm')).toBe(false);
  });
});
