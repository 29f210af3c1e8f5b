import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { INVENTORY } from '../wizard/test-fixtures.js';
import { KEY, renderWizard, stateAfter } from './test-harness.js';

afterEach(cleanup);

describe('AuditScreen', () => {
  it('shows the table, then findings with their fix; Enter finishes with exit 3', async () => {
    const w = await renderWizard(
      stateAfter([
        { type: 'job:choose', job: 'audit' },
        { type: 'inventory:loaded', view: INVENTORY },
      ]),
    );
    expect(w.frame()).toContain('Audit of lab (read-only)');
    await w.press(KEY.enter);
    expect(w.intents).toEqual([]); // still running
    await w.push({
      type: 'audit:finished',
      exitCode: 3,
      findings: [
        {
          id: 'hba.trust-tcp',
          severity: 'critical',
          node: 'pg1',
          message: 'trust over TCP',
          fix: 'hba-hostssl',
        },
      ],
    });
    expect(w.frame()).toMatch(/! critical pg1 trust over TCP/);
    expect(w.frame()).toContain('→ hba-hostssl');
    expect(w.frame()).toContain('1 finding(s): something is high or worse (exit 3)');
    await w.press(KEY.enter);
    expect(w.frame()).toContain('Audit (read-only): findings of high severity or worse');
    expect(w.frame()).toContain('Enter: exit (3)');
  });
});
