import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { reduce } from '../wizard/reducer.js';
import type { Action, RotationView } from '../wizard/state.js';
import { INVENTORY, PLAN } from '../wizard/test-fixtures.js';
import { KEY, renderWizard, stateAfter } from './test-harness.js';

afterEach(cleanup);

const VIEW: RotationView = {
  pkiDir: '/pki',
  caState: 'none',
  certs: [
    {
      node: 'pg1',
      what: 'server',
      subject: 'CN=127.0.1.1',
      notAfter: '2026-11-28T00:00:00.000Z',
      daysLeft: 5,
    },
    { node: 'pg1', what: 'CA', subject: 'CN=lab CA', notAfter: '2036-01-01T00:00:00.000Z', daysLeft: 3325 },
    {
      node: 'pg2',
      what: 'replication client',
      subject: 'CN=replicator',
      notAfter: '2026-12-13T00:00:00.000Z',
      daysLeft: 20,
    },
  ],
};

const TO_ROTATE: Action[] = [
  { type: 'job:choose', job: 'rotate' },
  { type: 'inventory:loaded', view: INVENTORY },
  { type: 'preflight:finished', details: [], findings: [] },
  { type: 'preflight:continue' },
];
const atRotate = (view: RotationView = VIEW) => stateAfter([...TO_ROTATE, { type: 'rotate:ready', view }]);

describe('RotationScreen', () => {
  it('waits for the view after preflight, then lists every certificate in use with its days left', async () => {
    const waiting = await renderWizard(stateAfter(TO_ROTATE));
    expect(waiting.frame()).toContain('Reading the certificates in use');
    cleanup();
    const w = await renderWizard(atRotate());
    const f = w.frame();
    expect(f).toContain('3/7 Rotation');
    expect(f).toContain('5 d left pg1 server until 2026-11-28 CN=127.0.1.1');
    expect(f).toContain('20 d left pg2 replication client');
    expect(f).toContain('one CA; no CA rotation in progress');
    expect(f).toContain('❯ Re-issue every server certificate (same CA)');
    expect(f).toContain('Start a CA rotation — phase 1');
    expect(f).not.toContain('Finish the CA rotation');
  });

  it('offers what the PKI directory allows next: phase 2 after phase 1, finish after phase 2', async () => {
    const phase1 = await renderWizard(atRotate({ ...VIEW, caState: 'phase1' }));
    expect(phase1.frame()).toContain('CA rotation phase 2: re-issue every certificate under the new CA');
    cleanup();
    const phase2 = await renderWizard(atRotate({ ...VIEW, caState: 'phase2' }));
    expect(phase2.frame()).toContain('Finish the CA rotation: remove the old CA');
    expect(phase2.frame()).not.toContain('phase 1');
  });

  it('a choice plans that rotation; the plan goes back here with Esc', async () => {
    const w = await renderWizard(atRotate());
    await w.press(KEY.down, KEY.enter);
    expect(w.intents).toEqual([{ type: 'rotate:choose', choice: 'new-ca' }]);
    expect(w.frame()).toContain('Planning the rotation');
    const planned = stateAfter([
      ...TO_ROTATE,
      { type: 'rotate:ready', view: VIEW },
      { type: 'rotate:choose', choice: 'leaves' },
      { type: 'plan:ready', plan: PLAN },
    ]);
    expect(planned.screen).toBe('plan');
    const back = reduce(planned, { type: 'back' });
    expect(back).toMatchObject({ screen: 'rotate', plan: undefined, rotation: { view: VIEW } });
    expect(back.rotation?.choice).toBeUndefined();
  });
});
