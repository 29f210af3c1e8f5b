// The wizard's pg_auto_failover job (issue #7) by keystrokes: chosen on the welcome screen, the same
// screens as first-time hardening, and what detection found on the plan screen (the formation's
// monitor, primary and secondaries, the planner's notes, the pgaf steps) — or, when no formation was
// found, the controller's refusal on screen (the controller test covers that it refuses).
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { PlanDocument, PlannedStep } from '../core/harden.js';
import { initialState, type Action } from '../wizard/state.js';
import { CERTS, INVENTORY } from '../wizard/test-fixtures.js';
import { KEY, renderWizard } from './test-harness.js';

afterEach(cleanup);

const step = (id: string, title: string): PlannedStep => ({
  id,
  title,
  needed: true,
  change: { files: [], sql: [], commands: [], reload: true, restart: false },
});

const PGAF_PLAN: PlanDocument = {
  v: 1,
  cluster: 'lab',
  topology: 'pg_auto_failover',
  auth: 'scram',
  createdAt: '2026-01-01T00:00:00.000Z',
  nodes: [
    {
      node: 'monitor',
      host: '127.0.1.121',
      role: 'monitor',
      steps: [step('pgaf.enable-ssl', 'pg_autoctl enable ssl (verify-full, pgharden CA)')],
    },
    {
      node: 'node1',
      host: '127.0.1.122',
      role: 'primary',
      steps: [step('pgaf.autoctl-config', 'pg_autoctl.cfg: auth_method, replication password, mode 0600')],
    },
    {
      node: 'node2',
      host: '127.0.1.123',
      role: 'standby',
      steps: [step('pgaf.replication-tls', 'Replication to the primary over TLS (verify-full)')],
    },
  ],
  notes: ['node1: pg_autoctl runs with --skip-pg-hba; pgharden owns it'],
  phases: [],
  checksums: {},
  reloads: 3,
  restarts: 0,
};

/** What the controller feeds the reducer between the job choice and the plan. */
const TO_CERTS_DONE: Action[] = [
  { type: 'inventory:loaded', view: INVENTORY },
  { type: 'preflight:finished', details: [], findings: [] },
  { type: 'preflight:continue' },
  { type: 'auth:choose', auth: 'scram' },
  { type: 'certs:ready', dir: '/pki', items: CERTS },
  { type: 'certs:continue' },
];

describe('wizard: the pg_auto_failover job', () => {
  it('↓⏎ on the welcome screen chooses it; the plan screen shows the detected formation', async () => {
    const w = await renderWizard(initialState());
    await w.press(KEY.down, KEY.enter);
    expect(w.intents).toEqual([{ type: 'job:choose', job: 'pgautofailover' }]);
    expect(w.frame()).toContain('Upgrade pg_auto_failover to SSL');
    expect(w.frame()).toContain('1/8 Inventory');
    await w.push(...TO_CERTS_DONE, { type: 'plan:ready', plan: PGAF_PLAN });
    const f = w.frame();
    expect(f).toContain('pg_auto_failover formation: monitor monitor · primary node1 · secondary node2');
    expect(f).toMatch(/monitor\s+→ pgaf\.enable-ssl/);
    expect(f).toMatch(/node2\s+→ pgaf\.replication-tls/);
    expect(f).toContain('node1: pg_autoctl runs with --skip-pg-hba; pgharden owns it');
  });

  it('a streaming plan shows no formation line', async () => {
    const w = await renderWizard(initialState());
    await w.press(KEY.enter);
    await w.push(...TO_CERTS_DONE, { type: 'plan:ready', plan: { ...PGAF_PLAN, topology: 'streaming' } });
    expect(w.frame()).not.toContain('pg_auto_failover formation');
  });

  it('no formation on the nodes: the refusal is on screen and no plan is shown', async () => {
    const w = await renderWizard(initialState());
    await w.press(KEY.down, KEY.enter);
    await w.push(...TO_CERTS_DONE, {
      type: 'failed',
      error: {
        code: 'wizard.not-pg-auto-failover',
        message: 'no pg_auto_failover formation found on these nodes (pg_autoctl manages none of them)',
        hint: 'check the inventory, or choose first-time hardening',
      },
    });
    const f = w.frame();
    expect(f).toContain('no pg_auto_failover formation found on these nodes');
    expect(f).toContain('choose first-time hardening');
    expect(f).not.toContain('Plan for');
  });
});
