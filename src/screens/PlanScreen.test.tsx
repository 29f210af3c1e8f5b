import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { Action } from '../wizard/state.js';
import { KEY, renderWizard, stateAfter, TO_PLAN } from './test-harness.js';

afterEach(cleanup);

const withShadow: Action[] = [
  ...TO_PLAN.slice(0, 2),
  {
    type: 'preflight:finished',
    details: [],
    findings: [
      {
        id: 'hba.shadowed',
        severity: 'medium',
        node: 'pg1',
        message: 'line 92 host all all 0.0.0.0/0 md5 shadows the hostssl rule on line 95',
        fix: 'hba-hostssl',
        where: 'pg_hba.conf:92',
      },
    ],
  },
  ...TO_PLAN.slice(3),
];

describe('PlanScreen', () => {
  it('lists each node’s steps in order with reload/restart and what is already done', async () => {
    const w = await renderWizard(stateAfter(TO_PLAN));
    const f = w.frame();
    expect(f).toContain('Plan for lab (auth scram): 2 step(s), 1 reload(s), 0 restarts');
    expect(f).toMatch(/❯ pg1 +→ tls\.enable Enable TLS reload/);
    expect(f).toMatch(/pg1 +✓ ca\.install already done/);
    expect(f).toMatch(/pg2 +→ tls\.enable/);
  });

  it('Enter expands a step to its diff and SQL; warnings from rule-order analysis are shown', async () => {
    const w = await renderWizard(stateAfter(withShadow));
    expect(w.frame()).toContain('! pg1: line 92 host all all 0.0.0.0/0 md5 shadows the hostssl rule');
    await w.press(KEY.enter);
    const f = w.frame();
    expect(f).toContain('-host all all 0.0.0.0/0 md5');
    expect(f).toContain('+hostssl all all 0.0.0.0/0 scram-sha-256');
    expect(f).toContain('SQL ALTER SYSTEM SET ssl = on');
    await w.press(KEY.enter);
    expect(w.frame()).not.toContain('SQL ALTER SYSTEM');
    expect(w.intents).toEqual([]);
  });

  it('nothing is applied without a confirmation: a then Enter (default no) cancels, a then y applies', async () => {
    const w = await renderWizard(stateAfter(TO_PLAN));
    await w.press('a');
    expect(w.frame()).toContain('Apply this plan to 2 node(s) now?');
    await w.press(KEY.enter);
    expect(w.intents).toEqual([]);
    expect(w.frame()).not.toContain('Apply this plan');
    await w.press('a', 'y');
    expect(w.intents).toEqual([{ type: 'plan:confirm' }]);
    expect(w.frame()).toContain('6/8 Apply');
  });

  it('Esc goes back to the certificates', async () => {
    const w = await renderWizard(stateAfter(TO_PLAN));
    await w.press(KEY.escape);
    expect(w.intents).toEqual([{ type: 'back' }]);
    expect(w.frame()).toContain('4/8 Certificates');
  });
});
