import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { KEY, renderWizard, stateAfter, TO_PLAN } from './test-harness.js';

afterEach(cleanup);

const atApply = () => stateAfter([...TO_PLAN, { type: 'plan:confirm' }]);

describe('ApplyScreen', () => {
  it('one live line per node; a finished step moves to the printed log above', async () => {
    const w = await renderWizard(atApply());
    await w.push(
      { type: 'engine', event: { type: 'step:started', node: 'pg1', step: 'tls.enable' } },
      { type: 'engine', event: { type: 'step:started', node: 'pg2', step: 'ca.install' } },
    );
    expect(w.frame()).toMatch(/pg1 tls\.enable/);
    expect(w.frame()).toMatch(/pg2 ca\.install/);
    await w.push({ type: 'engine', event: { type: 'step:done', node: 'pg1', step: 'tls.enable', ms: 120 } });
    expect(w.output()).toMatch(/✓ pg1 tls\.enable 120 ms/);
    expect(w.frame()).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] pg1/);
    expect(w.frame()).toContain('Ctrl-C: stop after the current step and roll back');
  });

  it('Ctrl-C asks, then y stops and rolls back', async () => {
    const w = await renderWizard(atApply());
    await w.press(KEY.ctrlC);
    expect(w.frame()).toContain('Stop after the current step and roll back?');
    await w.press('y');
    expect(w.intents).toEqual([{ type: 'interrupt:request' }, { type: 'interrupt:confirm' }]);
    expect(w.frame()).toContain('Stopping after the current step, then rolling back…');
  });

  it('a failure shows the error and the rollback that followed; Enter finishes with exit 4', async () => {
    const w = await renderWizard(atApply());
    await w.push(
      {
        type: 'engine',
        event: { type: 'step:failed', node: 'pg1', step: 'tls.enable', error: { message: 'reload failed' } },
      },
      {
        type: 'engine',
        event: { type: 'rollback:started', node: 'pg1', steps: ['tls.enable'], reason: 'reload failed' },
      },
      { type: 'engine', event: { type: 'rollback:step', node: 'pg1', step: 'tls.enable', ok: true } },
      { type: 'engine', event: { type: 'rollback:done', node: 'pg1', ms: 30 } },
      {
        type: 'apply:failed',
        error: { code: 'run.rolled-back', message: 'pg1 tls.enable failed: reload failed; rolled back' },
        exitCode: 4,
      },
    );
    const out = w.output();
    expect(out).toMatch(/✗ pg1 tls\.enable +reload failed/);
    expect(out).toMatch(/↺ pg1 tls\.enable undone/);
    expect(out).toMatch(/↺ pg1 rollback undone/);
    expect(w.frame()).toContain('Apply failed and was rolled back.');
    expect(w.frame()).toContain('Enter: finish (exit 4)');
    await w.press(KEY.enter);
    expect(w.frame()).toContain('apply failed and was rolled back');
  });
});
