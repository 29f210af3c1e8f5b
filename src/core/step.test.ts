import { describe, expect, it } from 'vitest';
import { defineStep, emptyPlan, type StepDefinition } from './step.js';

const base: StepDefinition = {
  id: 'tls.enable',
  title: 'Enable TLS',
  check: () => true,
  plan: () => emptyPlan(),
  apply: () => Promise.resolve(),
  undo: () => Promise.resolve(),
  verify: () => true,
};

describe('defineStep', () => {
  it('refuses a step without undo when it is defined', () => {
    const noUndo: Partial<StepDefinition> = { ...base };
    delete noUndo.undo;
    expect(() => defineStep(noUndo as StepDefinition)).toThrow(/no undo\(\)/);
  });

  it('refuses an id that is not area.action', () => {
    expect(() => defineStep({ ...base, id: 'Enable TLS' })).toThrow(/area\.action/);
  });

  it('returns a frozen step whose plan is plain JSON', () => {
    const s = defineStep({ ...base, after: ['pki.install-ca'] });
    expect(Object.isFrozen(s)).toBe(true);
    const plan = s.plan({} as never);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});
